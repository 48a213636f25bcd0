"""The counts' ``"forecast"`` group (sklearn_ubp/_forecast.py)."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_ubp import EventCountEmbedder, group_events
from sklearn_ubp._forecast import MIN_FORECAST_USERS
from sklearn_ubp.datasets import make_events
from sklearn_ubp.io import dump_model, load_model

START = pd.Timestamp("2023-01-01")
REF = START + pd.Timedelta(days=120)
STATS = ["counts", "recency", "numeric", "forecast"]
TREES = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"


def steady_log(n_users: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Users buying at a steady rate (0 to 8 purchases per 30 days) for 150 days; the
    events up to ``REF`` (day 120), and each user's purchases in the 30 days after."""
    rng = np.random.default_rng(seed)
    rate = rng.choice([0.0, 1.0, 2.0, 4.0, 8.0], size=n_users)
    n = rng.poisson(rate * 5)  # 150 days
    user = np.repeat(np.arange(n_users), n)
    day = rng.uniform(0, 150, size=user.size)
    log = pd.DataFrame(
        {
            "client_id": user,
            "timestamp": START + pd.to_timedelta(day, unit="D"),
            "amount": rng.gamma(2.0, 10.0, size=user.size),
        }
    )
    after = np.bincount(user[day > 120], minlength=n_users)
    before = log[day <= 120]
    # every user has an event (users without one would not be rows)
    first = pd.DataFrame({"client_id": np.arange(n_users), "timestamp": START, "amount": 1.0})
    return group_events(pd.concat([first, before], ignore_index=True)), after


@pytest.fixture(scope="module")
def steady():
    return steady_log()


@pytest.fixture(scope="module")
def fitted(steady):
    X, _ = steady
    emb = EventCountEmbedder(statistics=STATS, reference_time=REF)
    return emb.set_output(transform="pandas").fit(X)


def test_forecast_columns_forecast_the_next_days(steady, fitted):
    X, after = steady
    out = fitted.transform(X)
    names = [c for c in out.columns if c.startswith("forecast_")]
    assert names == [
        "forecast_events_any_30d",
        "forecast_days_any_30d",
        "forecast_amount_any_30d",
    ]
    assert out.dtypes.eq(np.float32).all() and np.isfinite(out.to_numpy()).all()
    # better than chance at ranking the purchases of the 30 days after the reference
    for name in names:
        assert spearmanr(out[name], after)[0] > 0.5, name
    # the log1p scale gives the models' signed log1p output: no negative counts here
    assert (out[names].to_numpy() >= 0).all()


def test_forecast_rows_follow_users_and_fits_repeat(steady, fitted):
    X, _ = steady
    out = fitted.transform(X).to_numpy()
    rows = np.random.default_rng(1).permutation(len(X))[:37]
    np.testing.assert_array_equal(fitted.transform(X.iloc[rows]).to_numpy(), out[rows])
    again = EventCountEmbedder(statistics=STATS, reference_time=REF).fit(X)
    np.testing.assert_array_equal(again.transform(X), out)
    np.testing.assert_array_equal(
        EventCountEmbedder(statistics=STATS, reference_time=REF).fit_transform(X), out
    )


def test_no_forecast_without_enough_history_or_users(steady):
    X, _ = steady
    short = EventCountEmbedder(statistics=STATS, reference_time=REF, forecast_days=61).fit(X)
    assert short.forecast_models_ == []  # 120 days of history < 2 x 61
    assert not any(n.startswith("forecast_") for n in short.get_feature_names_out())
    few = X.iloc[: MIN_FORECAST_USERS - 1]
    assert EventCountEmbedder(statistics=STATS, reference_time=REF).fit(few).forecast_models_ == []
    arrays = EventCountEmbedder(statistics=["counts", "forecast"]).fit(np.ones((300, 4)))
    assert arrays.forecast_models_ == []


def test_forecast_days_is_validated(steady):
    X, _ = steady
    with pytest.raises(InvalidParameterError, match="forecast_days"):
        EventCountEmbedder(statistics=STATS, forecast_days=0).fit(X)


def test_a_forecasting_embedder_loads_from_skops_once_its_trees_are_trusted(
    steady, fitted, tmp_path
):
    """The trees are not among the default trusted types (the default groups hold none)."""
    X, _ = steady
    path = dump_model(fitted, tmp_path / "counts.skops")
    with pytest.raises(ValueError, match="TreePredictor"):
        load_model(path)
    loaded = load_model(path, trusted=[TREES])
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))


def test_a_typed_log_forecasts_all_events_and_the_purchases():
    """Purchases alone can be too rare to learn from: all events are forecast too."""
    events = make_events(n_users=1500, random_state=0).events
    emb = EventCountEmbedder(statistics=["counts", "forecast"]).fit(events)
    assert [name for name, _ in emb.forecast_models_] == [
        "forecast_events_any_30d",
        "forecast_days_any_30d",
        "forecast_events_product_buy_30d",
        "forecast_days_product_buy_30d",
    ]
