"""Property tests (hypothesis) of the count and SVD members on random small event logs.

For any log: rows follow their users under permutation and subsets, new users and
users without events get finite float32 rows, and a joblib or skops round trip (loaded
with ``SKOPS_TRUSTED_TYPES`` only) changes nothing.
Small and fast (a few seconds): few examples, tiny logs.
"""

import io
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sklearn_ubp import EventCountEmbedder, SVDItemEmbedder, group_events  # noqa: E402

TYPES = ["product_buy", "add_to_cart", "remove_from_cart", "page_visit"]
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


@st.composite
def logs(draw):
    """An event frame of 2 to 12 users, some without events (ids 0..n-1)."""
    n_users = draw(st.integers(2, 12))
    n_events = draw(st.integers(1, 40))
    user = draw(st.lists(st.integers(0, n_users - 1), min_size=n_events, max_size=n_events))
    seconds = draw(st.lists(st.integers(0, 30 * 86_400), min_size=n_events, max_size=n_events))
    kinds = draw(st.lists(st.sampled_from(TYPES), min_size=n_events, max_size=n_events))
    category = draw(st.lists(st.none() | st.integers(0, 6), min_size=n_events, max_size=n_events))
    price = draw(st.lists(st.floats(0, 1e4), min_size=n_events, max_size=n_events))
    log = pd.DataFrame(
        {
            "client_id": user,
            "timestamp": pd.Timestamp("2022-06-01") + pd.to_timedelta(seconds, "s"),
            "event_type": kinds,
            "category": pd.array(category, dtype="Int64"),
            "price": price,
        }
    )
    return group_events(log, users=np.arange(n_users))


def svd_usable(frame) -> bool:
    """The SVD needs one weighted (buy or cart) event with a category."""
    types = frame["event_type"].explode()
    cats = frame["category"].explode()
    return bool((types.isin(["product_buy", "add_to_cart"]) & cats.notna()).any())


MEMBERS = {
    "counts": lambda: EventCountEmbedder(),
    "counts_all": lambda: EventCountEmbedder(statistics="all", windows=(1, 7, None)),
    "svd": lambda: SVDItemEmbedder(n_components=3, random_state=0),
}


def fitted(name, frame):
    if name == "svd":
        assume(svd_usable(frame))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "n_components=", UserWarning)  # tiny logs
        return MEMBERS[name]().fit(frame)


def check_output(out, n):
    assert out.dtype == np.float32 and out.shape[0] == n
    assert np.isfinite(out).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MEMBERS))
@SETTINGS
@given(frame=logs(), seed=st.integers(0, 2**16))
def test_rows_follow_their_users(name, frame, seed):
    """Permutation, subset and new-user invariance; finite float32; empty histories."""
    est = fitted(name, frame)
    out = est.transform(frame)
    check_output(out, len(frame))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    np.testing.assert_allclose(est.transform(frame.iloc[order]), out[order], rtol=1e-6, atol=1e-7)
    rows = order[: max(1, len(frame) // 2)]
    np.testing.assert_allclose(est.transform(frame.iloc[rows]), out[rows], rtol=1e-6, atol=1e-7)
    # users without events: finite rows, all the same
    empty = np.flatnonzero(frame["timestamp"].list.len().to_numpy() == 0)
    if empty.size:
        assert (out[empty] == out[empty[0]]).all()
        if name == "svd":
            assert (out[empty] == 0).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MEMBERS))
@SETTINGS
@given(train=logs(), new=logs())
def test_new_users_and_joblib_round_trip(name, train, new):
    est = fitted(name, train)
    new = new.set_axis(new.index + 1000)  # users not seen in fit
    out = est.transform(new)
    check_output(out, len(new))
    np.testing.assert_allclose(est.transform(new.iloc[::-1]), out[::-1], rtol=1e-6, atol=1e-7)
    buffer = io.BytesIO()
    joblib.dump(est, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    np.testing.assert_array_equal(loaded.transform(new), out)
    np.testing.assert_array_equal(loaded.get_feature_names_out(), est.get_feature_names_out())


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MEMBERS))
@SETTINGS
@given(train=logs(), new=logs())
def test_skops_round_trip(name, train, new):
    sio = pytest.importorskip("skops.io")
    from sklearn_ubp.io import SKOPS_TRUSTED_TYPES

    est = fitted(name, train)
    new = new.set_axis(new.index + 1000)
    data = sio.dumps(est)
    assert set(sio.get_untrusted_types(data=data)) <= set(SKOPS_TRUSTED_TYPES)
    loaded = sio.loads(data, trusted=list(SKOPS_TRUSTED_TYPES))
    np.testing.assert_array_equal(loaded.transform(new), est.transform(new))
    np.testing.assert_array_equal(loaded.transform(train), est.transform(train))
    np.testing.assert_array_equal(loaded.get_feature_names_out(), est.get_feature_names_out())
