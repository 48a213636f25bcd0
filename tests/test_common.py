"""The contract every public estimator keeps on event frames (all of sklearn_ubp.__all__)."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError

import sklearn_ubp
from sklearn_ubp.datasets import make_events

ESTIMATORS = [
    getattr(sklearn_ubp, name)
    for name in sklearn_ubp.__all__
    if isinstance(getattr(sklearn_ubp, name), type)
    and issubclass(getattr(sklearn_ubp, name), BaseEstimator)
]
#: Small settings so the contract runs quickly; the defaults are tested per module.
SMALL = {"SVDItemEmbedder": {"n_components": 4, "random_state": 0}}


def make(cls):
    return cls(**SMALL.get(cls.__name__, {}))


@pytest.fixture(scope="module")
def frame():
    return make_events(n_users=600, random_state=3).events


def test_every_estimator_is_covered():
    assert {c.__name__ for c in ESTIMATORS} >= {"EventCountEmbedder", "SVDItemEmbedder"}


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_contract_on_event_frames(cls, frame):
    est = make(cls)
    params = est.get_params()
    assert not [k for k in vars(est) if k.endswith("_")], "attributes set in __init__"
    assert clone(est).get_params() == params
    assert est.set_params(**params) is est
    with pytest.raises(NotFittedError):
        est.transform(frame)
    assert est.fit(frame) is est
    out = est.transform(frame)
    assert out.dtype == np.float32 and out.shape[0] == len(frame)
    assert np.isfinite(out).all()
    names = est.get_feature_names_out()
    assert len(names) == out.shape[1] and len(set(names)) == len(names)
    # fit is idempotent, transform stateless: any subset/order of users, the same rows
    np.testing.assert_allclose(clone(est).fit(frame).transform(frame), out, rtol=1e-5, atol=1e-6)
    rows = np.random.default_rng(0).permutation(len(frame))[:97]
    np.testing.assert_allclose(est.transform(frame.iloc[rows]), out[rows], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).transform(frame), out)
    np.testing.assert_array_equal(est.get_feature_names_out(), names)
    pandas_out = clone(est).set_output(transform="pandas").fit(frame).transform(frame)
    assert isinstance(pandas_out, pd.DataFrame)
    assert pandas_out.index.equals(frame.index) and list(pandas_out.columns) == list(names)
