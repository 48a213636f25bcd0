"""Downstream evaluation of user embeddings: the RecSys Challenge 2025 protocol and a probe.

For every task a model is trained on the embeddings of the task's users (``mask``) to
predict ``y_train`` (window 1 of the challenge's tasks) and scored on ``y_test``
(window 2). The official protocol scores the **same** users it trained on, as the
challenge does; the fast protocol, by default, trains on half of the users and scores
the other half, so that an embedding cannot win by letting the model memorise each
user's window-1 label; the probe cross-validates over users. Three downstream models:

* ``protocol="official"``: the challenge's residual MLP, trained with PyTorch exactly as
  the organizers do (AdamW, lr 1e-3, batch 128, BCE with logits, 3 epochs, no
  shuffling, fixed seed); the task's metrics are those of the best epoch-end score.
* ``protocol="fast"``: a standardised linear-logistic model from scikit-learn, for CPUs,
  quick iterations and tests. Same targets and metrics; the numbers are lower than and
  not comparable to the official ones, but they rank embeddings similarly.
* ``protocol="probe"``: the standard linear-probe evaluation of representations
  (:mod:`sklearn_ubp.evaluation._probe`), the default for the future-window tasks of
  :func:`~sklearn_ubp.evaluation.make_future_tasks`: k-fold cross-validation over
  users, an L2 strength chosen by inner cross-validation on the training users only,
  so that a wider embedding is not penalised by a fixed ``C``; fold means and
  standard deviations.

The scores: AUROC for binary tasks (score = AUROC); AUROC, Diversity and Novelty for
multilabel tasks (score = 0.8 AUROC + 0.1 Diversity + 0.1 Novelty; a multilabel task
without ``popularity`` is scored by its macro AUROC alone); Spearman's rank
correlation for count tasks (probe only). See :mod:`sklearn_ubp.evaluation._metrics`.

The protocols in detail, with the options of :func:`~sklearn_ubp.evaluation.evaluate`
(``**options``; unknown ones raise ``TypeError``):

``"official"``
    The challenge's network, one per task: Linear(n_dims -> 2048), LayerNorm, 3
    residual blocks ``x + MLP(LayerNorm(x))`` with 2048 -> 4096 -> GELU -> 2048,
    LayerNorm, Linear(-> outputs); AdamW (lr 1e-3), batch 128, BCE with logits, 3
    epochs, no shuffling, seeded with ``torch.manual_seed(random_state)``; metrics of
    the epoch with the best epoch-end score. Slow on CPUs at full width. Options:
    ``hidden_size=2048``, ``wide_size=2 * hidden_size``, ``n_epochs=3``,
    ``batch_size=128``, ``learning_rate=1e-3``, ``eval_batch_size=8192`` (prediction
    only). The result's ``attrs["best_epoch"]`` maps each task to its best epoch
    (1-based) and ``attrs["history"]`` lists every epoch's metrics as records (dicts
    with keys ``task``, ``epoch``, ``metric``, ``value``; ``pd.DataFrame(...)`` them).
``"fast"``
    A standardised linear-logistic model (scikit-learn ``LogisticRegression`` for
    binary tasks; one multi-output logistic layer fitted by L-BFGS for multilabel
    tasks); targets with a single class in window 1 get a constant probability. Quick;
    its numbers are lower than the official ones and only meant for comparing
    embeddings. Options: ``C=0.01`` (inverse L2 strength; ``"auto"`` chooses it per
    task by the probe's inner cross-validation on the training users only, over the
    probe's grid, so that a wide embedding is not judged at a strength chosen for a
    narrow one; ``benchmarks/bench_fast_C.py``), ``max_iter=200``,
    ``holdout=0.5`` (share of each task's users, drawn with ``random_state``, that are
    scored and not trained on; ``None`` trains and scores the same users, as the
    official protocol does). The strong default regularisation suits the rare targets
    of the propensity tasks: on the synthetic benchmark it ranked every embedding at
    least as high as ``C=1`` or ``C=0.1`` did (``benchmarks/bench_tasks.py``).
``"probe"``
    For each task, users are split into ``n_splits`` shuffled folds; on each fold's
    training users the inputs are standardised and a linear model is fitted whose L2
    strength is chosen by ``inner_splits``-fold cross-validation on those training
    users only (logistic, by log-loss over the grid ``Cs``, one strength for all
    outputs of a multilabel task; ridge on ``log1p`` of count targets, by
    leave-one-out over ``alphas``); it is scored on the fold's held-out users. Options:
    ``n_splits=5``, ``inner_splits=3``, ``Cs=(1e-4, 1e-3, 1e-2, 0.1, 1)``,
    ``alphas=(0.1, 1, ..., 1e5)``, ``max_iter=100`` (L-BFGS iterations per logistic
    fit), ``inner_max_users=10_000`` (the inner choice runs on a random sample of at
    most this many training users). The result has a fourth column ``std``, the
    standard deviation over folds of each fold mean in ``value``; count tasks report
    ``spearman`` and ``score``; the last row is ``task="mean"``, ``metric="score"``,
    the mean of the task scores (its ``std`` is that of the per-fold means), and
    ``attrs["l2_strength"]`` maps each task to the strength chosen on each fold
    (``1 / C`` for logistic models, ``alpha`` for ridge: larger is a stronger penalty),
    ``attrs["fold_scores"]`` each task (and ``"mean"``) to its score on each fold. The
    folds depend on the number of users and ``random_state`` only, so two embeddings of
    the same users scored with the same seed can be compared fold by fold (paired).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from .._device import check_device
from ._metrics import report, task_metrics
from ._official import run_official
from ._probe import (
    PROBE_OPTIONS,
    check_probe_options,
    choose_C,
    fit_logistic,
    predict_logistic,
    run_probe,
    standardise,
)

__all__ = ["evaluate"]

PROTOCOLS = ("fast", "official", "probe")
TASK_KINDS = ("binary", "multilabel", "count")

#: Options of ``protocol="official"`` and their defaults (the challenge's settings).
#: ``wide_size=None`` means ``2 * hidden_size`` (2048 -> 4096 in the challenge).
OFFICIAL_OPTIONS: dict[str, Any] = {
    "hidden_size": 2048,
    "wide_size": None,
    "n_epochs": 3,
    "batch_size": 128,
    "learning_rate": 1e-3,
    "eval_batch_size": 8192,
}
#: Options of ``protocol="fast"`` and their defaults: inverse L2 strength ``C`` (or
#: ``"auto"``: chosen per task by inner cross-validation on the training users), the
#: maximum number of L-BFGS iterations, and the share of each task's users held out
#: for scoring (``None``: train and score on the same users, as the challenge does).
FAST_OPTIONS: dict[str, Any] = {"C": 0.01, "max_iter": 200, "holdout": 0.5}

_N_EXAMPLES = 5  # how many offending ids an error message lists


# --------------------------------------------------------------------------- checks


def _examples(values: Any) -> list[Any]:
    return [v.item() if hasattr(v, "item") else v for v in list(values[:_N_EXAMPLES])]


def _check_options(protocol: str, options: dict[str, Any]) -> dict[str, Any]:
    defaults = {"official": OFFICIAL_OPTIONS, "fast": FAST_OPTIONS, "probe": PROBE_OPTIONS}[
        protocol
    ]
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise TypeError(
            f"unknown option(s) {unknown} for protocol={protocol!r}; "
            f"accepted options: {sorted(defaults)}"
        )
    opts = {**defaults, **options}
    if protocol == "probe":
        return check_probe_options(opts)
    if protocol == "official":
        if opts["wide_size"] is None:
            opts["wide_size"] = 2 * opts["hidden_size"]
        for name in ("hidden_size", "wide_size", "n_epochs", "batch_size", "eval_batch_size"):
            value = opts[name]
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        lr = opts["learning_rate"]
        if not (isinstance(lr, (int, float, np.floating)) and np.isfinite(lr) and lr > 0):
            raise ValueError(f"learning_rate must be a positive number; got {lr!r}")
    else:
        c = opts["C"]
        auto = isinstance(c, str) and c == "auto"
        if not auto and not (
            isinstance(c, (int, float, np.floating))
            and not isinstance(c, bool)
            and np.isfinite(c)
            and c > 0
        ):
            raise ValueError(f"C must be a positive number or 'auto'; got {c!r}")
        mi = opts["max_iter"]
        if isinstance(mi, bool) or not isinstance(mi, (int, np.integer)) or mi < 1:
            raise ValueError(f"max_iter must be a positive integer; got {mi!r}")
        ho = opts["holdout"]
        if ho is not None and not (isinstance(ho, (float, np.floating)) and 0 < ho < 1):
            raise ValueError(f"holdout must be None or a float in (0, 1); got {ho!r}")
    return opts


def _field(task: Any, key: str, name: str) -> Any:
    if isinstance(task, Mapping):
        if key not in task:
            raise ValueError(f"task {name!r} has no field {key!r}")
        return task[key]
    if not hasattr(task, key):
        raise ValueError(f"task {name!r} has no field {key!r}")
    return getattr(task, key)


def _check_labels(y: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.shape != shape:
        raise ValueError(f"{what} must have shape {shape}; got {arr.shape}")
    if arr.dtype != bool:
        if not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"{what} must hold 0/1 labels; got dtype {arr.dtype}")
        bad = (arr != 0) & (arr != 1)
        if bad.any():
            raise ValueError(
                f"{what} must hold only 0/1 labels; found {int(bad.sum())} other value(s), "
                f"e.g. {_examples(np.unique(arr[bad]))}"
            )
    return arr.astype(np.int8, copy=False)


def _task_shape(
    name: str, kind: str, y_train: np.ndarray, n_users: int, task: Any
) -> tuple[tuple[int, ...], np.ndarray | None]:
    """The target shape of a task and its popularity (multilabel tasks that have one)."""
    if kind != "multilabel":
        return (n_users,), None
    if y_train.ndim != 2 or y_train.shape[1] < 2:
        raise ValueError(
            f"task {name!r}: a multilabel y_train must have shape ({n_users}, K) with "
            f"K >= 2; got {y_train.shape}"
        )
    shape = (n_users, y_train.shape[1])
    popularity = _field(task, "popularity", name)
    if popularity is None:  # scored by macro AUROC alone
        return shape, None
    popularity = np.asarray(popularity, dtype=np.float64)
    if popularity.shape != (shape[1],):
        raise ValueError(
            f"task {name!r}: popularity must have shape ({shape[1]},), one value per "
            f"target; got {popularity.shape}"
        )
    return shape, popularity


def _check_counts(y: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.shape != shape:
        raise ValueError(f"{what} must have shape {shape}; got {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{what} must hold non-negative numbers; got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raise ValueError(
            f"{what} must hold finite non-negative counts or amounts; found {int(bad.sum())} "
            f"other value(s), e.g. {_examples(np.unique(arr[bad]))}"
        )
    return arr


def _check_scorable(name: str, kind: str, test: np.ndarray) -> None:
    test = test.reshape(len(test), -1)
    n_pos = test.sum(axis=0, dtype=np.int64)
    if not ((n_pos > 0) & (n_pos < len(test))).any():
        if kind == "binary":
            what = f"y_test has a single class among the {len(test)} users in mask"
        else:
            what = f"no column of y_test has both classes among the {len(test)} users in mask"
        raise ValueError(f"task {name!r}: {what}, so AUROC is undefined")


def _check_tasks(tasks: Any) -> tuple[pd.Index, list[dict[str, Any]]]:
    frame = getattr(tasks, "X", None)
    index = getattr(frame, "index", None)
    if not isinstance(index, pd.Index):
        raise ValueError(
            "tasks.X must be a pandas DataFrame whose index holds the user ids; "
            f"got {type(frame).__name__}"
        )
    task_map = getattr(tasks, "tasks", None)
    if not isinstance(task_map, Mapping) or len(task_map) == 0:
        raise ValueError("tasks.tasks must be a non-empty dict of task name -> task Bunch")
    n_users = len(index)
    checked = []
    for key, task in task_map.items():
        name = str(key)
        kind = _field(task, "kind", name)
        if kind not in TASK_KINDS:
            raise ValueError(f"task {name!r}: unknown kind {kind!r}; expected one of {TASK_KINDS}")
        mask = np.asarray(_field(task, "mask", name))
        if mask.dtype != bool or mask.shape != (n_users,):
            raise ValueError(
                f"task {name!r}: mask must be a boolean array of shape ({n_users},) "
                f"(one entry per user of tasks.X); got dtype {mask.dtype}, shape {mask.shape}"
            )
        if not mask.any():
            raise ValueError(f"task {name!r}: mask selects no users")
        y_train = np.asarray(_field(task, "y_train", name))
        shape, popularity = _task_shape(name, kind, y_train, n_users, task)
        rows = np.flatnonzero(mask)
        if kind == "count":
            y_train = _check_counts(y_train, shape, f"task {name!r}: y_train")
            y_test = _check_counts(_field(task, "y_test", name), shape, f"task {name!r}: y_test")
            if np.ptp(y_test[rows]) == 0:
                raise ValueError(
                    f"task {name!r}: y_test is the same for all {rows.size} users in mask, "
                    "so Spearman is undefined"
                )
        else:
            y_train = _check_labels(y_train, shape, f"task {name!r}: y_train")
            y_test = _check_labels(_field(task, "y_test", name), shape, f"task {name!r}: y_test")
            _check_scorable(name, kind, y_test[rows])
        checked.append(
            {
                "name": name,
                "kind": kind,
                "rows": rows,
                "y_train": y_train[rows],
                "y_test": y_test[rows],
                "popularity": popularity,
            }
        )
    return index, checked


def _check_embeddings(embeddings: Any, index: pd.Index) -> np.ndarray:
    if isinstance(embeddings, pd.DataFrame):
        if not embeddings.index.is_unique:
            dup = embeddings.index[embeddings.index.duplicated()].unique()
            raise ValueError(
                f"the embeddings DataFrame has {len(dup)} duplicated user id(s) in its index, "
                f"e.g. {_examples(dup)}"
            )
        missing = index[~index.isin(embeddings.index)]
        if len(missing):
            raise ValueError(
                f"the embeddings DataFrame lacks {len(missing)} of the {len(index)} users of "
                f"tasks.X, e.g. {_examples(missing)}"
            )
        embeddings = embeddings.reindex(index)
        try:
            with np.errstate(over="ignore"):
                arr = embeddings.to_numpy(dtype=np.float32, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"embeddings must be numeric: {exc}") from exc
    else:
        arr = np.asarray(embeddings)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise ValueError(f"embeddings must be numeric; got dtype {arr.dtype}")
        if np.iscomplexobj(arr):
            raise ValueError("embeddings must be real-valued; got a complex array")
    if arr.ndim != 2:
        raise ValueError(
            f"embeddings must be 2-D (n_users, n_dims); got an array with shape {arr.shape}"
        )
    if arr.shape[0] != len(index):
        raise ValueError(
            f"embeddings has {arr.shape[0]} rows but tasks.X has {len(index)} users; pass an "
            "array aligned with tasks.X.index or a DataFrame indexed by user id"
        )
    if arr.shape[1] == 0:
        raise ValueError("embeddings has 0 columns")
    with np.errstate(over="ignore"):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
    finite = np.isfinite(arr)
    if not finite.all():
        n_bad = int(finite.size - np.count_nonzero(finite))
        rows = int((~finite.all(axis=1)).sum())
        raise ValueError(
            f"embeddings contain {n_bad} non-finite value(s) (NaN or Inf, after casting to "
            f"float32) in {rows} row(s); fill or scale them first"
        )
    return arr


# ----------------------------------------------------------------------- fast model


def _fast_split(n: int, holdout: float | None, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows to train on and rows to score: disjoint users, unless ``holdout`` is None.

    Scoring held-out users keeps a model from memorising window 1 per user through an
    embedding that merely identifies users (random vectors would otherwise score well
    above 0.5 whenever a user's behaviour persists from window 1 to window 2).
    """
    rows = np.arange(n)
    if holdout is None:
        return rows, rows
    order = np.random.default_rng(random_state).permutation(n)
    n_test = min(max(int(round(holdout * n)), 1), n - 1)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def _fit_predict_auto(
    X: np.ndarray, Y: np.ndarray, X_test: np.ndarray, max_iter: int, random_state: int
) -> np.ndarray:
    """``C="auto"``: the probe's inner choice of ``C`` on the training users, then the fit.

    The grid, the inner split and the sample size of the choice are those of
    ``protocol="probe"`` (``PROBE_OPTIONS``), but only the first of its inner folds is
    validated on (a third of the training users), which makes the choice three times
    cheaper; one ``C`` for all outputs of a task.
    """
    opts = check_probe_options({**PROBE_OPTIONS, "max_iter": max_iter})
    Xs, Xt = standardise(X, X_test)
    Y = Y.astype(np.float64)
    C, theta0 = choose_C(Xs, Y, opts, random_state, max_folds=1)
    theta = fit_logistic(Xs, Y, C, max_iter, theta0)
    return predict_logistic(theta, Xt)


