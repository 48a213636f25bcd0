"""Model files (sklearn_ubp._persistence, sklearn_ubp._portable): skops and joblib.

Every fitted estimator, alone, as a profile member and in a scikit-learn pipeline,
round-trips through skops with identical output, loading with exactly
``SKOPS_TRUSTED_TYPES``; files holding any other type are refused before anything of
them is built; skops stays optional.
"""

import copy
import pickle
import subprocess
import sys
import warnings
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from test_common import ESTIMATORS, make

from sklearn_ubp import EventCountEmbedder, InconsistentVersionWarning, UniversalProfile
from sklearn_ubp._portable import PORTABLE_KEY, portable_state, restored_state
from sklearn_ubp.datasets import make_events
from sklearn_ubp.io import SKOPS_TRUSTED_TYPES, dump_model, load_model

sio = pytest.importorskip("skops.io")

SLOW = {"GRUSequenceAutoencoder", "UniversalProfile"}  # they train a GRU (seconds)
NAMES = [
    pytest.param(c.__name__, marks=[pytest.mark.slow] if c.__name__ in SLOW else [])
    for c in ESTIMATORS
]


@pytest.fixture(scope="module")
def events():
    return make_events(n_users=200, random_state=0).events


@pytest.fixture(scope="module")
def fitted(events):
    cache = {}

    def get(name):
        if name not in cache:
            cls = next(c for c in ESTIMATORS if c.__name__ == name)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                cache[name] = make(cls).fit(events)
        return cache[name]

    return get


def skops_round_trip(model):
    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    return sio.loads(data, trusted=list(SKOPS_TRUSTED_TYPES)), untrusted


@pytest.mark.parametrize("name", NAMES)
def test_every_estimator_round_trips_through_skops(fitted, events, name):
    est = fitted(name)
    loaded, untrusted = skops_round_trip(est)
    assert set(untrusted) <= set(SKOPS_TRUSTED_TYPES)
    assert type(loaded) is type(est)
    np.testing.assert_array_equal(loaded.transform(events), est.transform(events))
    np.testing.assert_array_equal(loaded.get_feature_names_out(), est.get_feature_names_out())
    assert loaded._fit_versions == est._fit_versions
    # the fitted state keeps its shape: timestamps, tuple-keyed dicts
    if hasattr(est, "reference_time_"):
        assert isinstance(loaded.reference_time_, pd.Timestamp)
        assert loaded.reference_time_ == est.reference_time_
        assert loaded.reference_time_.unit == est.reference_time_.unit
    if name == "EventCountEmbedder":
        assert loaded.top_k_values_.keys() == est.top_k_values_.keys()
        assert all(isinstance(k, tuple) for k in loaded.top_k_values_)


@pytest.mark.slow
def test_the_trusted_list_is_what_the_models_need(fitted):
    """No stale entry: every listed type is in the file of one of the models."""
    needed = set()
    for cls in ESTIMATORS:
        needed |= set(skops_round_trip(fitted(cls.__name__))[1])
    assert needed == set(SKOPS_TRUSTED_TYPES)
    assert all(t.startswith("sklearn_ubp.") for t in SKOPS_TRUSTED_TYPES)


@pytest.mark.slow
def test_a_gru_loaded_from_skops_has_its_module_and_a_net(fitted, events):
    gru = fitted("GRUSequenceAutoencoder")
    loaded, _ = skops_round_trip(gru)
    assert loaded.module_ is loaded.net_.module_ and not loaded.module_.training
    assert loaded.net_.device == "cpu"
    keys = ("epoch", "train_loss", "valid_loss")
    assert [[r[k] for k in keys] for r in loaded.net_.history] == [
        [r[k] for k in keys] for r in gru.net_.history
    ]
    assert loaded.history_ == gru.history_
    part = events.iloc[:50]
    assert loaded.reconstruction_accuracy(part) == gru.reconstruction_accuracy(part)
    # pickles keep the whole net (the fitted callbacks), as before
    assert (
        dict(pickle.loads(pickle.dumps(gru)).net_.callbacks_).keys()
        == dict(gru.net_.callbacks_).keys()
    )
    assert copy.deepcopy(gru).net_.optimizer_ is not None


@pytest.mark.slow
def test_a_profile_with_its_default_members_in_a_pipeline_round_trips(events, tmp_path):
    y = (events["event_type"].list.len().to_numpy() > 20).astype(int)
    profile = UniversalProfile(random_state=0).set_params(gru__max_epochs=1)
    pipe = Pipeline([("ubp", profile), ("clf", LogisticRegression(max_iter=200))])
    pipe.fit(events, y)
    path = dump_model(pipe, tmp_path / "pipe.skops")
    assert zipfile.is_zipfile(path)
    assert set(sio.get_untrusted_types(file=path)) <= set(SKOPS_TRUSTED_TYPES)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(events), pipe.predict_proba(events))
    np.testing.assert_array_equal(loaded[0].transform(events), pipe[0].transform(events))
    assert [n for n, _ in loaded[0].transformers_] == [n for n, _ in pipe[0].transformers_]


def test_dump_model_chooses_the_format_by_suffix(fitted, events, tmp_path):
    est = fitted("EventCountEmbedder")
    skops_file = dump_model(est, tmp_path / "m.SKOPS")
    joblib_file = dump_model(est, str(tmp_path / "m.joblib"))
    assert zipfile.is_zipfile(skops_file) and not zipfile.is_zipfile(joblib_file)
    for path in (skops_file, joblib_file):
        np.testing.assert_array_equal(load_model(path).transform(events), est.transform(events))


