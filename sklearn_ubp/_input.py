"""The one input boundary: whatever an estimator is given becomes a checked event view.

Every estimator calls :func:`as_event_view` once at the top of ``fit`` / ``transform``
(a :class:`~sklearn_ubp.UniversalProfile` once for all its members, which it hands the
checked view), and from then on works on one kind of input, an :class:`EventView`:

* an :class:`EventView` that passed the checks is used as it is;
* a pandas event frame, or a polars DataFrame / LazyFrame or pyarrow Table with list
  columns, is validated (see :mod:`sklearn_ubp._frame`); a pandas frame with some list
  columns and some other columns gets the event-frame message naming the others;
* a dict of long tables keyed by event type is grouped with
  :func:`~sklearn_ubp.group_events`, then validated;
* a **2-D numeric array** (numpy, a numeric pandas / polars frame, any array-like) is
  validated as scikit-learn validates arrays (``check_array``) and converted into an
  event frame (:func:`array_events`): row ``i`` is user ``i``; each column ``j`` is one
  event at ``1970-01-01 + j`` days with the fields ``value`` (the entry) and
  ``column_id`` (``j``). Every estimator then has one code path, for arrays too.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp
from sklearn.utils.validation import _get_feature_names, check_array

from ._arrow import US_PER_DAY, arrow_schema, as_arrow_table
from ._frame import (
    EVENT_TYPE,
    KNOWN_EVENT_TYPES,
    TIME,
    EventView,
    frame_from_arrow,
    has_list_column,
    validate_frame,
)
from ._group import _as_list, group_events

__all__ = ["ARRAY_ITEM", "ARRAY_VALUE", "array_events", "as_event_view", "check_fit_events"]

#: The field of an array's entries in its event frame.
ARRAY_VALUE = "value"
#: The field of an array's column positions in its event frame (the items of an SVD).
ARRAY_ITEM = "column_id"


def as_event_view(
    X: Any,
    *,
    required: tuple[str, ...] = (TIME,),
    user: str | None = None,
    estimator: Any = None,
) -> EventView:
    """The checked :class:`EventView` of any accepted input (see the module docs).

    Parameters
    ----------
    X : event frame, dict of long tables, EventView or 2-D numeric array-like
        The input.
    required : tuple of str, default=("timestamp",)
        Columns an event frame must have.
    user : str, optional
        For polars / pyarrow input: the user-id column (by default the one non-list
        column); for a dict of tables: the user column of the tables.
    estimator : estimator, optional
        The estimator asking: named in array validation errors. Without one, only
        event frames are accepted (a 2-D array raises a ``TypeError``).

    Returns
    -------
    view : EventView
        ``checked`` is true; ``array`` is set for a 2-D array input.
    """
    if isinstance(X, EventView):
        if not X.checked:
            return validate_frame(X.frame, required)
        missing = [c for c in required if c not in X.columns]
        if missing:
            raise ValueError(
                f"event frame is missing required column(s) {missing}; it has {X.columns}."
            )
        return X
    if isinstance(X, Mapping) and not sp.issparse(X):  # a dok matrix is a dict
        X = group_events(X) if user is None else group_events(X, user=user)
    elif arrow_schema(X) is not None and (estimator is None or has_list_column(X)):
        X = frame_from_arrow(as_arrow_table(X), user)
    if isinstance(X, pd.DataFrame) and (estimator is None or has_list_column(X)):
        return validate_frame(X, required)
    if estimator is None:
        raise TypeError(
            "expected an event frame: a pandas DataFrame with one row per user and list "
            f"columns (see sklearn_ubp.group_events); got {type(X).__name__}."
        )
    return _array_view(X, estimator)


def _array_view(X: Any, estimator: Any) -> EventView:
    """The view of a 2-D numeric array's event frame, with the validated array."""
    names = _get_feature_names(X)
    array = check_array(X, dtype=[np.float64, np.float32], estimator=estimator, input_name="X")
    with np.errstate(over="ignore"):
        total = float(np.square(array, dtype=np.float64).sum())
    if not np.isfinite(total):
        raise ValueError(
            f"field {ARRAY_VALUE!r} (the array's values, largest magnitude "
            f"{float(np.abs(array).max()):.3g}): their sum of squares overflows float64, so "
            "statistics and factorisations of them would not be finite; rescale the input."
        )
    width = array.shape[1]
    view = EventView(array_events(array))
    view.checked = True
    view.array = array
    view.array_template = (
        np.empty((0, width)) if names is None else pd.DataFrame(np.empty((0, width)), columns=names)
    )
    return view


