"""``make_events``: synthetic event logs in the RecSys Challenge 2025 layout.

A vectorised generative model of users (activity, tastes, price level, buy propensity,
weekly rhythm, churn, drift) and of a catalog (categories, skus with product launches,
urls, query codes). Everything is drawn with numpy over whole arrays: there is no
per-user or per-event Python loop, so a million users take well under a minute. The
model is written in ``_model``; ``_population`` draws the catalog and the users,
``_events`` their sessions and event tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from .._recsys import build_event_frame
from ._events import codes_column, make_base_events, make_tables
from ._model import DAY_SECONDS, DEFAULT_SHARES, DESCR, EMPTY_RELEVANT, GAP_DAYS, Catalog, Users
from ._population import grouped_sampler, make_catalog, make_users, sku_day_weights

__all__ = ["make_events"]


def _rng(random_state: Any) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise TypeError(
        f"random_state must be None, an int, a numpy Generator or RandomState; "
        f"got {type(random_state).__name__}."
    )


def _check_shares(event_shares: Mapping[str, float] | None) -> dict[str, float]:
    if event_shares is None:
        return dict(DEFAULT_SHARES)
    unknown = set(event_shares) - set(DEFAULT_SHARES)
    if unknown:
        raise ValueError(
            f"event_shares: unknown event type(s) {sorted(unknown)}; "
            f"expected keys among {list(DEFAULT_SHARES)}."
        )
    shares = {**DEFAULT_SHARES, **{k: float(v) for k, v in event_shares.items()}}
    if any(v < 0 for v in shares.values()) or shares["page_visit"] <= 0:
        raise ValueError(f"event_shares must be >= 0 (page_visit > 0); got {shares}.")
    if shares["add_to_cart"] <= 0 and shares["remove_from_cart"] > 0:
        raise ValueError("event_shares: remove_from_cart > 0 needs add_to_cart > 0.")
    total = sum(shares.values())
    return {k: v / total for k, v in shares.items()}


def _check_sizes(
    n_users: Any, n_days: Any, n_skus: Any, n_categories: Any, n_urls: Any
) -> tuple[int, int, int, int, int]:
    """The sizes of :func:`make_events`, checked, with the defaults filled in."""
    n_users = int(n_users)
    n_days = int(n_days)
    if n_users < 1:
        raise ValueError(f"n_users must be >= 1; got {n_users}.")
    if n_days < 29:
        raise ValueError(f"n_days must be >= 29 (input + two 14-day windows); got {n_days}.")
    root = int(round(np.sqrt(n_users)))
    n_skus = max(200, 30 * root) if n_skus is None else int(n_skus)
    if n_categories is None:
        n_categories = min(max(20, int(round(1.2 * root))), n_skus)
    n_categories = int(n_categories)
    if not 1 <= n_categories <= n_skus:
        raise ValueError(f"need 1 <= n_categories <= n_skus; got {n_categories}, {n_skus}.")
    n_urls = 4 * n_skus if n_urls is None else int(n_urls)
    if n_urls < n_categories + 100:
        raise ValueError(f"n_urls must be >= n_categories + 100; got {n_urls}.")
    return n_users, n_days, n_skus, n_categories, n_urls


def _check_model(
    n_price_buckets: Any, n_tastes: Any, activity_scale: Any, lifetime_scale: Any
) -> None:
    """Check the model's other numeric parameters."""
    if not 1 <= n_price_buckets:
        raise ValueError(f"n_price_buckets must be >= 1; got {n_price_buckets}.")
    if n_tastes < 1:
        raise ValueError(f"n_tastes must be >= 1; got {n_tastes}.")
    if not activity_scale > 0:
        raise ValueError(f"activity_scale must be > 0; got {activity_scale}.")
    if not lifetime_scale > 0:
        raise ValueError(f"lifetime_scale must be > 0; got {lifetime_scale}.")


def _check_start(start: Any) -> pd.Timestamp:
    """The start as a naive midnight."""
    start_ts = pd.Timestamp(start).normalize()
    if start_ts.tzinfo is not None:
        raise ValueError("start must be a naive timestamp (naive times mean UTC).")
    return start_ts


