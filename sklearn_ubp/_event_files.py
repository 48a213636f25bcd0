"""The machinery of :func:`sklearn_ubp.io.read_events`: Arrow datasets, projection,
filters pushed into the scan, and the buckets of users."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Suffixes read as long tables or event frames.
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz")
FEATHER_SUFFIXES = (".feather", ".arrow", ".ipc")
#: Fields that hold quantized text codes: list-typed, yet a column of a long table.
_CODE_COLUMNS = {"query", "name"}


def suffix_of(path: str | os.PathLike[str]) -> str:
    """The file type suffix of ``path`` (``.csv.gz`` counts as one suffix)."""
    p = Path(path)
    name = p.name.lower()
    for s in (*CSV_SUFFIXES, *PARQUET_SUFFIXES, *FEATHER_SUFFIXES, ".npy", ".joblib"):
        if name.endswith(s):
            return s
    return p.suffix.lower()


def _must_exist(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{str(p)!r} does not exist.")
    return p


def is_recsys_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder in the RecSys Challenge 2025 layout.

    Parameters
    ----------
    path : str or path-like
        A file or folder.

    Returns
    -------
    answer : bool
        True for a folder holding at least one of the event tables
        (``product_buy.parquet``, ``page_visit.parquet``, ...).
    """
    from .datasets import EVENT_TABLES

    p = Path(path)
    return p.is_dir() and any((p / f"{name}.parquet").is_file() for name in EVENT_TABLES)


# --------------------------------------------------------------------------- events


class _Log:
    """An opened event log: its Arrow datasets and what kind of log it is."""

    def __init__(self, source: str, kind: str, tables: dict[str | None, Any], user: str) -> None:
        self.source = source
        self.kind = kind  # "recsys", "frame" (one row per user) or "long" (one row per event)
        self.tables = tables  # {event type: dataset} for "recsys", {None: dataset} otherwise
        self.user = user
        self.row_ids = False  # an event frame whose row number is the user id
        self.products: Any = None
        self.relevant: np.ndarray | None = None

    def user_type(self) -> Any:
        import pyarrow as pa

        if self.row_ids:
            return pa.int64()
        return next(iter(self.tables.values())).schema.field(self.user).type


def _file_format(path: Path) -> Any:
    import pyarrow.csv as pacsv
    import pyarrow.dataset as ds

    suffix = suffix_of(path)
    if path.is_dir() or suffix in PARQUET_SUFFIXES:
        if path.is_dir() and not any(path.rglob("*.parquet")):
            raise ValueError(
                f"{str(path)!r} is a folder without parquet files; expected a RecSys 2025 "
                "folder (product_buy.parquet, page_visit.parquet, ...) or a parquet dataset."
            )
        return "parquet"
    if suffix in CSV_SUFFIXES:
        delimiter = "\t" if suffix.startswith(".tsv") else ","
        return ds.CsvFileFormat(parse_options=pacsv.ParseOptions(delimiter=delimiter))
    if suffix in FEATHER_SUFFIXES:
        return "feather"
    raise ValueError(
        f"{str(path)!r}: unknown file type; expected a parquet file or folder "
        f"({', '.join(PARQUET_SUFFIXES)}), a CSV file ({', '.join(CSV_SUFFIXES)}), a Feather "
        f"file ({', '.join(FEATHER_SUFFIXES)}) or a RecSys 2025 folder."
    )


