import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def long_events() -> pd.DataFrame:
    """A small long log in arbitrary order, with a tie (user 3, same second)."""
    return pd.DataFrame(
        {
            "client_id": [3, 1, 3, 1, 2, 3],
            "timestamp": pd.to_datetime(
                [
                    "2022-01-03 10:00",
                    "2022-01-02 09:00",
                    "2022-01-01 08:00",
                    "2022-01-01 07:00",
                    "2022-01-05 12:00",
                    "2022-01-03 10:00",
                ]
            ),
            "event_type": [
                "page_visit",
                "product_buy",
                "add_to_cart",
                "page_visit",
                "product_buy",
                "product_buy",
            ],
            "sku": [np.nan, 20, 30, np.nan, 50, 60],
        }
    )


def random_long(
    n_events: int, n_users: int, seed: int = 0, span_s: int = 30 * 86400
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "client_id": rng.integers(0, n_users, n_events) * 3 + 11,
            "timestamp": np.datetime64("2022-06-23T00:00:00", "us")
            + rng.integers(0, span_s, n_events).astype("timedelta64[s]"),
            "event_type": rng.choice(["page_visit", "product_buy", "search_query"], n_events),
            "sku": rng.integers(0, 100, n_events),
        }
    )
