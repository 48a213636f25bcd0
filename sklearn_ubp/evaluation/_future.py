"""Future-window tasks for any event log: activity, purchases, spend, next categories.

:func:`~sklearn_ubp.evaluation.make_future_tasks` splits a log at a ``cut``: the input
is every event before it; the population is the users with at least one event (of any
type) before it; the targets come from the purchases in the ``horizon_days`` days (28
by default) from ``cut`` on (every event is a purchase when the frame has no
``event_type`` column):

``active`` (binary, scored by AUROC)
    At least one purchase in the horizon.
``n_future`` (count, scored by Spearman)
    Number of purchase events in the horizon, or of distinct baskets when ``basket``
    names the field whose values group a user's events into baskets
    (``basket="timestamp"``: events sharing a timestamp, e.g. one day's receipt lines
    in a day-resolution log).
``spend`` (count, scored by Spearman), when ``amount`` is given
    Sum of the ``amount`` field over the purchases in the horizon.
``categories`` (multilabel, scored by macro AUROC), when ``category`` is given
    For each of the ``n_categories`` categories bought by most users before ``cut``
    (ties: smaller value first), whether it is bought in the horizon.

A task whose targets have a single class (or, for counts, a single value) among the
population is skipped with a ``UserWarning``. The result has the shape of
:func:`~sklearn_ubp.evaluation.make_tasks`'s, with one window: ``y_train`` and
``y_test`` are the same targets, so :func:`~sklearn_ubp.evaluation.evaluate` and
``ubp evaluate`` take both; it scores them with ``protocol="probe"``
(cross-validation over users) by default.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.utils import Bunch

from .._arrow import US_PER_DAY, timestamp_to_us
from .._frame import EVENT_TYPE, TIME, EventView, checked_view, filter_events
from .._vocabulary import Vocabulary
from ._tasks import split_bunch, task_bunch

__all__ = ["FUTURE_TASK_NAMES", "make_future_tasks"]

#: Tasks made by :func:`make_future_tasks`, in table order.
FUTURE_TASK_NAMES = ("active", "n_future", "spend", "categories")


def _purchases(view: EventView, purchase: str | None) -> np.ndarray:
    """One flag per flat event: is it a purchase (every event of a log without types)."""
    if EVENT_TYPE not in view.columns:
        return np.ones(view.n_events, dtype=bool)
    codes, labels = view.categories(EVENT_TYPE)
    if purchase not in labels:
        raise ValueError(
            f"no events of type {purchase!r} (purchase=); the event types "
            f"are {labels}. Pass purchase=... to name the purchase type."
        )
    return codes == labels.index(purchase)


def _field(view: EventView, name: str, parameter: str) -> None:
    if name not in view.columns:
        raise ValueError(
            f"{parameter}={name!r} is not a column of the event frame; it has {view.columns}."
        )


def _amounts(view: EventView, name: str) -> np.ndarray:
    _field(view, name, "amount")
    values = view.values(name)
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        raise ValueError(f"amount={name!r} must be a numeric column; got {values.type}.")
    out = view.numpy(name, fill=0).astype(np.float64)
    if not np.isfinite(out).all():
        raise ValueError(f"amount={name!r} has non-finite values.")
    return out


def _baskets(view: EventView, name: str) -> np.ndarray:
    """Integer code of each event's basket within its user (events of one value share one)."""
    _field(view, name, "basket")
    if name == TIME:
        return view.times()
    codes, _ = view.categories(name)
    return codes.astype(np.int64)


def _distinct_per_user(user: np.ndarray, key: np.ndarray, n_users: int) -> np.ndarray:
    """Number of distinct ``key`` values of each user."""
    pairs = np.unique(np.stack([user.astype(np.int64), key.astype(np.int64)]), axis=1)
    return np.bincount(pairs[0], minlength=n_users)


def _top_categories(user: np.ndarray, codes: np.ndarray, labels: list, n: int) -> Vocabulary:
    """The ``n`` categories bought by most users (ties by smaller label).

    A :class:`Vocabulary` of the distinct (user, category) pairs; ``codes`` index
    ``labels`` (``-1``: null).
    """
    ok = codes >= 0
    pairs = np.unique(np.stack([codes[ok].astype(np.int64), user[ok].astype(np.int64)]), axis=1)
    n_buyers = np.bincount(pairs[0], minlength=len(labels))
    return Vocabulary(max_size=n).fit_counts(np.asarray(labels, dtype=object), n_buyers)


def _check_options(cut: Any, horizon_days: Any, n_categories: Any) -> int:
    if cut is None:
        raise ValueError("make_future_tasks: cut= is required (a datetime-like).")
    try:
        cut_us = timestamp_to_us(cut)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"make_future_tasks: cut={cut!r} is not a datetime: {exc}") from exc
    for name, value in (("horizon_days", horizon_days), ("n_categories", n_categories)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"make_future_tasks: {name} must be a positive integer; got {value!r}")
    return cut_us