def make_events(
    n_users: int = 10_000,
    n_days: int = 139,
    *,
    n_skus: int | None = None,
    n_categories: int | None = None,
    n_urls: int | None = None,
    n_price_buckets: int = 100,
    n_tastes: int = 16,
    start: str | pd.Timestamp = "2022-06-23",
    event_shares: Mapping[str, float] | None = None,
    activity_scale: float = 1.0,
    lifetime_scale: float = 1.0,
    random_state: int | np.random.Generator | np.random.RandomState | None = None,
) -> Bunch:
    """Simulate a RecSys Challenge 2025 style event log from a generative model of users.

    Users have a heavy-tailed activity, a drifting taste, a price level, a buy
    propensity, a weekly rhythm and a churn time; skus have a category, a price, Zipf
    popularity, launch days and name codes. The defaults match the release's marginals
    (89% page visits, 1% purchases, a median of 2 events per user). The model, the split
    and the outputs: :ref:`synthetic-data` and ``DESCR`` of the result.

    Parameters
    ----------
    n_users : int, default=10_000
        Number of users (clients). Some have no events in the log.
    n_days : int, default=139
        Length of the log in days; at least 29 (input, then two 14-day target windows).
    n_skus, n_categories, n_urls : int, optional
        Catalog sizes; defaults ``30 * sqrt(n_users)`` skus (at least 200),
        ``1.2 * sqrt(n_users)`` categories (at least 20, at most ``n_skus``) and
        ``4 * n_skus`` urls (at least ``n_categories + 100``).
    n_price_buckets : int, default=100
        Number of price quantile buckets (``price`` is ``0 .. n_price_buckets - 1``).
    n_tastes : int, default=16
        Number of latent taste factors (the ``pref_*`` trait columns).
    start : str or Timestamp, default="2022-06-23"
        Midnight of the first day of the log (naive: UTC).
    event_shares : dict of str to float, optional
        Expected shares of the event types by table name (missing keys: the release's
        share), normalised to sum to one.
    activity_scale, lifetime_scale : float, default=1.0
        Multiply every user's activity (sessions per active day) and expected lifetime.
    random_state : int, numpy Generator or RandomState, optional
        Seed; the same seed gives the same output.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``tables`` (the five event tables, in time order), ``products``, ``events``
        (the event frame of all users, indexed by sorted ``client_id``), ``traits``
        (true latent traits, same index), ``relevant_clients`` (sorted ids to evaluate
        the challenge's tasks on), ``start`` and ``end`` (first midnight, last second),
        ``model`` (for :func:`purchase_probabilities`) and ``DESCR``.

    Examples
    --------
    >>> from sklearn_ubp.datasets import make_events
    >>> data = make_events(n_users=200, n_days=60, random_state=0)
    >>> sorted(data.tables)
    ['add_to_cart', 'page_visit', 'product_buy', 'remove_from_cart', 'search_query']
    >>> list(data.events.columns)
    ['timestamp', 'event_type', 'sku', 'category', 'price', 'name', 'url', 'query']
    """
    n_users, n_days, n_skus, n_categories, n_urls = _check_sizes(
        n_users, n_days, n_skus, n_categories, n_urls
    )
    _check_model(n_price_buckets, n_tastes, activity_scale, lifetime_scale)
    shares = _check_shares(event_shares)
    start_ts = _check_start(start)
    rng = _rng(random_state)
    catalog = make_catalog(rng, n_skus, n_categories, n_urls, n_price_buckets, n_tastes, n_days)
    day_weights = _add_day_sampler(catalog, n_days)
    users = make_users(rng, n_users, n_days, catalog.taste_pop, lifetime_scale)
    users.activity *= activity_scale
    ev = make_base_events(rng, users, catalog, shares, n_days, start_ts.weekday())
    tables = make_tables(rng, ev, users, catalog, start_ts, n_days)
    model = _model_bunch(catalog, users, day_weights, n_days, start_ts, n_price_buckets)
    return _assemble(rng, tables, catalog, users, model, start_ts, n_tastes)


def _add_day_sampler(catalog: Catalog, n_days: int) -> np.ndarray:
    """The skus' daily popularity; sets ``catalog.sku_day_flat``, its sampler."""
    n_categories = int(catalog.n_cat)
    day_weights = sku_day_weights(catalog, n_days)
    day_group = np.arange(n_days, dtype=np.int64)[:, None] * n_categories + catalog.sku_cat
    catalog.sku_day_flat = grouped_sampler(
        day_group.ravel(), day_weights.ravel(), n_days * n_categories
    )
    return day_weights


