"""The user model of :func:`make_events`, written once for the generator and the oracle.

Its knobs (the constants below), the catalog and the users it draws (:class:`Catalog`,
:class:`Users`), and the few formulas that both the sampler (``_population``,
``_events``) and the closed-form purchase probabilities (``_oracle``) rely on: the
active window, the weekly rhythm and the price tilt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..._arrow import US_PER_DAY

#: Seconds per day (the generator works in whole seconds from the start of the log).
DAY_SECONDS = US_PER_DAY // 1_000_000
#: Shares of the event types in the full release (175.6M events, participants' count).
DEFAULT_SHARES: dict[str, float] = {
    "product_buy": 1.8 / 175.6,
    "add_to_cart": 5.7 / 175.6,
    "remove_from_cart": 1.9 / 175.6,
    "page_visit": 156.0 / 175.6,
    "search_query": 10.2 / 175.6,
}
# Knobs of the user model, tuned so that the default output matches the release's
# marginals (events per user with >= 1 event: median 2, p90 18, p99 ~120).
ACTIVITY_MEDIAN = 0.02  # sessions per active day, median user
ACTIVITY_SIGMA = 1.8  # lognormal sigma of the activity
HAZARD_MEDIAN = 1 / 40  # churn hazard per day, median user
HAZARD_SIGMA = 1.2
BUY_LOGIT_MEAN, BUY_LOGIT_SIGMA = -2.5, 1.8  # buy propensity: logit-normal
BUY_ACTIVITY, BUY_LIFE = 0.5, 0.5  # correlations of the buy logit with log activity, -log hazard
ADD_EXP, CONV_EXP, DIRECT_EXP = 1.5, 1.0, 2.5  # add, conversion, direct buys ~ b ** exp
SKU_ZIPF = 1.8  # exponent of the sku popularity inside a category
EARLY = 0.3  # first_day ~ U(-EARLY * n_days, n_days)
MAX_SESSIONS = 5_000  # cap of one user's sessions
MAX_SESSION_SIZE = 500
ARRIVAL_CART = 0.3  # relative cart rate in the arrival session
DIRECT_BUY_SHARE = 0.15  # share of purchases without an add_to_cart before
DELAYED_BUY_SHARE = 0.2  # share of cart purchases made in a later session
DELAY_DAYS = 2.0  # mean extra delay (days) of those later purchases
FRESH = 0.35  # share of a session's events whose category is drawn afresh (not the focal one)
WEEK_ROUNDS = 12  # rejection rounds of the weekly rhythm
# price tilts: a candidate category (sku) is accepted with probability
# exp(-0.5 * ((price quantile - price_level) / width) ** 2), else redrawn; after the last
# round the fresh draw is kept untested
CAT_TILT, CAT_ROUNDS = 0.25, 2
SKU_TILT, SKU_ROUNDS = 0.15, 2
# product launches: a share of the skus (never a category's most popular one) is released
# on a random day of the log; its popularity is base + A exp(-age / tau) from then on
LAUNCH_SHARE = 0.1
LAUNCH_BOOST = 1.5  # median A (lognormal), relative to the category's top sku
LAUNCH_BOOST_SIGMA = 0.7
LAUNCH_TAU = (21.0, 56.0)  # tau ~ U(21, 56) days
LEVEL_GRID = 129  # price levels at which the sku acceptance rates are tabulated
GAP_DAYS = 28  # the challenge's input ends at midnight of the last day - 27 days
EMPTY_RELEVANT = 0.01  # relevant clients without events, per relevant client with events


@dataclass
class Catalog:
    """The drawn catalog: skus sorted by category (internal positions, not ids).

    Sku arrays have one entry per sku, category arrays one per category; ``proto`` holds
    ``proto_cum.size`` query prototypes per category, ``taste_flat`` the cumulative
    category distribution of each taste factor offset by the factor's index, and
    ``sku_day_flat`` the same for the skus of each (day, category) once the daily
    popularity is known.
    """

    sku_cat: np.ndarray
    sku_base: np.ndarray  # popularity inside the category before launch boosts
    launch_day: np.ndarray  # -inf: available from the start
    launch_boost: np.ndarray
    launch_tau: np.ndarray
    sku_price: np.ndarray  # price bucket
    sku_price_q: np.ndarray  # price quantile in (0, 1)
    sku_name: np.ndarray  # (n_skus, CODE_LENGTH) uint8
    sku_url: np.ndarray  # product page, -1: none
    sku_id: np.ndarray
    cat_id: np.ndarray
    cat_price_q: np.ndarray
    cat_url: np.ndarray
    proto: np.ndarray
    proto_cum: np.ndarray
    taste_flat: np.ndarray
    taste_cat: np.ndarray  # (n_tastes, n_cat) category distribution of each taste
    taste_pop: np.ndarray
    generic_url: np.ndarray
    generic_cum: np.ndarray
    n_cat: int
    sku_day_flat: np.ndarray | None = None


@dataclass
class Users:
    """The drawn users, one entry per user (positions, ``client_id`` sorted).

    ``idx0`` / ``w0`` (``idx1`` / ``w1``) are the up to three taste factors and their
    weights at the start (at the end of the drift). ``conversion``, ``p_add`` and
    ``p_direct`` are set when the event type probabilities are calibrated.
    """

    client_id: np.ndarray
    activity: np.ndarray  # sessions per active day
    churn_hazard: np.ndarray
    first_day: np.ndarray
    quit_day: np.ndarray
    buy_propensity: np.ndarray
    search_propensity: np.ndarray
    price_level: np.ndarray
    weekly_phase: np.ndarray
    weekly_strength: np.ndarray
    hour: np.ndarray
    session_length: np.ndarray
    drift: np.ndarray
    idx0: np.ndarray
    w0: np.ndarray
    idx1: np.ndarray
    w1: np.ndarray
    conversion: np.ndarray | None = None
    p_add: np.ndarray | None = None
    p_direct: np.ndarray | None = None


def active_window(
    first_day: np.ndarray, quit_day: np.ndarray, n_days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``lo``, ``hi``, ``span`` (days inside the log) and whether the user arrives in it.

    A user who arrives during the log has a session on the day of arrival.
    """
    lo = np.clip(first_day, 0.0, n_days)
    hi = np.clip(quit_day, 0.0, n_days)
    span = np.maximum(hi - lo, 0.0)
    arrives = (first_day >= 0) & (first_day < n_days) & (span > 0)
    return lo, hi, span, arrives


