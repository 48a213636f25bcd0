"""Plots: training curves, 2-D maps of user embeddings, and score bar charts.

matplotlib is an optional dependency (``pip install "sklearn-ubp[plots]"``); it is
imported when a function is called, not when this module is imported. Every function
draws on ``ax`` (a new figure when ``ax`` is None) and returns the Axes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_embedding_map", "plot_scores", "plot_training_history"]

_MATPLOTLIB_HINT = (
    "sklearn_ubp.plotting needs matplotlib, an optional dependency: "
    'pip install "sklearn-ubp[plots]" (or the "docs" extra), or pip install matplotlib.'
)


def _require_matplotlib() -> Any:
    """Import ``matplotlib.pyplot``, or raise an ImportError naming the extra."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(_MATPLOTLIB_HINT) from exc
    return plt


def _axes(ax: Any, figsize: tuple[float, float]) -> Any:
    plt = _require_matplotlib()
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


# --------------------------------------------------------------------------- history


def _find_history(obj: Any) -> Any:
    """The ``history_`` of ``obj`` or of its first member that has one."""
    history = getattr(obj, "history_", None)
    if history is not None:
        return history
    members: list[Any] = []
    if hasattr(obj, "steps"):  # Pipeline
        members = [step for _, step in obj.steps]
    else:  # UniversalProfile (fitted members in transformers_), FeatureUnion
        pairs = getattr(obj, "transformers_", None) or getattr(obj, "transformer_list", None)
        members = [member for _, member in pairs or []]
    for member in members:
        if member is None or isinstance(member, str):
            continue
        found = _find_history(member)
        if found is not None:
            return found
    return None


def _history_frame(estimator_or_history: Any) -> pd.DataFrame:
    if isinstance(estimator_or_history, pd.DataFrame):
        history: Any = estimator_or_history
    elif isinstance(estimator_or_history, (list, tuple)):
        history = estimator_or_history
    else:
        history = _find_history(estimator_or_history)
        if history is None:
            raise TypeError(
                f"{type(estimator_or_history).__name__} has no history_ (fit a "
                "GRUSequenceAutoencoder, or a profile with one, first), and is not a list of "
                "per-epoch dicts or a DataFrame."
            )
    if not isinstance(history, pd.DataFrame):
        rows = [dict(row) for row in history]
        history = pd.DataFrame(rows)
    if "train_loss" not in history.columns:
        raise ValueError(
            f"the history needs a 'train_loss' entry per epoch; it has {list(history.columns)}."
        )
    if "epoch" not in history.columns:
        history = history.assign(epoch=np.arange(1, len(history) + 1))
    return history


def plot_training_history(estimator_or_history: Any, ax: Any = None) -> Any:
    """Training and validation loss per epoch of an autoencoder.

    Parameters
    ----------
    estimator_or_history : estimator, list of dict or DataFrame
        A fitted estimator with a ``history_`` attribute (e.g.
        ``GRUSequenceAutoencoder``), a ``FeatureUnion``/``UniversalProfile`` or
        ``Pipeline`` holding one (its first such member is plotted), or the history
        itself: one dict (or row) per epoch with ``"train_loss"`` and, optionally,
        ``"valid_loss"`` and ``"epoch"`` (default 1, 2, ...).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        Lines labelled ``"train loss"`` and ``"valid loss"`` (when there are validation
        losses), and a dotted vertical line ``"best epoch"`` at the lowest valid loss.

    Examples
    --------
    >>> from sklearn_ubp.plotting import plot_training_history
    >>> history = [{"epoch": 1, "train_loss": 2.0, "valid_loss": 2.2},
    ...            {"epoch": 2, "train_loss": 1.5, "valid_loss": 1.9},
    ...            {"epoch": 3, "train_loss": 1.2, "valid_loss": 2.0}]
    >>> ax = plot_training_history(history)
    >>> [line.get_label() for line in ax.get_lines()]
    ['train loss', 'valid loss', 'best epoch']
    >>> ax.get_lines()[1].get_ydata().tolist()
    [2.2, 1.9, 2.0]
    """
    history = _history_frame(estimator_or_history)
    ax = _axes(ax, (6, 4))
    epochs = history["epoch"].to_numpy()
    ax.plot(epochs, history["train_loss"].to_numpy(dtype=float), marker="o", label="train loss")
    if "valid_loss" in history.columns and history["valid_loss"].notna().any():
        valid = history["valid_loss"].to_numpy(dtype=float)
        ax.plot(epochs, valid, marker="o", label="valid loss")
        best = epochs[int(np.nanargmin(valid))]
        ax.axvline(best, color="grey", linestyle=":", label="best epoch")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("Autoencoder training")
    ax.legend()
    return ax


