"""Reference embeddings: random vectors, the official baseline's counts, the oracle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._arrow import timestamp_to_us
from .._count_stats import Events, code_means, counts, dictionary, top_counts
from .._frame import EVENT_TYPE, EventView, checked_view
from .._vocabulary import Vocabulary

__all__ = ["official_baseline", "oracle_embeddings", "oracle_scores", "random_embeddings"]


#: (event type, field) pairs whose top values the official baseline counts.
BASELINE_FIELDS: tuple[tuple[str, str], ...] = (
    ("product_buy", "sku"),
    ("product_buy", "category"),
    ("product_buy", "price"),
    ("add_to_cart", "sku"),
    ("add_to_cart", "category"),
    ("add_to_cart", "price"),
    ("remove_from_cart", "sku"),
    ("remove_from_cart", "category"),
    ("remove_from_cart", "price"),
    ("page_visit", "url"),
)


def official_baseline(
    X: Any,
    *,
    reference_time: Any = None,
    top_k: int = 10,
    windows: Sequence[int] = (1, 7, 30),
    log: bool = True,
) -> pd.DataFrame:
    """The official baseline's aggregated counts (a reimplementation).

    For each event type: its number of events in the last 1, 7 and 30 days before
    ``reference_time``; for each (event type, field) of :data:`BASELINE_FIELDS`: the
    counts of the ``top_k`` most frequent values of that field over the same windows;
    and the mean of the search-query codes. Fields or event types that are absent are
    skipped. About 330 columns on the challenge data. It is a configuration of the
    statistic groups of :class:`~sklearn_ubp.EventCountEmbedder` (its ``"counts"``,
    ``"top_k"`` and ``"codes"``), with the baseline's names and top values.

    Parameters
    ----------
    X : event frame
    reference_time : datetime-like, optional
        Windows end here; default the last event in ``X``.
    top_k : int, default=10
    windows : sequence of int, default=(1, 7, 30)
        Window lengths in days.
    log : bool, default=True
        Return ``log1p`` of the counts (finite in float16); ``False`` gives raw counts.

    Returns
    -------
    features : pandas.DataFrame of float32, indexed like ``X``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_ubp import group_events
    >>> from sklearn_ubp.evaluation import official_baseline
    >>> log = pd.DataFrame({"client_id": [1, 1, 2], "event_type": ["product_buy"] * 3,
    ...     "timestamp": pd.to_datetime(["2022-01-01", "2022-01-30", "2022-01-31"]),
    ...     "sku": [5, 5, 6]})
    >>> f = official_baseline(group_events(log), log=False)
    >>> f[["product_buy_30d", "product_buy_sku=5_30d", "product_buy_sku=6_1d"]].to_numpy().tolist()
    [[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]]
    """
    view = checked_view(X, required=("timestamp", EVENT_TYPE))
    codes, labels = view.categories(EVENT_TYPE)
    ev = _baseline_events(view, codes, labels, reference_time)
    columns = [c for label in labels for c in counts(ev, label, windows, fmt="{g}_{w}")]
    for event_type, field in BASELINE_FIELDS:
        if event_type in labels and field in view.columns:
            columns += _top_value_counts(
                view, ev, codes == labels.index(event_type), event_type, field, top_k, windows
            )
    values = _matrix(columns, view.n_users)
    if log:
        np.log1p(values, out=values)
    if "query" in view.columns:
        size = view.values("query").type.list_size
        means = list(code_means(ev, EVERY, "query", size, fmt="{f}_mean_{j}"))
        values = np.hstack([values, _matrix(means, view.n_users)])
        columns += means
    names = [name for name, _ in columns]
    return pd.DataFrame(values, index=view.frame.index, columns=names)


def _matrix(columns: list, n: int) -> np.ndarray:
    """The float32 ``(n, len(columns))`` matrix of ``(name, values)`` columns."""
    if not columns:
        return np.zeros((n, 0), np.float32)
    return np.column_stack([values for _, values in columns]).astype(np.float32)


#: The baseline's group of every event (its query means read them all).
EVERY = "*"


def _baseline_events(
    view: EventView, codes: np.ndarray, labels: list, reference_time: Any
) -> Events:
    """The events of each type up to the reference time (default: just after the last)."""
    times = view.times()
    if reference_time is not None:
        ref = timestamp_to_us(reference_time)
    else:
        ref = int(times.max()) + 1 if times.size else 0
    age = ref - times
    groups = {label: np.flatnonzero((codes == t) & (age >= 0)) for t, label in enumerate(labels)}
    groups[EVERY] = np.arange(view.n_events)
    return Events(view, view.user_of_event(), age, times, groups)


def _top_value_counts(
    view: EventView,
    ev: Events,
    is_type: np.ndarray,
    event_type: str,
    field: str,
    top_k: int,
    windows: Sequence[int],
) -> list:
    """Counts of the ``top_k`` values of ``field`` (over every event of the type), by value."""
    values = view.numpy(field, fill=-1)
    is_type = is_type & (values >= 0)
    if not is_type.any():
        return []
    top = Vocabulary(max_size=top_k, order="value").fit(values[is_type])

    def name(v: Any, w: str) -> str:
        return f"{event_type}_{field}={v}_{w}"

    return list(top_counts(ev, event_type, dictionary(view.values(field)), top, windows, name))


def random_embeddings(X: Any, n_components: int = 64, random_state: int | None = 0) -> np.ndarray:
    """Gaussian vectors, one per user: the floor every embedding must beat.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn_ubp.evaluation import random_embeddings
    >>> random_embeddings(pd.DataFrame(index=[1, 2, 3]), n_components=4).shape
    (3, 4)
    """
    rng = np.random.default_rng(random_state)
    return rng.standard_normal((len(X), n_components)).astype(np.float32)


def oracle_embeddings(traits: pd.DataFrame, index: pd.Index) -> np.ndarray:
    """The generator's true latent traits, aligned with ``index`` (the ceiling).

    Raises a ``ValueError`` naming missing users rather than filling them.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_ubp.evaluation import oracle_embeddings
    >>> traits = pd.DataFrame({"a": [1.0, 2.0]}, index=[10, 20])
    >>> oracle_embeddings(traits, pd.Index([20, 10])).ravel().tolist()
    [2.0, 1.0]
    """
    missing = index.difference(traits.index)
    if len(missing):
        raise ValueError(
            f"traits lack {len(missing)} user(s) of the index, e.g. {missing[:5].tolist()}."
        )
    values = traits.reindex(index).to_numpy(dtype=np.float32)
    return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)


#: The product field each propensity task predicts.
TASK_FIELDS = {
    "propensity_category": "category",
    "propensity_sku": "sku",
    "propensity_new_sku": "sku",
    "propensity_price": "price",
}


def oracle_scores(
    data: Any, tasks: Any, *, random_state: int = 0, holdout: float | None = 0.5
) -> pd.DataFrame:
    """Scores of the generator's true purchase probabilities: the ceiling of every task.

    For synthetic data from :func:`sklearn_ubp.datasets.make_events`, the probability
    that each user buys (anything, or each target) in window 2 is known exactly from the
    generator's rate model (:func:`sklearn_ubp.datasets.purchase_probabilities`). Scoring
    those probabilities directly against the window-2 targets, on the same held-out users
    as ``evaluate(..., protocol="fast", holdout=holdout, random_state=random_state)``,
    gives the best score any embedding can reach, up to sampling noise.

    Returns
    -------
    scores : pandas.DataFrame
        Columns ``task``, ``metric``, ``value``, as :func:`evaluate` returns.
    """
    from ..datasets import purchase_probabilities
    from ._metrics import task_metrics
    from ._protocol import _fast_split

    start, stop = tasks.windows[1]
    rows: list[tuple[str, str, float]] = []
    total = 0.0
    for name, task in tasks.tasks.items():
        users = tasks.X.index[task.mask]
        _, test = _fast_split(len(users), holdout, random_state)
        users = users[test]
        y_test = task.y_test[task.mask][test]
        if task.kind == "binary":
            p_buy = purchase_probabilities(data, start, stop, users=users)
            probs = 1.0 - p_buy  # both binary tasks label "no purchase" as 1
        else:
            field = TASK_FIELDS[name]
            probs = purchase_probabilities(
                data, start, stop, by=field, targets=task.targets, users=users
            )
        metrics = task_metrics(task.kind, y_test, probs, task.popularity)
        rows.extend((name, k, float(v)) for k, v in metrics.items())
        total += metrics["score"]
    rows.append(("total", "score", total))
    return pd.DataFrame(rows, columns=["task", "metric", "value"])
