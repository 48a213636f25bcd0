"""UniversalProfile: members, defaults that adapt to the fields, post-processing, chunks,
and scikit-learn end to end (Pipeline, cross_val_score, GridSearchCV, joblib)."""

import copy
import io
import warnings
from contextlib import redirect_stdout
from typing import ClassVar

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklearn_ubp import (
    EventCountEmbedder,
    GRUSequenceAutoencoder,
    SVDItemEmbedder,
    UniversalProfile,
    group_events,
)
from sklearn_ubp._profile import DEFAULT_MEMBERS, DefaultMembers
from sklearn_ubp.datasets import make_events

#: The README's Pipeline / GridSearchCV / joblib example, run by test_readme_example.
README_EXAMPLE = """
import joblib
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline

from sklearn_ubp import UniversalProfile
from sklearn_ubp.datasets import make_events

data = make_events(n_users=300, random_state=0)
X = data.events  # one row per user: train_test_split, KFold, ... split by user
trait = data.traits["buy_propensity"]
y = (trait > trait.median()).to_numpy()  # a hidden trait of each synthetic user

# The default members (a GRU autoencoder, counts, SVDs over categories and urls); a
# short GRU training keeps this example fast.
profile = UniversalProfile(random_state=0).set_params(gru__max_epochs=1, gru__max_length=32)
pipe = Pipeline([("ubp", profile), ("clf", LogisticRegression(max_iter=1000))])
scores = cross_val_score(pipe, X, y, cv=2, scoring="roc_auc")

search = GridSearchCV(pipe, {"ubp__gru__hidden_size": [8, 16]}, cv=2, scoring="roc_auc")
search.fit(X, y)
best = search.best_estimator_
proba = best.predict_proba(X.iloc[:5])

profiles = best["ubp"].set_output(transform="pandas").transform(X)  # indexed by user id
joblib.dump(best, "model.joblib")
assert (joblib.load("model.joblib").predict_proba(X) == best.predict_proba(X)).all()
"""

TINY_GRU = {"hidden_size": 8, "embedding_dim": 8, "max_length": 16, "max_epochs": 2}


def tiny_gru(**params) -> GRUSequenceAutoencoder:
    return GRUSequenceAutoencoder(**{**TINY_GRU, "random_state": 0, **params})


def classic(n_components: int = 6) -> list:
    return [
        ("counts", EventCountEmbedder(top_k=3)),
        (
            "svd_category",
            SVDItemEmbedder(item="category", n_components=n_components, random_state=0),
        ),
        (
            "svd_url",
            SVDItemEmbedder(item="url", n_components=n_components, max_items=300, random_state=0),
        ),
    ]


def small_defaults(**params) -> UniversalProfile:
    """The default members (materialised), small."""
    nested = {f"gru__{k}": v for k, v in TINY_GRU.items()}
    return UniversalProfile(random_state=0, **params).set_params(
        **nested, svd_category__n_components=4, svd_url__n_components=4
    )


@pytest.fixture(scope="module")
def events():
    return make_events(n_users=500, random_state=5).events


@pytest.fixture(scope="module")
def gru_profile(events):
    """The GRU and the classic members, fitted on the first 400 users."""
    members = [("gru", tiny_gru()), *classic()]
    profile = UniversalProfile(members, chunk_size=None, n_components=None, random_state=0)
    return profile.fit(events.iloc[:400])


@pytest.fixture(scope="module")
def purchases():
    """A user's own log: purchases only, timestamp and numeric amount / quantity."""
    rng = np.random.default_rng(0)
    n = 240
    log = pd.DataFrame(
        {
            "client_id": rng.integers(0, 40, n),
            "timestamp": pd.Timestamp("2023-01-01")
            + pd.to_timedelta(rng.integers(0, 90 * 86400, n), unit="s"),
            "amount": rng.gamma(2.0, 15.0, n).round(2),
            "quantity": rng.integers(1, 5, n),
        }
    )
    return group_events(log)


# ------------------------------------------------------------------ defaults