def _assemble(
    rng: np.random.Generator,
    tables: dict[str, pd.DataFrame],
    catalog: Catalog,
    users: Users,
    model: Bunch,
    start_ts: pd.Timestamp,
    n_tastes: int,
) -> Bunch:
    """The result of :func:`make_events`, around its hidden parameters ``model``."""
    n_days = int(model.n_days)
    ids = users.client_id
    products = pd.DataFrame(
        {
            "sku": catalog.sku_id,
            "category": catalog.cat_id[catalog.sku_cat],
            "price": catalog.sku_price,
            "name": codes_column(catalog.sku_name),
        }
    )
    products = products.sort_values("sku", ignore_index=True)
    cutoff = (n_days - GAP_DAYS) * DAY_SECONDS  # the challenge's split, in seconds from start
    return Bunch(
        tables=tables,
        products=products,
        events=build_event_frame(tables, products, users=ids),
        traits=_traits_frame(users, n_days, n_tastes),
        relevant_clients=_relevant_clients(rng, ids, tables, cutoff, origin=start_ts),
        start=start_ts,
        end=start_ts + pd.Timedelta(days=n_days) - pd.Timedelta(seconds=1),
        model=model,
        DESCR=DESCR,
    )


def _model_bunch(
    catalog: Catalog,
    users: Users,
    day_weights: np.ndarray,
    n_days: int,
    start_ts: pd.Timestamp,
    n_price_buckets: int,
) -> Bunch:
    """The hidden parameters that :func:`purchase_probabilities` reads."""
    return Bunch(
        n_days=n_days,
        weekday0=start_ts.weekday(),
        n_price_buckets=n_price_buckets,
        cat_id=catalog.cat_id,
        cat_price_q=catalog.cat_price_q,
        taste_cat=catalog.taste_cat,
        sku_id=catalog.sku_id,
        sku_cat=catalog.sku_cat,
        sku_price=catalog.sku_price,
        sku_price_q=catalog.sku_price_q,
        sku_launch_day=catalog.launch_day,
        sku_day_weights=day_weights,
        p_add=users.p_add,
        p_direct=users.p_direct,
    )


def _relevant_clients(
    rng: np.random.Generator,
    ids: np.ndarray,
    tables: Mapping[str, pd.DataFrame],
    cutoff: int,
    origin: pd.Timestamp,
) -> np.ndarray:
    """The challenge's relevant clients, from the input period (before ``cutoff``).

    Every user with a purchase in the input period (the release's "active clients"), as
    many users sampled from those with other events in it, and about 1% more drawn from
    users without events in it (who may still have events in the target windows).
    """
    limit = np.datetime64(origin.to_datetime64(), "us") + np.timedelta64(int(cutoff), "s")

    def before(t: pd.DataFrame) -> np.ndarray:  # tables are in time order
        stamps = t["timestamp"].to_numpy()
        return np.unique(t["client_id"].to_numpy()[: np.searchsorted(stamps, limit)])

    buyers = before(tables["product_buy"])
    with_events = np.unique(np.concatenate([before(t) for t in tables.values()]))
    others = np.setdiff1d(with_events, buyers, assume_unique=True)
    sampled = rng.choice(others, min(others.size, buyers.size), replace=False)
    empty = np.setdiff1d(ids, with_events, assume_unique=True)
    n_empty = int(round(EMPTY_RELEVANT * (buyers.size + sampled.size)))
    picked = rng.choice(empty, min(empty.size, max(n_empty, 1)), replace=False)
    return np.sort(np.concatenate([buyers, sampled, picked])).astype(np.int64)


def _traits_frame(users: Users, n_days: int, n_tastes: int) -> pd.DataFrame:
    """The ``traits`` of the result: one float64 column per trait, indexed by client."""
    n = users.activity.size
    rows = np.repeat(np.arange(n), 3)

    def dense(idx: np.ndarray, w: np.ndarray) -> np.ndarray:
        flat = rows * n_tastes + idx.ravel()
        return np.bincount(flat, weights=w.ravel(), minlength=n * n_tastes).reshape(n, n_tastes)

    cols: dict[str, np.ndarray] = {
        "log_activity": np.log(users.activity),
        "buy_propensity": users.buy_propensity,
        "conversion": users.conversion,
        "search_propensity": users.search_propensity,
        "price_level": users.price_level,
        "first_day": np.maximum(users.first_day, -float(n_days)),
        "quit_day": users.quit_day,
        "churn_hazard": users.churn_hazard,
        "weekly_phase": users.weekly_phase,
        "weekly_strength": users.weekly_strength,
        "hour": users.hour,
        "session_length": users.session_length,
        "drift": users.drift,
    }
    p0 = dense(users.idx0, users.w0)
    p1 = dense(users.idx1, users.w1)
    for k in range(n_tastes):
        cols[f"pref_{k}"] = p0[:, k]
    for k in range(n_tastes):
        cols[f"pref_end_{k}"] = p1[:, k]
    index = pd.Index(users.client_id, name="client_id")
    return pd.DataFrame({k: np.asarray(v, dtype=np.float64) for k, v in cols.items()}, index=index)
