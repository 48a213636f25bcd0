"""``EventCountEmbedder``: per-user counts, recency, trends and item statistics.

Everything is computed over whole flat event arrays (``np.bincount`` over the user of
each event, run boundaries of the per-user sorted events for first/last events);
there is no per-user Python loop.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from numbers import Integral
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.base import _fit_context
from sklearn.preprocessing import QuantileTransformer
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._arrow import US_PER_DAY, timestamp_to_us
from ._base import ARRAY, EventTransformer
from ._bgnbd import fit_bgnbd
from ._count_stats import (
    ANY,
    STATISTICS,  # noqa: F401 (the group names, re-exported)
    Column,
    Events,
    active,
    bgnbd,
    cart_share,
    check_statistics,
    check_windows,
    code_means,
    counts,
    decay,
    dictionary,
    distinct,
    fields_of,
    numeric,
    popularity,
    purchase_histories,
    recency,
    signed_log1p,
    top_counts,
    trends,
    value_label,
    write,
)
from ._forecast import fit_forecasts, forecast_columns, forecast_targets
from ._frame import EVENT_TYPE, EventView
from ._vocabulary import Vocabulary

__all__ = ["EventCountEmbedder"]

#: At most this many of the most frequent values of a field keep a popularity.
MAX_POPULARITY_VOCAB = 200_000
#: The groups computed by default (see ``EventCountEmbedder``, Notes).
DEFAULT_STATISTICS = (
    "counts",
    "recency",
    "active",
    "decay",
    "bgnbd",
    "numeric",
    "top_k",
    "distinct",
    "cart",
    "codes",
)


class EventCountEmbedder(EventTransformer):
    """Per-user event statistics: windowed counts, recency, trends, item statistics.

    Every statistic of the RecSys Challenge 2025 official baseline (counts per event type
    and of the top values of sku/category/price/url per window, mean search-query codes) and
    of the 37 statistics of the 2nd-place solution, in named groups chosen with
    ``statistics`` (``statistics="all", windows=(1, 7, 30, None)`` is a superset of both;
    the default is a compact subset, see Notes). All statistics are taken before a reference
    time ``T`` (:attr:`reference_time_`); for an event of age ``a = T - timestamp``, the
    window of ``w`` days holds ``0 <= a < w`` days. Events after ``T`` are ignored, so that
    a model trained on the features at one time means the same thing at inference.

    Feature groups on an **event frame**, by their name in ``statistics`` (``<g>`` is
    ``any`` (all events) or an event type seen in ``fit``; events of types not seen
    in ``fit`` are ignored everywhere):

    * ``"counts"``: ``count_<g>_<w>``, the number of events per window (``w`` in
      ``windows``; ``all`` is the whole history);
    * ``"recency"``: ``recency_<g>``, days since the last event (``max_days_`` when
      there is none, and clipped there); ``has_<g>``: 1 if the user has such an
      event; ``tenure_<g>``: days since the first event (0 when none, clipped at
      ``max_days_``); ``mean_gap_<g>``: mean days between consecutive events
      (``max_days_`` with fewer than two events);
    * ``"trends"``: ``trend_<g>_<w>d``, events in the last ``w`` days minus the ``w``
      days before (``w`` in ``trend_windows``);
    * ``"active"``: ``active_days_<g>``, ``active_weeks_<g>``, ``active_months_<g>``:
      distinct 1-, 7- and 30-day periods (counted back from ``T``) with an event;
    * ``"decay"``: ``decay_days_<g>_<w>d``, the days with an event, each weighted by
      ``2 ** (-age / w)`` for its age in whole days (``w`` in ``windows`` as half-lives,
      the whole history left out): a smooth recency-weighted frequency;
    * ``"bgnbd"``: ``bgnbd_alive_<g>``, ``bgnbd_rate_<g>``,
      ``bgnbd_expected_<g>_<w>d``: the BG/NBD model of repeat purchases (Fader, Hardie
      and Lee, 2005) fitted by maximum likelihood in ``fit`` on the days with a purchase
      (``<g>`` is ``purchase_type``, or ``any`` on a log with at most one event type):
      each user's probability of still being a customer, expected purchase days per day
      if so, and their product times ``w`` for each finite window (0 for users without
      a purchase). No columns when fewer than 10 users bought on two days or more, or
      ``purchase_type`` was not seen;
    * ``"numeric"``: for each numeric field ``f`` (e.g. ``price``, ``amount``,
      ``quantity``) and each group where it is present: ``sum_<g>_<f>_<w>`` per
      window, ``mean_<g>_<f>``, ``last_<g>_<f>`` and ``max_<g>_<f>`` (0 without
      values);
    * for each item field ``f`` (e.g. ``sku``, ``category``, ``price``, ``url``) and
      event type ``t`` where it is present: ``"top_k"``: ``count_<t>_<f>=<v>_<w>``
      for the ``top_k`` most frequent values ``v`` of ``f`` among the events of type
      ``t`` in ``fit``; ``"popularity"``: ``popularity_<t>_<f>``, the mean ``log1p``
      of the number of events with each touched value in ``fit`` (0 for values
      unseen in ``fit``); ``"distinct"``: ``distinct_<t>_<f>``, the number of
      distinct values touched;
    * ``"cart"``: ``cart_bought_share_<f>``, the share of the user's ``cart_type``
      events whose value of ``f`` the user bought (``purchase_type``) at the same
      time or later (0 without cart events);
    * ``"codes"``: ``mean_<f>_<j>``, the mean of code ``j`` / 255 of each code field
      (quantized text such as ``query``, ``name``);
    * ``"forecast"``: ``forecast_events_<g>_<d>d``, ``forecast_days_<g>_<d>d`` and
      ``forecast_<f>_<g>_<d>d`` (``d`` is ``forecast_days``; ``<g>`` is ``any``, and
      ``purchase_type`` too when it was seen on a log with several event types; ``f``
      each numeric field of ``<g>``): a forecast of the user's events, days with an event and sums
      in the ``d`` days after ``T``, learned without labels from the log itself. In
      ``fit``, gradient-boosted trees learn those quantities of the last ``d`` days
      before ``T`` from the other groups' statistics taken ``d`` days before ``T`` (on
      the users with an event by then, at most 100,000 of them); ``transform`` applies
      them to the statistics at ``T``. No columns on array input, when the history is
      shorter than ``2 * d`` days or fewer than 100 users have an event by ``T - d``.

    The columns come in this order (groups per ``<g>`` first, then numeric, item and
    code statistics, then the forecasts). A log with a single event type, or none (no
    ``event_type`` column, e.g. a purchase log with ``amount`` and ``quantity``), gets the same
    statistics with ``<g> = any`` (plus the one type, if named).

    A **2-D numeric array** is read as the event frame the input boundary makes of it: row
    ``i`` is user ``i``, column ``j`` one event at ``1970-01-01 + j`` days with the numeric
    field ``value`` (the entry) and ``column_id`` (``j``, an id, not summed). Its statistics
    are those of that frame (``count_any_<w>``, ``sum_any_value_<w>``, ``last_any_value``,
    ...; the reference time is the last column's day).

    Parameters
    ----------
    statistics : "all" or sequence of str, default=DEFAULT_STATISTICS
        The statistic groups computed: any of ``"counts"``, ``"recency"``,
        ``"trends"``, ``"active"``, ``"decay"``, ``"bgnbd"``, ``"numeric"``, ``"top_k"``,
        ``"popularity"``, ``"distinct"``, ``"cart"``, ``"codes"``, ``"forecast"``, in any
        order. The default, ``DEFAULT_STATISTICS``, is every group but ``"trends"``,
        ``"popularity"`` and ``"forecast"``; ``"all"``: every group. A choice that gives
        no feature on the input (e.g. only ``"codes"`` on a log without code fields) raises a
        ``ValueError``.
    windows : sequence of int or None, default=(7, 30, 90, 365, None)
        Window lengths in days (periods for arrays); ``None`` is the whole history.
    value_windows : sequence of int or None, default=(30, None)
        The windows of the per-value counts (``"top_k"``): fewer than ``windows``,
        since each multiplies the number of values counted.
    trend_windows : sequence of int, default=(7, 30)
        Each ``w`` gives a trend feature: last ``w`` days minus the ``w`` days before
        (with ``"trends"`` in ``statistics``).
    reference_time : datetime-like, optional
        The time ``T`` the statistics are taken at. ``None``: the latest timestamp
        seen in ``fit``. Stored as :attr:`reference_time_`.
    top_k : int, default=20
        Number of most frequent values of each (event type, item field) counted
        (with ``"top_k"`` in ``statistics``).
    item_fields : "auto" or sequence of str, default="auto"
        Fields whose values are items. ``"auto"``: those of ``sku``, ``category``,
        ``price`` and ``url`` that exist. Explicit fields must exist
        (``ValueError`` naming the missing column otherwise).
    numeric_fields : "auto" or sequence of str, default="auto"
        Fields summarised as numbers. ``"auto"``: every integer, float or decimal
        column except ``sku``, ``category``, ``url`` and columns ending in ``id``.
    code_fields : "auto" or sequence of str, default="auto"
        Fixed-size-list code fields averaged per user. ``"auto"``: all of them.
    purchase_type, cart_type : str or None, default="product_buy", "add_to_cart"
        Event types for ``cart_bought_share_<f>`` (skipped when either is ``None``
        or was not seen in ``fit``); ``purchase_type`` also names the purchases of
        ``"bgnbd"``.
    scale : {"log1p", "quantile"} or None, default="log1p"
        ``"log1p"``: ``sign(x) * log1p(|x|)`` of every statistic (finite in
        float16). ``"quantile"``: a uniform :class:`~sklearn.preprocessing.QuantileTransformer`
        fitted in ``fit`` (values in ``[0, 1]``). ``None``: the raw statistics, which
        may exceed the float16 range.
    forecast_days : int, default=30
        The horizon, in days, of the ``"forecast"`` group (with it in ``statistics``).

    Attributes
    ----------
    input_kind_ : {"events", "array"}
        What ``fit`` was given.
    statistics_ : list of str
        The statistic groups computed, in the order of ``STATISTICS``.
    reference_time_ : pandas.Timestamp
        The reference time ``T``.
    max_days_ : float
        Days from the first event in ``fit`` to ``T`` (at least 1): the fill of
        ``recency`` and ``mean_gap`` when undefined, and the cap of day statistics.
    event_types_ : ndarray of str
        Event types seen in ``fit`` (sorted); empty without an ``event_type`` column.
        The type ``"any"`` is reserved (``ValueError``).
    item_fields_, numeric_fields_, code_fields_ : list of str
        The fields used (empty when no group of ``statistics_`` reads them).
    bgnbd_params_ : ndarray of shape (4,) or None
        BG/NBD's ``r, alpha, a, b`` (days), with ``"bgnbd"`` in ``statistics`` and
        enough repeat buyers; else ``None``.
    numeric_pairs_ : list of tuple
        ``(group, field)`` pairs with numeric statistics.
    top_k_values_ : dict
        ``(event type, field)`` -> the ``top_k`` most frequent values in ``fit``
        (empty arrays without ``"top_k"``); its keys are the pairs of the
        popularity and distinct statistics.
    popularity_ : dict
        Field -> ``(values, log1p counts)`` of its most frequent values in ``fit``
        (empty without ``"popularity"``).
    cart_fields_ : list of str
        Fields of ``cart_bought_share_<f>``.
    windows_, value_windows_ : list of int or None
        The windows used: those no longer than the fitted history when ``None`` is
        among them (a longer one would repeat it).
    quantile_transformer_ : QuantileTransformer or None
        Fitted when ``scale="quantile"``.
    forecast_models_ : list of tuple
        ``(column name, HistGradientBoostingRegressor)`` of each ``"forecast"`` column
        (empty without them). A ``.skops`` file of an embedder that has some loads with
        ``load_model(path, trusted=[...TreePredictor])`` (the trees' type, named in
        the error), as it is not among the default trusted types.
    n_features_in_ : int
        Number of columns of an array input (arrays only).
    feature_names_in_ : ndarray of str
        Column names of a DataFrame array input (arrays only).

    See Also
    --------
    sklearn_ubp.evaluation.official_baseline : The challenge baseline's counts.
    sklearn_ubp.group_events : Build an event frame from a long event table.

    Notes
    -----
    The defaults were chosen on three logs (the synthetic benchmark and two real purchase
    logs, Ta-Feng and CDNOW) with the future-window tasks and the probe of
    ``benchmarks/bench_quality.py`` (L2 strength tuned by inner cross-validation);
    ``benchmarks/bench_counts_variants.py`` prints the comparison. Against the wave-1
    defaults (groups counts, recency, numeric, cart, codes; windows 7, 30, all; chosen on
    one synthetic generator with a fixed-``C`` probe), the mean over tasks of the counts
    alone rises on both real logs in ``bench_quality.py``: Ta-Feng 0.5835 -> 0.6133 (RFM +
    per-category lines: 0.6146), CDNOW 0.4304 -> 0.4314 (RFM: 0.4333); on the synthetic log
    (40,000 users) they reach 0.5683 against RFM's 0.5558. What pays: the per-value counts
    of the top values (``"top_k"``, 20 values, over the last 30 days and all history: on a
    real log the category field was otherwise unused), distinct days/weeks/months with an
    event (``"active"``: the number of baskets of a purchase log) and the 90- and 365-day
    windows. The recency-weighted days (``"decay"``) were added later on the same three
    logs and two seeds (``bench_counts_variants.py --seed 0`` and ``--seed 1``): the
    counts' mean rose on all six runs, synthetic (20,000 users) +0.0017 and +0.0014,
    Ta-Feng +0.0002 and +0.0004, CDNOW +0.0011 and +0.0008, most on ``n_future``.
    Then the BG/NBD statistics (``"bgnbd"``), on the same runs (``--variants defaults
    bgnbd``, before they were a default): synthetic +0.0008 and -0.0001, Ta-Feng +0.0008
    and +0.0006, CDNOW +0.0021 and +0.0022, most on ``n_future`` and ``spend``; on CDNOW
    they lift the counts above six RFM features on the mean (0.4346 against 0.4333).
    Windows longer than the fitted history, and per-type columns on a log with one event
    type, would repeat other columns and are left out. ``"trends"`` and
    ``"popularity"`` add columns without gain. ``"forecast"`` (30 days) appended to the
    default groups moves the counts' mean over tasks by +0.0003, +0.0001 and -0.0004 on
    CDNOW (``benchmarks/bench_probe_additivity.py --base BG/NBD --forecast-days 30``,
    three probe seeds) and by +0.0040 on the synthetic log (``--dataset synthetic``,
    20,000 users, one seed), and the Ta-Feng counts' by +0.0002 (``bench_quality.py
    --datasets tafeng --set counts__statistics=[...]``). It is not a default until the
    whole quality table is rerun with it (``docs/benchmarks.rst``).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_ubp import group_events
    >>> from sklearn_ubp import EventCountEmbedder
    >>> log = pd.DataFrame({
    ...     "client_id": [1, 1, 1, 2],
    ...     "timestamp": pd.to_datetime(["2022-01-01", "2022-01-25", "2022-01-30",
    ...                                  "2022-01-31"]),
    ...     "event_type": ["add_to_cart", "product_buy", "product_buy", "page_visit"],
    ...     "sku": [5, 5, 6, None]})
    >>> emb = EventCountEmbedder(scale=None).fit(group_events(log))
    >>> str(emb.reference_time_), emb.event_types_.tolist()
    ('2022-01-31 00:00:00', ['add_to_cart', 'page_visit', 'product_buy'])
    >>> out = emb.set_output(transform="pandas").transform(group_events(log))
    >>> cols = ["count_product_buy_7d", "count_product_buy_all", "recency_product_buy",
    ...         "cart_bought_share_sku"]
    >>> out[cols].to_numpy().tolist()
    [[2.0, 2.0, 1.0, 1.0], [0.0, 0.0, 30.0, 0.0]]
    >>> out.index.tolist(), out.shape
    ([1, 2], (2, 57))
    >>> full = EventCountEmbedder(statistics="all", scale=None).fit(group_events(log))
    >>> full.top_k_values_[("product_buy", "sku")].tolist()
    [5.0, 6.0]
    >>> full.set_output(transform="pandas").transform(group_events(log))[
    ...     ["count_product_buy_sku=5_all", "trend_any_7d", "distinct_product_buy_sku"]
    ... ].to_numpy().tolist()
    [[1.0, 2.0, 2.0], [0.0, 1.0, 0.0]]
    """

    _ubp_postprocess = "statistics"
    _ubp_pair_keyed = ("top_k_values_",)  # stored as [key, value] pairs (skops)

    def _ubp_requirement(self, view: EventView) -> str | None:
        named = (self.item_fields, self.numeric_fields, self.code_fields)
        return self._missing_columns(
            view, [f for param in named if not isinstance(param, str) for f in param]
        )

    _parameter_constraints: dict = {
        "statistics": [StrOptions({"all"}), list, tuple],
        "windows": [list, tuple],
        "value_windows": [list, tuple],
        "trend_windows": [list, tuple],
        "reference_time": [None, str, datetime.date, np.datetime64],
        "top_k": [Interval(Integral, 0, None, closed="left")],
        "item_fields": [StrOptions({"auto"}), list, tuple],
        "numeric_fields": [StrOptions({"auto"}), list, tuple],
        "code_fields": [StrOptions({"auto"}), list, tuple],
        "purchase_type": [str, None],
        "cart_type": [str, None],
        "scale": [StrOptions({"log1p", "quantile"}), None],
        "forecast_days": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        statistics: str | Sequence[str] = DEFAULT_STATISTICS,
        windows: Sequence[int | None] = (7, 30, 90, 365, None),
        value_windows: Sequence[int | None] = (30, None),
        trend_windows: Sequence[int] = (7, 30),
        reference_time: Any = None,
        top_k: int = 20,
        item_fields: str | Sequence[str] = "auto",
        numeric_fields: str | Sequence[str] = "auto",
        code_fields: str | Sequence[str] = "auto",
        purchase_type: str | None = "product_buy",
        cart_type: str | None = "add_to_cart",
        scale: str | None = "log1p",
        forecast_days: int = 30,
    ) -> None:
        self.statistics = statistics
        self.windows = windows
        self.value_windows = value_windows
        self.trend_windows = trend_windows
        self.reference_time = reference_time
        self.top_k = top_k
        self.item_fields = item_fields
        self.numeric_fields = numeric_fields
        self.code_fields = code_fields
        self.purchase_type = purchase_type
        self.cart_type = cart_type
        self.scale = scale
        self.forecast_days = forecast_days

    # ------------------------------------------------------------------ fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> EventCountEmbedder:
        """Learn the event types, fields, top values, popularity and scaling.

        Parameters
        ----------
        X : event frame or array-like of shape (n_users, n_periods)
        y : None
            Ignored.

        Returns
        -------
        self : EventCountEmbedder
        """
        self._fit(X, keep=False)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit, then transform ``X`` (computing the statistics once).

        Parameters
        ----------
        X : event frame or array-like of shape (n_users, n_periods)
        y : None
            Ignored.

        Returns
        -------
        features : ndarray of float32, shape (n_users, n_features_out)
        """
        view, out = self._fit(X, keep=True)
        if self.scale == "quantile":
            out = self.quantile_transformer_.transform(out)
        return self._finish(out, view)

    def _fit(self, X: Any, *, keep: bool) -> tuple[EventView, np.ndarray | None]:
        self.statistics_ = check_statistics(self.statistics)
        windows = check_windows(self.windows, self.trend_windows)
        value_windows = check_windows(self.value_windows, (), param="value_windows")
        view = self._validate_input(X, reset=True)
        self._fit_events(view)
        self._fit_bgnbd(view)
        self.windows_ = self._prune(windows)
        self.value_windows_ = self._prune(value_windows)
        self.forecast_models_ = []
        self._names = self._layout(view)
        self._fit_forecasts(view)
        self._names += [name for name, _ in self.forecast_models_]
        if not self._names:
            raise ValueError(
                f"statistics={self.statistics!r} gives no feature on this input "
                f"({'a 2-D array' if self.input_kind_ == ARRAY else 'an event frame'} with "
                "the fields it has); enable more statistic groups."
            )
        raw = None
        self.quantile_transformer_ = None
        if keep or self.scale == "quantile":
            raw = self._raw(view, log=keep and self.scale == "log1p")
        if self.scale == "quantile":
            n = raw.shape[0]
            self.quantile_transformer_ = QuantileTransformer(
                n_quantiles=max(min(1000, n), 1), subsample=200_000, random_state=0
            ).fit(raw)
        return view, raw

    def _bgnbd_group(self) -> str | None:
        """The group whose days are BG/NBD's purchases: ``purchase_type``, or every
        event on a log with at most one event type; ``None`` when it was not seen."""
        if len(self.event_types_) <= 1:
            return ANY
        return self.purchase_type if self.purchase_type in self.event_types_ else None

    def _fit_bgnbd(self, view: EventView) -> None:
        self.bgnbd_params_ = None
        if "bgnbd" in self.statistics_ and self._bgnbd_group() is not None:
            x, t_x, T, buyer = purchase_histories(self._events(view), self._bgnbd_group())
            self.bgnbd_params_ = fit_bgnbd(x[buyer], t_x[buyer], T[buyer])

    def _fit_forecasts(self, view: EventView) -> None:
        """``"forecast"``: the models of :mod:`sklearn_ubp._forecast`, fitted on the
        statistics taken ``forecast_days`` before the reference time (none on array
        input, or when the history is shorter than twice ``forecast_days``)."""
        days = self.forecast_days
        if "forecast" not in self.statistics_ or self.input_kind_ == ARRAY:
            return
        if self.max_days_ < 2 * days:
            return
        start = timestamp_to_us(self.reference_time_) - days * US_PER_DAY
        inputs = self._raw(view, log=True, reference_us=start)
        ev = self._events(view)
        older = ev.groups[ANY][ev.age[ev.groups[ANY]] >= days * US_PER_DAY]
        seen = np.bincount(ev.user[older], minlength=ev.n) > 0
        targets = []
        for g in dict.fromkeys([ANY, self._bgnbd_group() or ANY]):
            numbers = {f: self._numbers(view, f) for h, f in self.numeric_pairs_ if h == g}
            targets += forecast_targets(ev, g, days, numbers)
        self.forecast_models_ = fit_forecasts(inputs, seen, targets)

    def _numbers(self, view: EventView, f: str) -> np.ndarray:
        return pc.cast(view.values(f), pa.float64()).to_numpy(zero_copy_only=False)

    def _prune(self, windows: list[int | None]) -> list[int | None]:
        """The windows without those longer than the fitted history when ``None``
        (the whole history) is among them: such a window would repeat it."""
        if None not in windows:
            return windows
        return [w for w in windows if w is None or w <= self.max_days_]

    def _fit_events(self, view: EventView) -> None:
        times = view.times()
        ref = self._set_reference_time(times)
        before = times <= ref
        first = int(times[before].min()) if before.any() else ref
        self.max_days_ = max(float(np.ceil((ref - first) / US_PER_DAY)), 1.0)
        self._fit_types(view)
        self._fit_fields(view)
        tcode = self._type_codes(view)
        self._fit_values(view, before & (tcode >= 0), tcode)

    def _fit_types(self, view: EventView) -> None:
        self._typed = EVENT_TYPE in view.columns
        if not self._typed:
            self.event_types_ = np.array([], dtype=object)
            return
        codes, labels = dictionary(view.values(EVENT_TYPE))
        present = np.bincount(codes[codes >= 0], minlength=len(labels))
        names = np.asarray([str(lab) for lab in labels], dtype=object)
        self.event_types_ = Vocabulary(order="value").fit_counts(names, present).labels_
        if ANY in self.event_types_:
            raise ValueError(
                f"the event type {ANY!r} is reserved (it names the group of all events); rename it."
            )

    def _fit_fields(self, view: EventView) -> None:
        self.item_fields_, self.numeric_fields_, self.code_fields_, sizes = fields_of(
            view, self.item_fields, self.numeric_fields, self.code_fields
        )
        # Fields that no enabled statistic reads are not used (nor needed in transform).
        stats = self.statistics_
        if "numeric" not in stats:
            self.numeric_fields_ = []
        if "codes" not in stats:
            self.code_fields_ = []
        if not {"top_k", "popularity", "distinct", "cart"} & set(stats):
            self.item_fields_ = []
        self._code_size = {f: sizes[f] for f in self.code_fields_}

    def _fit_values(self, view: EventView, valid: np.ndarray, tcode: np.ndarray) -> None:
        """Numeric pairs, top values, popularity and cart fields of the valid events."""
        # groups: index -1 = any, else index into event_types_ (one type: only "any",
        # whose events are that type's, so that no column is repeated)
        groups = [-1, *self._type_groups()]
        self.numeric_pairs_ = []
        for f in self.numeric_fields_:
            has = valid & np.asarray(view.values(f).is_valid())
            for g in groups:
                if (has if g < 0 else has & (tcode == g)).any():
                    self.numeric_pairs_.append((self._group_name(g), f))
        stats = self.statistics_
        self.top_k_values_ = {}
        self.popularity_ = {}
        item_groups = self._type_groups() or [-1]
        top_k = self.top_k if "top_k" in stats else 0
        for f in self.item_fields_:
            codes, labels = dictionary(view.values(f))
            sel = valid & (codes >= 0)
            if "popularity" in stats:
                counts = np.bincount(codes[sel], minlength=len(labels))
                pop = Vocabulary(max_size=MAX_POPULARITY_VOCAB).fit_counts(labels, counts)
                self.popularity_[f] = (pop.labels_, np.log1p(pop.counts_).astype(np.float32))
            for g in item_groups:
                in_g = sel if g < 0 else sel & (tcode == g)
                if in_g.any():
                    c = np.bincount(codes[in_g], minlength=len(labels))
                    top = Vocabulary(max_size=top_k).fit_counts(labels, c)
                    self.top_k_values_[(self._group_name(g), f)] = top.labels_
        self._fit_cart_fields()

    def _fit_cart_fields(self) -> None:
        stats, pairs = self.statistics_, self.top_k_values_
        self.cart_fields_ = []
        names = self.event_types_.tolist()
        if "cart" in stats and self.purchase_type in names and self.cart_type in names:
            for f in self.item_fields_:
                if (self.purchase_type, f) in pairs and (self.cart_type, f) in pairs:
                    self.cart_fields_.append(f)
        if not {"top_k", "popularity", "distinct"} & set(stats):
            # only the cart shares read item fields
            self.item_fields_ = [f for f in self.item_fields_ if f in self.cart_fields_]
            self.top_k_values_ = {k: v for k, v in pairs.items() if k[1] in self.cart_fields_}

    def _group_name(self, g: int) -> str:
        return ANY if g < 0 else str(self.event_types_[g])

    def _type_codes(self, view: EventView) -> np.ndarray:
        """Index of each event's type in ``event_types_`` (``-1``: unseen or null)."""
        if not self._typed:
            return np.zeros(view.n_events, dtype=np.int64)
        codes, labels = dictionary(view.values(EVENT_TYPE))
        labels = np.asarray([str(x) for x in labels], dtype=object)
        return Vocabulary.from_labels(self.event_types_).encode_codes(codes, labels)

    # ------------------------------------------------------------------ layout

    def _type_groups(self) -> list[int]:
        """The event types with their own statistics: all of them when there are two
        or more; with one, its statistics are those of ``"any"`` and are not repeated."""
        n = len(self.event_types_)
        return list(range(n)) if n > 1 else []

    def _groups(self) -> list[str]:
        return [ANY, *(str(self.event_types_[g]) for g in self._type_groups())]

    def _layout(self, view: EventView) -> list[str]:
        """The feature names: what the statistic groups yield on no user."""
        return [name for name, _ in self._columns(view.rows(0, 0))]

    # --------------------------------------------------------------- transform

    def transform(self, X: Any) -> np.ndarray:
        """Compute the statistics of each user.

        Parameters
        ----------
        X : event frame or array-like of shape (n_users, n_periods)
            Any users; each row depends only on that user's events (and the fitted
            state). Events after ``reference_time_`` and events of types not seen in
            ``fit`` are ignored.

        Returns
        -------
        features : ndarray of float32, shape (n_users, n_features_out)
        """
        view = self._validate_input(X, reset=False)
        out = self._raw(view, log=self.scale == "log1p")
        if self.scale == "quantile":
            out = self.quantile_transformer_.transform(out)
        return self._finish(out, view)

    def _raw(self, view: EventView, *, log: bool, reference_us: int | None = None) -> np.ndarray:
        """The statistics in the fitted layout (signed ``log1p`` of them if ``log``);
        at ``reference_us`` instead of ``reference_time_`` when given, then without the
        forecasts (whose inputs these are)."""
        n_base = len(self._names) - len(self.forecast_models_)
        n_out = n_base if reference_us is not None else len(self._names)
        # column-major: each feature is written contiguously
        out = np.zeros((n_out, view.n_users), dtype=np.float32).T
        write(out, self._columns(view, reference_us), log=log)
        if n_out > n_base:
            inputs = out[:, :n_base]
            if not log:
                inputs = signed_log1p(inputs.astype(np.float64)).astype(np.float32)
            write(out[:, n_base:], forecast_columns(self.forecast_models_, inputs), log=log)
        big = np.finfo(np.float32).max
        np.clip(out, -big, big, out=out)
        return out

    def _check_columns(self, view: EventView) -> None:
        needed = [*self.item_fields_, *self.numeric_fields_, *self.code_fields_]
        self._check_fitted_columns(view, [*needed, EVENT_TYPE] if self._typed else needed)

    def _events(self, view: EventView, reference_us: int | None = None) -> Events:
        """The events before ``reference_time_`` (or ``reference_us``) of the types seen
        in ``fit``, by group."""
        ref = timestamp_to_us(self.reference_time_) if reference_us is None else reference_us
        times = view.times()
        tcode = self._type_codes(view)
        valid = (times <= ref) & (tcode >= 0)
        groups = {ANY: np.flatnonzero(valid)}
        for i, t in enumerate(self.event_types_.tolist()):
            groups[t] = np.flatnonzero(valid & (tcode == i))
        return Events(view, view.user_of_event(), ref - times, times, groups)

    def _columns(self, view: EventView, reference_us: int | None = None) -> Iterator[Column]:
        """Every statistic of the event frame but the forecasts, in the output's order."""
        self._check_columns(view)
        ev, stats = self._events(view, reference_us), self.statistics_
        windows = self.windows_
        for g in self._groups():
            if "counts" in stats:
                yield from counts(ev, g, windows)
            if "recency" in stats:
                yield from recency(ev, g, self.max_days_)
            if "trends" in stats:
                yield from trends(ev, g, self.trend_windows)
            if "active" in stats:
                yield from active(ev, g)
            if "decay" in stats:
                yield from decay(ev, g, windows)
            if g == self._bgnbd_group() and self.bgnbd_params_ is not None:
                yield from bgnbd(ev, g, self.bgnbd_params_, windows)
        numbers: dict[str, np.ndarray] = {}
        for g, f in self.numeric_pairs_:
            if f not in numbers:
                numbers[f] = self._numbers(view, f)
            yield from numeric(ev, g, f, numbers[f], windows)
        yield from self._item_columns(ev)
        for f in self.code_fields_:
            yield from code_means(ev, ANY, f, self._code_size[f])

    def _item_columns(self, ev: Events) -> Iterator[Column]:
        """Top-value counts, popularity, distinct values and cart shares."""
        stats = self.statistics_
        per_value = bool({"top_k", "popularity", "distinct"} & set(stats))
        needed = [f for _, f in self.top_k_values_] if per_value else []
        items = {
            f: dictionary(ev.view.values(f)) for f in dict.fromkeys([*needed, *self.cart_fields_])
        }
        for (t, f), top in self.top_k_values_.items() if per_value else ():

            def name(v: Any, w: str, t: str = t, f: str = f) -> str:
                return f"count_{t}_{f}={value_label(v)}_{w}"

            top = Vocabulary.from_labels(top)
            yield from top_counts(ev, t, items[f], top, self.value_windows_, name)
            if "popularity" in stats:
                yield popularity(ev, t, f, items[f], self.popularity_[f])
            if "distinct" in stats:
                yield distinct(ev, t, f, items[f])
        for f in self.cart_fields_:
            yield cart_share(ev, f, items[f], self.purchase_type, self.cart_type)

    # ------------------------------------------------------------------ names

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output features, e.g. ``count_product_buy_7d``.

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked against the input column names for array input; otherwise unused.

        Returns
        -------
        names : ndarray of str objects
        """
        check_is_fitted(self)
        if self.input_kind_ == ARRAY:
            _check_feature_names_in(self, input_features)
        return np.asarray(self._names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
