"""Embed a Dask DataFrame of long events with a fitted model, partition by partition.

:func:`transform` shuffles a long event table (one row per event) so that every user's
events are in one partition, groups each partition with :func:`sklearn_ubp.group_events`
and embeds it with a fitted model, shipped to each worker once. Dask is optional:
``pip install "sklearn-ubp[dask]"``; ``import sklearn_ubp`` does not import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

try:
    import dask
    import dask.dataframe as dd
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        'sklearn_ubp.dask needs Dask; install it with: pip install "sklearn-ubp[dask]"'
    ) from exc

from sklearn.utils.validation import check_is_fitted

from ._frame import CODE_COLUMNS, EVENT_TYPE, TIME
from ._group import _missing_column, group_events

__all__ = ["transform"]

#: Column added before the shuffle: the global position of each event (partition
#: number in the high bits, row in the low bits), to restore the input order after it.
ORDER = "__sklearn_ubp_order__"
_ROW_BITS = 40


@dataclass(frozen=True)
class _Spec:
    """What every partition task needs besides its events and the model (small)."""

    names: tuple[str, ...]
    user: str
    index_dtype: Any
    options: dict


def transform(
    model: Any,
    events: Any,
    *,
    user: str = "client_id",
    time: str = TIME,
    event_type: str = EVENT_TYPE,
    columns: Sequence[str] | None = None,
    code_columns: Sequence[str] = CODE_COLUMNS,
    time_unit: str | None = None,
    npartitions: int | None = None,
    shuffle_method: str | None = None,
) -> dd.DataFrame:
    """Embed every user of a Dask DataFrame of long events with a fitted model.

    The events (one row per event) are shuffled on ``user``, so that each user's events
    are in exactly one partition; each partition is grouped into an event frame with
    :func:`~sklearn_ubp.group_events` and embedded with ``model.transform``. As each
    output row depends on its user's events only (and time features count back from
    the ``reference_time_`` fixed in ``fit``), the rows are those that
    ``model.transform(group_events(events))`` gives on the whole table, bit for bit
    for the estimators of this package. Events of one user with equal times keep their
    input order, whatever the shuffle does (a position column travels with them).

    The model is shipped once per worker, not once per partition: it is wrapped in
    :func:`dask.delayed`, which makes it **one key** of the graph that every partition
    task depends on. The threaded and synchronous schedulers share that one object;
    the distributed scheduler computes the key on one worker and copies it to each
    other worker the first time one of its tasks needs it, where it stays in memory
    for the worker's later tasks.

    Parameters
    ----------
    model : fitted estimator
        Any sklearn-ubp estimator (e.g. a fitted :class:`~sklearn_ubp.UniversalProfile`),
        or any object with ``transform`` (of an event frame) and
        ``get_feature_names_out``. An unfitted estimator raises
        :class:`~sklearn.exceptions.NotFittedError`.
    events : dask.dataframe.DataFrame
        The long events: a ``user`` column, a ``time`` column and the fields
        (``event_type``, ``sku``, ...), e.g. from :func:`dask.dataframe.read_parquet`.
    user, time, event_type, columns, code_columns, time_unit
        Passed to :func:`~sklearn_ubp.group_events` (column names and options).
    npartitions : int, optional
        Partitions after the shuffle (default: those of ``events``). A partition is
        grouped and embedded in one piece, so its memory is a few times its events'
        (about 2x for the grouping, plus the model's work, which
        ``UniversalProfile(chunk_size=...)`` bounds): choose partitions of a few
        million events, and several per worker so that the workers stay busy.
    shuffle_method : {"tasks", "disk", "p2p"}, optional
        Passed to :meth:`dask.dataframe.DataFrame.shuffle`. By default Dask's choice
        (``"p2p"`` on a distributed cluster), except ``"tasks"`` when a column has a
        nested or dictionary Arrow dtype (e.g. lists of codes), which ``"p2p"``
        cannot carry.

    Returns
    -------
    embeddings : dask.dataframe.DataFrame
        One row per user with events, indexed by user id (index name ``user``, sorted
        within each partition, no global order: ``.compute().sort_index()`` sorts),
        one float32 column per name of ``model.get_feature_names_out()`` (as ``str``).
        Nothing is computed until asked for (``.compute()``, ``.to_parquet(...)``).

    Examples
    --------
    >>> import dask, dask.dataframe as dd, pandas as pd
    >>> from sklearn_ubp import EventCountEmbedder, group_events
    >>> from sklearn_ubp.dask import transform
    >>> log = pd.DataFrame({
    ...     "client_id": [1, 2, 1, 3, 2, 1],
    ...     "timestamp": pd.to_datetime(["2022-06-23", "2022-06-24", "2022-06-25",
    ...                                  "2022-06-25", "2022-06-26", "2022-06-27"]),
    ...     "event_type": ["page_visit", "product_buy", "product_buy",
    ...                    "page_visit", "page_visit", "page_visit"],
    ... })
    >>> model = EventCountEmbedder().fit(group_events(log))
    >>> events = dd.from_pandas(log, npartitions=2)
    >>> embeddings = transform(model, events, npartitions=2)
    >>> with dask.config.set(scheduler="synchronous"):
    ...     out = embeddings.compute().sort_index()
    >>> out.index.tolist(), out.shape[1] == len(model.get_feature_names_out())
    ([1, 2, 3], True)
    >>> bool((out.to_numpy() == model.transform(group_events(log))).all())
    True
    >>> out.dtypes.unique().tolist()
    [dtype('float32')]
    """
    _check_events(events)
    names = _check_model(model)
    _check_columns(events, user, time)
    if npartitions is not None and (
        isinstance(npartitions, bool) or not isinstance(npartitions, int) or npartitions < 1
    ):
        raise ValueError(f"npartitions must be a positive int or None, got {npartitions!r}.")
    options = {"event_type": event_type, "columns": columns, "code_columns": code_columns}
    spec = _Spec(names, user, events._meta[user].dtype, {**options, "time_unit": time_unit})
    meta = _empty(spec)
    if columns is not None:  # shuffle only what the grouping reads
        keep = [user, time, *([event_type] if event_type in events.columns else []), *columns]
        events = events[list(dict.fromkeys(keep))]
    ordered = events.map_partitions(_with_order, meta=_order_meta(events._meta))
    method = _shuffle_method(events._meta, shuffle_method)
    shuffled = ordered.shuffle(
        on=user, npartitions=npartitions or events.npartitions, shuffle_method=method
    )
    shared = dask.delayed(model, pure=True)
    return shuffled.map_partitions(
        _embed_partition, shared, spec, time, meta=meta, align_dataframes=False
    )


def _check_events(events: Any) -> None:
    if isinstance(events, dd.DataFrame):
        return
    if isinstance(events, pd.DataFrame):
        raise TypeError(
            "events must be a dask.dataframe.DataFrame of long events, got a pandas "
            "DataFrame: embed it in this process with model.transform(group_events("
            "events)), or make a Dask frame with dask.dataframe.from_pandas(events, "
            "npartitions=...)."
        )
    raise TypeError(
        "events must be a dask.dataframe.DataFrame of long events (one row per event), "
        f"got {type(events).__module__}.{type(events).__qualname__}."
    )


def _check_model(model: Any) -> tuple[str, ...]:
    """The model's output names (``str``), after checking that it is fitted."""
    missing = [m for m in ("transform", "get_feature_names_out") if not hasattr(model, m)]
    if missing:
        raise TypeError(
            f"model must be a fitted estimator with transform and get_feature_names_out; "
            f"{type(model).__qualname__} has no {' or '.join(missing)}."
        )
    if hasattr(model, "fit"):
        check_is_fitted(model)
    return tuple(str(n) for n in model.get_feature_names_out())


