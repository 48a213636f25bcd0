"""The BG/NBD model (``sklearn_ubp._bgnbd``) and the ``"bgnbd"`` group of the counts."""

import numpy as np
import pandas as pd
import pytest

from sklearn_ubp import EventCountEmbedder, group_events
from sklearn_ubp._bgnbd import MIN_REPEAT_BUYERS, _log_likelihood, bgnbd_features, fit_bgnbd

TRUE = np.array([0.6, 8.0, 0.7, 2.5])  # r, alpha, a, b


def simulate(n: int, params: np.ndarray, seed: int = 0, horizon: float = 300.0):
    """BG/NBD histories: the first purchase at 0, then Poisson(lambda) purchases while
    alive, a dropout with probability p after each repeat one; observed until ``T``. Also the
    purchases as ``(user, time)`` arrays."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = params
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.uniform(horizon / 3, horizon, n)
    t = np.zeros(n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    users, times = [np.arange(n)], [np.zeros(n)]
    alive = np.ones(n, dtype=bool)  # dropouts happen after repeat purchases only
    while alive.any():
        t[alive] += rng.exponential(1.0 / lam[alive])
        buy = alive & (t <= T)
        x[buy] += 1
        t_x[buy] = t[buy]
        users.append(np.flatnonzero(buy))
        times.append(t[buy])
        alive = buy & (rng.random(n) >= p)
    return x, t_x, T, (np.concatenate(users), np.concatenate(times))


def test_maximum_likelihood_recovers_the_generating_parameters():
    x, t_x, T, _ = simulate(20_000, TRUE)
    params = fit_bgnbd(x, t_x, T)
    np.testing.assert_allclose(params, TRUE, rtol=0.1)
    # the optimum is at least as likely as the truth
    w = np.ones_like(x)
    assert _log_likelihood(np.log(params), x, t_x, T, w) >= _log_likelihood(
        np.log(TRUE), x, t_x, T, w
    )


def test_too_few_repeat_buyers_give_no_model():
    x = np.zeros(100)
    x[: MIN_REPEAT_BUYERS - 1] = 2
    assert fit_bgnbd(x, x * 3, np.full(100, 50.0)) is None


def test_alive_and_rate_follow_the_closed_forms():
    r, alpha, a, b = TRUE
    x = np.array([0.0, 3.0, 3.0, 0.0])
    t_x = np.array([0.0, 90.0, 20.0, 0.0])
    T = np.array([100.0, 100.0, 100.0, 0.0])
    buyer = np.array([True, True, True, False])
    alive, rate = bgnbd_features(x, t_x, T, buyer, TRUE)
    assert alive[0] == 1.0  # no repeat purchase: no chance yet to drop out
    expected = 1 / (1 + a / (b + x[1] - 1) * ((alpha + T[1]) / (alpha + t_x[1])) ** (r + x[1]))
    np.testing.assert_allclose(alive[1], expected, rtol=1e-12)
    assert alive[2] < alive[1]  # the same purchases, a longer silence since
    np.testing.assert_allclose(rate[:3], (r + x[:3]) / (alpha + T[:3]))
    assert alive[3] == 0 and rate[3] == 0  # no purchase at all


def _frame(purchases: tuple[np.ndarray, np.ndarray], T: np.ndarray, ref: pd.Timestamp):
    """An event frame of purchases: user i's first purchase T[i] days before ``ref``."""
    users, t = purchases
    days = np.floor(t) - np.floor(T[users])
    stamps = ref + pd.to_timedelta(days, unit="D")
    log = pd.DataFrame({"client_id": users, "timestamp": stamps, "amount": 1.0})
    return group_events(log.sort_values(["client_id", "timestamp"]))


def test_counts_group_fits_on_purchase_days_and_embeds_any_subset():
    _, _, T, purchases = simulate(3_000, TRUE, seed=1)
    ref = pd.Timestamp("2024-01-01")
    X = _frame(purchases, T, ref)
    emb = EventCountEmbedder(statistics=["bgnbd"], reference_time=ref, scale=None).fit(X)
    np.testing.assert_allclose(emb.bgnbd_params_, TRUE, rtol=0.25)
    names = emb.get_feature_names_out().tolist()
    assert names[:2] == ["bgnbd_alive_any", "bgnbd_rate_any"]
    assert "bgnbd_expected_any_30d" in names and "bgnbd_expected_any_alld" not in names
    out = emb.transform(X)
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert ((out[:, 0] >= 0) & (out[:, 0] <= 1)).all()
    i30 = names.index("bgnbd_expected_any_30d")
    np.testing.assert_allclose(out[:, i30], out[:, 0] * out[:, 1] * 30, rtol=1e-5)
    # stateless: any subset of users gives the same rows
    np.testing.assert_array_equal(emb.transform(X.iloc[[5, 0, 17]]), out[[5, 0, 17]])


def test_counts_group_on_a_typed_log_uses_the_purchases():
    log = pd.DataFrame(
        {
            "client_id": [1, 1, 1, 2, 2],
            "timestamp": pd.to_datetime(
                ["2022-01-01", "2022-01-05", "2022-01-09", "2022-01-02", "2022-01-08"]
            ),
            "event_type": ["product_buy", "page_visit", "product_buy", "page_visit", "page_visit"],
        }
    )
    X = group_events(log)
    emb = EventCountEmbedder(statistics=["bgnbd", "counts"]).fit(X)
    assert emb._bgnbd_group() == "product_buy"
    assert emb.bgnbd_params_ is None  # one repeat buyer: too few to fit
    assert not any(n.startswith("bgnbd_") for n in emb.get_feature_names_out())
    with pytest.raises(ValueError, match="gives no feature"):
        EventCountEmbedder(statistics=["bgnbd"]).fit(X)
    other = EventCountEmbedder(statistics=["bgnbd", "counts"], purchase_type="checkout").fit(X)
    assert other._bgnbd_group() is None and other.bgnbd_params_ is None
