"""The RecSys Challenge 2025 time split and downstream targets, on any event frame.

:func:`~sklearn_ubp.evaluation.make_tasks` follows the challenge: ``end`` is the last
purchase; the input period is every event before ``cut = midnight(end) - gap_days``;
window 1 is the ``window_days`` after ``cut`` (the downstream model trains on it) and
window 2 the ``window_days`` after that (it is scored on it). Targets come from
purchases only (events whose ``event_type`` is ``purchase``):

``churn``
    Users with at least one purchase in the input period; 1 = no purchase in the
    window.
``conversion``
    The churn label over all users (1 = no purchase in the window).
``propensity_category``, ``propensity_sku``, ``propensity_price``
    Multi-hot over the ``n_targets`` categories / skus / price buckets most
    purchased in the input period; popularity = their share of input purchases.
``propensity_new_sku``
    "New" skus are those whose first event of any type falls in the last
    ``new_sku_days`` days of the input period; targets are the ``n_targets`` new
    skus with most events in the input period, popularity = their share of those
    events; multi-hot of new target skus bought in the window.

Tasks whose field is absent (e.g. no ``category`` column) are skipped, and so, with
a ``UserWarning``, are tasks whose window-2 targets have a single class (e.g. no
purchase of any new sku), since AUROC cannot score them.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.utils import Bunch

from .._arrow import US_PER_DAY, timestamp_to_us
from .._frame import EVENT_TYPE, EventView, checked_view, filter_events
from .._vocabulary import Vocabulary

__all__ = ["TASK_NAMES", "make_tasks"]


#: Tasks made by :func:`make_tasks`, in the order of the challenge (open, then hidden).
TASK_NAMES = (
    "churn",
    "propensity_category",
    "propensity_sku",
    "conversion",
    "propensity_new_sku",
    "propensity_price",
)


def _top_targets(values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` most frequent values (ties by smaller value) and their counts."""
    vocab = Vocabulary(max_size=n).fit(values)
    return vocab.labels_, vocab.counts_


def _present_values(view: EventView, field: str) -> tuple[np.ndarray, np.ndarray]:
    """Flat values of a field and whether each is present (not null; not negative for
    numbers, the "missing" code of integer ids). Works for numeric and string ids."""
    values = view.values(field)
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    present = np.asarray(values.is_valid()) if values.null_count else np.ones(len(values), bool)
    numeric = pa.types.is_integer(values.type) or pa.types.is_floating(values.type)
    out = values.fill_null(-1 if numeric else "").to_numpy(zero_copy_only=False)
    if numeric:
        present &= out >= 0
    return out, present


def _has_both_classes(y: np.ndarray) -> bool:
    """Whether some column of ``y`` has both a 0 and a 1."""
    y = y.reshape(len(y), -1)
    positives = y.sum(axis=0)
    return bool(((positives > 0) & (positives < len(y))).any())


def _multi_hot(
    users: np.ndarray, values: np.ndarray, targets: np.ndarray, n_users: int
) -> np.ndarray:
    y = np.zeros((n_users, len(targets)), dtype=np.int8)
    pos = np.searchsorted(targets, values)
    pos = np.minimum(pos, len(targets) - 1)
    hit = targets[pos] == values if len(targets) else np.zeros(len(values), bool)
    y[users[hit], pos[hit]] = 1
    return y


def task_bunch(
    name: str,
    kind: str,
    mask: np.ndarray,
    y_train: np.ndarray,
    y_test: np.ndarray,
    targets: np.ndarray | None = None,
    popularity: np.ndarray | None = None,
) -> Bunch:
    """One downstream task, as :func:`evaluate` reads it."""
    return Bunch(
        name=name,
        kind=kind,
        mask=mask,
        y_train=y_train,
        y_test=y_test,
        targets=targets,
        popularity=popularity,
    )


def to_timestamp(us: int) -> pd.Timestamp:
    """A naive timestamp from microseconds since the epoch."""
    return pd.Timestamp(us, unit="us")