def _dataset(path: Path, columns: Sequence[str] = ()) -> Any:
    """A ``pyarrow.dataset`` over a file or folder; ``columns`` must be there."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    file_format = _file_format(path)
    try:
        dataset = ds.dataset(path, format=file_format, partitioning="hive")
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        raise ValueError(f"cannot read {str(path)!r}: {exc}") from exc
    missing = [c for c in columns if c not in dataset.schema.names]
    if missing:
        raise ValueError(
            f"{str(path)!r}: missing column(s) {missing}; it has {dataset.schema.names}."
        )
    return dataset


def _open_recsys(path: Path) -> _Log:
    from .datasets import EVENT_TABLES

    tables = {
        name: _dataset(path / f"{name}.parquet", ["client_id", "timestamp", field])
        for name, field in EVENT_TABLES.items()
        if (path / f"{name}.parquet").is_file()
    }
    log = _Log(str(path), "recsys", tables, "client_id")
    products = path / "product_properties.parquet"
    if products.is_file():
        log.products = _dataset(products, ["sku", "category", "price", "name"]).to_table()
    relevant = path / "input" / "relevant_clients.npy"
    if relevant.is_file():
        log.relevant = np.load(relevant).astype(np.int64)
    return log


def _open(source: str | os.PathLike[str], user: str) -> _Log:
    p = _must_exist(source)
    if is_recsys_folder(p):
        return _open_recsys(p)
    dataset = _dataset(p)
    schema = dataset.schema
    if not _is_event_frame_schema(schema):
        return _Log(str(p), "long", {None: dataset}, user)
    log = _Log(str(p), "frame", {None: dataset}, user)
    non_list = [f.name for f in schema if not _is_list_type(f.type)]
    if not non_list:  # written by pandas with a RangeIndex: the row number is the id
        log.row_ids = True
    elif user not in non_list:
        if len(non_list) != 1:
            lists = [f.name for f in schema if _is_list_type(f.type)]
            raise ValueError(
                f"{log.source}: looks like an event frame (list columns {lists}) but has "
                f"several non-list columns {non_list}; name the user-id column with user=... "
                "(--user-col)."
            )
        log.user = non_list[0]
    return log


def _is_list_type(t: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)


def _is_event_frame_schema(schema: Any) -> bool:
    """An event frame (one row per user) has list columns other than text codes."""
    lists = {f.name for f in schema if _is_list_type(f.type)}
    return bool(lists) and not lists <= _CODE_COLUMNS


def _projection(log: _Log, name: str | None, keys: Sequence[str], columns: Any) -> list | None:
    """The columns to read from one table: the keys and the wanted fields."""
    if log.kind == "recsys":
        from .datasets import EVENT_TABLES

        field = EVENT_TABLES[str(name)]
        product_fields = {"category", "price", "name"}
        wanted = columns is None or field in columns
        wanted = wanted or (field == "sku" and bool(product_fields & set(columns)))
        return ["client_id", "timestamp", *([field] if wanted else [])]
    if columns is None:
        return None
    names = log.tables[None].schema.names
    return [c for c in dict.fromkeys([*keys, *columns]) if c in names]


def _scan(log: _Log, name: str | None, projection: list | None, where: Any) -> Any:
    """One table of ``log``, projected and filtered while it is read."""
    import pyarrow as pa

    dataset = log.tables[name]
    try:
        if log.row_ids:  # the ids are made here: filter after reading
            table = dataset.to_table(columns=projection)
            ids = pa.array(np.arange(table.num_rows, dtype=np.int64))
            table = table.replace_schema_metadata(None).append_column(log.user, ids)
            return table if where is None else table.filter(where)
        return dataset.to_table(columns=projection, filter=where)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        where_ = "" if name is None else f" ({name})"
        raise ValueError(f"cannot read {log.source!r}{where_}: {exc}") from exc


def _with_empty_rows(table: Any, user: str, users: Any) -> Any:
    """An event-frame table with a row of empty lists for each of ``users`` it lacks."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pa.array(np.asarray(users)).cast(table.schema.field(user).type)
    missing = ids.filter(pc.invert(pc.is_in(ids, value_set=table.column(user))))
    empty = {
        f.name: missing if f.name == user else pa.array([[]] * len(missing), type=f.type)
        for f in table.schema
    }
    out = pa.concat_tables([table, pa.table(empty, schema=table.schema)])
    return out.sort_by(user)


def _build(log: _Log, where: Any, users: Any, options: dict[str, Any]) -> pd.DataFrame:
    """The event frame of the rows of ``log`` that ``where`` keeps, plus ``users``."""
    from ._frame import EVENT_TYPE, TIME, check_event_frame
    from ._group import group_events
    from .datasets import build_event_frame

    user, time, columns = log.user, options["time"], options["columns"]
    keys = [user, time, options["event_type"], TIME, EVENT_TYPE]
    tables = {n: _scan(log, n, _projection(log, n, keys, columns), where) for n in log.tables}
    if log.kind == "recsys":
        try:
            return build_event_frame(tables, log.products, users=users)
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"{log.source!r}: cannot read the RecSys 2025 folder: {exc}") from exc
    table = tables[None]
    if where is None and users is None and table.num_rows == 0:
        raise ValueError(f"{log.source!r}: the table has no rows.")
    if log.kind == "long":
        try:
            return group_events(
                table,
                user=user,
                time=time,
                event_type=options["event_type"],
                users=users,
                time_unit=options["time_unit"],
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(
                f"{log.source}: cannot group the long event table: {exc} (name the columns "
                "with user=, time= and event_type=; --user-col, --time-col and --event-type-col)"
            ) from exc
    table = _rename(_rename(table, time, TIME), options["event_type"], EVENT_TYPE)
    if users is not None:
        table = _with_empty_rows(table, user, users)
    try:
        return check_event_frame(table, user=user)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{log.source}: not a valid event frame: {exc}") from exc


def _rename(table: Any, old: str, new: str) -> Any:
    if old == new or old not in table.column_names:
        return table
    return table.rename_columns([new if c == old else c for c in table.column_names])


def _select(frame: pd.DataFrame, columns: Sequence[str] | None, source: str) -> pd.DataFrame:
    if columns is None:
        return frame
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{source!r}: column(s) {missing} were asked for (columns=); it has {list(frame)}."
        )
    return frame[[c for c in frame.columns if c in ("timestamp", "event_type", *columns)]]


# --------------------------------------------------------------------------- buckets

