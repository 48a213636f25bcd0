"""``group_events``: long event table(s) to an event frame, vectorised."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._arrow import CODE_LENGTH, as_arrow_table, normalize_type, parse_codes, parse_timestamps
from ._frame import CODE_COLUMNS, EVENT_TYPE, TIME

__all__ = ["group_events"]


def _missing_column(name: str, role: str, columns: list[str], what: str) -> ValueError:
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.4)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(
        f"{what}: the {role} column {name!r} is missing; columns are {columns}.{hint} "
        f"Pass {role}=... to name it."
    )


def _factorize_users(ids: np.ndarray, name: str) -> tuple[np.ndarray, pd.Index]:
    """Dense codes (in sorted id order) and the sorted unique ids (no nulls given)."""
    if ids.dtype.kind == "f" and np.isnan(ids).any():
        raise ValueError(
            f"user id column {name!r} has {int(np.isnan(ids).sum())} missing (null/NaN) value(s); every event needs a user."
        )
    if ids.dtype.kind in "iu" and ids.size:
        lo, hi = int(ids.min()), int(ids.max())
        span = hi - lo + 1
        if span <= max(4 * ids.size, 1 << 20):
            # Bounded range: a presence table is O(n) and needs no hashing or sorting.
            shifted = ids - lo if lo else ids
            present = np.zeros(span, dtype=bool)
            present[shifted] = True
            rank = np.cumsum(present, dtype=np.int64) - 1
            codes = rank[shifted]
            uniques = np.flatnonzero(present).astype(ids.dtype) + ids.dtype.type(lo)
            return codes, pd.Index(uniques, name=name)
    codes, uniques = pd.factorize(ids, sort=True)
    return codes.astype(np.int64, copy=False), pd.Index(uniques, name=name)


def _sort_permutation(
    codes: np.ndarray, n_users: int, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Stable permutation by (user code, time), and the sorted times.

    Packs (user, time, position) into uint64 keys and sorts the values, which is
    several times faster than an argsort. When the three do not fit in 64 bits, the
    events are first split into buckets of users (a radix pass on the high bits of the
    user code) so that each bucket's keys fit; buckets are sorted on two threads.
    """
    n = codes.size
    if n == 0:
        return np.zeros(0, dtype=np.int64), times
    tmin = int(times.min())
    rel = times - tmin
    scale = 1
    for factor in (1_000_000, 1_000):
        if not (rel % factor).any():
            rel //= factor
            scale = factor
            break
    tbits = max(int(rel.max()).bit_length(), 1)
    ubits = max(int(n_users - 1).bit_length(), 1)
    ibits = max(int(n - 1).bit_length(), 1)
    k, bucket_of, sizes = 0, None, np.array([n])
    while ubits - k + tbits + max(int(sizes.max() - 1).bit_length(), 1) > 64:
        k += 1
        if k > 16 or k > ubits:
            order = np.lexsort((times, codes))
            return order, times[order]
        bucket_of = codes >> (ubits - k)
        sizes = np.bincount(bucket_of, minlength=1 << k)
    if bucket_of is None:
        sizes = np.array([n])
        bucket_order = None
    else:
        bucket_order = np.argsort(bucket_of.astype(np.uint16), kind="stable")
        del bucket_of
    ibits = max(int(sizes.max() - 1).bit_length(), 1)
    ushift = np.uint64(tbits + ibits)
    tshift = np.uint64(ibits)
    low_mask = np.uint64((1 << (ubits - k)) - 1)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    perm = np.empty(n, dtype=np.int64)
    sorted_rel = np.empty(n, dtype=np.int64)

    def sort_bucket(b: int) -> None:
        s, e = int(starts[b]), int(starts[b + 1])
        if s == e:
            return
        idx = np.arange(s, e) if bucket_order is None else bucket_order[s:e]
        key = (codes[idx].astype(np.uint64) & low_mask) << ushift
        key |= rel[idx].astype(np.uint64) << tshift
        key |= np.arange(e - s, dtype=np.uint64)
        key.sort()
        local = (key & np.uint64((1 << ibits) - 1)).astype(np.int64)
        perm[s:e] = idx[local]
        sorted_rel[s:e] = ((key >> tshift) & np.uint64((1 << tbits) - 1)).astype(np.int64)

    n_buckets = len(sizes)
    if n_buckets == 1:
        sort_bucket(0)
    else:
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(sort_bucket, range(n_buckets)))
    sorted_rel *= scale
    sorted_rel += tmin
    return perm, sorted_rel


