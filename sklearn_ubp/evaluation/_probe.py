"""The linear probe: cross-validated linear models with an inner choice of the L2 strength.

For each task, users are split into ``n_splits`` folds. On each fold's training users
the inputs are standardised and, for each L2 strength of a grid, a linear model is fitted
on ``inner_splits`` inner folds of those users only (of a random sample of at most
``inner_max_users`` of them, for speed); the strength with the best inner loss is
refitted on all training users and scored on the fold's held-out users. The scored
users never take part in any choice. Binary and multilabel tasks use a logistic
model (one jointly fitted multi-output layer, one strength per task); count tasks a ridge
regression on ``log1p`` of the targets, whose strength is chosen by efficient
leave-one-out over the training users (:class:`sklearn.linear_model.RidgeCV`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from scipy.stats import rankdata
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold

__all__ = ["PROBE_OPTIONS", "probe_folds", "run_probe"]

#: Options of ``protocol="probe"`` and their defaults: outer folds, inner folds, the
#: inverse L2 strengths ``Cs`` of the logistic model and the strengths ``alphas`` of the
#: ridge model (both on standardised inputs), L-BFGS iterations per logistic fit (100,
#: scikit-learn's default), and how many training users at most (a random sample of
#: them) the inner choice of ``C`` runs on.
PROBE_OPTIONS: dict[str, Any] = {
    "n_splits": 5,
    "inner_splits": 3,
    "Cs": (1e-4, 1e-3, 1e-2, 1e-1, 1.0),
    "alphas": (1e-1, 1.0, 1e1, 1e2, 1e3, 1e4, 1e5),
    "max_iter": 100,
    "inner_max_users": 10_000,
}


def check_probe_options(opts: dict[str, Any]) -> dict[str, Any]:
    """Validate the probe options (already merged with :data:`PROBE_OPTIONS`)."""
    for name in ("n_splits", "inner_splits", "max_iter", "inner_max_users"):
        value = opts[name]
        least = 2 if name in ("n_splits", "inner_splits") else 1
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}; got {value!r}")
    for name in ("Cs", "alphas"):
        grid = np.asarray(opts[name], dtype=np.float64).ravel()
        if grid.size < 1 or not (np.isfinite(grid) & (grid > 0)).all():
            raise ValueError(f"{name} must be a non-empty sequence of positive numbers")
        opts[name] = np.unique(grid)
    return opts


def probe_folds(n: int, n_splits: int, random_state: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The outer ``(train, test)`` row splits of the probe (shuffled, seeded)."""
    if n < n_splits:
        raise ValueError(f"the probe needs at least n_splits={n_splits} users; got {n}")
    return list(KFold(n_splits, shuffle=True, random_state=random_state).split(np.empty(n)))


# ------------------------------------------------------------------- logistic model


