import numpy as np
import pandas as pd
import pytest

from sklearn_ubp import group_events
from sklearn_ubp.evaluation import official_baseline, oracle_embeddings, random_embeddings


@pytest.fixture
def frame():
    df = pd.DataFrame(
        {
            "client_id": [1, 1, 1, 2, 2, 3],
            "timestamp": pd.to_datetime(
                [
                    "2022-01-01 00:00",
                    "2022-01-25 12:00",
                    "2022-01-31 12:00",
                    "2022-01-31 06:00",
                    "2022-01-10 00:00",
                    "2022-01-31 23:00",
                ]
            ),
            "event_type": [
                "product_buy",
                "page_visit",
                "search_query",
                "product_buy",
                "page_visit",
                "page_visit",
            ],
            "sku": [5, None, None, 6, None, None],
            "url": [None, 9, None, None, 9, 8],
            "query": [None, None, "[" + " ".join(["51"] * 16) + "]", None, None, None],
        }
    ).astype({"sku": "Int64", "url": "Int64"})
    return group_events(df)


def test_counts_by_window_and_top_values(frame):
    f = official_baseline(frame, reference_time="2022-02-01", log=False)
    assert f.dtypes.unique().tolist() == [np.float32]
    assert f.index.equals(frame.index)
    # user 1: buy 31 days before the reference: outside the 30-day window
    assert f.loc[1, "product_buy_30d"] == 0
    assert f.loc[2, "product_buy_1d"] == 1
    assert f.loc[1, "page_visit_7d"] == 1 and f.loc[2, "page_visit_7d"] == 0
    assert f.loc[2, "page_visit_30d"] == 1
    assert f.loc[1, "page_visit_url=9_7d"] == 1 and f.loc[3, "page_visit_url=8_1d"] == 1
    np.testing.assert_allclose(f.loc[1, [f"query_mean_{j}" for j in range(16)]], 51 / 255)
    assert f.loc[3, "query_mean_0"] == 0


def test_log_scaling_and_top_k(frame):
    raw = official_baseline(frame, reference_time="2022-02-01", log=False)
    logged = official_baseline(frame, reference_time="2022-02-01")
    np.testing.assert_allclose(
        logged.to_numpy()[:, :-16], np.log1p(raw.to_numpy()[:, :-16]), rtol=1e-6
    )
    top1 = official_baseline(frame, top_k=1)
    assert [c for c in top1.columns if c.startswith("page_visit_url=")] == [
        "page_visit_url=9_1d",
        "page_visit_url=9_7d",
        "page_visit_url=9_30d",
    ]


def test_random_and_oracle():
    index = pd.Index([3, 1, 2])
    r = random_embeddings(pd.DataFrame(index=index), n_components=5, random_state=1)
    assert r.shape == (3, 5) and r.dtype == np.float32
    np.testing.assert_array_equal(
        r, random_embeddings(pd.DataFrame(index=index), n_components=5, random_state=1)
    )
    traits = pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=[1, 2, 3])
    assert oracle_embeddings(traits, index).ravel().tolist() == [3.0, 1.0, 2.0]
    with pytest.raises(ValueError, match=r"traits lack 1 user.*\[4\]"):
        oracle_embeddings(traits, pd.Index([1, 4]))