def _promoted(types: list[pa.DataType], name: str, tables: list[str]) -> pa.DataType:
    """The one type of a column whose tables give it ``types`` (order-independent).

    Arrow's permissive promotion (``int32`` and ``int64``: ``int64``; integers and
    floats: ``float64``; dictionaries of one value type: the wider index). Types that do
    not promote to one (integers and strings, numbers and booleans) are refused, with a
    ``TypeError`` naming both tables and both types.
    """
    try:
        schemas = [pa.schema([pa.field(name, t)]) for t in types]
        return pa.unify_schemas(schemas, promote_options="permissive").field(name).type
    except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    for i, first in enumerate(types):
        for j in range(i + 1, len(types)):
            try:
                pa.unify_schemas(
                    [pa.schema([pa.field(name, t)]) for t in (first, types[j])],
                    promote_options="permissive",
                )
            except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise TypeError(
                    f"column {name!r} is {first} in {tables[i]} but {types[j]} in "
                    f"{tables[j]}; these types do not promote to one (integers and floats "
                    "do, integers and strings do not): cast the column in one of them."
                ) from None
    raise TypeError(f"column {name!r}: the types {types} of {tables} do not promote to one.")


def _unify(arrays: list[pa.Array], name: str, tables: list[str]) -> pa.Array:
    """The arrays of one column from several tables (``tables`` names them), concatenated
    in one type (see :func:`_promoted`; all-null parts take it)."""
    present = [i for i, a in enumerate(arrays) if a.type != pa.null()]
    types = list(dict.fromkeys(arrays[i].type for i in present))
    if len(types) > 1 and not all(pa.types.is_dictionary(t) for t in types):
        arrays = [a.dictionary_decode() if pa.types.is_dictionary(a.type) else a for a in arrays]
        types = list(dict.fromkeys(arrays[i].type for i in present))
    if len(types) > 1:
        by_table = [arrays[i].type for i in present]
        target = _promoted(by_table, name, [tables[i] for i in present])
    else:
        target = types[0] if types else pa.null()
    arrays = [a if a.type == target else _cast(a, target) for a in arrays]
    return pa.concat_arrays(arrays)


def _cast(arr: pa.Array, target: pa.DataType) -> pa.Array:
    return pa.nulls(len(arr), target) if arr.type == pa.null() else arr.cast(target)


def _index_dtype(n_categories: int) -> type:
    return np.int8 if n_categories <= 127 else np.int32


def _as_list(values: pa.Array, offsets: pa.Array) -> pd.arrays.ArrowExtensionArray:
    if pa.types.is_null(values.type):
        values = values.cast(pa.int8())
    cls = pa.LargeListArray if offsets.type == pa.int64() else pa.ListArray
    return pd.arrays.ArrowExtensionArray(cls.from_arrays(offsets, values))