def _fit_predict_fast(
    X: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    opts: dict[str, Any],
    random_state: int,
) -> np.ndarray:
    """Standardised linear-logistic model fitted on ``X``; probabilities for ``X_test``."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    n = X.shape[0]
    y2 = y_train.reshape(n, -1)
    n_pos = y2.sum(axis=0, dtype=np.int64)
    constant = (n_pos == 0) | (n_pos == n)
    # A target with a single class in window 1 gets that class's constant probability.
    probs = np.empty((X_test.shape[0], y2.shape[1]), dtype=np.float64)
    probs[:, constant] = (n_pos[constant] > 0).astype(np.float64)
    fit = np.flatnonzero(~constant)
    if fit.size and opts["C"] == "auto":
        probs[:, fit] = _fit_predict_auto(X, y2[:, fit], X_test, opts["max_iter"], random_state)
    elif fit.size:
        scaler = StandardScaler().fit(X)
        Xs, Xt = scaler.transform(X), scaler.transform(X_test)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if fit.size == 1:
                model = LogisticRegression(C=opts["C"], max_iter=opts["max_iter"])
                model.fit(Xs, y2[:, fit[0]])
                probs[:, fit[0]] = model.predict_proba(Xt)[:, 1]
            else:
                # One multi-output logistic layer (no hidden units) fitted jointly by L-BFGS;
                # alpha = 1 / C gives the same objective as LogisticRegression(C).
                model = MLPClassifier(
                    hidden_layer_sizes=(),
                    solver="lbfgs",
                    alpha=1.0 / opts["C"],
                    max_iter=opts["max_iter"],
                    random_state=random_state,
                )
                model.fit(Xs, y2[:, fit])
                probs[:, fit] = model.predict_proba(Xt)
    return probs if y_train.ndim == 2 else probs[:, 0]


# ------------------------------------------------------------------------ evaluate


@contextmanager
def _named(name: str) -> Iterator[None]:
    """Prefix a task's ``ValueError`` with its name."""
    try:
        yield
    except ValueError as exc:
        raise ValueError(f"task {name!r}: {exc}") from exc