@pytest.mark.slow
def test_default_profile_adapts_to_a_purchase_only_log(purchases):
    profile = UniversalProfile(random_state=0)
    out = profile.fit_transform(purchases)
    assert [name for name, _ in profile.transformers_] == ["gru", "counts"]
    assert set(profile.skipped_members_) == {"svd_category", "svd_url"}
    assert "url" in profile.skipped_members_["svd_url"]
    assert out.dtype == np.float32 and np.isfinite(out).all() and len(out) == len(purchases)
    names = list(profile.get_feature_names_out())
    assert len(names) == out.shape[1]
    assert {"counts__sum_any_amount_all", "counts__mean_any_quantity"} <= set(names)
    assert profile.named_transformers_["gru"].fields_ == ["day"]
    np.testing.assert_allclose(profile.transform(purchases), out, rtol=1e-5, atol=1e-5)
    # materialised defaults adapt just the same
    small = small_defaults().fit(purchases)
    assert [name for name, _ in small.transformers_] == ["gru", "counts"]
    needs_sku = small_defaults().set_params(gru__fields=("day", "sku")).fit(purchases)
    assert "sku" in needs_sku.skipped_members_["gru"]


def test_explicit_member_with_missing_fields_raises(purchases):
    with pytest.raises(ValueError, match="url"):
        UniversalProfile([("svd_url", SVDItemEmbedder(item="url"))]).fit(purchases)
    with pytest.raises(ValueError, match="sku"):
        UniversalProfile([("gru", tiny_gru(fields=("day", "sku")))]).fit(purchases)


def test_defaults_are_listed_and_materialised_by_set_params():
    profile = UniversalProfile(random_state=7)
    params = profile.get_params(deep=True)
    assert params["transformer_list"] is None
    assert set(DEFAULT_MEMBERS) <= set(params)
    assert params["gru__hidden_size"] == DEFAULT_MEMBERS["gru"][1]["hidden_size"]
    assert params["svd_url__item"] == "url" and params["svd_url__random_state"] == 7
    assert clone(profile).transformer_list is None
    # every get_params gives fresh default estimators
    assert profile.get_params()["gru"] is not params["gru"]

    assert profile.set_params(gru__hidden_size=16) is profile
    members = profile.transformer_list
    assert isinstance(members, DefaultMembers)
    assert [n for n, _ in members] == list(DEFAULT_MEMBERS)
    assert dict(members)["gru"].hidden_size == 16
    assert dict(members)["svd_category"].random_state == 7
    cloned = clone(profile)
    assert isinstance(cloned.transformer_list, DefaultMembers)
    assert dict(cloned.transformer_list)["gru"] is not dict(members)["gru"]
    assert cloned.get_params()["gru__hidden_size"] == 16
    # replacing or dropping a member keeps the adaptive list
    profile.set_params(counts="drop")
    assert isinstance(profile.transformer_list, DefaultMembers)
    assert dict(profile.transformer_list)["counts"] == "drop"
    # the random_state given with a member parameter is the one the defaults get
    other = UniversalProfile().set_params(random_state=3, svd_url__n_components=5)
    assert dict(other.transformer_list)["svd_url"].random_state == 3
    # profile parameters alone do not materialise anything
    assert UniversalProfile().set_params(chunk_size=10).transformer_list is None


def test_default_members_skip_absent_fields_and_empty_columns(events):
    frame = events.drop(columns=["url"])
    profile = small_defaults().fit(frame)
    assert [n for n, _ in profile.transformers_] == ["gru", "counts", "svd_category"]
    assert list(profile.skipped_members_) == ["svd_url"]
    empty = events.assign(
        category=pd.Series(
            [[None] * len(v) for v in events["timestamp"]], index=events.index
        ).astype(events["category"].dtype)
    )
    profile = small_defaults(postprocess=None).set_params(gru="drop").fit(empty.iloc[:200])
    assert "svd_category" in profile.skipped_members_


def test_default_members_on_arrays_skip_the_duplicate_svd():
    X = np.random.default_rng(0).poisson(1.0, size=(60, 12)).astype(float)
    profile = small_defaults().fit(X)
    assert [n for n, _ in profile.transformers_] == ["gru", "counts", "svd_category"]
    assert "duplicate" in profile.skipped_members_["svd_url"]
    assert profile.n_features_in_ == 12
    counts = profile.named_transformers_["counts"].get_feature_names_out()
    assert profile.transform(X).shape == (60, 8 + len(counts) + 4)