def group_events(
    events: Any,
    *,
    user: str = "client_id",
    time: str = TIME,
    event_type: str = EVENT_TYPE,
    columns: Sequence[str] | None = None,
    users: Any = None,
    code_columns: Sequence[str] = CODE_COLUMNS,
    time_unit: str | None = None,
) -> pd.DataFrame:
    """Group a long event log (one row per event) into an event frame (one row per user).

    Events are stably sorted by (user, time); each field becomes a pyarrow list column.
    The work is vectorised (packed-key sorts and Arrow takes), with no per-user loop.

    Parameters
    ----------
    events : DataFrame, polars DataFrame/LazyFrame, pyarrow Table, or dict of those
        One long table with a user column and a time column, or a dict of such tables
        keyed by event type (the RecSys 2025 layout, e.g. ``{"product_buy": buys,
        "page_visit": visits}``); each key becomes that table's event type. A column
        in several tables gets Arrow's promotion of their types, in any order (integers
        and floats: ``float64``); others (integers and strings) raise a ``TypeError``.
    user : str, default="client_id"
        Column holding user ids (integers or strings). It becomes the index name.
    time : str, default="timestamp"
        Column holding event times: datetimes (naive or timezone-aware; aware times
        are converted to UTC) or ISO 8601 strings. Output column ``timestamp``.
    event_type : str, default="event_type"
        For a single table: the column holding the event type, if any. Output column
        ``event_type`` (dictionary-encoded strings).
    columns : sequence of str, optional
        Fields to keep; by default every column other than user, time and event type.
    users : array-like, optional
        Users to include even when they have no events (they get empty lists), e.g.
        the relevant clients of the challenge.
    code_columns : sequence of str, default=("query", "name")
        Columns holding quantized text codes (strings like ``"[12 0 255 ...]"`` or
        lists), parsed into ``fixed_size_list<uint8, 16>``.
    time_unit : {"s", "ms", "us", "ns"}, optional
        Read a numeric time column as epoch times in this unit.

    Returns
    -------
    frame : pandas.DataFrame
        The event frame, indexed by sorted user id (index name = ``user``).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_ubp import group_events
    >>> buys = pd.DataFrame({"client_id": [2, 1, 2],
    ...                      "timestamp": ["2022-06-25 10:00:00", "2022-06-24 09:00:00",
    ...                                    "2022-06-23 08:00:00"],
    ...                      "sku": [7, 8, 9]})
    >>> visits = pd.DataFrame({"client_id": [1], "timestamp": ["2022-06-23 12:00:00"],
    ...                        "url": [42]})
    >>> frame = group_events({"product_buy": buys, "page_visit": visits})
    >>> frame.index.tolist()
    [1, 2]
    >>> frame["event_type"].tolist()
    [['page_visit', 'product_buy'], ['product_buy', 'product_buy']]
    >>> frame["sku"].tolist()
    [[None, 8], [9, 7]]
    """
    named = _named_tables(events)
    tables = ["events" if key is None else f"table {key!r}" for key, _ in named]
    parts = _read_tables(named, user, time, event_type, columns, code_columns, time_unit)
    codes, index = _user_codes(parts, tables, user, users)
    times = parts.times[0] if len(parts.times) == 1 else np.concatenate(parts.times)
    perm, sorted_times = _sort_permutation(codes, len(index), times)
    offsets = _offsets(codes, len(index), len(codes))
    data = {TIME: _as_list(pa.array(sorted_times.astype("datetime64[us]")), offsets)}
    types = _event_types(named, event_type, parts.n_per, perm)
    if types is not None:
        data[EVENT_TYPE] = _as_list(types, offsets)
    data.update(_field_columns(parts, tables, pa.array(perm), offsets))
    return pd.DataFrame(data, index=index)


def _offsets(codes: np.ndarray, n_users: int, n_events: int) -> pa.Array:
    """List offsets of users whose events are sorted by user code."""
    offsets = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=n_users), out=offsets[1:])
    return pa.array(offsets.astype(np.int32) if n_events < 2**31 else offsets)


def _field_columns(
    parts: _Parts, tables: list[str], take: pa.Array, offsets: pa.Array
) -> dict[str, pd.arrays.ArrowExtensionArray]:
    """The list column of every field, its events in sorted order (nulls where absent)."""
    data = {}
    for name, columns_of in parts.fields.items():
        if name in (TIME, EVENT_TYPE):
            raise ValueError(f"field {name!r} clashes with an output column name; rename it.")
        filled = [
            c if c is not None else pa.nulls(n)
            for c, n in zip(columns_of, parts.n_per, strict=True)
        ]
        column = _unify(filled, name, tables) if len(filled) > 1 else filled[0]
        data[name] = _as_list(column.take(take), offsets)
    return data


def _named_tables(events: Any) -> list[tuple[str | None, pa.Table]]:
    """``(event type or None, table)`` pairs: a dict of tables, or one table."""
    if isinstance(events, Mapping):
        if not events:
            raise ValueError("events: the dict of tables is empty.")
        return [(str(k), as_arrow_table(v, what=f"events[{k!r}]")) for k, v in events.items()]
    return [(None, as_arrow_table(events))]


@dataclass
class _Parts:
    """The columns of every table: events per table, user ids, times, other fields."""

    n_per: list[int] = field(default_factory=list)
    ids: list[pa.Array] = field(default_factory=list)
    times: list[np.ndarray] = field(default_factory=list)
    aware: list[bool] = field(default_factory=list)
    fields: dict[str, list[pa.Array | None]] = field(default_factory=dict)