def _evaluate_probe(
    X_all: np.ndarray,
    checked: list[dict[str, Any]],
    opts: dict[str, Any],
    random_state: int,
    verbose: bool,
) -> pd.DataFrame:
    """The table of ``protocol="probe"``: fold means and standard deviations."""
    rows: list[tuple[str, str, float, float]] = []
    fold_scores = []
    strengths: dict[str, list[float]] = {}
    for task in checked:
        name = task["name"]
        start_time = time.perf_counter()
        X = X_all[task["rows"]]
        with _named(name):
            mean, std, strengths[name], scores = run_probe(
                X, task, opts, random_state, task_metrics
            )
        rows.extend((name, k, mean[k], std[k]) for k in mean)
        fold_scores.append(scores)
        if verbose:
            label = f"{name} (probe, {X.shape[0]} users, {opts['n_splits']} folds)"
            report(label, mean, start_time, std)
    per_fold = np.mean(fold_scores, axis=0)
    rows.append(("mean", "score", float(per_fold.mean()), float(per_fold.std())))
    table = pd.DataFrame(rows, columns=["task", "metric", "value", "std"])
    table.attrs["protocol"] = "probe"
    table.attrs["l2_strength"] = strengths
    names = [task["name"] for task in checked] + ["mean"]
    folds = [*fold_scores, per_fold]
    table.attrs["fold_scores"] = {n: f.tolist() for n, f in zip(names, folds, strict=True)}
    return table


