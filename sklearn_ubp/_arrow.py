"""Column-level conversions shared by ingestion and validation.

Everything here works on whole Arrow/numpy columns at once: timestamps are parsed
with Arrow's casts, code strings (``"[12 0 255 ...]"``) are split with Arrow string
kernels, and errors name the column and show an offending value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "CODE_LENGTH",
    "US_PER_DAY",
    "arrow_schema",
    "as_arrow_table",
    "is_polars",
    "normalize_type",
    "parse_codes",
    "parse_timestamps",
    "timestamp_to_us",
]

#: Microseconds in a day (timestamps are int64 microseconds everywhere).
US_PER_DAY = 86_400_000_000

#: Length of the quantized text embeddings (``query``, ``name``) of the RecSys 2025 data.
CODE_LENGTH = 16

_UNIT_TO_US = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": None}


def _first_valid(arr: pa.Array, mask: np.ndarray) -> Any:
    pos = np.flatnonzero(mask)
    return arr[int(pos[0])].as_py() if pos.size else None


def is_polars(data: Any) -> bool:
    """Whether ``data`` is a polars object (DataFrame, LazyFrame), without importing polars."""
    return type(data).__module__.split(".")[0] == "polars"


def arrow_schema(data: Any) -> pa.Schema | None:
    """The Arrow schema of a pyarrow Table / RecordBatch or a polars frame; else ``None``.

    A polars LazyFrame is only collected for zero rows.
    """
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        return data.schema
    if is_polars(data):
        return as_arrow_table(data.head(0)).schema
    return None


def as_arrow_table(data: Any, *, what: str = "events") -> pa.Table:
    """Convert a pandas/polars DataFrame, polars LazyFrame or pyarrow Table to a pyarrow Table.

    The pandas index is dropped (the long-table formats keep the user id in a column).
    """
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if is_polars(data):
        if hasattr(data, "collect"):  # LazyFrame
            data = data.collect()
        return data.to_arrow()
    if isinstance(data, pd.DataFrame):
        arrays, names = [], []
        for name in data.columns:
            col = data[name]
            try:
                arr = pa.array(col, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                if not _looks_like_datetimes(col):
                    raise TypeError(
                        f"{what}: column {name!r} of dtype {col.dtype} cannot be converted "
                        "to an Arrow column; expected numbers, strings, datetimes or lists."
                    ) from None
                arr = pa.array(col.astype(str), from_pandas=True)
            if col.dtype == np.dtype(object) and pa.types.is_timestamp(arr.type):
                _refuse_mixed_zones(col, f"{what}: column {name!r}")
            arrays.append(arr)
            names.append(str(name))
        return pa.table(arrays, names=names)
    raise TypeError(
        f"{what}: expected a pandas DataFrame, a polars DataFrame or LazyFrame, a pyarrow "
        f"Table, or a dict of those keyed by event type; got {type(data).__name__}."
    )


def _refuse_mixed_zones(col: pd.Series, what: str) -> None:
    """Refuse datetime objects that mix timezone-aware and naive values (Arrow would
    read the naive ones in the first value's zone), as the same mix of strings is."""
    values = col.to_numpy()
    aware = np.fromiter((getattr(v, "tzinfo", None) is not None for v in values), bool, len(values))
    known = col.notna().to_numpy()
    if aware[known].any() and not aware[known].all():
        raise ValueError(
            f"{what} mixes timezone-aware timestamps (e.g. {values[aware][0]!r}) and naive "
            f"ones (e.g. {values[known & ~aware][0]!r}); make them all aware (they are "
            "converted to UTC) or all naive."
        )


def _looks_like_datetimes(col: pd.Series) -> bool:
    sample = col.dropna().head(5).tolist()
    return bool(sample) and all(hasattr(v, "tzinfo") for v in sample)


def normalize_type(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One contiguous array with polars' large/view string types mapped to plain ones."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    t = arr.type
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return arr.cast(pa.string())
    if pa.types.is_dictionary(t) and not pa.types.is_string(t.value_type):
        if pa.types.is_large_string(t.value_type) or pa.types.is_string_view(t.value_type):
            return arr.cast(pa.dictionary(t.index_type, pa.string()))
    return arr


def parse_timestamps(
    arr: pa.Array, name: str, *, time_unit: str | None = None
) -> tuple[np.ndarray, bool]:
    """Parse a column into int64 microseconds since the epoch (UTC for aware input).

    Returns ``(values, aware)`` where ``aware`` says whether the input carried a
    timezone (then the values are UTC). Raises a ``ValueError``/``TypeError`` that
    names the column for nulls, unparseable strings, integers without ``time_unit``
    and strings that mix timezone-aware and naive timestamps.
    """
    arr = normalize_type(arr)
    t = arr.type
    if arr.null_count:
        bad = np.flatnonzero(~np.asarray(arr.is_valid()))[:3].tolist()
        raise ValueError(
            f"column {name!r} has {arr.null_count} missing timestamp(s) (e.g. at rows {bad}); "
            "every event needs a timestamp."
        )
    aware = False
    if pa.types.is_timestamp(t):
        aware = t.tz is not None
        values = arr.cast(pa.int64()).to_numpy(zero_copy_only=False)
        return _to_us(values, t.unit), aware
    if pa.types.is_date(t):
        return parse_timestamps(arr.cast(pa.timestamp("s")), name)
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        if time_unit is None:
            raise TypeError(
                f"column {name!r} holds numbers ({t}), not datetimes; pass time_unit='s', "
                "'ms', 'us' or 'ns' to read them as epoch times, or convert them first."
            )
        if time_unit not in _UNIT_TO_US:
            raise ValueError(f"time_unit must be one of 's', 'ms', 'us', 'ns'; got {time_unit!r}.")
        values = arr.to_numpy(zero_copy_only=False)
        if pa.types.is_floating(t):
            if not np.isfinite(values).all():
                raise ValueError(f"column {name!r} has non-finite epoch times.")
            values = np.round(values * (_UNIT_TO_US[time_unit] or 1e-3)).astype(np.int64)
            return values, False
        return _to_us(values.astype(np.int64, copy=False), time_unit), False
    if pa.types.is_string(t):
        try:
            parsed = pc.cast(arr, pa.timestamp("us"))
        except pa.ArrowInvalid:
            try:
                parsed = pc.cast(arr, pa.timestamp("us", "UTC"))
                aware = True
            except pa.ArrowInvalid:
                _raise_unparseable(arr, name)
        return parsed.cast(pa.int64()).to_numpy(zero_copy_only=False), aware
    raise TypeError(
        f"column {name!r} must hold datetimes or datetime strings "
        f"(e.g. '2022-06-23 10:00:00'); got {t}."
    )


def _to_us(values: np.ndarray, unit: str) -> np.ndarray:
    if unit == "us":
        return values
    if unit == "ns":
        return values // 1_000
    return values * _UNIT_TO_US[unit]


def _raise_unparseable(arr: pa.Array, name: str) -> None:
    strings = pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object)
    naive = pd.to_datetime(strings, errors="coerce", format="ISO8601", utc=True)
    if naive.isna().any():
        bad = strings[naive.isna()].iloc[0]
        raise ValueError(
            f"column {name!r}: cannot parse timestamp {bad!r}; expected ISO 8601 strings "
            "such as '2022-06-23 10:00:00'."
        )
    has_zone = strings.str.contains(r"(?:Z|[+-]\d\d:?\d\d)\s*$", regex=True)
    raise ValueError(
        f"column {name!r} mixes timezone-aware timestamps (e.g. "
        f"{strings[has_zone].iloc[0]!r}) and naive ones (e.g. {strings[~has_zone].iloc[0]!r}); "
        "make them all aware (they are converted to UTC) or all naive."
    )


def parse_codes(arr: pa.Array, name: str, *, length: int = CODE_LENGTH) -> pa.Array:
    """Parse quantized-embedding codes into ``fixed_size_list<uint8, length>``.

    Accepts strings such as ``"[12 0 255 ...]"`` (spaces or commas), lists of integers,
    or fixed-size lists. Nulls stay null. Raises a ``ValueError`` naming the column for
    a wrong number of codes, non-integers, or values outside 0..255.
    """
    arr = normalize_type(arr)
    t = arr.type
    if pa.types.is_fixed_size_list(t) and t.list_size == length and t.value_type == pa.uint8():
        return arr
    if pa.types.is_string(t):
        trimmed = pc.utf8_trim(arr, "[] \t\n")
        lists = pc.split_pattern_regex(trimmed, r"[\s,]+")
    elif pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        lists = arr
    else:
        raise TypeError(
            f"column {name!r} must hold {length} codes per row, as strings like "
            f"'[12 0 255 ...]' or as lists of integers; got {t}."
        )
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False)
    valid = np.asarray(lists.is_valid())
    wrong = valid & (np.nan_to_num(lengths.astype(float), nan=length) != length)
    if wrong.any():
        pos = int(np.flatnonzero(wrong)[0])
        raise ValueError(
            f"column {name!r}: expected {length} codes per row, got {int(lengths[pos])} "
            f"at row {pos} ({arr[pos].as_py()!r})."
        )
    flat = lists.flatten()
    try:
        ints = pc.cast(flat, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise ValueError(
            f"column {name!r}: codes must be integers 0..255; could not read "
            f"{_first_valid(arr, valid)!r}."
        ) from None
    codes = ints.to_numpy(zero_copy_only=False)
    if codes.size and (codes.min() < 0 or codes.max() > 255):
        pos = int(np.flatnonzero((codes < 0) | (codes > 255))[0]) // length
        row = int(np.flatnonzero(valid)[pos])
        raise ValueError(
            f"column {name!r}: codes must lie in 0..255; row {row} has {arr[row].as_py()!r}."
        )
    # Rebuild with nulls in place: null rows take `length` zero slots.
    full = np.zeros((len(arr), length), dtype=np.uint8)
    full[valid] = codes.astype(np.uint8).reshape(-1, length)
    mask = pa.array(~valid) if not valid.all() else None
    values = pa.array(full.reshape(-1))
    return pa.FixedSizeListArray.from_arrays(values, length, mask=mask)


def timestamp_to_us(value: Any) -> int:
    """A datetime-like scalar as int64 microseconds since the epoch (aware: UTC)."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(np.datetime64(ts.as_unit("us").asm8, "us").astype(np.int64))
