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

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._arrow import timestamp_to_us
from ._frame import EventView, check_event_frame, checked_view, is_event_frame
from ._versions import VersionedEstimator

__all__ = ["EventTransformer", "as_pandas_events", "with_user_index"]

EVENTS = "events"
ARRAY = "array"


def as_pandas_events(X: Any) -> Any:
    """A polars / pyarrow event frame as a pandas one; anything else unchanged.

    Estimators convert once at their entry point, then work on (and index their
    output by) the pandas frame.
    """
    if is_event_frame(X) and not isinstance(X, pd.DataFrame):
        return check_event_frame(X)
    return X


def with_user_index(est: Any, out: np.ndarray, users: Any) -> np.ndarray | pd.DataFrame:
    """``out`` indexed by the users of ``users`` when ``est`` outputs pandas.

    ``users``: a pandas (event) frame, an :class:`EventView` or an index. scikit-learn's
    pandas output takes the index of the *original* input, which a polars or pyarrow
    event frame does not have (it would number the rows 0..n-1); an output that is
    already a DataFrame keeps its index. Otherwise ``out`` is returned as is.
    """
    if isinstance(users, (pd.DataFrame, EventView)):
        users = users.index
    if not isinstance(users, pd.Index):
        return out
    try:
        from sklearn.utils._set_output import _get_output_config

        wanted = _get_output_config("transform", est)["dense"] == "pandas"
    except (ImportError, KeyError, TypeError):  # pragma: no cover - other sklearn
        wanted = False
    return pd.DataFrame(out, index=users) if wanted else out


class EventTransformer(VersionedEstimator, TransformerMixin, BaseEstimator):
    """Base class: input dispatch, float32 finite output, tags, profile-member hooks.

    ``fit`` (through :meth:`_validate_input`) records the versions of the packages
    the fitted state depends on; unpickling under another major.minor version of one
    warns (:class:`~sklearn_ubp.InconsistentVersionWarning`).

    Subclasses call :meth:`_validate_input` in ``fit`` (``reset=True``) and in
    ``transform`` (``reset=False``) and get either an :class:`EventView` or a float
    array; they return :meth:`_finish` of their output. As members of
    :class:`~sklearn_ubp.UniversalProfile` they declare their post-processing
    (:attr:`_ubp_postprocess`) and what they need of the data
    (:meth:`_ubp_requirement`); the profile asks these hooks, never the type.
    """

    #: How :class:`~sklearn_ubp.UniversalProfile` post-processes this member's output:
    #: ``"learned"`` (row L2 normalisation, as the paper does for learned embeddings),
    #: ``"statistics"`` (standardisation; a uniform quantile transform with
    #: ``postprocess="paper"``) or ``None`` (none).
    _ubp_postprocess: ClassVar[str | None] = None

    def _ubp_requirement(self, view: EventView) -> str | None:
        """Why this member cannot run on the event frame of ``view``; ``None`` if it can.

        A default member of :class:`~sklearn_ubp.UniversalProfile` that cannot run is
        left out, with this reason in ``skipped_members_``.
        """
        return None

    @staticmethod
    def _missing_columns(view: EventView, fields: Any) -> str | None:
        """The usual requirement: these columns must be in the frame."""
        missing = [f for f in dict.fromkeys(fields) if f not in view.columns]
        return f"the event frame lacks column(s) {missing}" if missing else None

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
        if reset:
            self._record_versions()
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

    def _finish(self, values: np.ndarray, users: Any = None) -> np.ndarray | pd.DataFrame:
        """float32 output; non-finite values are a bug, never passed on.

        ``users`` (the pandas input frame or its :class:`EventView`) indexes the
        output with ``set_output(transform="pandas")``, also for polars / pyarrow
        input (see :func:`with_user_index`).
        """
        out = np.asarray(values, dtype=np.float32)
        if not np.isfinite(out).all():
            raise FloatingPointError(
                "internal error: non-finite values in a transform output; please report it."
            )
        return with_user_index(self, out, users)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