def make_future_tasks(
    events: Any,
    *,
    cut: Any,
    horizon_days: int = 28,
    purchase: str | None = "product_buy",
    amount: str | None = None,
    category: str | None = None,
    n_categories: int = 20,
    basket: str | None = None,
) -> Bunch:
    """Future-window downstream tasks for any event log, split in time at ``cut``.

    The input is every event before ``cut``, the population the users with an event
    before it; the targets, from the purchases of the ``horizon_days`` from ``cut`` on,
    are ``active``, ``n_future``, ``spend`` and ``categories`` (:ref:`future-tasks`); a
    task whose targets are the same for every user is skipped with a ``UserWarning``.
    The result has the shape of :func:`make_tasks`'s, with one window (``y_train`` and
    ``y_test`` are the same), which :func:`evaluate` scores with ``protocol="probe"``.

    Parameters
    ----------
    events : event frame
        All events, with a ``timestamp`` column.
    cut : datetime-like
        Start of the target window; events before it are the input.
    horizon_days : int, default=28
        Length of the target window in days.
    purchase : str, default="product_buy"
        The event type that counts as a purchase (ignored without ``event_type``).
    amount : str, optional
        Numeric field summed into ``spend`` (nulls count as 0).
    category : str, optional
        Categorical field of the ``categories`` task.
    n_categories : int, default=20
        Number of categories of the ``categories`` task.
    basket : str, optional
        Field whose distinct values per user are that user's baskets, for ``n_future``.

    Returns
    -------
    tasks : sklearn.utils.Bunch
        ``X`` (the input events of the population, in the order of ``events``),
        ``tasks`` (as :func:`make_tasks`'s; ``kind`` may be "count", ``targets`` are
        category labels, ``popularity`` is ``None``), ``cut``, ``windows`` (one
        ``(start, end)`` pair), ``end`` and ``default_protocol="probe"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_ubp import group_events
    >>> from sklearn_ubp.evaluation import make_future_tasks
    >>> log = pd.DataFrame({
    ...     "client_id": [1, 1, 1, 2, 2, 3],
    ...     "timestamp": pd.to_datetime(["2022-01-01", "2022-02-03", "2022-02-03",
    ...                                  "2022-01-05", "2022-03-09", "2022-02-10"]),
    ...     "amount": [5.0, 2.0, 3.0, 1.0, 9.0, 4.0]})
    >>> tasks = make_future_tasks(group_events(log), cut="2022-02-01", amount="amount",
    ...                           basket="timestamp")
    >>> tasks.X.index.tolist(), list(tasks.tasks)  # user 3 has no event before the cut
    ([1, 2], ['active', 'n_future', 'spend'])
    >>> [tasks.tasks[t].y_test.tolist() for t in tasks.tasks]
    [[1, 0], [1.0, 0.0], [5.0, 0.0]]
    """
    cut_us = _check_options(cut, horizon_days, n_categories)
    view = checked_view(events, required=(TIME,))
    times = view.times()
    is_buy = _purchases(view, purchase)
    user = view.user_of_event()
    in_input = times < cut_us
    end_us = cut_us + int(horizon_days) * US_PER_DAY
    in_window = is_buy & (times >= cut_us) & (times < end_us)
    rows = _population(user[in_input], view.n_users, cut_us)
    targets = _targets(
        view, user, in_input & is_buy, in_window, amount, (category, n_categories), basket
    )
    targets = {name: (kind, y[rows], labels) for name, (kind, y, labels) in targets.items()}
    tasks = _kept_tasks(targets, rows.size)
    X = filter_events(view.frame, in_input).iloc[rows]
    return split_bunch(X, tasks, cut_us, [(cut_us, end_us)], end_us, default_protocol="probe")


def _population(user: np.ndarray, n_users: int, cut_us: int) -> np.ndarray:
    """Rows of the users with an event before the cut (``user``: their events' users)."""
    rows = np.flatnonzero(np.bincount(user, minlength=n_users) > 0)
    if rows.size == 0:
        raise ValueError(
            f"make_future_tasks: no user has an event before cut={pd.Timestamp(cut_us, unit='us')}"
        )
    return rows


def _targets(
    view: EventView,
    user: np.ndarray,
    bought_before: np.ndarray,
    in_window: np.ndarray,
    amount: str | None,
    category: tuple[str | None, int],
    basket: str | None,
) -> dict[str, tuple[str, np.ndarray, Any]]:
    """Every user's targets: task name -> (kind, targets, category labels)."""
    n = view.n_users
    counts = np.bincount(user[in_window], minlength=n)
    out: dict[str, tuple[str, np.ndarray, Any]] = {"active": ("binary", counts > 0, None)}
    if basket is not None:
        key = _baskets(view, basket)[in_window]
        counts = _distinct_per_user(user[in_window], key, n)
    out["n_future"] = ("count", counts.astype(np.float64), None)
    if amount is not None:
        values = _amounts(view, amount)
        spend = np.bincount(user[in_window], weights=values[in_window], minlength=n)
        out["spend"] = ("count", spend, None)
    category, n_categories = category
    if category is not None:
        _field(view, category, "category")
        codes, labels = view.categories(category)
        top = _top_categories(user[bought_before], codes[bought_before], labels, n_categories)
        pos = top.encode_codes(codes[in_window], labels)
        hit = pos >= 0
        y = np.zeros((n, len(top)), dtype=np.int8)
        y[user[in_window][hit], pos[hit]] = 1
        out["categories"] = ("multilabel", y, top.labels_)
    return out


def _kept_tasks(targets: dict[str, tuple[str, np.ndarray, Any]], n_users: int) -> dict[str, Bunch]:
    tasks = {}
    everyone = np.ones(n_users, dtype=bool)
    for name, (kind, y, labels) in targets.items():
        if kind == "binary":
            y = y.astype(np.int8)
        varied = (y != y[:1]).any(axis=0)
        if not np.any(varied) or (kind == "multilabel" and y.shape[1] < 2):
            warnings.warn(
                f"make_future_tasks: task {name!r} is skipped: its targets are the same for "
                f"all {n_users} users of the population (too few users or purchases in the "
                "horizon).",
                UserWarning,
                stacklevel=3,
            )
            continue
        tasks[name] = task_bunch(name, kind, everyone, y, y, labels)
    return tasks