def weekly_log_accept(weekday: np.ndarray, phase: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Log of the chance that the weekly rhythm keeps a day (0 on the preferred weekday)."""
    return strength * (np.cos(2 * np.pi * (weekday - phase) / 7.0) - 1.0)


def price_gap(price_q: np.ndarray, level: np.ndarray, tilt: float) -> np.ndarray:
    """Distance of an item's price quantile from the user's price level, in ``tilt`` units."""
    return (price_q - level) / tilt


def price_log_accept(price_q: np.ndarray, level: np.ndarray, tilt: float) -> np.ndarray:
    """Log of the chance that the price tilt keeps a candidate item."""
    gap = price_gap(price_q, level, tilt)
    return -0.5 * gap * gap


def group_starts(group: np.ndarray) -> np.ndarray:
    """Positions where a new group starts in the sorted array ``group``."""
    return np.flatnonzero(np.r_[True, group[1:] != group[:-1]])


DESCR = """\
Synthetic RecSys Challenge 2025 event log
========================================

Generated by ``sklearn_ubp.datasets.make_events`` from a generative model of users.

Catalog
-------
* ``n_categories`` categories with Zipf popularity and a price level each.
* ``n_skus`` skus, each in one category (popular categories hold more skus), with a
  Zipf popularity inside its category (exponent 1.8), a price near its category's
  price level (``price`` is one of ``n_price_buckets`` quantile buckets) and a ``name``
  of 16 codes = the category's code centroid + noise, clipped to 0..255.
* product launches: 10% of the skus (never a category's most popular one) are released
  on a random day of the log. Before it they have no events; from it their popularity
  inside the category is ``base + A exp(-age / tau)`` (``A`` lognormal with median 1.5
  times the weight of the category's top sku; ``tau`` uniform in 21..56 days): new
  products sell well for a few weeks, then fall back to their base popularity.
* ``n_urls`` urls: one product page per popular sku, one page per category and
  generic pages with Zipf popularity. Ids are shuffled (no structure in the ids).
* search queries: per category a few query prototypes (category centroid + noise),
  picked with Zipf weights, sometimes with extra noise.
* ``n_tastes`` taste factors, each a sparse distribution over categories.

Users (the columns of ``traits``, float64, indexed by ``client_id``)
-------------------------------------------------------------------
* ``log_activity``: log of the expected number of sessions per active day (normal,
  i.e. a lognormal, heavy-tailed activity).
* ``session_length``: mean number of events per session (sizes are geometric).
* ``first_day``, ``quit_day``: the active window in days since ``start`` (negative:
  joined before the log starts; ``quit_day >= n_days``: still active at the end;
  ``quit_day`` is capped at ``2 * n_days``). ``quit_day = first_day + Exponential``
  with rate ``churn_hazard`` (per day). A user who arrives during the log has a
  session on ``first_day`` (a first visit: its cart rate is 0.3 times the user's
  usual one); after ``quit_day`` the user goes quiet (only the tail of
  the last session and cart follow-ups can spill over by minutes).
* ``buy_propensity`` (0..1, logit-normal, correlated with the activity and with the
  lifetime: engaged, loyal users buy more): the share of add_to_cart events grows as
  ``buy_propensity ** 1.5``, the chance ``conversion`` that an add_to_cart ends in a
  purchase as ``buy_propensity`` and the share of direct purchases as
  ``buy_propensity ** 2.5``; ``conversion`` is that chance (a function of
  ``buy_propensity``, kept for convenience). Purchases concentrate on a minority of
  repeat buyers (about 3 purchases per buyer).
* ``search_propensity``: multiplies the share of search queries.
* ``price_level`` (0..1, a price quantile): categories and skus whose price quantile is
  near it are preferred.
* ``weekly_phase`` (preferred weekday, 0 = Monday .. 7) and ``weekly_strength``: days
  are drawn with weight ``exp(strength * cos(2 pi (weekday - phase) / 7))``;
  ``hour``: the preferred hour of the day.
* ``pref_0..pref_{k-1}`` (taste at the start, a mixture of 1-3 taste factors) and
  ``pref_end_0..`` (the taste it drifts to); at day ``t`` the taste is
  ``(1 - w) pref + w pref_end`` with ``w = drift * t / n_days`` (``drift`` in 0..1).

Events
------
The number of sessions of a user is Poisson(activity x active days), plus the arrival
session. A session has a focal category (65% of its events are in it) and its day
follows the weekly rhythm inside the active window. Each event of a session is a page
visit, a search, an add_to_cart or (rarely) a direct purchase, with per-user
probabilities set by the buy and search propensities and calibrated so that the
shares of the event types match ``event_shares``. An add_to_cart is followed by a
purchase of the same sku (minutes later in the same session, or in a later one), by a
remove_from_cart, or by nothing. Items: a category from the current taste, then a sku
by the day's popularity; both are tilted to the user's price level by rejection (a
candidate is kept with probability ``exp(-0.5 (gap / width) ** 2)``, width 0.25 for
categories and 0.15 for skus, else redrawn; two rounds, then a last draw is kept).
Page visits go to a product page (45%), a category page (20%) or a generic page.
Timestamps are whole seconds. Heavy users buy more in absolute terms, so purchases
concentrate on a minority of users, as in the release.

The challenge's split applies: ``cutoff = end.normalize() - 27 days``; input = events
before ``cutoff``, target windows ``[cutoff, cutoff + 14d)`` and
``[cutoff + 14d, cutoff + 28d)`` (the last 28 days of the log).

Relevant clients
----------------
As in the release (1M relevant clients among 18.7M, 511k of them "active", i.e. with a
purchase in the released history), ``relevant_clients`` holds every user with a
purchase in the input period, as many users drawn at random among those with other
events in the input period, and about 1% more drawn among users without events in it
(some of whom appear in the target windows). Evaluating the downstream tasks on them
(``make_tasks(data.events.loc[data.relevant_clients])``) keeps the marginals of the
whole log while the evaluated population is rich in buyers.
"""