def _read_tables(
    named: list[tuple[str | None, pa.Table]],
    user: str,
    time: str,
    event_type: str,
    columns: Sequence[str] | None,
    code_columns: Sequence[str],
    time_unit: str | None,
) -> _Parts:
    """Check and read every table's columns (fields missing from a table: ``None``)."""
    parts = _Parts()
    for key, table in named:
        what = "events" if key is None else f"events[{key!r}]"
        cols = table.column_names
        for name, role in ((user, "user"), (time, "time")):
            if name not in cols:
                raise _missing_column(name, role, cols, what)
        if key is not None and event_type in cols:
            raise ValueError(
                f"{what} has an {event_type!r} column, but in a dict of tables the key is "
                "the event type; drop the column or pass a single table."
            )
        parts.n_per.append(table.num_rows)
        parts.ids.append(normalize_type(table.column(user)))
        values, aware = parse_timestamps(table.column(time), time, time_unit=time_unit)
        parts.times.append(values)
        parts.aware.append(aware)
        skip = {user, time} | ({event_type} if key is None else set())
        wanted = [c for c in cols if c not in skip] if columns is None else list(columns)
        for name in wanted:
            parts.fields.setdefault(name, [None] * (len(parts.n_per) - 1))
        for name, found in parts.fields.items():
            arr = normalize_type(table.column(name)) if name in cols else None
            if arr is not None and name in code_columns:
                arr = parse_codes(arr, f"{what}[{name!r}]", length=CODE_LENGTH)
            found.append(arr)
    if columns is not None:
        absent = [c for c in columns if all(a is None for a in parts.fields.get(c, [None]))]
        if absent:
            raise ValueError(f"columns {absent} were asked for but no table has them.")
    if len(set(parts.aware)) > 1:
        which = [k for (k, _), a in zip(named, parts.aware, strict=True) if a]
        raise ValueError(
            f"column {time!r} mixes timezone-aware tables {which} with naive ones; make "
            "them all aware (they are converted to UTC) or all naive."
        )
    return parts


def _extra_users(users: Any, id_type: pa.DataType, user: str) -> pa.Array:
    """``users=`` as an Arrow array of the id column's type (a ValueError if it cannot be)."""
    try:
        extra = normalize_type(pa.array(np.asarray(users)))
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise ValueError(f"users= cannot be read as user ids: {exc}") from exc
    missing = int(pc.sum(pc.is_nan(extra)).as_py() or 0) if pa.types.is_floating(extra.type) else 0
    if extra.null_count or missing:
        raise ValueError(
            f"users= holds {extra.null_count + missing} missing (null/NaN) id(s); expected the "
            f"ids of the user column {user!r}."
        )
    if extra.type != id_type and len(extra):
        try:
            extra = extra.cast(id_type)
        except (pa.ArrowException, ValueError) as exc:
            raise ValueError(
                f"users= holds ids of type {extra.type} that are not ids of the user column "
                f"{user!r} ({id_type}): {exc}"
            ) from exc
    return extra


def _user_codes(
    parts: _Parts, tables: list[str], user: str, users: Any
) -> tuple[np.ndarray, pd.Index]:
    """The dense user code of every event and the sorted users (with ``users`` added)."""
    ids = _unify(parts.ids, user, tables) if len(parts.ids) > 1 else parts.ids[0]
    n_events = len(ids)
    if users is not None:
        ids = pa.concat_arrays([ids, _extra_users(users, ids.type, user)])
    if ids.null_count:
        raise ValueError(
            f"user id column {user!r} has {ids.null_count} missing (null/NaN) value(s); every event needs a user."
        )
    codes, index = _factorize_users(ids.to_numpy(zero_copy_only=False), user)
    return codes[:n_events], index


def _event_types(
    named: list[tuple[str | None, pa.Table]], event_type: str, n_per: list[int], perm: np.ndarray
) -> pa.Array | None:
    """The dictionary-encoded event type of every sorted event (``None``: no types)."""
    if named[0][0] is not None:
        labels = pa.array([k for k, _ in named], pa.string())
        type_codes = np.repeat(np.arange(len(named), dtype=_index_dtype(len(named))), n_per)
        return pa.DictionaryArray.from_arrays(pa.array(type_codes[perm]), labels)
    if event_type not in named[0][1].column_names:
        return None
    raw = normalize_type(named[0][1].column(event_type))
    if not pa.types.is_dictionary(raw.type):
        raw = pc.dictionary_encode(raw.cast(pa.string()))
    index_type = pa.from_numpy_dtype(_index_dtype(len(raw.dictionary)))
    return raw.cast(pa.dictionary(index_type, pa.string())).take(pa.array(perm))