def _logistic_objective(
    theta: np.ndarray, X: np.ndarray, Y: np.ndarray, lam: float
) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy over users, summed over outputs, + ``lam/2 ||W||^2``.

    ``Y`` has the dtype of ``X``. The softplus and the sigmoid share one ``exp(-|z|)``
    (numpy's ``logaddexp`` is several times slower).
    """
    d, k = X.shape[1], Y.shape[1]
    W, b = theta[: d * k].reshape(d, k), theta[d * k :]
    Z = X @ W.astype(X.dtype)  # products in the dtype of X
    Z += b.astype(X.dtype)
    n = X.shape[0]
    E = np.exp(-np.abs(Z))
    softplus = np.log1p(E) + np.maximum(Z, 0)
    loss = float(softplus.sum(dtype=np.float64)) - float(np.vdot(Y, Z))
    G = np.where(Z >= 0, 1, E) / (1 + E)  # the sigmoid of Z
    G -= Y
    G *= 1.0 / n
    gW = (X.T @ G).astype(np.float64) + lam * W
    grad = np.concatenate([gW.ravel(), G.sum(axis=0, dtype=np.float64)])
    return loss / n + 0.5 * lam * float((W * W).sum()), grad


def fit_logistic(
    X: np.ndarray,
    Y: np.ndarray,
    C: float,
    max_iter: int,
    theta0: np.ndarray | None = None,
    tol: float = 1e-4,
) -> np.ndarray:
    """Multi-output L2 logistic regression; same minimiser as ``LogisticRegression(C=C)``.

    The outputs are independent (one shared ``C``); fitting them as one L-BFGS problem
    turns their products into one matrix product per step, done in the dtype of ``X``
    (float32 in the probe), the optimisation itself in float64. ``tol`` bounds the largest
    gradient entry of the mean loss, as scikit-learn's ``lbfgs`` solver does. Returns the
    flat parameters ``theta`` (coefficients ``(d, k)`` then intercepts).
    """
    d, k = X.shape[1], Y.shape[1]
    if theta0 is None:
        theta0 = np.zeros(d * k + k)
    result = minimize(
        _logistic_objective,
        theta0,
        args=(X, Y.astype(X.dtype, copy=False), 1.0 / (C * X.shape[0])),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": tol},
    )
    return result.x


def predict_logistic(theta: np.ndarray, X: np.ndarray) -> np.ndarray:
    d = X.shape[1]
    k = theta.size // (d + 1)
    return expit(X @ theta[: d * k].reshape(d, k) + theta[d * k :])


def _log_loss(Y: np.ndarray, P: np.ndarray) -> float:
    P = np.clip(P, 1e-12, 1 - 1e-12)
    return float(-(Y * np.log(P) + (1 - Y) * np.log1p(-P)).mean())


def standardise(X: np.ndarray, X_other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standardise with the statistics of ``X`` (constant columns are centred only)."""
    mean = X.mean(axis=0, dtype=np.float64)
    scale = X.std(axis=0, dtype=np.float64)
    scale[scale < 1e-12] = 1.0
    f = lambda Z: ((Z - mean) / scale).astype(np.float32)  # noqa: E731
    return f(X), f(X_other)


def choose_C(
    X: np.ndarray,
    Y: np.ndarray,
    opts: dict[str, Any],
    random_state: int,
    max_folds: int | None = None,
) -> tuple[float, np.ndarray]:
    """The inverse strength with the best inner log-loss over training users only.

    ``X`` is already standardised on these users; at most ``inner_max_users`` of them
    (a random sample) are split into the inner folds. Fits go from the strongest penalty
    to the weakest, each warm-started from the previous one. Ties go to the stronger
    penalty. ``max_folds`` (default: all ``inner_splits``) validates on only the first
    few inner folds, for speed. Returns the chosen ``C`` and, for warm starting the
    refit, the parameters fitted at that ``C`` on the first inner fold.
    """
    Cs = opts["Cs"]
    if len(X) > opts["inner_max_users"]:
        rng = np.random.default_rng(random_state)
        sample = np.sort(rng.choice(len(X), opts["inner_max_users"], replace=False))
        X, Y = X[sample], Y[sample]
    losses = np.zeros(len(Cs))
    first: list[np.ndarray] = []
    inner = KFold(opts["inner_splits"], shuffle=True, random_state=random_state)
    for fold, (tr, va) in enumerate(inner.split(X)):
        if max_folds is not None and fold >= max_folds:
            break
        theta = None
        for i, C in enumerate(Cs):
            theta = fit_logistic(X[tr], Y[tr], C, opts["max_iter"], theta)
            losses[i] += _log_loss(Y[va], predict_logistic(theta, X[va]))
            if fold == 0:
                first.append(theta)
    best = int(np.argmin(losses))
    return float(Cs[best]), first[best]


def _probe_logistic(
    X_train: np.ndarray,
    Y: np.ndarray,
    X_test: np.ndarray,
    opts: dict[str, Any],
    random_state: int,
) -> tuple[np.ndarray, float]:
    """Probabilities of ``X_test`` and the chosen L2 strength ``1 / C``."""
    Xs, Xt = standardise(X_train, X_test)
    Y = Y.reshape(len(Y), -1).astype(np.float64)
    n_pos = Y.sum(axis=0)
    constant = (n_pos == 0) | (n_pos == len(Y))
    probs = np.empty((len(Xt), Y.shape[1]))
    # A target with a single class among the training users gets that class's probability.
    probs[:, constant] = (n_pos[constant] > 0).astype(np.float64)
    strength = np.nan
    fit = np.flatnonzero(~constant)
    if fit.size:
        C, theta0 = choose_C(Xs, Y[:, fit], opts, random_state)
        theta = fit_logistic(Xs, Y[:, fit], C, opts["max_iter"], theta0)
        probs[:, fit] = predict_logistic(theta, Xt)
        strength = 1.0 / C
    return probs, strength


# ---------------------------------------------------------------------- ridge model


def _probe_ridge(
    X_train: np.ndarray, y: np.ndarray, X_test: np.ndarray, opts: dict[str, Any]
) -> tuple[np.ndarray, float]:
    """Ridge on ``log1p(y)``, strength by leave-one-out on the training users."""
    Xs, Xt = standardise(X_train, X_test)
    model = RidgeCV(alphas=opts["alphas"]).fit(Xs, np.log1p(y))
    return model.predict(Xt), float(model.alpha_)


def spearman(y: np.ndarray, pred: np.ndarray) -> float:
    """Spearman's rank correlation, ties of ``pred`` broken at random in expectation.

    With no tied predictions this is Spearman's rho. A block of tied predictions gets
    the expected value of rho over random orders of the block, as :func:`auroc` counts
    a tied pair as half: the midranks of ``pred`` over the rank variance of a full
    permutation. Plain rho would reward tied predictions that meet tied targets: on a
    zero-inflated count (most users buy nothing), an embedding that maps most users to
    one vector scores higher than one that ranks every user (about 0.28 against 0.13 for
    the same predictions with their ties broken, ``benchmarks/bench_quality.py``). Ties
    of ``y`` are the targets' own and keep their midranks. 0.0 when either side is
    constant.
    """
    if np.ptp(y) == 0 or np.ptp(pred) == 0:
        return 0.0
    n = len(y)
    ry = rankdata(y) - (n + 1) / 2
    rp = rankdata(pred) - (n + 1) / 2
    var_permutation = (n * n - 1) / 12.0
    return float(np.mean(rp * ry) / np.sqrt(var_permutation * np.mean(ry * ry)))


# -------------------------------------------------------------------------- the loop


def run_probe(
    X: np.ndarray,
    task: dict[str, Any],
    opts: dict[str, Any],
    random_state: int,
    metrics: Any,
) -> tuple[dict[str, float], dict[str, float], list[float], np.ndarray]:
    """Score one task by the probe: the mean and std of each metric over folds, the
    chosen L2 strength of each fold and each fold's score.

    ``metrics(kind, y_test, probs, popularity)`` gives the metrics of the binary and
    multilabel tasks (those of :func:`evaluate`); count tasks report ``spearman``.
    """
    per_fold: list[dict[str, float]] = []
    strengths: list[float] = []
    for train, test in probe_folds(len(X), opts["n_splits"], random_state):
        y_train = task["y_train"][train]
        if task["kind"] == "count":
            pred, strength = _probe_ridge(X[train], y_train, X[test], opts)
            s = spearman(task["y_test"][test], pred)
            fold = {"spearman": s, "score": s}
        else:
            probs, strength = _probe_logistic(X[train], y_train, X[test], opts, random_state)
            if task["kind"] == "binary":
                probs = probs[:, 0]
            fold = metrics(task["kind"], task["y_test"][test], probs, task["popularity"])
        per_fold.append(fold)
        strengths.append(strength)
    keys = list(per_fold[0])
    values = np.array([[f[k] for k in keys] for f in per_fold])
    mean = dict(zip(keys, values.mean(axis=0).tolist(), strict=True))
    std = dict(zip(keys, values.std(axis=0).tolist(), strict=True))
    return mean, std, strengths, values[:, keys.index("score")]
