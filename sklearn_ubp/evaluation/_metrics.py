"""The RecSys Challenge 2025 metrics: AUROC, Diversity, Novelty and the task score.

Every function here takes **probabilities** ``p`` in ``[0, 1]``, never logits. The
official downstream network outputs logits; convert them first with a sigmoid
(``scipy.special.expit`` or ``torch.sigmoid``), exactly as the official evaluation does
before computing Diversity and Novelty. Passing values outside ``[0, 1]`` raises a
``ValueError`` that says so. (AUROC only depends on the ranking of the scores, so
:func:`auroc` accepts any real-valued scores, logits included.)
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from scipy.special import xlogy
from scipy.stats import rankdata

__all__ = ["auroc", "diversity", "novelty", "task_score"]

#: Number of top predicted targets per user that Novelty looks at (``k = min(10, K)``).
NOVELTY_TOP_K = 10
#: Exponent of the Novelty score, ``(1 - P) ** 100``.
NOVELTY_EXPONENT = 100

_BINARY_KINDS = ("binary", "churn", "conversion")
_MULTILABEL_KINDS = ("multilabel", "propensity")


def _as_float_array(x: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; could not convert it to float: {exc}") from exc
    n_bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
    if n_bad:
        raise ValueError(f"{name} contains {n_bad} non-finite value(s) (NaN or Inf)")
    return arr


def _check_probabilities(p: Any, name: str = "p") -> np.ndarray:
    """2-D float64 array of probabilities in [0, 1], at least one row and two columns."""
    arr = _as_float_array(p, name)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_users, n_targets); got an array with shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has no rows (no users)")
    if arr.shape[1] < 2:
        raise ValueError(f"{name} must have at least 2 target columns; got {arr.shape[1]}")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(
            f"{name} must hold probabilities in [0, 1]; got values in [{lo:.4g}, {hi:.4g}]. "
            "If these are logits, apply a sigmoid first (scipy.special.expit)."
        )
    return arr


def _check_binary_labels(y: Any, name: str = "y_true") -> np.ndarray:
    arr = np.asarray(y)
    if arr.dtype == bool:
        return arr
    if not (np.issubdtype(arr.dtype, np.number)):
        raise ValueError(f"{name} must hold 0/1 labels; got dtype {arr.dtype}")
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        vals = np.unique(arr[bad])[:5]
        raise ValueError(
            f"{name} must hold only 0/1 labels; found {int(bad.sum())} other value(s), "
            f"e.g. {vals.tolist()}"
        )
    return arr.astype(bool)


def auroc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve, binary or multilabel (macro average).

    Parameters
    ----------
    y_true : array-like of shape (n_users,) or (n_users, n_targets)
        0/1 (or boolean) labels. 1-D means a binary task; 2-D a multilabel task.
    y_score : array-like of the same shape as ``y_true``
        Scores; any monotone transform gives the same AUROC, so probabilities and
        logits are both fine.

    Returns
    -------
    float
        Binary: the AUROC. Multilabel: the unweighted mean of the per-column AUROCs
        over the columns of ``y_true`` that contain **both** classes; columns with only
        positives or only negatives have no AUROC and are skipped (as the official
        torchmetrics macro average skips its undefined columns). Tied scores count as
        half (the trapezoidal rule), identical to
        :func:`sklearn.metrics.roc_auc_score`.

    Raises
    ------
    ValueError
        If the shapes differ, the labels are not 0/1, the scores are not finite, or no
        column contains both classes (a binary ``y_true`` with a single class).

    Examples
    --------
    >>> from sklearn_ubp.evaluation import auroc
    >>> auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> y = [[0, 1, 1], [1, 0, 1], [1, 1, 1]]  # the last column has one class: skipped
    >>> s = [[0.2, 0.9, 0.5], [0.7, 0.1, 0.5], [0.9, 0.05, 0.5]]
    >>> auroc(y, s)  # mean of 1.0 and 0.5
    0.75
    """
    yt = _check_binary_labels(y_true)
    ys = _as_float_array(y_score, "y_score")
    if yt.shape != ys.shape:
        raise ValueError(f"y_true and y_score shapes differ: {yt.shape} vs {ys.shape}")
    if yt.ndim not in (1, 2):
        raise ValueError(f"y_true must be 1-D or 2-D; got shape {yt.shape}")
    binary = yt.ndim == 1
    if binary:
        yt, ys = yt[:, None], ys[:, None]
    n_pos = yt.sum(axis=0)
    n_neg = yt.shape[0] - n_pos
    usable = np.flatnonzero((n_pos > 0) & (n_neg > 0))
    if usable.size == 0:
        if binary:
            raise ValueError(
                f"AUROC is undefined: y_true contains a single class "
                f"({int(n_pos[0])} positives, {int(n_neg[0])} negatives)"
            )
        raise ValueError("AUROC is undefined: no column of y_true contains both classes")
    aucs = np.empty(usable.size)
    # Mann-Whitney U with average ranks for ties; a few columns at a time bounds memory.
    step = max(1, 2**24 // max(1, yt.shape[0]))
    for start in range(0, usable.size, step):
        cols = usable[start : start + step]
        ranks = rankdata(ys[:, cols], axis=0, method="average")
        pos = yt[:, cols]
        rank_sum = np.where(pos, ranks, 0.0).sum(axis=0)
        npos, nneg = n_pos[cols].astype(np.float64), n_neg[cols].astype(np.float64)
        aucs[start : start + cols.size] = (rank_sum - npos * (npos + 1) / 2) / (npos * nneg)
    return float(aucs.mean())


def diversity(p: Any) -> float:
    """Diversity of predicted target probabilities (normalised entropy), RecSys 2025.

    For each user the probabilities are L1-normalised, ``q = p / sum(p)``; the user's
    diversity is the entropy of ``q`` in bits divided by ``log2(K)`` (so it lies in
    ``[0, 1]``); the result is the mean over users.

    Parameters
    ----------
    p : array-like of shape (n_users, K)
        Predicted **probabilities** in ``[0, 1]`` (the official evaluation takes
        ``sigmoid(logits)``), ``K >= 2``.

    Returns
    -------
    float
        The mean normalised entropy, in ``[0, 1]``: 1 when every user's probabilities
        are all equal, 0 when each user puts all mass on a single target. ``0 log 0``
        counts as 0 (the official code adds ``1e-9`` inside the log instead, which
        differs by less than ``1e-8``). A row of all zeros has no distribution; it is
        treated as the limit of equal probabilities, i.e. uniform (diversity 1).

    Raises
    ------
    ValueError
        If ``p`` is not 2-D with at least two columns, not finite or outside ``[0, 1]``
        (for example logits).

    Examples
    --------
    >>> from sklearn_ubp.evaluation import diversity
    >>> diversity([[0.3, 0.3, 0.3, 0.3]])  # uniform
    1.0
    >>> diversity([[0.9, 0.0, 0.0, 0.0]])  # one-hot
    0.0
    >>> round(diversity([[0.2, 0.2, 0.0, 0.0]]), 6)  # two of four: 1 bit / 2 bits
    0.5
    """
    arr = _check_probabilities(p)
    k = arr.shape[1]
    total = arr.sum(axis=1, keepdims=True)
    q = np.divide(arr, total, out=np.full_like(arr, 1.0 / k), where=total > 0)
    entropy = -xlogy(q, q).sum(axis=1) / math.log(k)  # nats / ln(K) == bits / log2(K)
    return float(np.clip(entropy, 0.0, 1.0).mean()) + 0.0  # + 0.0 turns -0.0 into 0.0


def novelty(p: Any, popularity: Any) -> float:
    """Novelty of the top predicted targets with respect to their popularity, RecSys 2025.

    With ``k = min(10, K)``, the popularity is divided by the sum of the ``k`` largest
    popularities. For each user, take the ``k`` targets with the highest predicted
    probability and sum ``probability * normalised popularity`` over them; ``P`` is the
    mean of that over users, and ``Novelty = (1 - P) ** 100``.

    Parameters
    ----------
    p : array-like of shape (n_users, K)
        Predicted **probabilities** in ``[0, 1]`` (the official evaluation takes
        ``sigmoid(logits)``), ``K >= 2``.
    popularity : array-like of shape (K,)
        Non-negative popularity of each target (e.g. its number of purchases), aligned
        with the columns of ``p``; the ``k`` largest must not all be zero.

    Returns
    -------
    float
        In ``[0, 1]``; high when the confident predictions are on unpopular targets.
        Ties in ``p`` are broken towards the lower column index (``torch.topk``, used by
        the official code, leaves tie order unspecified).

    Raises
    ------
    ValueError
        On bad shapes, non-finite values, probabilities outside ``[0, 1]``, negative
        popularity or all-zero top popularities.

    Examples
    --------
    >>> from sklearn_ubp.evaluation import novelty
    >>> # K = 2 so k = 2: popularity [3, 1] / 4 = [0.75, 0.25]
    >>> # user 1: 1.0 * 0.75 + 0.0 * 0.25 = 0.75; user 2: 0.0 * 0.75 + 1.0 * 0.25 = 0.25
    >>> # P = 0.5, Novelty = 0.5 ** 100
    >>> novelty([[1.0, 0.0], [0.0, 1.0]], [3, 1]) == 0.5**100
    True
    >>> novelty([[0.0, 0.0]], [3, 1])  # predicting nothing: fully novel
    1.0
    """
    arr = _check_probabilities(p)
    n_targets = arr.shape[1]
    pop = _as_float_array(popularity, "popularity")
    if pop.shape != (n_targets,):
        raise ValueError(
            f"popularity must have shape ({n_targets},) to match the {n_targets} columns "
            f"of p; got shape {pop.shape}"
        )
    if (pop < 0).any():
        raise ValueError(f"popularity must be non-negative; found {int((pop < 0).sum())} < 0")
    k = min(NOVELTY_TOP_K, n_targets)
    norm = float(np.sort(pop)[-k:].sum())
    if norm <= 0:
        raise ValueError(f"the {k} largest popularities are all zero; Novelty is undefined")
    pop = pop / norm
    top = np.argsort(-arr, axis=1, kind="stable")[:, :k]
    weighted = (np.take_along_axis(arr, top, axis=1) * pop[top]).sum(axis=1)
    mean_pop = float(np.clip(weighted.mean(), 0.0, 1.0))
    return float((1.0 - mean_pop) ** NOVELTY_EXPONENT)


def task_score(
    kind: str,
    auroc: float,
    diversity: float | None = None,
    novelty: float | None = None,
) -> float:
    """Score of one task as in the RecSys Challenge 2025 leaderboard.

    Parameters
    ----------
    kind : {"binary", "multilabel"}
        ``"binary"`` (aliases ``"churn"``, ``"conversion"``): the score is the AUROC.
        ``"multilabel"`` (alias ``"propensity"``): ``0.8 * auroc + 0.1 * diversity +
        0.1 * novelty``.
    auroc : float
        The task's AUROC.
    diversity, novelty : float, optional
        Required for multilabel tasks, ignored for binary ones.

    Returns
    -------
    float
        The task score; the leaderboard total is the sum over tasks.

    Examples
    --------
    >>> from sklearn_ubp.evaluation import task_score
    >>> task_score("binary", 0.7)
    0.7
    >>> round(task_score("multilabel", 0.8, diversity=0.5, novelty=0.9), 6)
    0.78
    """
    values = {"auroc": auroc, "diversity": diversity, "novelty": novelty}
    if kind in _BINARY_KINDS:
        needed = ("auroc",)
    elif kind in _MULTILABEL_KINDS:
        needed = ("auroc", "diversity", "novelty")
    else:
        raise ValueError(
            f"unknown task kind {kind!r}; expected one of {_BINARY_KINDS + _MULTILABEL_KINDS}"
        )
    for name in needed:
        value = values[name]
        if value is None:
            raise ValueError(f"{name} is required for a {kind!r} task")
        if not math.isfinite(float(value)):
            raise ValueError(f"{name} must be finite; got {value!r}")
    if kind in _BINARY_KINDS:
        return float(auroc)
    return float(0.8 * auroc + 0.1 * diversity + 0.1 * novelty)  # type: ignore[operator]


def task_metrics(
    kind: str, y_test: np.ndarray, probs: np.ndarray, popularity: np.ndarray | None
) -> dict[str, float]:
    """The table rows of one task, from probabilities of its scored targets.

    A multilabel task without ``popularity`` (future-window tasks) is scored by its
    macro AUROC alone; with it, by the challenge's score (AUROC, Diversity, Novelty).
    """
    a = auroc(y_test, probs)
    if kind == "binary" or popularity is None:
        return {"auroc": a, "score": task_score("binary", a)}
    d = diversity(probs)
    n = novelty(probs, popularity)
    return {"auroc": a, "diversity": d, "novelty": n, "score": task_score("multilabel", a, d, n)}


def report(label: str, metrics: dict[str, float], start_time: float, std: Any = None) -> None:
    """Print one ``[evaluate]`` progress line: the metrics (``+-std``) and the seconds."""
    spread = (lambda k: f"+-{std[k]:.4f}") if std else (lambda k: "")
    cells = " ".join(f"{k}={v:.4f}{spread(k)}" for k, v in metrics.items())
    print(f"[evaluate] {label}: {cells} ({time.perf_counter() - start_time:.1f} s)", flush=True)
