"""Tests of ``make_future_tasks``: targets checked by hand on tiny logs."""

import numpy as np
import pandas as pd
import pytest

from sklearn_ubp import group_events
from sklearn_ubp.evaluation import evaluate, make_future_tasks

CUT = "2022-02-01"


@pytest.fixture
def log():
    """Five users. Before the cut: 1, 2, 4 and 5 (5 only browses). After: 1, 2, 3, 5."""
    rows = [
        # user, time, type, category, amount
        (1, "2022-01-10 10:00", "product_buy", "a", 2.0),
        (1, "2022-01-12 10:00", "product_buy", "b", 1.0),
        (1, "2022-02-03 09:00", "product_buy", "b", 4.0),
        (1, "2022-02-03 09:00", "product_buy", "c", 1.5),  # same basket (timestamp)
        (1, "2022-02-20 09:00", "product_buy", "a", 1.0),
        (2, "2022-01-20 08:00", "product_buy", "b", 3.0),
        (2, "2022-02-05 08:00", "add_to_cart", "a", 9.0),  # not a purchase
        (2, "2022-02-28 23:59", "product_buy", "a", 5.0),  # last minute of the horizon
        (2, "2022-03-01 00:00", "product_buy", "c", 7.0),  # after the horizon
        (3, "2022-02-02 08:00", "product_buy", "a", 1.0),  # no event before the cut
        (4, "2022-01-05 08:00", "product_buy", "c", 2.0),
        (5, "2022-01-30 08:00", "page_visit", None, None),
        (5, "2022-02-10 08:00", "product_buy", "c", None),  # a purchase with no amount
    ]
    df = pd.DataFrame(rows, columns=["client_id", "timestamp", "event_type", "category", "amount"])
    df["timestamp"] = pd.to_datetime(df["timestamp"])
    return group_events(df)


def _y(tasks, name):
    return tasks.tasks[name].y_test.tolist()


def test_targets_by_hand(log):
    tasks = make_future_tasks(log, cut=CUT, amount="amount", category="category", n_categories=2)
    assert tasks.X.index.tolist() == [1, 2, 4, 5]  # the population: an event before the cut
    assert tasks.X["category"].tolist() == [["a", "b"], ["b"], ["c"], [None]]
    assert list(tasks.tasks) == ["active", "n_future", "spend", "categories"]
    assert _y(tasks, "active") == [1, 1, 0, 1]
    assert _y(tasks, "n_future") == [3.0, 1.0, 0.0, 1.0]  # purchase events
    assert _y(tasks, "spend") == [6.5, 5.0, 0.0, 0.0]
    # Bought before the cut by most users: b (users 1, 2), then a and c (one each): a wins
    # the tie by its value.
    assert tasks.tasks["categories"].targets.tolist() == ["b", "a"]
    assert _y(tasks, "categories") == [[1, 1], [0, 1], [0, 0], [0, 0]]
    assert tasks.cut == pd.Timestamp(CUT)
    assert tasks.windows == [(pd.Timestamp(CUT), pd.Timestamp("2022-03-01"))]
    assert tasks.default_protocol == "probe"
    for task in tasks.tasks.values():
        assert task.mask.all() and task.y_train is task.y_test
    assert tasks.tasks["active"].kind == "binary"
    assert tasks.tasks["spend"].kind == "count"
    assert tasks.tasks["categories"].kind == "multilabel"


def test_baskets_and_horizon(log):
    tasks = make_future_tasks(log, cut=CUT, basket="timestamp", horizon_days=3)
    # Within 3 days of the cut only user 1 buys: one basket of two lines.
    assert _y(tasks, "active") == [1, 0, 0, 0]
    assert _y(tasks, "n_future") == [1.0, 0.0, 0.0, 0.0]
    tasks = make_future_tasks(log, cut=CUT, basket="timestamp")
    assert _y(tasks, "n_future") == [2.0, 1.0, 0.0, 1.0]


def test_log_without_event_types_counts_every_event(log):
    buys = log.drop(columns="event_type")
    tasks = make_future_tasks(buys, cut=CUT)
    assert _y(tasks, "n_future") == [3.0, 2.0, 0.0, 1.0]  # user 2: the cart line counts now


def test_degenerate_task_is_skipped_with_a_warning(log):
    with pytest.warns(UserWarning, match="task 'spend' is skipped"):
        tasks = make_future_tasks(log, cut=CUT, amount="amount", horizon_days=1)
    assert "spend" not in tasks.tasks


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"cut": None}, "cut= is required"),
        ({"cut": "not a date"}, "is not a datetime"),
        ({"horizon_days": 0}, "horizon_days must be a positive integer"),
        ({"amount": "price"}, "amount='price' is not a column"),
        ({"amount": "category"}, "amount='category' must be a numeric column"),
        ({"category": "sku"}, "category='sku' is not a column"),
        ({"purchase": "buy"}, "no events of type 'buy'"),
        ({"cut": "2021-01-01"}, "no user has an event before"),
    ],
)
def test_bad_arguments_raise_clear_errors(log, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_future_tasks(log, **{"cut": CUT, **kwargs})


@pytest.mark.slow
def test_string_ids_and_the_probe_end_to_end():
    """A purchase log with string product ids, scored end to end by the probe."""
    rng = np.random.default_rng(0)
    n = 400
    rate = rng.gamma(1.0, 1.0, n)
    n_events = rng.poisson(rate * 8)
    user = np.repeat(np.arange(n), n_events)
    days = rng.integers(0, 120, user.size)
    log = pd.DataFrame(
        {
            "client_id": [f"u{u}" for u in user],
            "timestamp": pd.Timestamp("2022-01-01") + pd.to_timedelta(days, "D"),
            "sku": [f"p{s}" for s in rng.integers(0, 30, user.size)],
            "amount": rng.gamma(2.0, 5.0, user.size),
        }
    )
    frame = group_events(log)
    tasks = make_future_tasks(frame, cut="2022-04-01", amount="amount", category="sku")
    counts = np.array([len(t) for t in tasks.X["timestamp"]])
    table = evaluate(np.log1p(counts)[:, None], tasks, n_splits=3)
    v = table.set_index(["task", "metric"])["value"]
    assert v["active", "auroc"] > 0.6 and v["n_future", "spearman"] > 0.3
