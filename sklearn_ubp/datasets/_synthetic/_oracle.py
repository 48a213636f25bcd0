"""``purchase_probabilities``: the true purchase probabilities of :func:`make_events`.

Computed in closed form from the user model of ``_model`` (the same knobs and formulas
as the sampler), the users' ``traits`` and the hidden parameters ``model`` of the
generated data set, not from the sampled events: the ceiling of any score built from
the events. The derivation and its approximations are in :ref:`synthetic-data`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._model import (
    ARRIVAL_CART,
    CAT_ROUNDS,
    CAT_TILT,
    DELAY_DAYS,
    DELAYED_BUY_SHARE,
    FRESH,
    LEVEL_GRID,
    SKU_ROUNDS,
    SKU_TILT,
    WEEK_ROUNDS,
    active_window,
    group_starts,
    price_gap,
    price_log_accept,
    weekly_log_accept,
)

__all__ = ["purchase_probabilities"]

_BY = ("category", "sku", "price")
_CHUNK = 4096  # users per block in purchase_probabilities
_PAD_DAYS = 10  # days before a window whose delayed purchases can still land in it


def purchase_probabilities(
    data: Bunch,
    start: Any,
    stop: Any,
    *,
    by: str | None = None,
    targets: Any = None,
    users: Any = None,
) -> np.ndarray:
    """True probabilities that users buy in a time window, from the generator's model.

    Computed in closed form from the rate model that :func:`make_events` samples from
    (the users' ``traits``, the catalog and the same formulas), not from the sampled
    events: per target, the chance that a session buys it has a closed form, and the
    number of such sessions in the window is Poisson, so ``P = 1 - exp(-expected
    sessions that buy it)`` (times the arrival session's own term). Exact up to small
    approximations (whole days inside the window, the moments of the focal category for
    ``by="price"``), listed in :ref:`synthetic-data`.

    Parameters
    ----------
    data : sklearn.utils.Bunch
        The output of :func:`make_events` (it uses ``traits``, ``start`` and ``model``).
    start, stop : datetime-like
        The window ``[start, stop)``, e.g. a target window of
        :func:`sklearn_ubp.evaluation.make_tasks` (``tasks.windows[0]``).
    by : {None, "category", "sku", "price"}, default=None
        ``None``: the probability of at least one purchase. Otherwise the probability of
        at least one purchase of each target (a category id, a sku id or a price bucket).
    targets : array-like, optional
        The target categories / skus / price buckets (ids as in ``data.products``), e.g.
        ``task.targets``; default all of them. Ignored when ``by=None``.
    users : array-like of client ids, optional
        Rows of the result; default ``data.traits.index``.

    Returns
    -------
    p : ndarray of float64
        Shape ``(n_users,)`` when ``by=None``, else ``(n_users, n_targets)``. The churn
        and conversion labels of :func:`sklearn_ubp.evaluation.make_tasks` (1 = no
        purchase in the window) have probability ``1 - p``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_ubp.datasets import make_events, purchase_probabilities
    >>> data = make_events(n_users=2_000, n_days=60, random_state=0)
    >>> start = data.end.normalize() - pd.Timedelta(days=27)
    >>> stop = start + pd.Timedelta(days=14)
    >>> p = purchase_probabilities(data, start, stop)
    >>> p.shape, bool(((p >= 0) & (p <= 1)).all())
    ((2000,), True)
    >>> buyers = data.tables["product_buy"].query("@start <= timestamp < @stop").client_id
    >>> bought = data.traits.index.isin(buyers)
    >>> bool(p[bought].mean() > 5 * p[~bought].mean())
    True
    >>> top = data.products.category.value_counts().index[:3].to_numpy()
    >>> purchase_probabilities(data, start, stop, by="category", targets=top).shape
    (2000, 3)
    """
    model = data["model"] if "model" in data else None
    if model is None:
        raise ValueError("data must be the output of make_events (it has no 'model').")
    traits = data["traits"]
    lo_day, hi_day = _window_days(data["start"], start, stop, int(model["n_days"]))
    rows = _user_rows(traits.index, users)
    if by is not None and by not in _BY:
        raise ValueError(f"by must be None or one of {_BY}; got {by!r}.")
    cols = None if by is None else _target_columns(model, by, targets)
    n_out = 1 if cols is None else cols.size
    out = np.empty((rows.size, n_out))
    if rows.size and n_out and hi_day > lo_day:
        ctx = _ProbabilityContext(model, by, cols, lo_day, hi_day)
        for i in range(0, rows.size, _CHUNK):
            block = rows[i : i + _CHUNK]
            out[i : i + _CHUNK] = ctx.probabilities(traits.iloc[block], model, block)
    elif rows.size and n_out:
        out[:] = 0.0
    return out[:, 0] if cols is None else out


def _window_days(origin: Any, start: Any, stop: Any, n_days: int) -> tuple[float, float]:
    """The window ``[start, stop)`` in days since ``origin``, clipped to the log."""
    origin = pd.Timestamp(origin)
    lo_day = (pd.Timestamp(start) - origin) / pd.Timedelta(days=1)
    hi_day = (pd.Timestamp(stop) - origin) / pd.Timedelta(days=1)
    if not hi_day > lo_day:
        raise ValueError(f"need start < stop; got {start!r}, {stop!r}.")
    return max(float(lo_day), 0.0), min(float(hi_day), float(n_days))


def _user_rows(index: pd.Index, users: Any) -> np.ndarray:
    """Rows of the traits of the client ids ``users`` (default: all of them)."""
    if users is None:
        return np.arange(len(index))
    ids = np.asarray(users).ravel()
    rows = index.get_indexer(ids)
    if (rows < 0).any():
        raise ValueError(f"unknown users, e.g. {ids[rows < 0][:5].tolist()}.")
    return rows


def _target_columns(model: Mapping[str, Any], by: str, targets: Any) -> np.ndarray:
    """Internal indices of the targets (categories, skus or price buckets)."""
    if by == "price":
        n_buckets = int(model["n_price_buckets"])
        if targets is None:
            return np.arange(n_buckets)
        values = np.asarray(targets).ravel()
        ok = (values >= 0) & (values < n_buckets) & (values == np.round(values))
        if not ok.all():
            raise ValueError(f"unknown price buckets, e.g. {values[~ok][:5].tolist()}.")
        return values.astype(np.int64)
    ids = np.asarray(model["cat_id" if by == "category" else "sku_id"])
    if targets is None:
        return np.argsort(ids, kind="stable")
    values = np.asarray(targets).ravel()
    order = np.argsort(ids, kind="stable")
    pos = np.minimum(np.searchsorted(ids[order], values), ids.size - 1)
    found = ids[order][pos] == values
    if not found.all():
        raise ValueError(f"unknown {by} targets, e.g. {values[~found][:5].tolist()}.")
    return order[pos]


def _rejection(kappa: np.ndarray, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    """``scale`` and ``fail`` of a rejection sampler with acceptance rate ``kappa``.

    After ``rounds`` tested rounds and a last untested draw, an item of proposal weight
    ``w`` and acceptance ``a`` is kept with probability ``w (a * scale + fail)``.
    """
    fail = (1.0 - kappa) ** rounds
    return (1.0 - fail) / kappa, fail


def _weekday_time(x: np.ndarray, weekday0: int) -> np.ndarray:
    """Time (days) in ``[0, x)`` spent on each weekday (0 = Monday), ``(n, 7)``."""
    whole = np.floor(x)
    first = (np.arange(7) - weekday0) % 7  # first day of the log on each weekday
    full = np.maximum((whole[:, None] - first[None, :] + 6) // 7, 0)
    today = ((whole.astype(np.int64) + weekday0) % 7)[:, None] == np.arange(7)[None, :]
    return full + (x - whole)[:, None] * today


def _session_hits(
    q: np.ndarray, length: np.ndarray, hbar: np.ndarray, m2: np.ndarray
) -> np.ndarray:
    """Chance that a session buys a target, from the moments of its per-category share.

    ``hbar = sum_c pi_c h_c`` and ``m2 = sum_c pi_c h_c ** 2``, where ``pi`` is the
    category distribution and ``h_c`` the chance that an item of category ``c`` is the
    target. The focal category is replaced by a two-point distribution (0 or ``m2 /
    hbar``) with these moments, which is exact when each ``h_c`` is 0 or one value.
    """
    q, length = q[:, None], length[:, None]

    def hit(x: np.ndarray) -> np.ndarray:  # 1 - E[(1 - x) ** size], size ~ Geometric(1/L)
        return length * x / (1.0 + (length - 1.0) * x)

    with np.errstate(divide="ignore", invalid="ignore"):
        omega = np.where(m2 > 0, hbar * hbar / m2, 0.0)
        top = np.where(hbar > 0, m2 / hbar, 0.0)
    focal = 1.0 - FRESH
    return (1.0 - omega) * hit(FRESH * q * hbar) + omega * hit(q * (focal * top + FRESH * hbar))


class _ProbabilityContext:
    """Catalog-side tables of :func:`purchase_probabilities`, per day of the window."""

    def __init__(
        self, model: Mapping[str, Any], by: str | None, cols: np.ndarray | None, a: float, b: float
    ) -> None:
        self.by, self.cols, self.a, self.b = by, cols, a, b
        self.n_days = int(model["n_days"])
        self.weekday0 = int(model["weekday0"])
        first = max(int(np.floor(a)) - _PAD_DAYS, 0)
        self.days = np.arange(first, min(int(np.ceil(b)), self.n_days))
        taste_cat = np.asarray(model["taste_cat"])
        self.taste_cat, self.cat_price_q = taste_cat, np.asarray(model["cat_price_q"])
        self.n_tastes = taste_cat.shape[0]
        self.tables: dict[int, tuple[np.ndarray, ...]] = {}
        if by not in ("sku", "price"):
            return
        sku_cat = np.asarray(model["sku_cat"])
        price_q = np.asarray(model["sku_price_q"])
        starts = group_starts(sku_cat)
        grid = np.linspace(0.0, 1.0, LEVEL_GRID)
        accept_grid = np.exp(price_log_accept(price_q[None, :], grid[:, None], SKU_TILT))
        n_cat = starts.size
        if by == "sku":
            self.cats = sku_cat[cols]
            self.sku_q = price_q[cols]
        else:
            # price bucket k: the acceptance of its skus is taken at the bucket's centre,
            # plus a first-order correction for where the skus sit inside the bucket
            n_buckets = int(model["n_price_buckets"])
            price = np.asarray(model["sku_price"])
            self.bucket_q = (cols + 0.5) / n_buckets
            k_of = np.full(n_buckets, -1)
            k_of[cols] = np.arange(cols.size)  # a repeated target: the last copy
            self.dup = k_of[cols]
            k = k_of[price]
            hit = k >= 0
            cell = sku_cat[hit] * cols.size + k[hit]
            offset = price_q[hit] - (price[hit] + 0.5) / n_buckets
        for day in self.days:
            pw = np.asarray(model["sku_day_weights"][day])
            kappa = np.add.reduceat(accept_grid * pw[None, :], starts, axis=1)  # (grid, cats)
            scale, fail = _rejection(kappa, SKU_ROUNDS)
            if by == "sku":
                self.tables[int(day)] = (pw[cols], scale[:, self.cats], fail[:, self.cats])
            else:
                size = n_cat * cols.size
                total = np.bincount(cell, weights=pw[hit], minlength=size).reshape(n_cat, -1)
                spread = np.bincount(cell, weights=pw[hit] * offset, minlength=size)
                self.tables[int(day)] = (scale, fail, total, spread.reshape(n_cat, -1))

    def probabilities(
        self, part: pd.DataFrame, model: Mapping[str, Any], rows: np.ndarray
    ) -> np.ndarray:
        """Probabilities of the users of ``part`` (rows ``rows`` of the traits)."""
        n_days, a, b = self.n_days, self.a, self.b
        tr = {c: part[c].to_numpy() for c in part.columns}
        n = len(part)
        lam = np.exp(tr["log_activity"])
        first, quit_day = tr["first_day"], tr["quit_day"]
        lo, hi, span, arrives = active_window(first, quit_day, n_days)
        arrival_day = np.where(arrives, np.floor(first), -1.0)
        cart_buy = np.asarray(model["p_add"])[rows] * tr["conversion"]
        q = cart_buy + np.asarray(model["p_direct"])[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            delayed = np.where(q > 0, DELAYED_BUY_SHARE * cart_buy / q, 0.0)
        length, hour = tr["session_length"], tr["hour"]
        # weekly rhythm: acceptance per weekday and its mean over the active window
        accept_w = np.exp(
            weekly_log_accept(
                np.arange(7)[None, :], tr["weekly_phase"][:, None], tr["weekly_strength"][:, None]
            )
        )
        occupancy = _weekday_time(hi, self.weekday0) - _weekday_time(lo, self.weekday0)
        with np.errstate(divide="ignore", invalid="ignore"):
            kappa_w = np.where(span > 0, (occupancy * accept_w).sum(1) / span, 1.0)
        scale_w, fail_w = _rejection(kappa_w, WEEK_ROUNDS)

        state = self._user_state(tr)
        n_out = 1 if self.cols is None else self.cols.size
        expected = np.zeros((n, n_out))
        no_arrival = np.ones((n, n_out))
        for day in self.days:
            overlap = np.clip(np.minimum(hi, day + 1.0) - np.maximum(lo, day), 0.0, 1.0)
            wd = (day + self.weekday0) % 7
            sessions = lam * overlap * (accept_w[:, wd] * scale_w + fail_w)
            t_sess = np.clip(day + hour / 24.0, lo, hi)
            inside = max(0.0, min(b, day + 1.0) - max(a, float(day)))
            weight = (1.0 - delayed) * inside + delayed * _delayed_share(t_sess, hi, a, b, n_days)
            arrival = (arrival_day == day) & (weight > 0)
            idx = np.flatnonzero((sessions * weight > 0) | arrival)
            if not idx.size:
                continue
            hbar, m2 = self._moments(state, int(day), t_sess[idx], idx)
            hits = _session_hits(q[idx], length[idx], hbar, m2)
            expected[idx] += (sessions[idx] * weight[idx])[:, None] * hits
            arr = arrival[idx]
            if arr.any():
                first_hits = _session_hits(
                    ARRIVAL_CART * q[idx][arr], length[idx][arr], hbar[arr], m2[arr]
                )
                no_arrival[idx[arr]] *= 1.0 - weight[idx][arr][:, None] * first_hits
        return 1.0 - np.exp(-expected) * no_arrival

    def _user_state(self, tr: dict[str, np.ndarray]) -> dict[str, Any]:
        if self.by is None:
            return {}
        level = tr["price_level"]
        pref0 = np.column_stack([tr[f"pref_{k}"] for k in range(self.n_tastes)])
        pref1 = np.column_stack([tr[f"pref_end_{k}"] for k in range(self.n_tastes)])
        m0, m1 = pref0 @ self.taste_cat, pref1 @ self.taste_cat
        accept = np.exp(price_log_accept(self.cat_price_q[None, :], level[:, None], CAT_TILT))
        pos = np.clip(level, 0.0, 1.0) * (LEVEL_GRID - 1)
        cell = np.minimum(np.floor(pos).astype(np.int64), LEVEL_GRID - 2)
        state: dict[str, Any] = {
            "kappa0": (m0 * accept).sum(1),
            "kappa1": (m1 * accept).sum(1),
            "drift": tr["drift"],
            "cell": cell,
            "theta": (pos - cell)[:, None],
        }
        if self.by == "category":
            cats = self.cols
        elif self.by == "sku":
            cats = self.cats
            state["sku_accept"] = np.exp(
                price_log_accept(self.sku_q[None, :], level[:, None], SKU_TILT)
            )
        else:
            cats = slice(None)
            gap = price_gap(self.bucket_q[None, :], level[:, None], SKU_TILT)
            state["bucket_accept"] = np.exp(-0.5 * gap * gap)
            state["slope"] = -gap / SKU_TILT  # d log(acceptance) / d price quantile
        state.update(m0=m0[:, cats], m1=m1[:, cats], accept=accept[:, cats])
        return state

    def _moments(
        self, state: dict[str, Any], day: int, t_sess: np.ndarray, idx: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``sum_c pi_c h_c`` and ``sum_c pi_c h_c ** 2`` of the users ``idx`` on ``day``."""
        if self.by is None:
            ones = np.ones((idx.size, 1))
            return ones, ones
        # category distribution at the session time (drifting taste, price tilt)
        w = np.clip(state["drift"][idx] * t_sess / self.n_days, 0.0, 1.0)
        kappa = (1.0 - w) * state["kappa0"][idx] + w * state["kappa1"][idx]
        scale, fail = _rejection(kappa, CAT_ROUNDS)
        w = w[:, None]
        mix = (1.0 - w) * state["m0"][idx] + w * state["m1"][idx]
        pi = mix * (state["accept"][idx] * scale[:, None] + fail[:, None])
        if self.by == "category":
            return pi, pi
        cell, theta = state["cell"][idx], state["theta"][idx]

        def at_level(table: np.ndarray) -> np.ndarray:  # (grid, k) -> (users, k)
            return (1.0 - theta) * table[cell] + theta * table[cell + 1]

        if self.by == "sku":
            weight, scale_g, fail_g = self.tables[day]
            rho = weight[None, :] * (
                state["sku_accept"][idx] * at_level(scale_g) + at_level(fail_g)
            )
            return pi * rho, pi * rho * rho
        # price buckets: h_ck = P(bucket k | category c) = total_ck (a_k S_c + f_c) (+ spread)
        scale_g, fail_g, total, spread = self.tables[day]
        s_u, f_u = at_level(scale_g), at_level(fail_g)  # (users, categories)
        acc = state["bucket_accept"][idx]
        tilted, flat = pi * s_u, pi * f_u
        hbar = acc * (tilted @ total + state["slope"][idx] * (tilted @ spread)) + flat @ total
        total2 = total * total
        m2 = (
            acc * acc * ((tilted * s_u) @ total2)
            + 2.0 * acc * ((tilted * f_u) @ total2)
            + (flat * f_u) @ total2
        )
        return hbar[:, self.dup], m2[:, self.dup]


def _delayed_share(t: np.ndarray, hi: np.ndarray, a: float, b: float, n_days: int) -> np.ndarray:
    """P(a purchase delayed by Exponential(DELAY_DAYS) after ``t`` lands in ``[a, b)``.

    The purchase happens at ``min(t + delay, quit day, end of the log)``.
    """
    cap = np.minimum(np.maximum(hi, t), n_days - 1e-6)

    def cdf(x: np.ndarray | float) -> np.ndarray:
        return 1.0 - np.exp(-np.maximum(x - t, 0.0) / DELAY_DAYS)

    upper = np.minimum(b, cap)
    share = np.where(upper > a, cdf(upper) - cdf(a), 0.0)
    return share + np.where((cap >= a) & (cap < b), 1.0 - cdf(cap), 0.0)