# --------------------------------------------------------------------------- embedding map


def _project(X: np.ndarray, method: str, random_state: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    if method == "pca":
        n = min(2, X.shape[0], X.shape[1])
        out = PCA(n_components=n, random_state=random_state).fit_transform(X)
        if n < 2:
            out = np.column_stack([out, np.zeros((len(X), 2 - n))])
        return out
    if method == "tsne":
        from sklearn.manifold import TSNE

        if X.shape[0] < 5:
            raise ValueError(f"method='tsne' needs at least 5 users; got {X.shape[0]}.")
        k = min(50, X.shape[0])
        if X.shape[1] > k:  # the usual PCA step before t-SNE
            X = PCA(n_components=k, random_state=random_state).fit_transform(X)
        perplexity = float(min(30.0, (X.shape[0] - 1) / 3))
        return TSNE(
            n_components=2, perplexity=perplexity, init="pca", random_state=random_state
        ).fit_transform(X)
    raise ValueError(f"method must be 'pca' or 'tsne'; got {method!r}.")


def plot_embedding_map(
    embeddings: Any,
    y: Any,
    ax: Any = None,
    *,
    method: str = "pca",
    max_points: int | None = 5000,
    random_state: int = 0,
    label: str | None = None,
) -> Any:
    """2-D map of user embeddings (PCA or t-SNE), coloured by a target.

    Parameters
    ----------
    embeddings : array-like or DataFrame of shape (n_users, n_dims)
        One row per user.
    y : array-like of shape (n_users,)
        The target each point is coloured by. With at most 10 distinct values (e.g.
        churn 0/1, a segment) one colour and legend entry per value; otherwise a
        continuous colour scale with a colour bar.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    method : {"pca", "tsne"}, default="pca"
        :class:`~sklearn.decomposition.PCA` or :class:`~sklearn.manifold.TSNE` (after a
        50-component PCA for wide embeddings) from scikit-learn.
    max_points : int or None, default=5000
        Plot a random sample of at most this many users (None: all).
    random_state : int, default=0
        Seed of the sample and of the projection.
    label : str, optional
        Name of the target for the legend title or colour bar (default ``y.name``
        for a Series, else ``"target"``).

    Returns
    -------
    ax : matplotlib.axes.Axes
        One scatter collection per class (categorical ``y``) or one in all.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ubp.plotting import plot_embedding_map
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 8))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> ax = plot_embedding_map(X, y, label="churn")
    >>> [len(c.get_offsets()) for c in ax.collections] == np.bincount(y).tolist()
    True
    >>> ax.get_legend().get_title().get_text()
    'churn'
    """
    X = np.asarray(embeddings, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"embeddings must be 2-D (n_users, n_dims); got shape {X.shape}.")
    name = label or (str(y.name) if isinstance(y, pd.Series) and y.name is not None else "target")
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have one value per user ({X.shape[0]}); got shape {y.shape}.")
    if not np.isfinite(X).all():
        raise ValueError("embeddings contain NaN or infinite values.")
    rng = np.random.default_rng(random_state)
    if max_points is not None and X.shape[0] > max_points:
        keep = np.sort(rng.choice(X.shape[0], size=max_points, replace=False))
        X, y = X[keep], y[keep]
    xy = _project(X, method, random_state)
    ax = _axes(ax, (6, 5))
    classes = pd.unique(y)
    if len(classes) <= 10 or not np.issubdtype(y.dtype, np.number):
        for value in sorted(classes, key=str):
            hit = y == value
            ax.scatter(xy[hit, 0], xy[hit, 1], s=8, alpha=0.6, label=str(value))
        ax.legend(title=name, markerscale=2)
    else:
        points = ax.scatter(xy[:, 0], xy[:, 1], c=y.astype(float), s=8, alpha=0.7)
        ax.figure.colorbar(points, ax=ax, label=name)
    prefix = "PC" if method == "pca" else "t-SNE "
    ax.set_xlabel(f"{prefix}1")
    ax.set_ylabel(f"{prefix}2")
    ax.set_title(f"User embeddings ({method.upper() if method == 'pca' else 't-SNE'})")
    return ax


# --------------------------------------------------------------------------- scores


def _as_score_series(table: Any, metric: str) -> pd.Series:
    """Task -> value from an ``evaluate`` table (task, metric, value) or a Series."""
    if isinstance(table, pd.Series):
        return table
    if isinstance(table, pd.DataFrame) and {"task", "metric", "value"} <= set(table.columns):
        rows = table[table["metric"] == metric]
        if rows.empty:
            raise ValueError(f"the evaluate table has no metric {metric!r} rows.")
        return rows.set_index("task")["value"]
    raise TypeError(
        "each member's scores must be an evaluate() table (columns task, metric, value) or a "
        f"Series indexed by task; got {type(table).__name__}."
    )


def _score_matrix(table: Any, metric: str) -> pd.DataFrame:
    if isinstance(table, Mapping):
        return pd.DataFrame({str(k): _as_score_series(v, metric) for k, v in table.items()})
    if isinstance(table, pd.DataFrame) and {"task", "metric", "value"} <= set(table.columns):
        return pd.DataFrame({"embeddings": _as_score_series(table, metric)})
    if isinstance(table, pd.DataFrame):
        return table
    raise TypeError(
        "table must be a DataFrame of tasks x members (as 'ubp demo' prints), an evaluate() "
        f"table, or a dict of member name to evaluate() table; got {type(table).__name__}."
    )


def plot_scores(
    table: Any,
    ax: Any = None,
    *,
    metric: str = "score",
    include_total: bool = False,
    tasks: Sequence[str] | None = None,
) -> Any:
    """Grouped bar chart of downstream scores: one group per task, one bar per member.

    Parameters
    ----------
    table : DataFrame or dict
        Either tasks x members (index: task names, one column per embedding, as ``ubp
        demo`` prints it); or an :func:`~sklearn_ubp.evaluation.evaluate` table
        (columns ``task``, ``metric``, ``value``) for one embedding; or a dict of member
        name to such a table (or to a Series indexed by task).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    metric : str, default="score"
        The metric plotted from evaluate tables.
    include_total : bool, default=False
        Also plot the ``total`` row (on another scale than the tasks: it is their sum).
        When False the totals appear in the legend instead.
    tasks : sequence of str, optional
        Tasks to plot, in this order (default: every row but ``total``).

    Returns
    -------
    ax : matplotlib.axes.Axes
        One bar container per member (``ax.containers``), each with one bar per task.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_ubp.plotting import plot_scores
    >>> table = pd.DataFrame({"random": [0.50, 0.52, 1.02], "counts": [0.78, 0.74, 1.52]},
    ...                      index=["churn", "propensity_sku", "total"])
    >>> ax = plot_scores(table)
    >>> len(ax.patches), [t.get_text() for t in ax.get_xticklabels()]
    (4, ['churn', 'propensity_sku'])
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['random (total 1.020)', 'counts (total 1.520)']
    """
    scores = _score_matrix(table, metric).astype(float)
    totals = scores.loc["total"] if "total" in scores.index else None
    if tasks is not None:
        missing = [t for t in tasks if t not in scores.index]
        if missing:
            raise ValueError(f"tasks {missing} are not in the table ({list(scores.index)}).")
        rows = list(tasks)
    else:
        rows = [t for t in scores.index if include_total or t != "total"]
    scores = scores.loc[rows]
    if scores.empty:
        raise ValueError("there are no scores to plot.")
    ax = _axes(ax, (max(6.0, 1.4 * len(rows) + 2), 4.5))
    n = scores.shape[1]
    width = 0.8 / n
    x = np.arange(len(rows))
    for j, member in enumerate(scores.columns):
        name = str(member)
        if totals is not None and not include_total:
            name = f"{name} (total {totals[member]:.3f})"
        ax.bar(x + (j - (n - 1) / 2) * width, scores[member].to_numpy(), width, label=name)
    ax.set_xticks(x)
    ax.set_xticklabels([str(r) for r in rows], rotation=20, ha="right")
    ax.set_ylabel(metric)
    finite = scores.to_numpy()[np.isfinite(scores.to_numpy())]
    if finite.size and not include_total and finite.min() >= 0 and finite.max() <= 1:
        ax.set_ylim(max(0.0, finite.min() - 0.1), min(1.0, finite.max() + 0.05))
    ax.axhline(0.5, color="grey", linewidth=0.8, linestyle="--")
    ax.set_title("Downstream scores")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return ax
