"""The BG/NBD model of repeat purchases (Fader, Hardie and Lee, 2005), on purchase days.

Each customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)`` while alive and drops
out after any purchase with probability ``p ~ Beta(a, b)``. The four population
parameters are fitted by maximum likelihood on every customer's purchase history
``(x, t_x, T)``: repeat purchase days, the day of the last purchase and the age, both
counted from the first purchase. Given them, each customer's posterior probability of
being alive and expected purchase rate are closed-form. This module is the arithmetic;
:class:`~sklearn_ubp.EventCountEmbedder` (group ``"bgnbd"``, histories from
:func:`sklearn_ubp._count_stats.purchase_histories`) fits and applies it.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, gammaln

__all__ = ["MIN_REPEAT_BUYERS", "bgnbd_features", "fit_bgnbd"]

#: Fewer customers with a repeat purchase day than this: no model is fitted.
MIN_REPEAT_BUYERS = 10


def _log_dropped(x: np.ndarray, r: float, alpha: float, a: float, b: float, t: np.ndarray):
    """``log(a / (b + x - 1)) - (r + x) log(alpha + t)``: the log-likelihood term of a
    dropout right after the last of ``x >= 1`` repeat purchases, made at ``t``."""
    return np.log(a) - np.log(b + np.maximum(x, 1.0) - 1.0) - (r + x) * np.log(alpha + t)


def _log_likelihood(
    log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray
) -> float:
    r, alpha, a, b = np.exp(log_params)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = _log_dropped(x, r, alpha, a, b, t_x)
    ll = a1 + a2 + np.where(x > 0, np.logaddexp(a3, a4), a3)
    return float(np.dot(w, ll))


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray | None:
    """Maximum-likelihood ``[r, alpha, a, b]`` of the buyers' histories, or ``None``.

    ``None`` when fewer than :data:`MIN_REPEAT_BUYERS` buyers have a repeat purchase
    day (the dropout process is then not identified) or the optimum is not finite.
    Identical histories are grouped, so the cost grows with the distinct ``(x, t_x,
    T)`` triples, not with the users.
    """
    if int((x > 0).sum()) < MIN_REPEAT_BUYERS:
        return None
    triples, weights = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    xs, txs, Ts = triples.T
    weights = weights.astype(np.float64) / weights.sum()

    def loss(p: np.ndarray) -> float:
        return -_log_likelihood(p, xs, txs, Ts, weights)

    start = np.log([1.0, max(float(np.mean(Ts)), 1.0), 1.0, 1.0])
    bounds = [(-10.0, 10.0), (-10.0, 15.0), (-10.0, 10.0), (-10.0, 10.0)]
    with np.errstate(all="ignore"):
        res = minimize(loss, start, method="L-BFGS-B", bounds=bounds)
    params = np.exp(res.x)
    if not (np.isfinite(res.fun) and np.isfinite(params).all()):
        return None
    return params


def bgnbd_features(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, buyer: np.ndarray, params: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each user's probability of being alive and expected purchase days per day if
    alive, ``(r + x) / (alpha + T)``; both 0 for users without a purchase."""
    r, alpha, a, b = params
    with np.errstate(all="ignore"):
        # dropped after the last purchase against alive until T: a4 - a3 of the likelihood
        log_odds_dead = _log_dropped(x, r, alpha, a, b, t_x) + (r + x) * np.log(alpha + T)
    alive = np.where(x > 0, expit(-log_odds_dead), 1.0)
    rate = (r + x) / (alpha + T)
    return np.where(buyer, alive, 0.0), np.where(buyer, rate, 0.0)