#: Odd 64-bit constant (2**64 / golden ratio, as int64) mixing integer ids into buckets.
_MIX = -7046029254386353131


def _int_bucket(ids: Any, n_buckets: int) -> Any:
    """Bucket of integer ids, as an Arrow expression or array: a multiplicative hash.

    ``(id * _MIX, wrapping) >> 32``, modulo ``n_buckets``: the same arithmetic whether
    ``ids`` is ``pyarrow.compute.field(user)`` (a filter pushed into the scan) or an
    array of ids, so that every id has one bucket, the same on every run and machine.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    mixed = pc.multiply(ids.cast(pa.int64(), safe=False), pa.scalar(_MIX, pa.int64()))
    return pc.abs(pc.modulo(pc.shift_right(mixed, 32), n_buckets))


def bucket_of(ids: Any, n_buckets: int) -> np.ndarray:
    """The bucket of each user id, as :func:`read_events` assigns them (int64 array)."""
    import pyarrow as pa

    arr = pa.array(np.asarray(ids))
    if pa.types.is_integer(arr.type):
        return np.asarray(_int_bucket(arr, n_buckets), dtype=np.int64)
    hashes = pd.util.hash_array(np.asarray(ids, dtype=object))  # keyed: the same every run
    return (hashes % np.uint64(n_buckets)).astype(np.int64)


def _user_ids(log: _Log) -> np.ndarray:
    """Every user id of ``log`` (the relevant clients too), sorted; reads the ids only."""
    import pyarrow.compute as pc

    parts = [
        np.asarray(pc.unique(_scan(log, n, [log.user], None).column(log.user))) for n in log.tables
    ]
    if log.relevant is not None:
        parts.append(log.relevant)
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def _bucket_plan(log: _Log, n_buckets: int, users: Any) -> Iterator[tuple[Any, Any]]:
    """``(filter, users to include)`` for each bucket."""
    import pyarrow as pa
    import pyarrow.compute as pc

    field = pc.field(log.user)
    known = users if users is not None else log.relevant
    ids = None if users is None else np.unique(np.asarray(users))
    if ids is None and not pa.types.is_integer(log.user_type()):
        ids = _user_ids(log)  # strings: a first pass over the ids, then is_in filters
    known_bucket = None if known is None else bucket_of(known, n_buckets)
    ids_bucket = None if ids is None else bucket_of(ids, n_buckets)
    for b in range(n_buckets):
        extra = None if known is None else np.asarray(known)[known_bucket == b]
        if ids is None:
            yield _int_bucket(field, n_buckets) == b, extra
        else:
            yield field.isin(pa.array(ids[ids_bucket == b])), extra


def _iter_buckets(
    log: _Log, n_buckets: int, users: Any, options: dict, skip: Collection[int]
) -> Iterator[tuple[int, pd.DataFrame]]:
    for b, (where, extra) in enumerate(_bucket_plan(log, n_buckets, users)):
        if b not in skip:  # a skipped bucket is not read
            yield b, _select(_build(log, where, extra, options), options["columns"], log.source)


def open_log(
    source: str | os.PathLike[str],
    *,
    user: str,
    time: str,
    event_type: str,
    columns: Sequence[str] | None,
    time_unit: str | None,
) -> tuple[_Log, dict[str, Any]]:
    """The opened log and the options of :func:`_build` (a RecSys folder's time column)."""
    log = _open(source, user)
    options = {"time": time, "event_type": event_type, "columns": columns, "time_unit": time_unit}
    if log.kind == "recsys":
        options["time"] = "timestamp"
    return log, options


def check_buckets(buckets: Any) -> None:
    if isinstance(buckets, bool) or not isinstance(buckets, int):
        raise TypeError(f"buckets must be None or an int; got {buckets!r}.")
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1; got {buckets}.")


def bucket_frames(
    source: str | os.PathLike[str],
    n_buckets: int,
    *,
    users: Any = None,
    skip: Collection[int] = (),
    **options: Any,
) -> Iterator[tuple[int, pd.DataFrame]]:
    """``(bucket, event frame)`` for each bucket not in ``skip``, read one at a time.

    The source is opened (and checked) now; each bucket is read when it is asked for.
    ``options`` are those of :func:`sklearn_ubp.io.read_events`.
    """
    check_buckets(n_buckets)
    log, built = open_log(source, **options)
    return _iter_buckets(log, n_buckets, users, built, frozenset(skip))


def whole_frame(
    source: str | os.PathLike[str], *, users: Any = None, **options: Any
) -> pd.DataFrame:
    """The one event frame of :func:`sklearn_ubp.io.read_events` without ``buckets``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    log, built = open_log(source, **options)
    if users is None:
        where, extra = None, log.relevant
    else:
        extra = np.unique(np.asarray(users))
        where = pc.field(log.user).isin(pa.array(extra))
    return _select(_build(log, where, extra, built), built["columns"], log.source)
