"""The contract every public estimator keeps (all of sklearn_ubp.__all__).

On event frames: clone, get/set_params round-trip, no attributes set in ``__init__``,
``fit`` returns self, the not-fitted error, fit idempotence, sample-order and subset
invariance of ``transform``, pickle round-trip, stable feature names, float32 finite
output and pandas output keeping the user-id index (also for polars input). On plain 2-D arrays (converted at the
input boundary into event frames, so through the same code path): scikit-learn's ``check_estimator`` in full, with
no expected failure (the data below stays, empty).
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_estimator

import sklearn_ubp
from sklearn_ubp.datasets import make_events

ESTIMATORS = [
    getattr(sklearn_ubp, name)
    for name in sklearn_ubp.__all__
    if isinstance(getattr(sklearn_ubp, name), type)
    and issubclass(getattr(sklearn_ubp, name), BaseEstimator)
]
#: Small settings so the contract runs quickly (the defaults are tested per module);
#: applied with ``set_params``, so nested member keys work too.
SMALL_GRU = {"hidden_size": 8, "embedding_dim": 8, "max_length": 16, "max_epochs": 2}
SMALL = {
    "SVDItemEmbedder": {"n_components": 4, "random_state": 0},
    "GRUSequenceAutoencoder": {**SMALL_GRU, "random_state": 0},
    "UniversalProfile": {
        "random_state": 0,
        **{f"gru__{k}": v for k, v in SMALL_GRU.items()},
        "svd_category__n_components": 4,
        "svd_url__n_components": 4,
    },
}
#: check_estimator checks expected to fail, per estimator, with the reason (none so far).
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "EventCountEmbedder": {},
    "SVDItemEmbedder": {},
    "GRUSequenceAutoencoder": {},
    "UniversalProfile": {},
}
#: Outputs that go through float32 matrix products in different batch layouts.
RTOL, ATOL = 1e-5, 1e-5


def make(cls):
    return cls().set_params(**SMALL.get(cls.__name__, {}))


def same_params(a: dict, b: dict) -> bool:
    """Equal parameter dicts; estimators compare by type and (recursive) parameters."""

    def same(x, y) -> bool:
        if isinstance(x, BaseEstimator) or isinstance(y, BaseEstimator):
            return type(x) is type(y) and same_params(
                x.get_params(deep=False), y.get_params(deep=False)
            )
        if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
            return (
                type(x) is type(y)
                and len(x) == len(y)
                and all(same(u, v) for u, v in zip(x, y, strict=True))
            )
        if isinstance(x, dict) and isinstance(y, dict):
            return same_params(x, y)
        return bool(x is y or x == y)

    return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def frame():
    return make_events(n_users=600, random_state=3).events


def test_every_estimator_is_covered():
    names = {c.__name__ for c in ESTIMATORS}
    assert names >= {"EventCountEmbedder", "SVDItemEmbedder", "UniversalProfile"}
    assert set(EXPECTED_FAILED_CHECKS) >= names
    for name in names - set(SMALL) - {"EventCountEmbedder"}:
        pytest.fail(f"{name} has no SMALL settings for the contract")


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_params_contract(cls):
    est = make(cls)
    shallow, deep = est.get_params(deep=False), est.get_params(deep=True)
    assert shallow.items() <= deep.items()
    # __init__ stores its arguments and sets nothing else
    fresh = cls(**shallow)
    public = {k for k in vars(fresh) if not k.startswith("_")}
    assert public == set(shallow), "attributes set in __init__"
    assert all(fresh.get_params(deep=False)[k] is v for k, v in shallow.items())
    # clone and get/set_params round trips
    assert same_params(clone(est).get_params(deep=False), shallow)
    assert same_params(clone(est).get_params(deep=True), deep)
    assert est.set_params(**shallow) is est
    assert same_params(est.get_params(deep=True), deep)
    assert est.set_params(**deep) is est
    assert same_params(est.get_params(deep=True), deep)


@pytest.mark.slow
@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_contract_on_event_frames(cls, frame):
    est = make(cls)
    with pytest.raises(NotFittedError):
        est.transform(frame)
    with pytest.raises(NotFittedError):
        est.get_feature_names_out()
    params = set(est.get_params(deep=False))
    assert est.fit(frame) is est
    added = {k for k in vars(est) if not k.startswith("_")} - params
    assert all(k.endswith("_") for k in added), f"fit set public attributes {added}"
    out = est.transform(frame)
    assert out.dtype == np.float32 and out.shape[0] == len(frame)
    assert np.isfinite(out).all()
    names = est.get_feature_names_out()
    assert len(names) == out.shape[1] and len(set(names)) == len(names)

    # fit is idempotent (refit, or a clone's fit, gives the same state)
    assert est.fit(frame) is est
    np.testing.assert_allclose(est.transform(frame), out, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(clone(est).fit(frame).transform(frame), out, rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(est.get_feature_names_out(), names)

    # transform is stateless: any order and any subset of users, the same rows
    rng = np.random.default_rng(0)
    order = rng.permutation(len(frame))
    np.testing.assert_allclose(est.transform(frame.iloc[order]), out[order], rtol=RTOL, atol=ATOL)
    rows = order[:97]
    np.testing.assert_allclose(est.transform(frame.iloc[rows]), out[rows], rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(est.get_feature_names_out(), names)

    # pickle round trip: identical output and names
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.transform(frame), est.transform(frame))
    np.testing.assert_array_equal(loaded.get_feature_names_out(), names)

    pandas_out = clone(est).set_output(transform="pandas").fit(frame).transform(frame)
    assert isinstance(pandas_out, pd.DataFrame)
    assert pandas_out.index.equals(frame.index) and list(pandas_out.columns) == list(names)


@pytest.mark.slow
@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_pandas_output_of_polars_input_keeps_the_user_ids(cls, frame):
    """scikit-learn alone would index the output of a polars input 0..n-1."""
    pl = pytest.importorskip("polars")
    frame = frame.iloc[:300]
    as_polars = pl.from_pandas(frame.reset_index())  # user ids in a client_id column
    shuffled = as_polars.sample(fraction=1.0, shuffle=True, seed=0)
    est = make(cls).set_output(transform="pandas")
    fitted = est.fit_transform(as_polars)
    expected = est.transform(frame)
    for X in (as_polars, shuffled):
        out = est.transform(X)
        assert isinstance(out, pd.DataFrame)
        assert out.index.tolist() == X["client_id"].to_list()
        assert list(out.columns) == list(est.get_feature_names_out())
        pd.testing.assert_frame_equal(out, expected.loc[out.index], rtol=RTOL, atol=ATOL)
    assert fitted.index.equals(frame.index)


@pytest.mark.slow
@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_check_estimator(cls):
    # On plain 2-D numeric arrays: event frames of one value event per column.
    with warnings.catch_warnings():
        # SVD members fitted on the checks' tiny arrays warn that fewer factors fit.
        warnings.simplefilter("ignore", UserWarning)
        check_estimator(
            make(cls), expected_failed_checks=EXPECTED_FAILED_CHECKS.get(cls.__name__, {})
        )


@pytest.mark.slow
def test_import_does_not_load_torch():
    """``import sklearn_ubp`` stays light (workers, CLI help); the GRU loads torch."""
    import subprocess
    import sys

    code = (
        "import sys, sklearn_ubp\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "from sklearn_ubp import *\n"
        "assert 'torch' in sys.modules\n"
        "assert GRUSequenceAutoencoder.__module__ == 'sklearn_ubp._gru'\n"
        "assert 'GRUSequenceAutoencoder' in dir(sklearn_ubp)\n"
        "try:\n"
        "    sklearn_ubp.Nope\n"
        "except AttributeError as e:\n"
        "    assert 'Nope' in str(e)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
