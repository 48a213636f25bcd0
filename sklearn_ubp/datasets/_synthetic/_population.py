"""The latent side of :func:`make_events`: the catalog and the users, drawn with numpy."""

from __future__ import annotations

import numpy as np

from ..._arrow import CODE_LENGTH
from ._model import (
    ACTIVITY_MEDIAN,
    ACTIVITY_SIGMA,
    BUY_ACTIVITY,
    BUY_LIFE,
    BUY_LOGIT_MEAN,
    BUY_LOGIT_SIGMA,
    EARLY,
    HAZARD_MEDIAN,
    HAZARD_SIGMA,
    LAUNCH_BOOST,
    LAUNCH_BOOST_SIGMA,
    LAUNCH_SHARE,
    LAUNCH_TAU,
    SKU_ZIPF,
    Catalog,
    Users,
    group_starts,
)


def _zipf(n: int, exponent: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    return w / w.sum()


def _closed_cumsum(weights: np.ndarray) -> np.ndarray:
    """Cumulative sum whose last entry is exactly 1 (for ``searchsorted`` draws)."""
    cum = np.cumsum(weights)
    cum[-1] = 1.0
    return cum


def grouped_sampler(group: np.ndarray, weights: np.ndarray, n_groups: int) -> np.ndarray:
    """Monotone ``group + cumulative share`` array of items sorted by group.

    ``np.searchsorted(flat, g + u, side="right")`` with ``u ~ U[0, 1)`` then draws an
    item of group ``g`` with probability proportional to its weight.
    """
    totals = np.bincount(group, weights=weights, minlength=n_groups)
    cum = np.cumsum(weights)
    before = np.concatenate([[0.0], np.cumsum(totals)])[group]
    frac = (cum - before) / totals[group]
    last = np.r_[group[1:] != group[:-1], True]
    frac[last] = 1.0
    return group + np.minimum(frac, 1.0)


def _random_ids(rng: np.random.Generator, n: int, offset: int) -> np.ndarray:
    """``n`` distinct int64 ids with random gaps, in random order (ids are not positions)."""
    ids = offset + np.cumsum(rng.integers(1, 8, n, dtype=np.int64))
    return ids[rng.permutation(n)]


def noisy_codes(centers: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """``centers`` plus Gaussian noise of ``scale``, rounded and clipped to uint8 codes."""
    noise = rng.normal(0.0, scale, size=centers.shape).astype(np.float32)
    return np.clip(np.rint(centers + noise), 0, 255).astype(np.uint8)


def _skus_by_category(
    rng: np.random.Generator, n_skus: int, cat_pop: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Category of each sku (sorted), its rank inside the category, its Zipf popularity."""
    n_cat = cat_pop.size
    # skus per category: one each, the rest proportional to popularity^0.7
    extra = rng.multinomial(n_skus - n_cat, cat_pop**0.7 / (cat_pop**0.7).sum())
    sku_cat = np.repeat(np.arange(n_cat), 1 + extra)  # sorted by category
    # Zipf popularity inside the category (rank = position inside the category)
    first = np.concatenate([[0], np.cumsum(1 + extra)[:-1]])
    rank_in_cat = np.arange(n_skus) - first[sku_cat]
    return sku_cat, rank_in_cat, 1.0 / (1.0 + rank_in_cat) ** SKU_ZIPF


def _prices(
    rng: np.random.Generator, sku_cat: np.ndarray, n_cat: int, n_buckets: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Price quantile and bucket of each sku, mean price quantile of each category."""
    n_skus = sku_cat.size
    # price: category level + noise, bucketed by quantile over skus
    cat_level = rng.beta(2.0, 2.0, n_cat)
    raw_price = cat_level[sku_cat] + rng.normal(0.0, 0.12, n_skus)
    order = np.argsort(raw_price, kind="stable")
    price_q = np.empty(n_skus)
    price_q[order] = (np.arange(n_skus) + 0.5) / n_skus
    sku_price = np.minimum((price_q * n_buckets).astype(np.int64), n_buckets - 1)
    return price_q, sku_price, np.bincount(sku_cat, price_q) / np.bincount(sku_cat)


def _codes(
    rng: np.random.Generator, sku_cat: np.ndarray, n_cat: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sku names and query prototypes around a code centroid per category."""
    cat_center = rng.uniform(20, 235, size=(n_cat, CODE_LENGTH)).astype(np.float32)
    sku_name = noisy_codes(cat_center[sku_cat], 18.0, rng)
    n_proto = 8
    proto = noisy_codes(np.repeat(cat_center, n_proto, axis=0), 25.0, rng)
    return sku_name, proto, _closed_cumsum(_zipf(n_proto, 1.0))


def _tastes(
    rng: np.random.Generator, cat_pop: np.ndarray, n_tastes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Taste factors: sparse distributions over categories, their sampler, popularity."""
    n_cat = cat_pop.size
    taste_cat = cat_pop[None, :] ** 0.5 * rng.gamma(0.25, 1.0, size=(n_tastes, n_cat))
    taste_cat += 1e-4 * cat_pop[None, :]
    taste_cat /= taste_cat.sum(axis=1, keepdims=True)
    taste_cum = np.cumsum(taste_cat, axis=1)
    taste_cum[:, -1] = 1.0
    taste_flat = (taste_cum + np.arange(n_tastes)[:, None]).ravel()
    return taste_cat, taste_flat, _zipf(n_tastes, 0.6)[rng.permutation(n_tastes)]


def _launches(
    rng: np.random.Generator, rank_in_cat: np.ndarray, n_days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Launch day, boost and decay time of each sku (released on a random day, boosted
    at first, never a category's top sku)."""
    n_skus = rank_in_cat.size
    candidates = np.flatnonzero(rank_in_cat > 0)
    n_launch = min(int(round(LAUNCH_SHARE * n_skus)), candidates.size)
    launched = np.sort(rng.choice(candidates, n_launch, replace=False))
    launch_day = np.full(n_skus, -np.inf)
    launch_day[launched] = rng.integers(1, n_days, n_launch)
    boost = np.zeros(n_skus)
    boost[launched] = LAUNCH_BOOST * np.exp(rng.normal(0.0, LAUNCH_BOOST_SIGMA, n_launch))
    tau = np.ones(n_skus)
    tau[launched] = rng.uniform(*LAUNCH_TAU, n_launch)
    return launch_day, boost, tau


def _urls(
    rng: np.random.Generator,
    peak_pop: np.ndarray,
    sku_cat: np.ndarray,
    cat_pop: np.ndarray,
    sku_pop_in_cat: np.ndarray,
    n_urls: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Product pages for the popular skus, category pages, generic pages (and their
    cumulative Zipf popularity)."""
    n_skus, n_cat = sku_cat.size, cat_pop.size
    n_pages = min(n_skus, int(0.6 * n_skus), n_urls - n_cat - 100)
    url_perm = _random_ids(rng, n_urls, 0)
    peak = peak_pop / np.bincount(sku_cat, sku_pop_in_cat)[sku_cat]
    by_pop = np.argsort(-peak * cat_pop[sku_cat], kind="stable")
    sku_url = np.full(n_skus, -1, dtype=np.int64)
    sku_url[by_pop[:n_pages]] = url_perm[:n_pages]
    cat_url = url_perm[n_pages : n_pages + n_cat]
    generic_url = url_perm[n_pages + n_cat :]
    return sku_url, cat_url, generic_url, _closed_cumsum(_zipf(generic_url.size, 1.0))


def make_catalog(
    rng: np.random.Generator,
    n_skus: int,
    n_cat: int,
    n_urls: int,
    n_buckets: int,
    n_tastes: int,
    n_days: int,
) -> Catalog:
    """Draw the catalog (categories, skus, prices, codes, tastes, launches, urls)."""
    cat_pop = _zipf(n_cat, 0.9)
    sku_cat, rank_in_cat, sku_pop_in_cat = _skus_by_category(rng, n_skus, cat_pop)
    price_q, sku_price, cat_price_q = _prices(rng, sku_cat, n_cat, n_buckets)
    sku_name, proto, proto_cum = _codes(rng, sku_cat, n_cat)
    taste_cat, taste_flat, taste_pop = _tastes(rng, cat_pop, n_tastes)
    launch_day, boost, tau = _launches(rng, rank_in_cat, n_days)
    sku_url, cat_url, generic_url, generic_cum = _urls(
        rng, sku_pop_in_cat + boost, sku_cat, cat_pop, sku_pop_in_cat, n_urls
    )
    return Catalog(
        sku_cat=sku_cat,
        sku_base=sku_pop_in_cat,
        launch_day=launch_day,
        launch_boost=boost,
        launch_tau=tau,
        sku_price=sku_price,
        sku_price_q=price_q,
        sku_name=sku_name,
        sku_url=sku_url,
        sku_id=_random_ids(rng, n_skus, 0),
        cat_id=_random_ids(rng, n_cat, 0),
        cat_price_q=cat_price_q,
        cat_url=cat_url,
        proto=proto,
        proto_cum=proto_cum,
        taste_flat=taste_flat,
        taste_cat=taste_cat,
        taste_pop=taste_pop,
        generic_url=generic_url,
        generic_cum=generic_cum,
        n_cat=n_cat,
    )


def sku_day_weights(catalog: Catalog, n_days: int) -> np.ndarray:
    """Popularity of each sku inside its category on each day, ``(n_days, n_skus)``.

    A launched sku has weight 0 before its launch day and ``base + A exp(-age / tau)``
    from it (``age`` in days at mid-day; the category's top sku has weight 1); rows sum
    to one per category.
    """
    day = np.arange(n_days, dtype=np.float64)[:, None] + 0.5
    age = day - catalog.launch_day[None, :]
    boost = catalog.launch_boost * np.exp(-np.maximum(age, 0.0) / catalog.launch_tau)
    w = (age >= 0) * (catalog.sku_base[None, :] + boost)
    sku_cat = catalog.sku_cat
    starts = group_starts(sku_cat)
    totals = np.add.reduceat(w, starts, axis=1)
    return w / np.repeat(totals, np.diff(np.r_[starts, sku_cat.size]), axis=1)


def _draw_tastes(
    rng: np.random.Generator, n: int, taste_pop: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Up to 3 taste factors per user and their weights (unused slots: weight 0)."""
    k = rng.choice(3, size=n, p=[0.35, 0.4, 0.25]) + 1
    idx = rng.choice(taste_pop.size, size=(n, 3), p=taste_pop)
    w = rng.gamma(1.0, 1.0, size=(n, 3)) + 1e-3
    w[np.arange(3)[None, :] >= k[:, None]] = 0.0
    w /= w.sum(axis=1, keepdims=True)
    idx = np.where(w > 0, idx, idx[:, :1])
    return idx.astype(np.int32), w


def make_users(
    rng: np.random.Generator, n: int, n_days: int, taste_pop: np.ndarray, lifetime_scale: float
) -> Users:
    """Draw ``n`` users (traits, active windows, tastes); see the model's ``DESCR``."""
    # sorted, gapped client ids (so that ids are not row positions)
    client_id = np.sort(_random_ids(rng, n, 1000))
    # the buy propensity is correlated with the activity and the lifetime (which are
    # independent of each other): engaged, loyal users buy more
    z_act = rng.normal(0.0, 1.0, n)
    z_life = rng.normal(0.0, 1.0, n)
    rest = np.sqrt(max(1.0 - BUY_ACTIVITY**2 - BUY_LIFE**2, 0.0))
    z_buy = BUY_ACTIVITY * z_act + BUY_LIFE * z_life + rest * rng.normal(0.0, 1.0, n)
    activity = ACTIVITY_MEDIAN * np.exp(ACTIVITY_SIGMA * z_act)
    hazard = HAZARD_MEDIAN / lifetime_scale * np.exp(-HAZARD_SIGMA * z_life)
    first_day = rng.uniform(-EARLY * n_days, n_days, n)
    quit_day = np.minimum(first_day + rng.exponential(1.0, n) / hazard, 2.0 * n_days)
    idx0, w0 = _draw_tastes(rng, n, taste_pop)
    idx1, w1 = _draw_tastes(rng, n, taste_pop)
    return Users(  # keyword order = draw order
        client_id=client_id,
        activity=activity,
        churn_hazard=hazard,
        first_day=first_day,
        quit_day=quit_day,
        buy_propensity=1.0 / (1.0 + np.exp(-(BUY_LOGIT_MEAN + BUY_LOGIT_SIGMA * z_buy))),
        search_propensity=rng.gamma(2.0, 0.5, n),
        price_level=rng.beta(2.0, 2.0, n),
        weekly_phase=rng.uniform(0.0, 7.0, n),
        weekly_strength=rng.gamma(1.5, 0.4, n),
        hour=np.mod(rng.normal(15.0, 4.0, n), 24.0),
        session_length=1.0 + rng.gamma(1.0, 1.0, n),
        drift=rng.beta(1.0, 2.5, n),
        idx0=idx0,
        w0=w0,
        idx1=idx1,
        w1=w1,
    )