def _score_fast(
    X: np.ndarray, task: dict[str, Any], opts: dict[str, Any], random_state: int
) -> dict[str, float]:
    """The metrics of ``protocol="fast"`` on one task."""
    train, test = _fast_split(len(X), opts["holdout"], random_state)
    probs = _fit_predict_fast(X[train], task["y_train"][train], X[test], opts, random_state)
    return task_metrics(task["kind"], task["y_test"][test], probs, task["popularity"])


def _evaluate_trained(
    X_all: np.ndarray,
    checked: list[dict[str, Any]],
    protocol: str,
    opts: dict[str, Any],
    device: str,
    random_state: int,
    verbose: bool,
) -> pd.DataFrame:
    """The table of ``protocol="fast"`` and ``"official"``: task metrics and the total."""
    rows: list[tuple[str, str, float]] = []
    history_rows: list[dict[str, Any]] = []
    best_epochs: dict[str, int] = {}
    total = 0.0
    for task in checked:
        name = task["name"]
        start_time = time.perf_counter()
        X = X_all[task["rows"]]
        with _named(name):
            if protocol == "fast":
                metrics = _score_fast(X, task, opts, random_state)
            else:
                metrics, best, history = run_official(X, task, opts, device, random_state, verbose)
                best_epochs[name] = best
                for epoch, epoch_metrics in enumerate(history, start=1):
                    history_rows.extend(
                        {"task": name, "epoch": epoch, "metric": k, "value": float(v)}
                        for k, v in epoch_metrics.items()
                    )
        rows.extend((name, k, float(v)) for k, v in metrics.items())
        total += metrics["score"]
        if verbose:
            report(f"{name} ({protocol}, {X.shape[0]} users)", metrics, start_time)
    rows.append(("total", "score", float(total)))
    table = pd.DataFrame(rows, columns=["task", "metric", "value"])
    table.attrs["protocol"] = protocol
    if protocol == "official":
        table.attrs["best_epoch"] = best_epochs
        table.attrs["history"] = history_rows
    return table


