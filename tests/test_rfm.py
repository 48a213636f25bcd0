"""Tests of ``rfm_features``: the hand-made baseline, checked by hand."""

import numpy as np
import pandas as pd
import pytest

from sklearn_ubp import group_events
from sklearn_ubp.evaluation import rfm_features


@pytest.fixture
def log():
    rows = [
        # user, day, type, sku, category, amount, quantity
        (1, "2022-01-01", "product_buy", "x", "a", 2.0, 1.0),
        (1, "2022-01-01", "product_buy", "y", "b", 3.0, 2.0),  # same basket
        (1, "2022-01-05", "product_buy", "x", "a", 1.0, 1.0),
        (2, "2022-01-03", "page_visit", None, None, None, None),
        (2, "2022-01-07", "product_buy", "z", "b", 4.0, 3.0),
        (3, "2022-01-02", "page_visit", None, None, None, None),  # never buys
    ]
    df = pd.DataFrame(
        rows, columns=["client_id", "timestamp", "event_type", "sku", "category", "amount", "qty"]
    )
    df["timestamp"] = pd.to_datetime(df["timestamp"])
    return group_events(df)


def test_rfm_by_hand(log):
    f = rfm_features(
        log,
        reference_time="2022-01-11",
        amount="amount",
        quantity="qty",
        basket="timestamp",
        item="sku",
        category="category",
        n_categories=2,
    )
    assert f.dtypes.unique().tolist() == [np.float32]
    assert f.index.equals(log.index)
    raw = np.expm1(f.astype(np.float64)).round(4)
    assert raw.columns.tolist() == [
        "frequency", "recency", "tenure", "lines", "events", "monetary", "units",
        "distinct_items", "category=b", "category=a",
    ]  # fmt: skip
    assert raw.loc[1].tolist() == [2, 6, 10, 3, 3, 6, 4, 2, 1, 2]
    assert raw.loc[2].tolist() == [1, 4, 8, 1, 2, 4, 3, 1, 1, 0]
    # No purchase: recency is the whole log (9 days before the reference), counts are 0.
    assert raw.loc[3].tolist() == [0, 10, 9, 0, 1, 0, 0, 0, 0, 0]


def test_rfm_defaults_and_errors(log):
    f = rfm_features(log)  # reference just after the last event
    assert f.columns.tolist() == ["frequency", "recency", "tenure", "lines", "events"]
    with pytest.raises(ValueError, match="amount='price' is not a column"):
        rfm_features(log, amount="price")
    with pytest.raises(ValueError, match="no events of type 'buy'"):
        rfm_features(log, purchase="buy")
