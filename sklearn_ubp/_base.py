"""What every sklearn-ubp transformer shares: one entry point for its two input kinds.

Every estimator accepts

* an **event frame** (see :mod:`sklearn_ubp._frame`; pandas, or polars/pyarrow with
  list columns), its main input; and
* a plain **2-D numeric array**, whose meaning each estimator documents (e.g. one
  equal-length numeric sequence per row, or a user x item weight matrix). This keeps
  the estimators usable, and testable with scikit-learn's ``check_estimator``, on
  ordinary arrays.

An estimator fitted on one kind refuses the other in ``transform``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._arrow import timestamp_to_us
from ._frame import EventView, checked_view, is_event_frame

__all__ = ["EventTransformer", "with_user_index"]

EVENTS = "events"
ARRAY = "array"


def with_user_index(est: Any, out: np.ndarray, X: Any) -> np.ndarray | pd.DataFrame:
    """``out`` as a DataFrame indexed by the users of ``X`` when ``est`` outputs pandas.

    Only needed for event frames that are not pandas (polars, pyarrow), for an
    :class:`EventView` or for the users' index itself; scikit-learn's pandas output
    takes a pandas input's index by itself. Otherwise ``out`` is returned as is (its
    columns are named by scikit-learn's output wrapper).
    """
    if X is None or isinstance(X, pd.DataFrame):
        return out
    try:
        from sklearn.utils._set_output import _get_output_config

        wanted = _get_output_config("transform", est)["dense"] == "pandas"
    except (ImportError, KeyError, TypeError):  # pragma: no cover - other sklearn
        wanted = False
    if not wanted:
        return out
    if isinstance(X, pd.Index):  # the users, already known
        return pd.DataFrame(out, index=X)
    if isinstance(X, EventView):
        return pd.DataFrame(out, index=X.index)
    if is_event_frame(X):
        return pd.DataFrame(out, index=checked_view(X, required=()).index)
    return out


class EventTransformer(TransformerMixin, BaseEstimator):
    """Base class: input dispatch, float32 finite output, tags.

    Subclasses call :meth:`_validate_input` in ``fit`` (``reset=True``) and in
    ``transform`` (``reset=False``) and get either an :class:`EventView` or a float
    array; they return :meth:`_finish` of their output.
    """

    def _validate_input(
        self, X: Any, *, reset: bool, required: tuple[str, ...] = ("timestamp",)
    ) -> EventView | np.ndarray:
        kind = EVENTS if is_event_frame(X) else ARRAY
        if not reset:
            check_is_fitted(self)
            fitted = self.input_kind_
            if fitted != kind:
                raise ValueError(
                    f"{type(self).__name__} was fitted on "
                    f"{'an event frame' if fitted == EVENTS else 'a 2-D numeric array'} "
                    f"and cannot transform {'an event frame' if kind == EVENTS else 'a 2-D array'}."
                )
        if kind == EVENTS:
            view = checked_view(X, required=required)
            if reset:
                self.input_kind_ = EVENTS
            return view
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])
        if reset:
            self.input_kind_ = ARRAY
        return X

    def _set_reference_time(self, times: np.ndarray) -> int:
        """Store ``reference_time_`` (``reference_time``, or the latest of ``times``).

        ``times`` are the flat event times in microseconds; returns the reference in
        microseconds (0 for a frame without events and no ``reference_time``).
        """
        if self.reference_time is None:
            ref = int(times.max()) if times.size else 0
        else:
            ref = timestamp_to_us(self.reference_time)
        self.reference_time_ = pd.Timestamp(ref, unit="us")
        return ref

    def _finish(self, values: np.ndarray, X: Any = None) -> np.ndarray | pd.DataFrame:
        """float32 output; non-finite values are a bug, never passed on.

        ``X`` (the input, or its :class:`EventView`) keeps the user ids with
        ``set_output(transform="pandas")`` when the input is not a pandas frame (a
        polars or pyarrow event frame): scikit-learn would index the output 0..n-1.
        """
        out = np.asarray(values, dtype=np.float32)
        if not np.isfinite(out).all():
            raise FloatingPointError(
                "internal error: non-finite values in a transform output; please report it."
            )
        return with_user_index(self, out, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
