"""What every sklearn-ubp transformer shares: one entry point for every input kind.

Every estimator accepts an **event frame** (see :mod:`sklearn_ubp._frame`; pandas, or
polars/pyarrow with list columns, or a dict of long tables), its main input, and a
plain **2-D numeric array**, which the input boundary (:mod:`sklearn_ubp._input`)
converts into an event frame of one numeric ``value`` event per column (uniform
times). This keeps the estimators usable, and testable with scikit-learn's
``check_estimator``, on ordinary arrays, through the one event code path.

An estimator fitted on one kind refuses the other in ``transform``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import _check_feature_names, _check_n_features, check_is_fitted

from ._arrow import timestamp_to_us
from ._frame import TIME, EventView
from ._input import as_event_view, check_fit_events
from ._portable import PortableState
from ._versions import VersionedEstimator

__all__ = ["EventTransformer", "input_kind", "with_user_index"]

EVENTS = "events"
ARRAY = "array"


def input_kind(view: EventView) -> str:
    """``"array"`` for the view of a 2-D numeric array, else ``"events"``."""
    return ARRAY if view.array is not None else EVENTS


def aware_times(view: EventView) -> bool | None:
    """Whether the frame's timestamps are timezone-aware (``None``: not timestamps)."""
    if view.array is not None or TIME not in view.columns:
        return None
    kind = view.values(TIME).type
    return kind.tz is not None if pa.types.is_timestamp(kind) else None


def check_time_zone(est: Any, view: EventView) -> None:
    """Refuse, in ``transform``, naive times after aware ones in ``fit`` or the reverse:
    naive times are read as UTC, so the statistics would shift by the UTC offset."""
    fitted, now = getattr(est, "_ubp_aware_times", None), aware_times(view)
    if fitted is not None and now is not None and fitted != now:
        kinds = ("timezone-aware", "naive")
        raise ValueError(
            f"{type(est).__name__} was fitted on {kinds[not fitted]} timestamps but "
            f"X's {TIME!r} column is {kinds[not now]}; give both the same kind (e.g. "
            "aware times converted to UTC and made naive: tz_convert('UTC').tz_localize(None))."
        )


def check_input_kind(est: Any, view: EventView) -> None:
    """Refuse, in ``transform``, the other input kind than ``fit`` saw."""
    fitted, kind = est.input_kind_, input_kind(view)
    if fitted != kind:
        raise ValueError(
            f"{type(est).__name__} was fitted on "
            f"{'an event frame' if fitted == EVENTS else 'a 2-D numeric array'} "
            f"and cannot transform {'an event frame' if kind == EVENTS else 'a 2-D array'}."
        )


def with_user_index(est: Any, out: np.ndarray, users: Any) -> np.ndarray | pd.DataFrame:
    """``out`` indexed by the users of ``users`` when ``est`` outputs pandas.

    ``users``: a pandas (event) frame, an :class:`EventView` or an index. scikit-learn's
    pandas output takes the index of the *original* input, which a polars or pyarrow
    event frame does not have (it would number the rows 0..n-1); an output that is
    already a DataFrame keeps its index. The view of a 2-D array leaves the output
    to scikit-learn (which indexes it as the original input). Otherwise ``out`` is
    returned as is.
    """
    if isinstance(users, EventView):
        users = users.index if users.array is None else None
    elif isinstance(users, pd.DataFrame):
        users = users.index
    if not isinstance(users, pd.Index):
        return out
    try:
        from sklearn.utils._set_output import _get_output_config

        wanted = _get_output_config("transform", est)["dense"] == "pandas"
    except (ImportError, KeyError, TypeError):  # pragma: no cover - other sklearn
        wanted = False
    return pd.DataFrame(out, index=users) if wanted else out


class EventTransformer(PortableState, VersionedEstimator, TransformerMixin, BaseEstimator):
    """Base class: input dispatch, float32 finite output, tags, profile-member hooks.

    ``fit`` (through :meth:`_validate_input`) records the versions of the packages
    the fitted state depends on; unpickling under another major.minor version of one
    warns (:class:`~sklearn_ubp.InconsistentVersionWarning`).

    Subclasses call :meth:`_validate_input` in ``fit`` (``reset=True``) and in
    ``transform`` (``reset=False``) and get the checked :class:`EventView` of any
    input (an :class:`EventView` itself is accepted, so that a profile checks once);
    they return :meth:`_finish` of their output. As members of
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
    ) -> EventView:
        """The checked :class:`EventView` of ``X`` (any input kind, converted once).

        ``reset``: ``fit`` (records ``input_kind_`` and, for an array,
        ``n_features_in_`` / ``feature_names_in_``) or not (checks them).
        """
        if not reset:
            check_is_fitted(self)
        view = as_event_view(X, required=required, estimator=self)
        if not reset:
            check_input_kind(self, view)
            check_time_zone(self, view)
        if view.array is not None:
            _check_feature_names(self, view.array_template, reset=reset)
            _check_n_features(self, view.array_template, reset=reset)
        elif reset:
            for name in ("n_features_in_", "feature_names_in_"):
                self.__dict__.pop(name, None)
        if reset:
            check_fit_events(view, self)
            self._record_versions()
            self.input_kind_ = input_kind(view)
            self._ubp_aware_times = aware_times(view)
        return view

    def _check_fitted_columns(self, view: EventView, columns: Any) -> None:
        """The one message of every member for a frame without a column used in ``fit``."""
        missing = [c for c in dict.fromkeys(columns) if c not in view.columns]
        if missing:
            raise ValueError(
                f"the event frame lacks column(s) {missing} that {type(self).__name__} "
                f"used in fit; its columns are {view.columns}."
            )

    def _set_reference_time(self, times: np.ndarray) -> int:
        """Store ``reference_time_`` (``reference_time``, or the latest of ``times``).

        ``times`` are the flat event times in microseconds; returns the reference in
        microseconds (0 for a frame without events and no ``reference_time``).
        """
        if self.reference_time is None:
            ref = int(times.max()) if times.size else 0
        else:
            try:
                ref = timestamp_to_us(self.reference_time)
            except (ValueError, TypeError, OverflowError) as exc:
                raise ValueError(
                    f"reference_time={self.reference_time!r} is not a time: expected a "
                    f"datetime-like value such as '2022-06-01' ({exc})."
                ) from exc
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
