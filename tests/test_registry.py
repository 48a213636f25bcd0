"""The estimator registry and the member hooks: a toy member joins without library changes."""

import joblib
import numpy as np
import pandas as pd
import pytest

import sklearn_ubp
from sklearn_ubp import UniversalProfile, group_events
from sklearn_ubp._base import EventTransformer
from sklearn_ubp._cli import available_models, main
from sklearn_ubp._profile import DEFAULT_MEMBERS
from sklearn_ubp._registry import ESTIMATORS, EstimatorSpec, estimator_class, make_estimator


class ToyMember(EventTransformer):
    """Two columns per user: log1p of the number of events and the mean of ``toy``."""

    _ubp_postprocess = "learned"

    def __init__(self, field="toy"):
        self.field = field

    def _ubp_requirement(self, view):
        return self._missing_columns(view, [self.field])

    def fit(self, X, y=None):
        self._validate_input(X, reset=True)
        return self

    def transform(self, X):
        view = self._validate_input(X, reset=False)
        user = view.user_of_event()
        values = view.numpy(self.field, fill=0.0).astype(np.float64)
        total = np.bincount(user, weights=values, minlength=view.n_users)
        mean = total / np.maximum(view.lengths, 1)
        return self._finish(np.column_stack([np.log1p(view.lengths), mean + 1.0]), view)

    def get_feature_names_out(self, input_features=None):
        return np.array(["toy_count", "toy_mean"], dtype=object)


@pytest.fixture
def toy_registered(monkeypatch):
    monkeypatch.setitem(ESTIMATORS, "toy", EstimatorSpec(f"{__name__}:ToyMember", {"field": "toy"}))
    monkeypatch.setitem(DEFAULT_MEMBERS, "toy", ("toy", {}))


def _frame(with_toy=True, seed=0):
    rng = np.random.default_rng(seed)
    n = 400
    log = pd.DataFrame(
        {
            "client_id": rng.integers(0, 60, n),
            "timestamp": pd.Timestamp("2022-01-01")
            + pd.to_timedelta(rng.integers(0, 60 * 86400, n), "s"),
            "event_type": rng.choice(["product_buy", "page_visit"], n),
            "category": rng.integers(0, 5, n),
            "amount": rng.gamma(2.0, 2.0, n),
        }
    )
    if with_toy:
        log["toy"] = rng.normal(size=n) + 3.0
    return group_events(log)


def test_registry_serves_the_package_and_the_cli():
    assert list(available_models()) == list(ESTIMATORS)
    for name, spec in ESTIMATORS.items():
        assert getattr(sklearn_ubp, spec.class_name) is estimator_class(name)
    assert make_estimator("svd").item == "category"
    with pytest.raises(KeyError, match="no estimator is registered as 'lstm'"):
        estimator_class("lstm")


@pytest.mark.filterwarnings("ignore:n_components=64 but the matrix")
def test_toy_member_gets_post_processing_and_adaptive_skipping(toy_registered):
    profile = UniversalProfile(random_state=0, transformer_list=None)
    profile.set_params(gru__max_epochs=1)  # the default members, as a list that adapts
    Z = profile.fit_transform(_frame())
    names = profile.get_feature_names_out().tolist()
    block = [i for i, n in enumerate(names) if n.startswith("toy__")]
    assert [names[i] for i in block] == ["toy__toy_count", "toy__toy_mean"]
    # "learned" members are L2-normalised row by row, as the paper does.
    np.testing.assert_allclose(np.linalg.norm(Z[:, block], axis=1), 1.0, rtol=1e-5)
    assert profile.postprocessors_["toy"] is not None
    # Without its column, the default toy member is left out with its reason.
    without = UniversalProfile(random_state=0).set_params(gru__max_epochs=1)
    without.fit(_frame(with_toy=False))
    assert "toy" in without.skipped_members_
    assert "lacks column(s) ['toy']" in without.skipped_members_["toy"]


def test_toy_member_from_the_command_line(toy_registered, tmp_path, capsys):
    rng = np.random.default_rng(1)
    n = 300
    long = pd.DataFrame(
        {
            "client_id": rng.integers(0, 40, n),
            "timestamp": pd.Timestamp("2022-01-01")
            + pd.to_timedelta(rng.integers(0, 30 * 86400, n), "s"),
            "toy": rng.normal(size=n),
        }
    )
    long.to_parquet(tmp_path / "log.parquet", index=False)
    model_file = tmp_path / "toy.joblib"
    status = main(["fit", str(tmp_path / "log.parquet"), "--out", str(model_file),
                   "--model", "toy", "--quiet"])  # fmt: skip
    assert status == 0
    model = joblib.load(model_file)
    assert type(model).__name__ == "ToyMember" and model.field == "toy"
    out = capsys.readouterr().out
    assert "ToyMember, fitted on 40 users" in out
    emb = tmp_path / "emb.parquet"
    status = main(["embed", str(model_file), str(tmp_path / "log.parquet"), "--out", str(emb),
                   "--quiet"])  # fmt: skip
    assert status == 0
    assert pd.read_parquet(emb).shape == (40, 2)


@pytest.mark.filterwarnings("ignore:n_components=64 but the matrix")
def test_output_indices_are_the_member_blocks(toy_registered):
    profile = UniversalProfile(random_state=0).set_params(gru__max_epochs=1)
    Z = profile.fit_transform(_frame())
    indices = profile.output_indices_
    names = profile.get_feature_names_out()
    assert list(indices)[: len(profile.transformers_)] == [n for n, _ in profile.transformers_]
    covered = np.concatenate([np.arange(Z.shape[1])[cols] for cols in indices.values()])
    np.testing.assert_array_equal(covered, np.arange(Z.shape[1]))  # in order, no overlap
    for name, cols in indices.items():
        assert all(n.startswith(f"{name}__") for n in names[cols])
    for name in profile.skipped_members_:
        assert indices[name] == slice(0, 0)
