"""The event frame: the one input format of every sklearn-ubp estimator.

An **event frame** is a pandas DataFrame with

* **one row per user**; the index holds the user ids (unique, no missing values,
  ideally named, e.g. ``client_id``);
* **one column per event field**, each a pyarrow-backed list column
  (``pd.ArrowDtype(pa.list_(...))``) holding that user's events **in time order**;
  every column of a user holds the same number of elements (one per event);
* a ``timestamp`` column (``list<timestamp[us]>``, naive, meaning UTC) is required;
* ``event_type`` (``list<dictionary<int8, string>>`` or ``list<string>``), e.g.
  ``"product_buy"``, ``"add_to_cart"``, ``"remove_from_cart"``, ``"page_visit"``,
  ``"search_query"``; optional for single-type logs;
* any other fields that exist: ``sku``, ``category``, ``price``, ``url`` (integers or
  strings), ``query``/``name`` (``fixed_size_list<uint8, 16>`` quantized text codes),
  numeric amounts, ... A field that does not apply to an event (the ``url`` of a
  purchase) is null inside the list.

A user with no events is a row of empty lists. Because one row is one user,
``train_test_split``, ``KFold``, ``cross_val_score`` and ``GridSearchCV`` split by user
and keep ``X`` and ``y`` aligned.

A polars DataFrame (or a pyarrow Table) is accepted wherever an event frame is: one
non-list column holds the user ids and every other column is a ``List`` column.

Build one from a long event table with :func:`sklearn_ubp.group_events`, or by hand::

    import pandas as pd, pyarrow as pa
    ts = pd.ArrowDtype(pa.list_(pa.timestamp("us")))
    frame = pd.DataFrame(
        {
            "timestamp": pd.Series([[pd.Timestamp("2022-06-23 10:00")], []], dtype=ts),
            "event_type": pd.Series([["product_buy"], []], dtype=pd.ArrowDtype(pa.list_(pa.string()))),
        },
        index=pd.Index([7, 9], name="client_id"),
    )

Internally estimators never touch Python lists: :class:`EventView` reads the Arrow
offsets and values of each column zero-copy into numpy. Every estimator turns its input
into a checked :class:`EventView` once, at the input boundary
(:func:`sklearn_ubp._input.as_event_view`), and accepts such a view as ``X``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._arrow import CODE_LENGTH, arrow_schema, normalize_type, parse_timestamps

__all__ = ["EventView", "check_event_frame", "filter_events", "is_event_frame"]

TIME = "timestamp"
EVENT_TYPE = "event_type"
#: Columns that hold quantized text codes (fixed-size lists of uint8).
CODE_COLUMNS = ("query", "name")
#: The event types the estimators' defaults name (those of the RecSys Challenge 2025).
KNOWN_EVENT_TYPES = ("add_to_cart", "page_visit", "product_buy", "remove_from_cart", "search_query")


def _is_list_type(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t)


def _normalize_value_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_dictionary(t):
        return pa.dictionary(pa.int32(), _normalize_value_type(t.value_type))
    if _is_list_type(t):
        return pa.list_(_normalize_value_type(t.value_type))
    return t


def _normalize_list(arr: pa.Array) -> pa.Array:
    value_type = _normalize_value_type(arr.type.value_type)
    target = pa.list_(value_type)
    if pa.types.is_large_list(arr.type) and len(arr.values) >= 2**31 - 1:
        target = pa.large_list(value_type)
    return arr if arr.type == target else arr.cast(target)


def frame_from_arrow(table: pa.Table, user: str | None) -> pd.DataFrame:
    non_list = [f.name for f in table.schema if not _is_list_type(f.type)]
    if user is None:
        if len(non_list) != 1:
            raise ValueError(
                "an event frame given as a polars DataFrame or pyarrow Table needs exactly one "
                f"non-list column holding the user ids; found {non_list or 'none'}."
            )
        user = non_list[0]
    elif user not in table.column_names:
        raise ValueError(f"user column {user!r} not found; columns are {table.column_names}.")
    others = [n for n in non_list if n != user]
    if others:
        raise TypeError(
            f"event frame columns must be list columns (one element per event); "
            f"columns {others} are not."
        )
    index = pd.Index(normalize_type(table.column(user)).to_pandas(), name=user)
    data = {
        name: pd.arrays.ArrowExtensionArray(_normalize_list(normalize_type(table.column(name))))
        for name in table.column_names
        if name != user
    }
    return pd.DataFrame(data, index=index)


def _user_at(index: pd.Index, pos: int) -> Any:
    return index[pos : pos + 1].tolist()[0]


def _is_list_dtype(dtype: Any) -> bool:
    return isinstance(dtype, pd.ArrowDtype) and _is_list_type(dtype.pyarrow_dtype)


def has_list_column(X: Any) -> bool:
    """Whether a pandas / polars / pyarrow table has a list column (event-frame shaped).

    Pandas object columns count when their first value is a list or an array, so that
    an event frame built from Python lists gets the event-frame messages.
    """
    if isinstance(X, pd.DataFrame):
        for name, dtype in X.dtypes.items():
            if _is_list_dtype(dtype):
                return True
            if dtype == np.dtype(object) and len(X):
                first = X[name].iloc[0]
                if isinstance(first, (list, tuple, np.ndarray)):
                    return True
        return False
    schema = arrow_schema(X)
    return schema is not None and any(_is_list_type(f.type) for f in schema)


def is_event_frame(X: Any) -> bool:
    """Whether ``X`` looks like an event frame (as opposed to a plain 2-D array)."""
    if isinstance(X, pd.DataFrame):
        return X.shape[1] > 0 and all(_is_list_dtype(d) for d in X.dtypes)
    return has_list_column(X)


def check_event_frame(
    X: Any,
    *,
    required: tuple[str, ...] = (TIME,),
    user: str | None = None,
) -> pd.DataFrame:
    """Validate an event frame and return it as a pandas DataFrame.

    Parameters
    ----------
    X : pandas.DataFrame, polars.DataFrame, pyarrow.Table or dict of long tables
        The event frame (see the module documentation for the format); a dict of
        long tables keyed by event type is grouped with :func:`group_events`.
    required : tuple of str, default=("timestamp",)
        Columns that must be present.
    user : str, optional
        For polars/pyarrow input: the column holding the user ids. By default the one
        non-list column.

    Returns
    -------
    frame : pandas.DataFrame
        ``X`` itself when it is already a valid pandas event frame (no copy).

    Raises
    ------
    TypeError
        If ``X`` is not a DataFrame or a column is not a list column.
    ValueError
        For missing required columns, missing or duplicate user ids, missing lists,
        list columns whose lengths differ within a user, missing timestamps or events
        out of time order.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_ubp import check_event_frame, group_events
    >>> long = pd.DataFrame({"client_id": [1, 1, 2],
    ...                      "timestamp": pd.to_datetime(["2022-01-02", "2022-01-01", "2022-01-05"]),
    ...                      "sku": [10, 11, 10]})
    >>> frame = check_event_frame(group_events(long))
    >>> frame["sku"].tolist()
    [[11, 10], [10]]
    """
    return checked_view(X, required=required, user=user).frame


def checked_view(
    X: Any,
    *,
    required: tuple[str, ...] = (TIME,),
    user: str | None = None,
) -> EventView:
    """The checked :class:`EventView` of an event frame (see :func:`sklearn_ubp._input.as_event_view`)."""
    from ._input import as_event_view

    return as_event_view(X, required=required, user=user)


def _check_column_types(X: pd.DataFrame, required: tuple[str, ...]) -> None:
    for name, dtype in X.dtypes.items():
        if not _is_list_dtype(dtype):
            raise TypeError(
                f"event frame column {name!r} must be a pyarrow list column "
                f"(pd.ArrowDtype(pa.list_(...)), one element per event); got dtype {dtype}. "
                "Use sklearn_ubp.group_events to build an event frame from a long table."
            )
    for name in CODE_COLUMNS:
        if name in X.columns:
            inner = X.dtypes[name].pyarrow_dtype.value_type
            if not (
                pa.types.is_fixed_size_list(inner)
                and inner.list_size == CODE_LENGTH
                and inner.value_type == pa.uint8()
            ):
                raise TypeError(
                    f"event frame column {name!r} must hold one fixed-size list of "
                    f"{CODE_LENGTH} uint8 codes per event (pa.list_(pa.uint8(), {CODE_LENGTH})); "
                    f"got {inner}. group_events parses strings like '[12 0 255 ...]'."
                )
    missing = [c for c in required if c not in X.columns]
    if missing:
        raise ValueError(
            f"event frame is missing required column(s) {missing}; it has {list(X.columns)}."
        )


def _check_index(index: pd.Index) -> None:
    if isinstance(index, pd.MultiIndex):
        raise ValueError(
            f"event frame index must be one level of user ids; got a MultiIndex with levels "
            f"{list(index.names)} (keep one, e.g. frame.droplevel(...) or set_index)."
        )
    if index.hasnans:
        raise ValueError(
            f"event frame index (user ids{' ' + repr(index.name) if index.name else ''}) "
            "has missing values."
        )
    if not index.is_unique:
        dup = index[index.duplicated()].unique()[:5].tolist()
        raise ValueError(
            f"event frame has duplicate users in its index: {dup}; each user must be exactly "
            "one row (group all their events into that row)."
        )


def _check_lists(view: EventView) -> None:
    index, lengths = view.index, view.lengths
    for name in view.columns:
        arr = view.list_array(name)
        if arr.null_count:
            pos = int(np.flatnonzero(~np.asarray(arr.is_valid()))[0])
            raise ValueError(
                f"event frame column {name!r} has a missing list for user {_user_at(index, pos)!r}; "
                "use an empty list for users without events."
            )
        other = np.diff(view.offsets_of(name))
        if not np.array_equal(other, lengths):
            pos = int(np.flatnonzero(other != lengths)[0])
            raise ValueError(
                f"event frame column {name!r} has {int(other[pos])} elements for user "
                f"{_user_at(index, pos)!r} but {view.time_column!r} has {int(lengths[pos])}; every "
                "column must hold one element per event."
            )


def _check_finite(view: EventView) -> None:
    """Numeric fields hold finite numbers (NaN counts as missing; infinity is refused)."""
    for name in view.columns:
        values = view.values(name)
        if not pa.types.is_floating(values.type):
            continue
        inf = np.asarray(pc.is_inf(values).fill_null(False))
        if inf.any():
            pos = int(np.searchsorted(view.offsets_of(name), np.flatnonzero(inf)[0], "right") - 1)
            raise ValueError(
                f"event frame column {name!r} holds {int(inf.sum())} infinite value(s) (first: "
                f"user {_user_at(view.index, pos)!r}); expected finite numbers (null or NaN for "
                "a missing value)."
            )


def _check_time_order(view: EventView) -> None:
    descending = np.diff(view.times()) < 0
    if descending.any():
        # Steps between two users do not count.
        bounds = view.offsets[1:-1] - 1
        bounds = bounds[(bounds >= 0) & (bounds < descending.size)]
        descending[bounds] = False
        if descending.any():
            pos = int(np.flatnonzero(descending)[0])
            who = int(np.searchsorted(view.offsets, pos, side="right") - 1)
            raise ValueError(
                f"events of user {_user_at(view.index, who)!r} are not in time order in column "
                f"{TIME!r}; sort each user's events by time (group_events does)."
            )


def validate_frame(X: pd.DataFrame, required: tuple[str, ...] = (TIME,)) -> EventView:
    """Validate a pandas event frame; the checked :class:`EventView` the checks built."""
    _check_column_types(X, required)
    _check_index(X.index)
    view = EventView(X)
    _check_lists(view)
    _check_finite(view)
    if TIME in X.columns:
        _check_time_order(view)
    view.checked = True
    return view


class EventView:
    """Zero-copy numpy view of an event frame's Arrow buffers.

    Parameters
    ----------
    frame : pandas.DataFrame
        A checked event frame.

    Attributes
    ----------
    index : pandas.Index
        User ids, one per row.
    offsets : ndarray of int64, shape (n_users + 1,)
        ``offsets[i]:offsets[i + 1]`` are the events of user ``i`` in the flat arrays.
    lengths : ndarray of int64, shape (n_users,)
        Number of events per user.
    checked : bool
        Whether the frame passed the event-frame checks (the input boundary,
        :func:`sklearn_ubp._input.as_event_view`, sets it; a view built by hand is
        checked again there).
    array : ndarray or None
        For a view of a 2-D numeric array (converted at the input boundary): the
        validated array; ``None`` for an event frame.
    array_template : ndarray, DataFrame or None
        A zero-row stand-in for that array's input (its width and column names), from
        which estimators set or check ``n_features_in_`` and ``feature_names_in_``.
    """

    checked = False
    fit_checked = False
    array: np.ndarray | None = None
    array_template: Any = None

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.index = frame.index
        self.n_users = len(frame)
        self._lists: dict[str, pa.Array] = {}
        self.time_column = TIME if TIME in frame.columns else frame.columns[0]
        self.offsets = self.offsets_of(self.time_column)
        self.lengths = np.diff(self.offsets)
        self.n_events = int(self.offsets[-1])

    def __len__(self) -> int:
        return self.n_users

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def rows(self, start: int, stop: int) -> EventView:
        """The view of users ``start:stop`` (checked, and of the same array, if any)."""
        part = EventView(self.frame.iloc[start:stop])
        part.checked = self.checked
        if self.array is not None:
            part.array = self.array[start:stop]
            part.array_template = self.array_template
        return part

    def list_array(self, name: str) -> pa.Array:
        """The column as one contiguous Arrow list array."""
        if name not in self._lists:
            if name not in self.frame.columns:
                raise KeyError(name)
            chunked = self.frame[name].array.__arrow_array__()
            arr = chunked.combine_chunks() if chunked.num_chunks != 1 else chunked.chunk(0)
            self._lists[name] = arr
        return self._lists[name]

    def offsets_of(self, name: str) -> np.ndarray:
        arr = self.list_array(name)
        offsets = np.asarray(arr.offsets, dtype=np.int64)
        if len(arr) == 0:
            return np.zeros(1, dtype=np.int64)
        return offsets - offsets[0]

    def values(self, name: str) -> pa.Array:
        """The flat Arrow values of a column (all users' events, user by user)."""
        arr = self.list_array(name)
        if len(arr) == 0:
            return arr.values.slice(0, 0)
        offsets = arr.offsets
        start, stop = offsets[0].as_py(), offsets[len(arr)].as_py()
        return arr.values.slice(start, stop - start)

    def numpy(self, name: str, fill: Any = None) -> np.ndarray:
        """Flat values as numpy; nulls replaced by ``fill`` (required when nulls exist)."""
        values = self.values(name)
        if pa.types.is_dictionary(values.type):
            raise TypeError(f"column {name!r} is categorical; use EventView.categories().")
        if values.null_count:
            if fill is None:
                raise ValueError(f"column {name!r} has missing values; pass fill=.")
            values = values.fill_null(fill)
        return values.to_numpy(zero_copy_only=False)

    def categories(self, name: str) -> tuple[np.ndarray, list]:
        """Integer codes (``-1`` for null) and the category labels of a column."""
        values = self.values(name)
        if not pa.types.is_dictionary(values.type):
            values = pc.dictionary_encode(values)
        codes = values.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
        return codes, values.dictionary.to_pylist()

    def times(self) -> np.ndarray:
        """Flat timestamps as int64 microseconds."""
        values, _ = parse_timestamps(self.values(TIME), TIME)
        return values

    def codes(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Fixed-size code columns as a ``(n_events, k)`` uint8 array and a validity mask."""
        values = self.values(name)
        if not pa.types.is_fixed_size_list(values.type):
            raise TypeError(
                f"column {name!r} must hold fixed-size lists of codes; got {values.type}."
            )
        k = values.type.list_size
        valid = np.asarray(values.is_valid()) if values.null_count else np.ones(len(values), bool)
        flat = values.values.slice(values.offset * k, len(values) * k)
        out = flat.to_numpy(zero_copy_only=False).reshape(-1, k)
        return out, valid

    def user_of_event(self) -> np.ndarray:
        """Row position of the user of every flat event."""
        return np.repeat(np.arange(self.n_users), self.lengths)


def filter_events(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """Keep the flat events where ``keep`` is true; every user keeps its row.

    Parameters
    ----------
    frame : pandas.DataFrame
        A checked event frame.
    keep : ndarray of bool, shape (n_events,)
        One flag per flat event (user by user, as :class:`EventView` orders them).

    Returns
    -------
    frame : pandas.DataFrame
        Same index and columns; users whose events are all dropped get empty lists.
    """
    view = EventView(frame)
    keep = np.asarray(keep, dtype=bool)
    if keep.shape != (view.n_events,):
        raise ValueError(f"keep must have one flag per event ({view.n_events}); got {keep.shape}.")
    counts = np.bincount(view.user_of_event(), weights=keep, minlength=view.n_users)
    offsets = np.zeros(view.n_users + 1, dtype=np.int64)
    np.cumsum(counts.astype(np.int64), out=offsets[1:])
    offsets_arr = pa.array(offsets.astype(np.int32) if offsets[-1] < 2**31 else offsets)
    mask = pa.array(keep)
    cls = pa.LargeListArray if offsets_arr.type == pa.int64() else pa.ListArray
    data = {
        name: pd.arrays.ArrowExtensionArray(
            cls.from_arrays(offsets_arr, view.values(name).filter(mask))
        )
        for name in view.columns
    }
    return pd.DataFrame(data, index=frame.index)