def split_bunch(
    X: Any,
    tasks: dict[str, Bunch],
    cut: int,
    windows: list[tuple[int, int]],
    end: int,
    **extra: Any,
) -> Bunch:
    """The result of :func:`make_tasks` or :func:`make_future_tasks` (times in microseconds)."""
    return Bunch(
        X=X,
        tasks=tasks,
        cut=to_timestamp(cut),
        windows=[(to_timestamp(lo), to_timestamp(hi)) for lo, hi in windows],
        end=to_timestamp(end),
        **extra,
    )


def _purchase_flags(view: EventView, purchase: str) -> np.ndarray:
    """One flag per flat event: is it a purchase; an error when there is none."""
    type_codes, labels = view.categories(EVENT_TYPE)
    if purchase not in labels:
        raise ValueError(
            f"make_tasks: no events of type {purchase!r} (the purchase type); event types "
            f"are {labels}. Pass purchase=... to name it."
        )
    is_buy = type_codes == labels.index(purchase)
    if not is_buy.any():
        raise ValueError(f"make_tasks: there are no {purchase!r} events to build targets from.")
    return is_buy


class _Targets:
    """The tasks of one split, built from the purchases in the input and the windows."""

    def __init__(
        self, view: EventView, times: np.ndarray, is_buy: np.ndarray, cut: int, windows: list
    ) -> None:
        self.view, self.times, self.windows = view, times, windows
        self.in_input = in_input = times < cut
        self.n_users = view.n_users
        self.user = view.user_of_event()
        self.buy_in = is_buy & in_input
        self.bought = [np.bincount(self.user[m], minlength=self.n_users) > 0 for m in windows]
        self.everyone = np.ones(self.n_users, dtype=bool)
        self.tasks: dict[str, Bunch] = {}

    def binary(self, name: str, mask: np.ndarray) -> None:
        y_train, y_test = ((~b).astype(np.int8) for b in self.bought)
        self.tasks[name] = task_bunch(name, "binary", mask, y_train, y_test)

    def propensity(self, name: str, field: str, targets: np.ndarray, counts: np.ndarray) -> None:
        order = np.argsort(targets, kind="stable")
        targets, counts = targets[order], counts[order]
        values, valid = _present_values(self.view, field)
        user, n = self.user, self.n_users
        ys = [_multi_hot(user[m], values[m], targets, n) for m in (w & valid for w in self.windows)]
        popularity = counts / max(counts.sum(), 1)
        self.tasks[name] = task_bunch(name, "multilabel", self.everyone, *ys, targets, popularity)

    def build(self, cut: int, n_targets: int, new_sku_days: int) -> dict[str, Bunch]:
        """Every task whose field is present, by name."""
        view, buy_in = self.view, self.buy_in
        self.binary("churn", np.bincount(self.user[buy_in], minlength=self.n_users) > 0)
        present = set(view.columns)
        for name, field in (("propensity_category", "category"), ("propensity_sku", "sku")):
            if field in present:
                values, valid = _present_values(view, field)
                self.propensity(name, field, *_top_targets(values[buy_in & valid], n_targets))
        self.binary("conversion", self.everyone)
        if "sku" in present:
            sku, has = _present_values(view, "sku")
            times = self.times
            skus = np.unique(sku[has])
            first_time = np.full(len(skus), np.iinfo(np.int64).max)
            np.minimum.at(first_time, np.searchsorted(skus, sku[has]), times[has])
            new = skus[(first_time >= cut - new_sku_days * US_PER_DAY) & (first_time < cut)]
            seen_new = has & self.in_input & np.isin(sku, new)
            if seen_new.any():
                targets = _top_targets(sku[seen_new], n_targets)
                self.propensity("propensity_new_sku", "sku", *targets)
        if "price" in present:
            price, valid = _present_values(view, "price")
            self.propensity(
                "propensity_price", "price", *_top_targets(price[buy_in & valid], n_targets)
            )
        return self.tasks