# ------------------------------------------------------------------ refusals


class Spy(TransformerMixin, BaseEstimator):
    """A transformer that counts how often it is unpickled or built from a file."""

    built = 0

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        return X

    def __setstate__(self, state):
        Spy.built += 1
        super().__setstate__(state)


def test_an_untrusted_file_is_refused_before_anything_is_built(fitted, tmp_path):
    pipe = Pipeline([("counts", fitted("EventCountEmbedder")), ("spy", Spy().fit(None))])
    path = dump_model(pipe, tmp_path / "pipe.skops")
    Spy.built = 0
    with pytest.raises(
        ValueError, match=r"holds types that are not trusted: \['test_persistence.Spy'\]"
    ):
        load_model(path)
    assert Spy.built == 0
    # a type the user reviewed and trusts
    assert isinstance(load_model(path, trusted=[Spy])[1], Spy)
    assert Spy.built == 1
    assert isinstance(load_model(path, trusted=["test_persistence.Spy"])[1], Spy)


def test_a_file_that_would_call_a_function_is_refused(tmp_path):
    path = tmp_path / "evil.skops"
    sio.dump({"run": eval, "model": EventCountEmbedder()}, path)
    with pytest.raises(ValueError, match=r"not trusted: \['builtins.eval'\]"):
        load_model(path)


@pytest.mark.parametrize("trusted", [True, "sklearn_ubp", [3]])
def test_bad_trusted_arguments(fitted, tmp_path, trusted):
    path = dump_model(fitted("SVDItemEmbedder"), tmp_path / "svd.skops")
    with pytest.raises(TypeError, match="trusted must"):
        load_model(path, trusted=trusted)


def test_files_that_are_not_skops_files(fitted, tmp_path):
    est = fitted("SVDItemEmbedder")
    pickled = tmp_path / "pickle.skops"
    joblib.dump(est, pickled)
    with pytest.raises(ValueError, match="is not a skops file"):
        load_model(pickled)
    truncated = tmp_path / "truncated.skops"
    truncated.write_bytes(sio.dumps(est)[:-200])
    with pytest.raises(ValueError, match="is not a skops file"):
        load_model(truncated)
    damaged = tmp_path / "truncated.joblib"
    joblib.dump(est, damaged)
    damaged.write_bytes(damaged.read_bytes()[:100])
    with pytest.raises(ValueError, match="truncated.joblib' is not a joblib model file"):
        load_model(damaged)
    (tmp_path / "dir.skops").mkdir()
    with pytest.raises(ValueError, match="is a directory"):
        load_model(tmp_path / "dir.skops")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nope.skops")


def test_without_skops_a_clear_import_error(fitted, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "skops", None)
    monkeypatch.setitem(sys.modules, "skops.io", None)
    with pytest.raises(ImportError, match=r"needs skops .*pip install 'sklearn-ubp\[skops\]'"):
        dump_model(fitted("SVDItemEmbedder"), tmp_path / "svd.skops")
    with pytest.raises(ImportError, match="needs skops"):
        load_model(tmp_path / "svd.skops")
    # joblib files need no skops
    path = dump_model(fitted("SVDItemEmbedder"), tmp_path / "svd.joblib")
    assert type(load_model(path)).__name__ == "SVDItemEmbedder"


@pytest.mark.slow
def test_importing_sklearn_ubp_does_not_import_skops():
    code = (
        "import sys, sklearn_ubp, sklearn_ubp.io\n"
        "from sklearn_ubp import EventCountEmbedder\n"
        "assert 'skops' not in sys.modules, 'skops imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------ versions, old states


def test_the_version_warning_works_through_skops(fitted, events):
    est = copy.deepcopy(fitted("EventCountEmbedder"))
    est._fit_versions = {**est._fit_versions, "numpy": "0.0.1"}
    data = sio.dumps(est)
    with pytest.warns(InconsistentVersionWarning, match="fitted with numpy 0.0.1"):
        sio.loads(data, trusted=list(SKOPS_TRUSTED_TYPES))


def test_states_without_the_portable_entry_load_unchanged(fitted, events):
    """Pickles written before the conversion hold the attributes as they are."""
    est = fitted("EventCountEmbedder")
    old = EventCountEmbedder.__new__(EventCountEmbedder)
    old.__setstate__(dict(est.__dict__))
    np.testing.assert_array_equal(old.transform(events), est.transform(events))
    assert old.top_k_values_ is est.top_k_values_


def test_portable_state_converts_both_ways():
    ts = pd.Timestamp("2022-06-01 12:30:00.000001").as_unit("us")
    state = {"a_": ts, "pairs_": {("buy", "sku"): np.arange(3)}, "aware_": ts.tz_localize("UTC")}
    plain = portable_state(state, ("pairs_",))
    assert isinstance(plain["a_"], np.datetime64) and plain["pairs_"][0][0] == ["buy", "sku"]
    assert plain["aware_"] is state["aware_"]  # left as is
    assert plain[PORTABLE_KEY] == {"timestamps": ["a_"], "pairs": ["pairs_"]}
    back = restored_state(plain)
    assert back.keys() == state.keys() and back["a_"] == ts and back["a_"].unit == "us"
    assert list(back["pairs_"]) == [("buy", "sku")]
    assert restored_state({"x": 1}) == {"x": 1}


def test_the_docs_list_the_trusted_types():
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "getting_started.rst").read_text()
    block = page.split(".. code-block:: text", 1)[1].split("\n\n")[1]
    assert [line.strip() for line in block.splitlines()] == list(SKOPS_TRUSTED_TYPES)