def _check_no_counts(checked: list[dict[str, Any]], protocol: str) -> None:
    counts = [task["name"] for task in checked if task["kind"] == "count"]
    if counts:
        raise ValueError(
            f"task(s) {counts} have count targets (scored by Spearman), which only "
            f"protocol='probe' scores; got protocol={protocol!r}"
        )


def resolve_protocol(tasks: Any, protocol: str | None) -> str:
    """``protocol``, or when ``None`` the tasks' ``default_protocol``, else ``"fast"``."""
    if protocol is None:
        protocol = getattr(tasks, "default_protocol", None) or "fast"
    return protocol


def _check_call(
    tasks: Any, protocol: str | None, options: dict[str, Any], device: str, random_state: Any
) -> tuple[str, dict[str, Any], str, int]:
    """The protocol, its options, the device and the seed of :func:`evaluate`, checked."""
    protocol = resolve_protocol(tasks, protocol)
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
    opts = _check_options(protocol, options)
    device = check_device(device)
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
        raise ValueError(f"random_state must be an integer; got {random_state!r}")
    return protocol, opts, device, int(random_state)


def evaluate(
    embeddings: np.ndarray | pd.DataFrame,
    tasks: Any,
    *,
    protocol: str | None = None,
    device: str = "cpu",
    random_state: int = 0,
    verbose: bool = False,
    **options: Any,
) -> pd.DataFrame:
    """Score user embeddings on RecSys-Challenge-2025-style downstream tasks.

    For each task, a model is trained on the embeddings of the users in ``task.mask`` to
    predict ``task.y_train`` (window 1) and scored on ``task.y_test`` (window 2) of the
    same users (official), of held-out users (fast) or of each held-out fold (probe):
    AUROC for binary tasks, 0.8 AUROC + 0.1 Diversity + 0.1 Novelty for multilabel
    tasks, Spearman's correlation for count tasks (probe only). The protocols, their
    options and the attributes of the result are described in :ref:`protocols`.

    Parameters
    ----------
    embeddings : ndarray of shape (n_users, n_dims) or DataFrame
        One row per user of ``tasks.X``, in the order of ``tasks.X.index``, or a
        DataFrame indexed by user id (extra users are ignored, missing ones are an
        error). Cast to float32; must be finite.
    tasks : sklearn.utils.Bunch
        ``tasks.X`` (its index: the user ids) and ``tasks.tasks``, a dict of task
        Bunches (``name``, ``kind``, ``mask``, ``y_train``, ``y_test``, ``targets``,
        ``popularity``), as :func:`make_tasks` and :func:`make_future_tasks` make them.
    protocol : {"fast", "official", "probe"}, default=None
        ``None``: ``tasks.default_protocol`` when the tasks name one, else ``"fast"``.
    device : {"cpu", "cuda"} or "cuda:N", default="cpu"
        Where the official network runs; CUDA when it is unavailable is a ``ValueError``.
    random_state : int, default=0
        Seed; results are deterministic given it (up to some CUDA kernels).
    verbose : bool, default=False
        Print progress (per task, and per epoch for the official protocol).
    **options
        The protocol's options (defaults: ``OFFICIAL_OPTIONS``, ``FAST_OPTIONS``,
        ``PROBE_OPTIONS``); unknown options raise ``TypeError``.

    Returns
    -------
    pandas.DataFrame
        Columns ``task``, ``metric``, ``value`` (and ``std`` for ``"probe"``): each
        task's metrics and ``score``, in the order of ``tasks.tasks``, then
        ``task="total"`` (``"mean"`` for ``"probe"``); ``attrs["protocol"]`` records
        the protocol.

    Raises
    ------
    ValueError
        Unknown protocol or device; misaligned, non-numeric or non-finite embeddings;
        malformed tasks; a task whose ``y_test`` has a single class among its users.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.utils import Bunch
    >>> from sklearn_ubp.evaluation import evaluate
    >>> rng = np.random.default_rng(0)
    >>> emb = rng.normal(size=(200, 4)).astype(np.float32)
    >>> churn = (emb[:, 0] + rng.normal(size=200) > 0).astype(np.int8)  # signal in dim 0
    >>> task = Bunch(name="churn", kind="binary", mask=np.ones(200, dtype=bool),
    ...              y_train=churn, y_test=churn, targets=None, popularity=None)
    >>> tasks = Bunch(X=pd.DataFrame(index=pd.RangeIndex(200, name="client_id")),
    ...               tasks={"churn": task})
    >>> table = evaluate(emb, tasks, protocol="fast")
    >>> table[["task", "metric"]].values.tolist()
    [['churn', 'auroc'], ['churn', 'score'], ['total', 'score']]
    >>> bool(table["value"].iloc[0] > 0.7)
    True
    """
    protocol, opts, device, seed = _check_call(tasks, protocol, options, device, random_state)
    index, checked = _check_tasks(tasks)
    X_all = _check_embeddings(embeddings, index)
    if protocol == "probe":
        return _evaluate_probe(X_all, checked, opts, seed, verbose)
    _check_no_counts(checked, protocol)
    return _evaluate_trained(X_all, checked, protocol, opts, device, seed, verbose)