def _scorable(tasks: dict[str, Bunch]) -> dict[str, Bunch]:
    """The tasks, in the order of ``TASK_NAMES``, less those that cannot be scored."""
    ordered = {}
    for name in TASK_NAMES:
        if name not in tasks:
            continue
        task = tasks[name]
        if not _has_both_classes(task.y_test[task.mask]):
            warnings.warn(
                f"make_tasks: task {name!r} is skipped: its window-2 targets have a single "
                f"class among its {int(task.mask.sum())} users, so it cannot be scored "
                "(too few users or purchases).",
                UserWarning,
                stacklevel=3,
            )
            continue
        ordered[name] = task
    return ordered


def make_tasks(
    events: Any,
    *,
    purchase: str = "product_buy",
    end: Any = None,
    gap_days: int = 27,
    window_days: int = 14,
    n_targets: int = 100,
    new_sku_days: int = 28,
) -> Bunch:
    """Split an event frame in time and build the challenge's downstream targets.

    The split follows the RecSys Challenge 2025: the input period is every event before
    ``cut = midnight(end) - gap_days``, then two target windows of ``window_days``
    (train on window 1, score on window 2). Targets come from purchases only: ``churn``
    and ``conversion`` (binary, 1 = no purchase in the window; among buyers of the
    input period, or all users), ``propensity_category``, ``propensity_sku``,
    ``propensity_price`` and ``propensity_new_sku`` (multi-hot over the most purchased
    targets of the input period). The definitions are in :ref:`tasks-split`. Tasks
    whose field is absent are skipped, and so, with a ``UserWarning``, are tasks whose
    window-2 targets have a single class.

    Parameters
    ----------
    events : event frame
        All events, with ``timestamp`` and ``event_type`` columns.
    purchase : str, default="product_buy"
        The event type that counts as a purchase.
    end : datetime-like, optional
        Defaults to the last purchase.
    gap_days, window_days : int, default=27, 14
        Length of the held-out span and of each target window.
    n_targets : int, default=100
        Number of targets of each propensity task.
    new_sku_days : int, default=28
        How recent a sku's first event must be for it to count as new (two weeks left
        too few new skus bought in the windows of the 50,000-user synthetic benchmark).

    Returns
    -------
    tasks : sklearn.utils.Bunch
        ``X`` (the event frame of the input period, one row per user, all users
        kept, same index as ``events``), ``tasks`` (dict of task name to a Bunch with
        ``name``, ``kind`` ("binary" or "multilabel"), ``mask`` (users that count),
        ``y_train`` (window 1), ``y_test`` (window 2), ``targets`` and
        ``popularity``; targets are aligned with ``X.index``), ``cut``, ``windows``
        and ``end``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_ubp import group_events
    >>> from sklearn_ubp.evaluation import make_tasks
    >>> log = pd.DataFrame({
    ...     "client_id": [1, 1, 2, 2, 3],
    ...     "timestamp": pd.to_datetime(["2022-01-01", "2022-02-10", "2022-01-05",
    ...                                  "2022-01-06", "2022-02-20"]),
    ...     "event_type": ["product_buy"] * 5, "sku": [7, 7, 8, 7, 9]})
    >>> tasks = make_tasks(group_events(log))
    >>> str(tasks.cut), tasks.X["sku"].tolist()
    ('2022-01-24 00:00:00', [[7], [8, 7], []])
    >>> churn = tasks.tasks["churn"]
    >>> churn.mask.tolist(), churn.y_train.tolist(), churn.y_test.tolist()
    ([True, True, False], [1, 1, 1], [0, 1, 0])
    """
    view = checked_view(events, required=("timestamp", EVENT_TYPE))
    times = view.times()
    is_buy = _purchase_flags(view, purchase)
    end_us = int(times[is_buy].max()) if end is None else timestamp_to_us(end)
    cut = (end_us // US_PER_DAY - gap_days) * US_PER_DAY
    bounds = [
        (cut + k * window_days * US_PER_DAY, cut + (k + 1) * window_days * US_PER_DAY)
        for k in (0, 1)
    ]
    windows = [is_buy & (times >= lo) & (times < hi) for lo, hi in bounds]
    tasks = _Targets(view, times, is_buy, cut, windows).build(cut, n_targets, new_sku_days)
    return split_bunch(
        filter_events(view.frame, times < cut), _scorable(tasks), cut, bounds, end_us
    )