# ------------------------------------------------------------------ post-processing


@pytest.mark.slow
def test_default_and_paper_postprocessing(gru_profile, events):
    train = events.iloc[:400]
    out = gru_profile.transform(train)
    names = gru_profile.get_feature_names_out().astype(str)
    blocks = {m: out[:, np.char.startswith(names, f"{m}__")] for m, _ in gru_profile.transformers_}
    for m in ("gru", "svd_category", "svd_url"):  # learned: unit rows (zero without signal)
        norms = np.linalg.norm(blocks[m], axis=1)
        assert np.all((np.abs(norms - 1) < 1e-5) | (norms == 0)), m
        assert (norms > 0).sum() >= 10, m
    assert gru_profile.postprocessors_["gru"].steps[0][0] == "l2"
    # "auto" (the default): statistics standardised on the training users
    assert gru_profile.postprocess == "auto"
    assert gru_profile.postprocessors_["counts"].steps[0][0] == "standard"
    counts = blocks["counts"].astype(np.float64)
    raw = gru_profile.named_transformers_["counts"].transform(train).astype(np.float64)
    varying = raw.std(axis=0) > 0
    assert varying.sum() >= 10
    np.testing.assert_allclose(counts.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(counts[:, varying].std(axis=0), 1, rtol=1e-3)
    np.testing.assert_allclose(counts[:, ~varying], 0, atol=1e-6)
    expected = (raw - raw.mean(axis=0)) / np.where(varying, raw.std(axis=0), 1)
    np.testing.assert_allclose(counts, expected, rtol=1e-4, atol=1e-4)

    # "paper": statistics through a uniform quantile transform
    paper = UniversalProfile(classic(), postprocess="paper").fit(train)
    assert paper.postprocessors_["counts"].steps[0][0] == "quantile"
    assert paper.postprocessors_["svd_url"].steps[0][0] == "l2"
    q = paper.transform(train)[:, : raw.shape[1]]
    assert q.min() >= 0 and q.max() <= 1 and q.max() == 1

    raw = UniversalProfile(classic(), postprocess=None).fit_transform(train)
    width = counts.shape[1]
    np.testing.assert_array_equal(raw[:, :width], EventCountEmbedder(top_k=3).fit_transform(train))
    mixed = UniversalProfile(classic(), postprocess={"counts": "l2", "svd_url": None})
    out = mixed.fit(train).transform(train)
    assert mixed.postprocessors_["svd_url"] is None
    np.testing.assert_array_equal(out[:, -6:], raw[:, -6:])
    norms = np.linalg.norm(out[:, :width], axis=1)
    np.testing.assert_allclose(norms[norms > 0], 1, rtol=1e-5)


@pytest.mark.slow
def test_weights_and_pca_widths(events):
    base = UniversalProfile(classic(), random_state=0).fit_transform(events)
    weighted = UniversalProfile(
        classic(), transformer_weights={"svd_url": 2.5, "counts": 0.5}, random_state=0
    ).fit_transform(events)
    np.testing.assert_allclose(weighted[:, -6:], 2.5 * base[:, -6:], rtol=1e-6)
    np.testing.assert_allclose(weighted[:, :-12], 0.5 * base[:, :-12], rtol=1e-6)

    pca = UniversalProfile(classic(), n_components=5, random_state=0)
    out = pca.fit_transform(events)
    assert out.shape == (len(events), 15)
    assert list(pca.get_feature_names_out()[:2]) == ["counts__pca0", "counts__pca1"]
    per_member = UniversalProfile(classic(), n_components={"counts": 3, "svd_url": 2})
    out = per_member.fit_transform(events)
    assert out.shape[1] == 3 + 6 + 2
    names = per_member.get_feature_names_out()
    assert list(names[3:5]) == ["svd_category__svd_category_0", "svd_category__svd_category_1"]
    assert names[-1] == "svd_url__pca1"
    # PCA wider than the member: its width
    assert UniversalProfile(classic(), n_components=50).fit_transform(events).shape[1] == 50 + 12


@pytest.mark.slow
def test_feature_names(events):
    profile = UniversalProfile(classic()).fit(events)
    names = profile.get_feature_names_out()
    counts = profile.named_transformers_["counts"].get_feature_names_out()
    assert list(names[: len(counts)]) == [f"counts__{n}" for n in counts]
    assert names[0] == "counts__count_any_7d" and names[-1] == "svd_url__svd_url_5"
    plain = UniversalProfile(classic(), verbose_feature_names_out=False).fit(events)
    assert plain.get_feature_names_out()[-1] == "svd_url_5"
    twice = [("a", SVDItemEmbedder(item="url", n_components=2)), ("b", SVDItemEmbedder("url", 2))]
    with pytest.raises(ValueError, match="not unique"):
        UniversalProfile(twice, verbose_feature_names_out=False).fit(events).get_feature_names_out()


# ------------------------------------------------------------------ transform


@pytest.mark.slow
def test_chunked_transform_equals_unchunked(gru_profile, events):
    out = gru_profile.transform(events)
    chunked = copy.deepcopy(gru_profile).set_params(chunk_size=128)
    np.testing.assert_allclose(chunked.transform(events), out, rtol=1e-5, atol=1e-6)
    # the classic members are exactly equal
    classic_only = UniversalProfile(classic(), chunk_size=None).fit(events)
    exact = classic_only.transform(events)
    classic_only.set_params(chunk_size=100)
    np.testing.assert_array_equal(classic_only.transform(events), exact)
    # fit_transform on more users than a chunk: each member's output computed once
    np.testing.assert_allclose(
        UniversalProfile(classic(), chunk_size=100).fit_transform(events),
        exact,
        rtol=1e-5,
        atol=1e-6,
    )


class SpyCounts(EventCountEmbedder):
    """Records the users each call embeds (shared by the profile's clones)."""

    calls: ClassVar[list] = []

    def fit(self, X, y=None):
        self.calls.append(("fit", len(X)))
        return super().fit(X, y)

    def fit_transform(self, X, y=None, **params):
        self.calls.append(("fit_transform", len(X)))
        return super().fit_transform(X, y)

    def transform(self, X):
        self.calls.append(("transform", len(X)))
        return super().transform(X)


@pytest.mark.parametrize("postprocess", ["auto", None])
def test_fit_transform_computes_each_output_once_above_chunk_size(events, postprocess):
    SpyCounts.calls.clear()
    profile = UniversalProfile([("spy", SpyCounts())], postprocess=postprocess, chunk_size=100)
    out = profile.fit_transform(events)
    assert SpyCounts.calls == [("fit_transform", len(events))]
    SpyCounts.calls.clear()
    np.testing.assert_allclose(profile.transform(events), out, rtol=1e-5, atol=1e-6)
    assert SpyCounts.calls == [("transform", 100)] * 5  # transform: in chunks
    SpyCounts.calls.clear()
    profile.fit(events)
    expected = [("fit_transform" if postprocess else "fit", len(events))]
    assert SpyCounts.calls == expected  # fit: an output only to fit the post-processing


class WeightedCounts(EventCountEmbedder):
    """Records the ``sample_weight`` its ``fit`` receives."""

    seen: ClassVar[list] = []

    def fit(self, X, y=None, sample_weight=None):
        self.seen.append(sample_weight)
        return super().fit(X, y)


def test_metadata_routing(events):
    WeightedCounts.seen.clear()
    weights = np.arange(len(events), dtype=float)
    with config_context(enable_metadata_routing=True):
        member = WeightedCounts().set_fit_request(sample_weight=True)
        members = [("w", member), ("c", EventCountEmbedder())]
        UniversalProfile(members, postprocess=None).fit(events, sample_weight=weights)
    assert len(WeightedCounts.seen) == 1 and WeightedCounts.seen[0] is weights
    profile = UniversalProfile(classic()).fit(events)
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        profile.transform(events, sample_weight=weights)


def test_set_params_replaces_members_and_sets_nested_parameters(events):
    profile = UniversalProfile(classic())
    params = profile.get_params(deep=True)
    assert params["counts"] is profile["counts"] and params["counts__top_k"] == 3
    members = profile.transformer_list
    profile.set_params(svd_url="drop", counts__top_k=2, chunk_size=7)
    assert dict(profile.transformer_list)["svd_url"] == "drop"
    assert type(profile.transformer_list) is list and members[2][1] != "drop"
    assert profile["counts"].top_k == 2 and profile.chunk_size == 7
    with pytest.raises(ValueError, match="nope"):
        profile.set_params(nope__x=1)
    with pytest.raises(KeyError):
        profile[0]
    # an invalid transformer_list is reported by fit, not by get_params / set_params
    broken = UniversalProfile(["counts"]).set_params(chunk_size=5)
    assert "counts" not in broken.get_params(deep=True)
    with pytest.raises(TypeError, match="transformer_list"):
        broken.fit(events)


def test_new_users_and_empty_histories(gru_profile, events):
    profile = gru_profile  # fitted on the first 400 users
    unseen = events.iloc[400:]
    out = profile.transform(unseen)
    assert np.isfinite(out).all() and out.dtype == np.float32
    assert len(np.unique(out.round(4), axis=0)) > len(unseen) // 2  # real, distinct vectors
    empty = events.iloc[:3].copy()
    for c in empty.columns:
        empty[c] = pd.Series([[]] * 3, index=empty.index).astype(events[c].dtype)
    rows = profile.transform(empty)
    assert np.isfinite(rows).all() and rows.shape == (3, out.shape[1])


def test_pyarrow_and_polars_frames(events):
    profile = UniversalProfile(classic()).fit(events)
    expected = profile.transform(events)
    table = pa.Table.from_pandas(events.reset_index(), preserve_index=False)
    np.testing.assert_array_equal(profile.transform(table), expected)
    pl = pytest.importorskip("polars")
    np.testing.assert_array_equal(profile.transform(pl.from_arrow(table)), expected)


def test_drop_and_passthrough(events):
    members = [*classic(), ("extra", "drop")]
    out = UniversalProfile(members).fit_transform(events)
    assert out.shape[1] == UniversalProfile(classic()).fit_transform(events).shape[1]
    with pytest.raises(ValueError, match="passthrough"):
        UniversalProfile([("raw", "passthrough")]).fit(events)
    X = np.random.default_rng(0).normal(size=(30, 4))
    both = UniversalProfile([("raw", "passthrough"), ("counts", EventCountEmbedder())]).fit(X)
    np.testing.assert_allclose(both.transform(X)[:, :4], X, rtol=1e-6)
    assert list(both.get_feature_names_out()[:2]) == ["raw__x0", "raw__x1"]
    nothing = UniversalProfile([("a", "drop")]).fit(events)
    assert nothing.transform(events).shape == (len(events), 0)


def test_parameter_errors(events):
    with pytest.raises(ValueError, match="transformer_weights"):
        UniversalProfile(classic(), transformer_weights={"nope": 1.0}).fit(events)
    with pytest.raises(ValueError, match="postprocess"):
        UniversalProfile(classic(), postprocess={"counts": "zscore"}).fit(events)
    with pytest.raises(ValueError, match="n_components"):
        UniversalProfile(classic(), n_components={"counts": 0}).fit(events)
    with pytest.raises(ValueError, match="chunk_size"):
        UniversalProfile(classic(), chunk_size=0).fit(events)
    with pytest.raises(TypeError, match="fit and transform"):
        UniversalProfile([("x", object())]).fit(events)
    with pytest.raises(ValueError, match="unique"):
        UniversalProfile([("a", EventCountEmbedder()), ("a", EventCountEmbedder())]).fit(events)
    profile = UniversalProfile(classic()).fit(events)
    with pytest.raises(ValueError, match="fitted on an event frame"):
        profile.transform(np.zeros((3, 4)))


@pytest.mark.slow
def test_verbose_and_n_jobs(events):
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        profile = UniversalProfile(classic(), verbose=True, chunk_size=300).fit(events)
        profile.transform(events)
    text = buffer.getvalue()
    assert "(1 of 3) counts: fit in" in text and "(3 of 3) svd_url" in text
    assert "transform users 300-500 of 500" in text
    few = events.iloc[:150]
    parallel = UniversalProfile(classic(), n_jobs=2, chunk_size=100).fit(few)
    serial = UniversalProfile(classic(), chunk_size=100).fit(few)
    np.testing.assert_array_equal(parallel.transform(few), serial.transform(few))


def test_members_are_not_fitted_in_place(events):
    members = classic()
    profile = UniversalProfile(members).fit(events)
    assert not hasattr(members[0][1], "reference_time_")
    assert profile.named_transformers_["counts"] is not members[0][1]
    assert profile.named_transformers["counts"] is members[0][1]
    assert profile["counts"] is members[0][1]
    assert "svd_url" in profile._repr_html_()
    assert "gru" in UniversalProfile()._repr_html_()


# ------------------------------------------------------------------ end to end


@pytest.mark.slow
def test_pipeline_gridsearch_over_member_parameter(events):
    y = np.asarray([len(t) > 2 for t in events["timestamp"]])
    pipe = Pipeline(
        [("ubp", UniversalProfile(classic(), random_state=0)), ("clf", LogisticRegression())]
    )
    search = GridSearchCV(pipe, {"ubp__svd_url__n_components": [2, 4]}, cv=2).fit(events, y)
    assert search.best_params_["ubp__svd_url__n_components"] in (2, 4)
    fitted = search.best_estimator_["ubp"].named_transformers_["svd_url"]
    assert fitted.n_components == search.best_params_["ubp__svd_url__n_components"]
    proba = search.predict_proba(events)
    assert proba.shape == (len(events), 2)


@pytest.mark.slow
def test_readme_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # SVD: fewer categories than factors
        exec(compile(README_EXAMPLE, "README_EXAMPLE", "exec"), namespace)
    profiles = namespace["profiles"]
    X = namespace["X"]
    assert isinstance(profiles, pd.DataFrame) and profiles.index.equals(X.index)
    assert profiles.columns[0].startswith("gru__")
    assert namespace["proba"].shape == (5, 2)
    assert namespace["search"].best_params_["ubp__gru__hidden_size"] in (8, 16)
    assert (tmp_path / "model.joblib").exists()
    reloaded = joblib.load(tmp_path / "model.joblib")
    pd.testing.assert_frame_equal(reloaded["ubp"].transform(X), profiles)


def test_auto_components_reduce_learned_members_only(events):
    members = [("gru", tiny_gru(hidden_size=24)), *classic()]
    profile = UniversalProfile(members, random_state=0).fit(events.iloc[:400])
    assert profile.n_components == "auto"
    post = profile.postprocessors_
    # the GRU (24 wide) is reduced to 16 after its L2 normalisation; the 6-wide SVD
    # members are not rotated; the counts (statistics) keep every column
    assert [name for name, _ in post["gru"].steps] == ["l2", "pca"]
    assert post["gru"].named_steps["pca"].n_components_ == 16
    assert [name for name, _ in post["svd_url"].steps] == ["l2"]
    assert [name for name, _ in post["counts"].steps] == ["standard"]
    names = profile.get_feature_names_out()
    width = profile.named_transformers_["counts"].get_feature_names_out().size
    assert len(names) == width + 16 + 6 + 6
    assert profile.transform(events.iloc[:50]).shape == (50, len(names))


@pytest.mark.slow
def test_a_frame_without_users_gives_an_empty_profile(events):
    """No users at transform: (0, width), also through the scalers and the PCA."""
    profile = UniversalProfile(classic(), n_components={"counts": 3}, random_state=0)
    width = profile.fit(events.iloc[:200]).transform(events.iloc[:5]).shape[1]
    out = profile.transform(events.iloc[:0])
    assert out.shape == (0, width) and out.dtype == np.float32
    assert profile.set_output(transform="pandas").transform(events.iloc[:0]).shape == (0, width)
