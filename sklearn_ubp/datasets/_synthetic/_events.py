"""The observed side of :func:`make_events`: sessions, events and the five event tables.

Everything is drawn over whole arrays (sessions, then events); there is no per-user
or per-event Python loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..._arrow import CODE_LENGTH
from ._model import (
    ADD_EXP,
    ARRIVAL_CART,
    CAT_ROUNDS,
    CAT_TILT,
    CONV_EXP,
    DAY_SECONDS,
    DELAY_DAYS,
    DELAYED_BUY_SHARE,
    DIRECT_BUY_SHARE,
    DIRECT_EXP,
    FRESH,
    MAX_SESSION_SIZE,
    MAX_SESSIONS,
    SKU_ROUNDS,
    SKU_TILT,
    WEEK_ROUNDS,
    Catalog,
    Users,
    active_window,
    price_log_accept,
    weekly_log_accept,
)
from ._population import noisy_codes

TABLE_ORDER = ("product_buy", "add_to_cart", "remove_from_cart", "page_visit", "search_query")
# Event type codes used internally.
_BUY, _ADD, _REMOVE, _VISIT, _SEARCH = range(5)


def codes_column(codes: np.ndarray) -> pd.arrays.ArrowExtensionArray:
    """A ``(n, CODE_LENGTH)`` uint8 array as a pandas column of fixed-size lists."""
    flat = pa.array(np.ascontiguousarray(codes, dtype=np.uint8).ravel())
    arr = pa.FixedSizeListArray.from_arrays(flat, CODE_LENGTH)
    return pd.arrays.ArrowExtensionArray(arr)


def _draw_category(
    rng: np.random.Generator,
    user: np.ndarray,
    t_day: np.ndarray,
    users: Users,
    catalog: Catalog,
    n_days: int,
) -> np.ndarray:
    """Categories from the users' current tastes, tilted towards their price level.

    A candidate is drawn from the current taste mixture and accepted with probability
    ``exp(-0.5 ((price quantile - level) / CAT_TILT) ** 2)``; rejected ones are redrawn,
    for ``CAT_ROUNDS`` tested rounds, then a last draw is kept untested.
    """
    n_cat = int(catalog.n_cat)
    w_end = np.clip(users.drift[user] * (t_day / n_days), 0.0, 1.0)
    level = users.price_level[user]

    def draw(idx: np.ndarray) -> np.ndarray:
        m = idx.size
        late = rng.random(m) < w_end[idx]
        u = rng.random(m)
        who = user[idx]
        w = np.where(late[:, None], users.w1[who], users.w0[who])
        tastes = np.where(late[:, None], users.idx1[who], users.idx0[who])
        slot = (u >= w[:, 0]).astype(np.int64) + (u >= w[:, 0] + w[:, 1])
        slot = np.minimum(slot, 2)
        taste = tastes[np.arange(m), slot].astype(np.int64)
        flat = np.searchsorted(catalog.taste_flat, taste + rng.random(m), side="right")
        return np.minimum(flat - taste * n_cat, n_cat - 1)

    return _price_tilted(rng, draw, user.size, catalog.cat_price_q, level, CAT_TILT, CAT_ROUNDS)


def _draw_sku(
    rng: np.random.Generator,
    cat: np.ndarray,
    level: np.ndarray,
    day: np.ndarray,
    catalog: Catalog,
) -> np.ndarray:
    """Skus of the given categories by the day's popularity, tilted towards the price level.

    Same rejection scheme as the categories (``SKU_TILT``, ``SKU_ROUNDS``).
    """
    flat = catalog.sku_day_flat
    n_skus = catalog.sku_cat.size
    group = day.astype(np.int64) * int(catalog.n_cat) + cat

    def draw(idx: np.ndarray) -> np.ndarray:
        keys = group[idx] + rng.random(idx.size)
        # searching sorted keys is much faster (cache-friendly) than random ones
        order = np.argsort(keys)
        pos = np.empty(idx.size, dtype=np.int64)
        pos[order] = np.searchsorted(flat, keys[order], side="right")
        return np.minimum(pos, flat.size - 1) - day[idx].astype(np.int64) * n_skus

    return _price_tilted(rng, draw, cat.size, catalog.sku_price_q, level, SKU_TILT, SKU_ROUNDS)


def _price_tilted(
    rng: np.random.Generator,
    draw: Callable[[np.ndarray], np.ndarray],
    n: int,
    price_q: np.ndarray,
    level: np.ndarray,
    tilt: float,
    rounds: int,
) -> np.ndarray:
    """Rejection sampling: redraw items with probability 1 - exp(-gap^2 / 2), where gap is
    the distance between the item's price quantile and the user's price level / ``tilt``."""
    pending = np.arange(n)
    item = draw(pending)
    for _ in range(rounds):
        log_accept = price_log_accept(price_q[item[pending]], level[pending], tilt)
        pending = pending[np.log(rng.random(pending.size)) >= log_accept]
        item[pending] = draw(pending)
    return item


def _weekly_days(
    rng: np.random.Generator,
    lo: np.ndarray,
    hi: np.ndarray,
    phase: np.ndarray,
    strength: np.ndarray,
    weekday0: int,
    rounds: int = WEEK_ROUNDS,
) -> np.ndarray:
    """Days uniform in ``[lo, hi)`` thinned by the weekly rhythm (rejection sampling)."""
    t = lo + rng.random(lo.size) * (hi - lo)
    pending = np.arange(lo.size)
    for _ in range(rounds):
        if pending.size == 0:
            break
        wd = np.mod(np.floor(t[pending]) + weekday0, 7.0)
        keep = np.log(rng.random(pending.size)) < weekly_log_accept(
            wd, phase[pending], strength[pending]
        )
        pending = pending[~keep]
        p_lo, p_hi = lo[pending], hi[pending]
        t[pending] = p_lo + rng.random(pending.size) * (p_hi - p_lo)
    return np.floor(t)


def _calibrated(propensity: np.ndarray, share: float, total: float, mass: np.ndarray) -> np.ndarray:
    """Per-event probabilities ``propensity * share * total / sum(mass * propensity)``."""
    return propensity * share * total / max((mass * propensity).sum(), 1e-300)


def _event_probabilities(
    users: Users, span: np.ndarray, arrives: np.ndarray, shares: dict[str, float]
) -> tuple[np.ndarray, float]:
    """Calibrate the per-user event type probabilities to the target shares.

    Sets ``users.p_add``, ``users.p_direct`` and ``users.conversion``; returns the
    per-user search probability and the chance that a kept cart item is removed.
    """
    n_users = users.activity.size
    expected = (users.activity * span + arrives) * users.session_length
    b = users.buy_propensity
    add_w, conv_w = b**ADD_EXP, b**CONV_EXP
    s_buy, s_add, s_rm = shares["product_buy"], shares["add_to_cart"], shares["remove_from_cart"]
    weight = expected if expected.sum() > 0 else np.ones(n_users)
    # first visits rarely end in the cart: the cart-eligible mass of events
    cart_weight = (users.activity * span + ARRIVAL_CART * arrives) * users.session_length
    if cart_weight.sum() <= 0:
        cart_weight = np.ones(n_users)
    if s_add > 0:
        direct = min(DIRECT_BUY_SHARE * s_buy, s_buy)
        conv_mean = min(0.8, (s_buy - direct) / s_add)
        direct = s_buy - conv_mean * s_add
    else:
        direct, conv_mean = s_buy, 0.0
    # base events are everything but the purchases following a cart and the removals
    base_share = 1.0 - (s_buy - direct) - s_rm
    total = weight.sum()
    p_add = np.minimum(_calibrated(add_w, s_add / base_share, total, cart_weight), 0.6)
    add_mass = cart_weight * p_add
    conv = conv_w * conv_mean * add_mass.sum() / max((add_mass * conv_w).sum(), 1e-300)
    conv = np.minimum(conv, 0.95)
    kept = (add_mass * (1 - conv)).sum()
    p_remove = min(1.0, s_rm * total / base_share / kept) if kept > 0 else 0.0
    p_direct = _calibrated(b**DIRECT_EXP, direct / base_share, total, cart_weight)
    p_direct = np.minimum(p_direct, 0.2)
    sp = users.search_propensity
    p_search = _calibrated(sp, shares["search_query"] / base_share, total, weight)
    p_search = np.minimum(p_search, 0.9 - p_add - p_direct)
    users.conversion, users.p_add, users.p_direct = conv, p_add, p_direct
    return p_search, p_remove


def _sessions(
    rng: np.random.Generator,
    users: Users,
    window: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_sess: np.ndarray,
    n_days: int,
    weekday0: int,
) -> tuple[np.ndarray, ...]:
    """User, start (seconds), size and duration of each session, and the arrival ones."""
    lo, hi, arrives = window
    sess_user = np.repeat(np.arange(users.activity.size, dtype=np.int64), n_sess)
    day = _weekly_days(
        rng,
        lo[sess_user],
        hi[sess_user],
        users.weekly_phase[sess_user],
        users.weekly_strength[sess_user],
        weekday0,
    )
    sess_first = np.concatenate([[0], np.cumsum(n_sess)[:-1]])
    arrival = sess_first[arrives]
    day[arrival] = np.floor(users.first_day[arrives])
    hour = np.mod(users.hour[sess_user] + rng.normal(0.0, 2.5, sess_user.size), 24.0)
    sess_t = np.clip(day + hour / 24.0, lo[sess_user], hi[sess_user]) * DAY_SECONDS
    size = rng.geometric(1.0 / users.session_length[sess_user])
    size = np.minimum(size, MAX_SESSION_SIZE)
    duration = rng.exponential(120.0, sess_user.size) * size
    last = n_days * DAY_SECONDS - 1.0
    # sessions end before the log does (but do not start before the user arrives)
    sess_t = np.minimum(sess_t, np.maximum(lo[sess_user] * DAY_SECONDS, last - duration))
    return sess_user, sess_t, size, duration, arrival


def make_base_events(
    rng: np.random.Generator,
    users: Users,
    catalog: Catalog,
    shares: dict[str, float],
    n_days: int,
    weekday0: int,
) -> dict[str, Any]:
    """Sessions, then their events: user, time (seconds), type and category of each.

    Purchases that follow an add_to_cart and removals are drawn later, from the carts.
    """
    lo, hi, span, arrives = active_window(users.first_day, users.quit_day, n_days)
    n_sess = np.minimum(rng.poisson(users.activity * span) + arrives, MAX_SESSIONS)
    p_search, p_remove = _event_probabilities(users, span, arrives, shares)
    sess_user, sess_t, size, duration, arrival = _sessions(
        rng, users, (lo, hi, arrives), n_sess, n_days, weekday0
    )
    sess = np.repeat(np.arange(sess_user.size, dtype=np.int64), size)
    user = sess_user[sess]
    n_ev = user.size
    t = sess_t[sess] + rng.random(n_ev) * duration[sess]
    t = np.minimum(np.ceil(t), n_days * DAY_SECONDS - 1.0).astype(np.int64)

    u = rng.random(n_ev)
    first_visit = np.zeros(sess_user.size, dtype=bool)
    first_visit[arrival] = True
    damp = np.where(first_visit[sess], ARRIVAL_CART, 1.0)
    c1 = users.p_add[user] * damp
    c2 = c1 + users.p_direct[user] * damp
    c3 = c2 + p_search[user]
    kind = np.full(n_ev, _VISIT, dtype=np.int8)
    kind[u < c3] = _SEARCH
    kind[u < c2] = _BUY
    kind[u < c1] = _ADD

    # categories: the session's focal category, or a fresh draw
    sess_cat = _draw_category(rng, sess_user, sess_t / DAY_SECONDS, users, catalog, n_days)
    cat = sess_cat[sess]
    fresh = rng.random(n_ev) < FRESH
    cat[fresh] = _draw_category(rng, user[fresh], t[fresh] / DAY_SECONDS, users, catalog, n_days)
    return {"user": user, "t": t, "kind": kind, "cat": cat, "p_remove": p_remove, "hi": hi}


def _cart_events(
    rng: np.random.Generator, ev: dict[str, Any], users: Users, catalog: Catalog, last: int
) -> dict[str, np.ndarray]:
    """Skus of the carts and direct purchases, and what follows each add_to_cart."""
    user, t, kind = ev["user"], ev["t"], ev["kind"]
    carted = np.flatnonzero((kind == _ADD) | (kind == _BUY))
    day = t // DAY_SECONDS
    level = users.price_level[user[carted]]
    sku_carted = _draw_sku(rng, ev["cat"][carted], level, day[carted], catalog)
    is_add = kind[carted] == _ADD
    add_pos = carted[is_add]
    add_sku = sku_carted[is_add]
    # what follows an add_to_cart: a purchase, a removal or nothing
    conv = users.conversion[user[add_pos]]
    r = rng.random(add_pos.size)
    bought = r < conv
    removed = ~bought & (rng.random(add_pos.size) < ev["p_remove"])
    delay = 1.0 + rng.exponential(600.0, add_pos.size)
    later = rng.random(add_pos.size) < DELAYED_BUY_SHARE
    delay[later] += rng.exponential(DELAY_DAYS * DAY_SECONDS, int(later.sum()))
    limit = np.maximum(ev["hi"][user[add_pos]] * DAY_SECONDS, t[add_pos] + 1.0)
    follow_t = np.minimum(t[add_pos] + delay, np.minimum(limit, last)).astype(np.int64)
    remove_delay = 1.0 + rng.exponential(300.0, add_pos.size)
    remove_t = np.minimum(t[add_pos] + remove_delay, last).astype(np.int64)
    direct = carted[~is_add]
    return {
        "buy_user": np.concatenate([user[add_pos[bought]], user[direct]]),
        "buy_t": np.concatenate([follow_t[bought], t[direct]]),
        "buy_sku": np.concatenate([add_sku[bought], sku_carted[~is_add]]),
        "add_pos": add_pos,
        "add_sku": add_sku,
        "removed": removed,
        "remove_t": remove_t,
    }


def _visit_urls(
    rng: np.random.Generator, ev: dict[str, Any], users: Users, catalog: Catalog
) -> np.ndarray:
    """Urls of the page visits: product pages, category pages, generic pages."""
    visit = np.flatnonzero(ev["kind"] == _VISIT)
    v_user, v_cat = ev["user"][visit], ev["cat"][visit]
    v_day = ev["t"][visit] // DAY_SECONDS
    page = rng.random(visit.size)
    url = np.empty(visit.size, dtype=np.int64)
    prod = page < 0.45
    level = users.price_level[v_user[prod]]
    prod_sku = _draw_sku(rng, v_cat[prod], level, v_day[prod], catalog)
    prod_url = catalog.sku_url[prod_sku]
    prod_url[prod_url < 0] = catalog.cat_url[v_cat[prod][prod_url < 0]]
    url[prod] = prod_url
    cat_page = (page >= 0.45) & (page < 0.65)
    url[cat_page] = catalog.cat_url[v_cat[cat_page]]
    generic = page >= 0.65
    pick = np.searchsorted(catalog.generic_cum, rng.random(int(generic.sum())), side="right")
    url[generic] = catalog.generic_url[np.minimum(pick, catalog.generic_url.size - 1)]
    return url


def _search_queries(
    rng: np.random.Generator, search: np.ndarray, cat: np.ndarray, catalog: Catalog
) -> np.ndarray:
    """Codes of the searches: a query prototype of the category, sometimes with noise."""
    proto = np.searchsorted(catalog.proto_cum, rng.random(search.size), side="right")
    proto = np.minimum(proto, catalog.proto_cum.size - 1)
    query = catalog.proto[cat[search] * catalog.proto_cum.size + proto]
    noisy = rng.random(search.size) < 0.3
    query[noisy] = noisy_codes(query[noisy].astype(np.float32), 8.0, rng)
    return query


def make_tables(
    rng: np.random.Generator,
    ev: dict[str, Any],
    users: Users,
    catalog: Catalog,
    start: pd.Timestamp,
    n_days: int,
) -> dict[str, pd.DataFrame]:
    """The five event tables (in time order) from the base events."""
    user, t = ev["user"], ev["t"]
    cart = _cart_events(rng, ev, users, catalog, n_days * DAY_SECONDS - 1)
    url = _visit_urls(rng, ev, users, catalog)
    search = np.flatnonzero(ev["kind"] == _SEARCH)
    query = _search_queries(rng, search, ev["cat"], catalog)

    client, sku_id = users.client_id, catalog.sku_id
    origin = np.datetime64(start.to_datetime64(), "s")

    def table(u: np.ndarray, ts: np.ndarray, field: str, values: Any) -> pd.DataFrame:
        order = np.argsort(ts * client.size + u, kind="stable")
        stamps = (origin + ts[order].astype("timedelta64[s]")).astype("datetime64[us]")
        if field == "query":
            col: Any = codes_column(values[order])
        else:
            col = values[order].astype(np.int64)
        return pd.DataFrame({"client_id": client[u[order]], "timestamp": stamps, field: col})

    add_pos, add_sku, removed = cart["add_pos"], cart["add_sku"], cart["removed"]
    visit = np.flatnonzero(ev["kind"] == _VISIT)
    out = {
        "product_buy": table(cart["buy_user"], cart["buy_t"], "sku", sku_id[cart["buy_sku"]]),
        "add_to_cart": table(user[add_pos], t[add_pos], "sku", sku_id[add_sku]),
        "remove_from_cart": table(
            user[add_pos[removed]], cart["remove_t"][removed], "sku", sku_id[add_sku[removed]]
        ),
        "page_visit": table(user[visit], t[visit], "url", url),
        "search_query": table(user[search], t[search], "query", query),
    }
    return {name: out[name] for name in TABLE_ORDER}
