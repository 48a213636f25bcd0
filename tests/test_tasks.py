"""make_tasks: the challenge's time split and targets on a hand-made log."""

import numpy as np
import pandas as pd
import pytest

from sklearn_ubp import check_event_frame, group_events
from sklearn_ubp.evaluation import make_tasks


def log() -> pd.DataFrame:
    # end = last purchase = 2022-03-01 15:00 -> cut = 2022-02-02 00:00,
    # window 1 = [02-02, 02-16), window 2 = [02-16, 03-02)
    rows = [
        # user, time, type, sku, category, price
        (1, "2022-01-10 10:00", "product_buy", 10, 100, 5),  # input purchase -> active
        (1, "2022-01-20 10:00", "page_visit", None, None, None),
        (1, "2022-02-05 10:00", "product_buy", 11, 101, 6),  # window 1
        (2, "2022-01-05 10:00", "product_buy", 10, 100, 5),  # active, no later purchase
        (2, "2022-01-28 10:00", "add_to_cart", 12, 100, 7),  # 12 first seen in the last 14 days
        (3, "2022-01-12 10:00", "page_visit", None, None, None),  # inactive
        (3, "2022-02-20 10:00", "product_buy", 12, 100, 7),  # window 2, new sku
        (4, "2022-03-01 15:00", "product_buy", 10, 100, 5),  # last purchase: end
        (5, "2022-01-15 09:00", "product_buy", 11, 101, 6),  # active, buys in window 2 only
        (5, "2022-02-16 00:00", "product_buy", 10, 100, 5),  # first instant of window 2
    ]
    df = pd.DataFrame(
        rows, columns=["client_id", "timestamp", "event_type", "sku", "category", "price"]
    )
    df["timestamp"] = pd.to_datetime(df["timestamp"])
    return df.astype({"sku": "Int64", "category": "Int64", "price": "Int64"})


@pytest.fixture
def tasks():
    return make_tasks(group_events(log(), users=[6]))


def test_split(tasks):
    assert str(tasks.end) == "2022-03-01 15:00:00"
    assert str(tasks.cut) == "2022-02-02 00:00:00"
    assert [str(a) for a, _ in tasks.windows] == ["2022-02-02 00:00:00", "2022-02-16 00:00:00"]
    X = check_event_frame(tasks.X)
    assert X.index.tolist() == [1, 2, 3, 4, 5, 6]  # every user kept, aligned
    assert X["event_type"].list.len().tolist() == [2, 2, 1, 0, 1, 0]
    assert pd.to_datetime(X["timestamp"].explode()).max() < tasks.cut


def test_churn_and_conversion(tasks):
    churn = tasks.tasks["churn"]
    assert churn.kind == "binary"
    assert churn.mask.tolist() == [True, True, False, False, True, False]
    assert churn.y_train.tolist() == [0, 1, 1, 1, 1, 1]
    assert churn.y_test.tolist() == [1, 1, 0, 0, 0, 1]
    conversion = tasks.tasks["conversion"]
    assert conversion.mask.all()
    np.testing.assert_array_equal(conversion.y_test, churn.y_test)


def test_propensity_targets_and_popularity(tasks):
    cat = tasks.tasks["propensity_category"]
    assert cat.kind == "multilabel"
    # input purchases: category 100 twice, 101 once
    assert cat.targets.tolist() == [100, 101]
    np.testing.assert_allclose(cat.popularity, [2 / 3, 1 / 3])
    assert cat.y_train.tolist() == [[0, 1], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0]]
    assert cat.y_test.tolist() == [[0, 0], [0, 0], [1, 0], [1, 0], [1, 0], [0, 0]]
    sku = tasks.tasks["propensity_sku"]
    assert sku.targets.tolist() == [10, 11]
    assert sku.y_test[:, 0].tolist() == [0, 0, 0, 1, 1, 0]  # sku 12 is not a target
    price = tasks.tasks["propensity_price"]
    assert price.targets.tolist() == [5, 6]
    assert price.y_train[0].tolist() == [0, 1]


def test_new_sku(tasks):
    # default: first seen within 28 days before the cut (2022-01-05 00:00 .. 02-02)
    assert tasks.tasks["propensity_new_sku"].targets.tolist() == [10, 11, 12]
    tasks = make_tasks(group_events(log(), users=[6]), new_sku_days=14)
    new = tasks.tasks["propensity_new_sku"]
    assert new.targets.tolist() == [12]
    assert new.y_test[:, 0].tolist() == [0, 0, 1, 0, 0, 0]
    assert list(tasks.tasks) == [
        "churn",
        "propensity_category",
        "propensity_sku",
        "conversion",
        "propensity_new_sku",
        "propensity_price",
    ]


def test_n_targets_keeps_the_most_purchased():
    tasks = make_tasks(group_events(log()), n_targets=1)
    assert tasks.tasks["propensity_category"].targets.tolist() == [100]
    assert tasks.tasks["propensity_category"].y_test.shape == (5, 1)


def test_fields_that_do_not_exist_are_skipped():
    tasks = make_tasks(group_events(log()[["client_id", "timestamp", "event_type", "sku"]]))
    assert set(tasks.tasks) == {"churn", "propensity_sku", "conversion", "propensity_new_sku"}


def test_errors_name_the_problem():
    frame = group_events(log())
    with pytest.raises(ValueError, match="no events of type 'purchase'"):
        make_tasks(frame, purchase="purchase")
    no_types = group_events(log().drop(columns="event_type"))
    with pytest.raises(ValueError, match=r"missing required column\(s\) \['event_type'\]"):
        make_tasks(no_types)


def test_tasks_without_positives_are_skipped_with_a_warning():
    df = log()
    # no purchase in window 2 at all except user 4's, and none of a new sku
    df = df[~df["client_id"].isin([3, 5])]
    with pytest.warns(UserWarning, match="task 'propensity_new_sku' is skipped"):
        tasks = make_tasks(group_events(df), new_sku_days=14)
    assert "propensity_new_sku" not in tasks.tasks
    assert "conversion" in tasks.tasks


def test_string_product_ids():
    """A log whose skus and categories are strings (with missing values) builds every task."""
    rng = np.random.default_rng(0)
    n = 4000
    log = pd.DataFrame(
        {
            "client_id": rng.integers(0, 300, n),
            "timestamp": pd.Timestamp("2022-01-01")
            + pd.to_timedelta(rng.integers(0, 100 * 86400, n), "s"),
            "event_type": rng.choice(["product_buy", "page_visit"], n),
            "sku": [f"p{i}" for i in rng.integers(0, 50, n)],
            "category": rng.choice(np.array(["a", "b", "c", None], dtype=object), n),
        }
    )
    tasks = make_tasks(group_events(log), n_targets=5)
    assert {"churn", "propensity_category", "propensity_sku"} <= set(tasks.tasks)
    cat = tasks.tasks["propensity_category"]
    assert cat.targets.tolist() == ["a", "b", "c"]  # missing values are no target
    window = tasks.windows[1]
    buys = log[(log.event_type == "product_buy") & log.timestamp.between(*window, inclusive="left")]
    expected = buys.dropna().groupby("client_id")["category"].apply(set)
    y = pd.DataFrame(cat.y_test, index=tasks.X.index, columns=cat.targets)
    for user, cats in expected.items():
        assert set(y.columns[y.loc[user] == 1]) == cats
    assert tasks.tasks["propensity_sku"].targets.dtype == object