def _check_columns(events: dd.DataFrame, user: str, time: str) -> None:
    columns = [str(c) for c in events.columns]
    for name, role in ((user, "user"), (time, "time")):
        if name not in columns:
            raise _missing_column(name, role, columns, "events (a Dask DataFrame)")
    if ORDER in columns:
        raise ValueError(f"events has a column {ORDER!r}, which transform uses; rename it.")


def _shuffle_method(meta: pd.DataFrame, method: str | None) -> str | None:
    """``method``, or ``"tasks"`` by default when a column has a nested or dictionary
    Arrow dtype (lists, fixed-size lists): the ``"p2p"`` shuffle cannot rebuild those."""
    if method is not None:
        return method
    for dtype in meta.dtypes:
        if isinstance(dtype, pd.ArrowDtype) and (
            pa.types.is_nested(dtype.pyarrow_dtype) or pa.types.is_dictionary(dtype.pyarrow_dtype)
        ):
            return "tasks"
    return None


def _order_meta(meta: pd.DataFrame) -> pd.DataFrame:
    return meta.assign(**{ORDER: pd.Series([], dtype=np.int64, index=meta.index)})


def _with_order(part: pd.DataFrame, partition_info: dict | None = None) -> pd.DataFrame:
    """``part`` with the global position of each event (see :data:`ORDER`)."""
    number = 0 if partition_info is None else int(partition_info["number"])
    if len(part) >= 1 << _ROW_BITS:  # pragma: no cover - a 10^12-row partition
        raise ValueError(f"a partition of events has more than 2**{_ROW_BITS} rows.")
    position = np.arange(len(part), dtype=np.int64) + (np.int64(number) << _ROW_BITS)
    return part.assign(**{ORDER: position})


def _empty(spec: _Spec) -> pd.DataFrame:
    """The (empty) frame of embeddings: float32 columns, index named ``spec.user``."""
    index = pd.Index([], dtype=spec.index_dtype, name=spec.user)
    values = np.empty((0, len(spec.names)), dtype=np.float32)
    return pd.DataFrame(values, index=index, columns=list(spec.names))


def _embed_partition(part: pd.DataFrame, model: Any, spec: _Spec, time: str) -> pd.DataFrame:
    """Group one partition (all events of its users) and embed it."""
    if len(part) == 0:
        return _empty(spec)
    position = part[ORDER].to_numpy()
    part = part.drop(columns=ORDER)
    if (np.diff(position) < 0).any():  # the shuffle changed the input order
        part = part.iloc[np.argsort(position, kind="stable")]
    frame = group_events(part, user=spec.user, time=time, **spec.options)
    values = model.transform(frame)
    if hasattr(values, "toarray"):  # a sparse matrix
        values = values.toarray()
    values = np.asarray(values, dtype=np.float32)
    if values.shape != (len(frame), len(spec.names)):
        raise ValueError(
            f"model.transform gave shape {values.shape} for {len(frame)} users, but "
            f"get_feature_names_out has {len(spec.names)} names."
        )
    index = pd.Index(frame.index, name=spec.user).astype(spec.index_dtype, copy=False)
    return pd.DataFrame(values, index=index, columns=list(spec.names))