def array_events(X: np.ndarray) -> pd.DataFrame:
    """The event frame of a 2-D numeric array: one ``value`` event per column.

    Row ``i`` becomes user ``i`` (index ``0..n-1``) and column ``j`` an event at
    ``1970-01-01 + j`` days (uniform times; the last column is the latest) with the
    fields ``value`` (``X[i, j]``, of ``X``'s float dtype) and ``column_id`` (``j``).

    Parameters
    ----------
    X : ndarray of shape (n_users, n_columns)
        A validated numeric array.

    Returns
    -------
    frame : pandas.DataFrame
        The event frame (``n_users * n_columns`` events).
    """
    n, width = X.shape
    offsets = np.arange(n + 1, dtype=np.int64) * width
    offsets = pa.array(offsets.astype(np.int32) if n * width < 2**31 else offsets)
    columns = np.tile(np.arange(width, dtype=np.int64), n)
    times = (columns * US_PER_DAY).astype("datetime64[us]")
    data = {
        TIME: _as_list(pa.array(times), offsets),
        ARRAY_ITEM: _as_list(pa.array(columns), offsets),
        ARRAY_VALUE: _as_list(pa.array(np.ravel(X)), offsets),
    }
    return pd.DataFrame(data, index=pd.RangeIndex(n))


def check_fit_events(view: EventView, owner: Any) -> None:
    """What ``fit`` needs of its events (checked once per view, for a whole profile).

    A log without any event is refused (``ValueError``): every vocabulary and
    statistic would be empty and every user would embed to the same vector. Event
    types that are not among :data:`~sklearn_ubp._frame.KNOWN_EVENT_TYPES`, in a log
    that has known ones too (a typo such as ``'prodcut_buy'``), are reported in a
    ``UserWarning`` naming them and the known types: the statistics and weights that
    name a known type do not count them. Events without a type (null) are reported
    likewise.
    """
    if view.fit_checked:
        return
    name = type(owner).__name__
    _check_event_count(view, name)
    if EVENT_TYPE in view.columns:
        _check_event_types(view, name)
    view.fit_checked = True


def _check_event_count(view: EventView, name: str) -> None:
    if view.n_events == 0:
        raise ValueError(
            f"{name} cannot be fitted on an event log without events ({view.n_users} users, "
            "0 events): its vocabularies and statistics would be empty and every user "
            "would get the same vector. Fit on users with events."
        )


def _check_event_types(view: EventView, name: str) -> None:
    codes, labels = view.categories(EVENT_TYPE)
    if (codes < 0).any():
        warnings.warn(
            f"{name}: column {EVENT_TYPE!r} has {int((codes < 0).sum())} missing (null) "
            "event type(s); these events count as no type (the event statistics, also "
            "those of all events, 'any', leave them out). Give them a type to count them.",
            UserWarning,
            stacklevel=5,
        )
    present = [str(labels[c]) for c in np.unique(codes[codes >= 0])]
    unknown = [t for t in present if t not in KNOWN_EVENT_TYPES]
    if unknown and len(unknown) < len(present):
        close = {t: difflib.get_close_matches(t, KNOWN_EVENT_TYPES, n=1) for t in unknown}
        hints = [f"{t!r} (did you mean {c[0]!r}?)" if c else repr(t) for t, c in close.items()]
        warnings.warn(
            f"{name}: column {EVENT_TYPE!r} has event type(s) {', '.join(hints)} that are "
            f"not among the known types {list(KNOWN_EVENT_TYPES)}; the statistics and "
            "weights that name a known type (purchases, carts, visits) do not count "
            "them. Rename them if they are typos.",
            UserWarning,
            stacklevel=5,
        )
