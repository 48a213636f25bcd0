"""Fitted models record package versions; loading under other ones warns."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import InconsistentVersionWarning as SklearnWarning
from test_common import ESTIMATORS, make

import sklearn_ubp
from sklearn_ubp import InconsistentVersionWarning
from sklearn_ubp._versions import BASE_PACKAGES, TORCH, running_versions
from sklearn_ubp.datasets import make_events

TORCH_MEMBERS = {"GRUSequenceAutoencoder", "UniversalProfile"}


@pytest.fixture(scope="module")
def fitted():
    events = make_events(n_users=200, random_state=0).events
    return {cls.__name__: make(cls).fit(events) for cls in ESTIMATORS}


@pytest.mark.parametrize("name", [c.__name__ for c in ESTIMATORS])
def test_fit_records_the_versions(fitted, name):
    packages = {**BASE_PACKAGES, **(TORCH if name in TORCH_MEMBERS else {})}
    versions = fitted[name]._fit_versions
    assert set(versions) == set(packages) and versions == running_versions(packages)
    assert versions["sklearn-ubp"] == sklearn_ubp.__version__
    assert versions["numpy"] == np.__version__


@pytest.mark.parametrize("name", [c.__name__ for c in ESTIMATORS])
def test_same_versions_load_silently(fitted, name):
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        loaded = pickle.loads(pickle.dumps(fitted[name]))
    assert loaded._fit_versions == fitted[name]._fit_versions


def tampered(est, package, version):
    """``est`` pickled with another version of ``package`` recorded in its state."""
    copy = pickle.loads(pickle.dumps(est))
    copy._fit_versions = {**copy._fit_versions, package: version}
    return pickle.dumps(copy)


@pytest.mark.parametrize("name", [c.__name__ for c in ESTIMATORS])
def test_another_major_minor_version_warns(fitted, name):
    est = fitted[name]
    for package, current in est._fit_versions.items():
        with pytest.warns(InconsistentVersionWarning) as record:
            pickle.loads(tampered(est, package, "0.0.1"))
        (w,) = [w.message for w in record if isinstance(w.message, InconsistentVersionWarning)]
        assert isinstance(w, SklearnWarning)  # scikit-learn's filters apply
        assert (w.estimator_name, w.package) == (name, package)
        assert (w.original_version, w.current_version) == ("0.0.1", current)
        assert f"fitted with {package} 0.0.1 when using {package} {current}" in str(w)
    # another patch version, the same major.minor: silent
    major, minor = est._fit_versions["numpy"].split(".")[:2]
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        pickle.loads(tampered(est, "numpy", f"{major}.{minor}.999"))
