import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import svds
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.utils.estimator_checks import check_estimator

from sklearn_ubp import group_events
from sklearn_ubp._frame import filter_events
from sklearn_ubp._svd import DEFAULT_EVENT_WEIGHTS, SVDItemEmbedder
from sklearn_ubp.datasets import make_events
from sklearn_ubp.evaluation import evaluate, make_tasks, random_embeddings

#: check_estimator checks expected to fail, with the reason (none so far).
EXPECTED_FAILED_CHECKS: dict[str, str] = {}

T0 = np.datetime64("2022-06-23T00:00:00", "us")


def _log(rows):
    """A long log from (client_id, event_type, category, url) tuples, one minute apart."""
    frame = pd.DataFrame(rows, columns=["client_id", "event_type", "category", "url"])
    frame["timestamp"] = T0 + np.arange(len(frame)).astype("timedelta64[m]")
    frame["category"] = frame["category"].astype("Int64")
    frame["url"] = frame["url"].astype("Int64")
    return frame


def _random_frame(n_users=300, n_events=5_000, n_items=40, seed=0):
    rng = np.random.default_rng(seed)
    types = np.array(["product_buy", "add_to_cart", "remove_from_cart", "page_visit"])
    event_type = types[rng.choice(4, n_events, p=[0.1, 0.2, 0.1, 0.6])]
    visit = event_type == "page_visit"
    # Zipf-ish items so that users differ.
    category = pd.array(rng.zipf(1.3, n_events) % n_items, dtype="Int64")
    url = pd.array(rng.zipf(1.2, n_events) % (3 * n_items), dtype="Int64")
    category[visit] = pd.NA
    url[~visit] = pd.NA
    long = pd.DataFrame(
        {
            "client_id": rng.integers(0, n_users, n_events) * 7 + 3,
            "timestamp": T0 + rng.integers(0, 30 * 86_400, n_events).astype("timedelta64[s]"),
            "event_type": event_type,
            "category": category,
            "price": rng.integers(0, 5, n_events),
            "url": url,
        }
    )
    return group_events(long)


@pytest.fixture(scope="module")
def frame():
    return _random_frame()


@pytest.fixture(scope="module")
def big_frame():
    # Over 1,000 users, 1,500 categories (the Gram solver) and over 2,000 urls (the
    # randomized solver).
    return _random_frame(n_users=2_500, n_events=40_000, n_items=1_500, seed=1)


def _flat(frame):
    """The events of an event frame as a long table (client_id, then the fields)."""
    users = frame.index.repeat(frame["timestamp"].list.len())
    data = {c: frame[c].list.flatten().to_numpy() for c in frame.columns if c != "timestamp"}
    return pd.DataFrame(data, index=users).reset_index()


def _counts(frame, item, weights=DEFAULT_EVENT_WEIGHTS):
    """The weighted user x item matrix, the slow obvious way."""
    long = _flat(frame)
    long = long[long[item].notna()]
    long = long.assign(w=long["event_type"].astype(str).map(weights).fillna(0.0).astype(float))
    long = long[long.w != 0]
    table = long.pivot_table(index="client_id", columns=item, values="w", aggfunc="sum")
    return table.reindex(frame.index).fillna(0.0)


# ------------------------------------------------------------------ fitting and fold-in


@pytest.mark.parametrize("item", ["category", "url", ("category", "price")])
@pytest.mark.parametrize("weighting", [None, "tfidf", "bm25"])
def test_fold_in_equals_fit(frame, item, weighting):
    svd = SVDItemEmbedder(item=item, n_components=8, weighting=weighting, random_state=0)
    fitted = svd.fit_transform(frame)
    assert fitted.dtype == np.float32 and fitted.shape == (len(frame), 8)
    assert np.isfinite(fitted).all()
    np.testing.assert_allclose(svd.transform(frame), fitted, atol=1e-6)


def test_fold_in_equals_fit_randomized(big_frame):
    svd = SVDItemEmbedder(item="url", n_components=16, random_state=0)
    fitted = svd.fit_transform(big_frame)
    assert len(svd.vocabulary_) > 1_000
    np.testing.assert_allclose(svd.transform(big_frame), fitted, atol=1e-6)
    # fit().transform() gives the same as fit_transform().
    again = SVDItemEmbedder(item="url", n_components=16, random_state=0).fit(big_frame)
    np.testing.assert_array_equal(again.transform(big_frame), fitted)


@pytest.mark.parametrize("item, n_items", [("category", (1_000, 2_000)), ("url", (2_000, 1e9))])
def test_large_solvers_find_the_leading_factors(big_frame, item, n_items):
    """The Gram (1,000-2,000 items) and randomized (more) solvers match ARPACK."""
    svd = SVDItemEmbedder(item=item, n_components=4, normalize=False, random_state=0)
    svd.fit(big_frame)
    assert n_items[0] < len(svd.vocabulary_) <= n_items[1]
    A = sp.csr_array(_counts(big_frame, item).to_numpy())
    s = np.sort(svds(A, k=4, random_state=0)[1])[::-1]
    np.testing.assert_allclose(svd.singular_values_, s, rtol=1e-3)


def test_output_reconstructs_weighted_counts(frame):
    """Full rank, unnormalised: U S V^T is the matrix, with buy = 3 x add-to-cart."""
    A = _counts(frame, "category")
    svd = SVDItemEmbedder(item="category", n_components=A.shape[1], normalize=False)
    emb = svd.fit_transform(frame)
    np.testing.assert_array_equal(svd.vocabulary_, A.columns.to_numpy())
    np.testing.assert_allclose(emb @ svd.item_embeddings_.T, A.to_numpy(), atol=1e-4)
    V = svd.item_embeddings_.astype(np.float64)
    np.testing.assert_allclose(V.T @ V, np.eye(V.shape[1]), atol=1e-5)
    assert (np.diff(svd.singular_values_) <= 1e-9).all()


def test_event_weights_are_respected():
    log = _log(
        [
            (1, "product_buy", 10, None),
            (2, "add_to_cart", 10, None),
            (3, "product_buy", 11, None),
            (3, "add_to_cart", 12, None),
            (4, "remove_from_cart", 10, None),
        ]
    )
    frame = group_events(log)
    svd = SVDItemEmbedder(n_components=3, normalize=False).fit(frame)
    emb = svd.transform(frame)
    norms = np.linalg.norm(emb, axis=1)
    np.testing.assert_allclose(norms[:2], [3.0, 1.0], rtol=1e-5)
    np.testing.assert_array_equal(emb[3], 0.0)  # remove_from_cart weighs 0
    # User 3: category 11 bought (3), category 12 added to cart (1).
    recon = emb @ svd.item_embeddings_.T
    np.testing.assert_allclose(recon[2], [0.0, 3.0, 1.0], atol=1e-5)
    # Custom weights flip it, and name an event type that does not occur (ignored).
    custom = {"product_buy": 1, "add_to_cart": 5, "search_query": 2}
    svd = SVDItemEmbedder(n_components=3, normalize=False, event_weights=custom).fit(frame)
    recon = svd.transform(frame) @ svd.item_embeddings_.T
    np.testing.assert_allclose(recon[2], [0.0, 1.0, 5.0], atol=1e-5)


def test_similarity_ranking_follows_weights():
    """Who is user 3 closest to? The buyer with buy-heavy weights, else the carter."""
    log = _log(
        [
            (1, "product_buy", 10, None),
            (1, "product_buy", 10, None),
            (2, "add_to_cart", 11, None),
            (2, "add_to_cart", 11, None),
            (3, "product_buy", 10, None),
            (3, "add_to_cart", 11, None),
            (3, "add_to_cart", 11, None),
        ]
    )
    frame = group_events(log)

    def closest_to_3(weights):
        emb = SVDItemEmbedder(n_components=2, event_weights=weights).fit_transform(frame)
        return frame.index[np.argmax(emb[:2] @ emb[2])]

    assert closest_to_3({"product_buy": 3, "add_to_cart": 1}) == 1
    assert closest_to_3({"product_buy": 1, "add_to_cart": 3}) == 2


def test_unseen_items_are_ignored(frame):
    svd = SVDItemEmbedder(item="category", n_components=5, random_state=0).fit(frame)
    log = _log(
        [
            (1, "product_buy", 0, None),
            (1, "product_buy", 987_654, None),  # unseen in fit
            (2, "product_buy", 0, None),
            (3, "add_to_cart", 987_654, None),  # only unseen items
        ]
    )
    emb = svd.transform(group_events(log))
    np.testing.assert_array_equal(emb[0], emb[1])
    np.testing.assert_array_equal(emb[2], 0.0)
    assert np.linalg.norm(emb[0]) == pytest.approx(1.0, abs=1e-6)


def test_users_without_matching_events_get_zeros(frame):
    svd = SVDItemEmbedder(item="category", n_components=5, random_state=0).fit(frame)
    log = _log(
        [
            (1, "page_visit", None, 5),  # no category
            (2, "remove_from_cart", 0, None),  # weight 0
            (3, "product_buy", 0, None),
            (4, "product_buy", 0, None),
        ]
    )
    new = group_events(log)
    new = filter_events(new, new.index.repeat(new["timestamp"].list.len()) != 4)  # 4: none
    emb = svd.transform(new)
    np.testing.assert_array_equal(emb[[0, 1, 3]], 0.0)
    assert np.abs(emb[2]).sum() > 0
    assert np.isfinite(emb).all()


def test_transform_is_row_wise(frame):
    svd = SVDItemEmbedder(item="category", n_components=6, weighting="bm25", random_state=0)
    full = svd.fit(frame).transform(frame)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(frame))[:50]
    np.testing.assert_allclose(svd.transform(frame.iloc[order]), full[order], atol=1e-7)
    np.testing.assert_allclose(svd.transform(frame.iloc[[3]]), full[[3]], atol=1e-7)


def test_weighting_changes_the_result(frame):
    outputs = {}
    for weighting in [None, "tfidf", "bm25"]:
        svd = SVDItemEmbedder(item="url", n_components=6, weighting=weighting, random_state=0)
        outputs[weighting] = svd.fit_transform(frame)
        assert np.isfinite(outputs[weighting]).all()
        assert hasattr(svd, "idf_") == (weighting is not None)
    assert not np.allclose(outputs[None], outputs["tfidf"], atol=1e-3)
    assert not np.allclose(outputs[None], outputs["bm25"], atol=1e-3)
    assert not np.allclose(outputs["tfidf"], outputs["bm25"], atol=1e-3)


def test_tfidf_matches_tfidf_transformer(frame):
    counts = _counts(frame, "url")
    counts = counts[counts.sum(axis=1) > 0]  # idf counts the users with entries
    sub = frame.loc[counts.index]
    n = counts.shape[1]
    svd = SVDItemEmbedder(item="url", n_components=n, weighting="tfidf", normalize=False)
    recon = svd.fit_transform(sub) @ svd.item_embeddings_.T
    expected = TfidfTransformer().fit_transform(counts.to_numpy()).toarray()
    np.testing.assert_allclose(recon, expected, atol=1e-4)


def test_bm25_saturates_repeats():
    rows = [(1, "page_visit", None, 5)] * 20 + [(2, "page_visit", None, 5)] * 2
    rows += [(1, "page_visit", None, 6), (2, "page_visit", None, 6), (3, "page_visit", None, 7)]
    frame = group_events(_log(rows))
    svd = SVDItemEmbedder(item="url", n_components=3, normalize=False, weighting="bm25")
    recon = svd.fit_transform(frame) @ svd.item_embeddings_.T
    # 20 visits weigh less than (k1 + 1) = 2.2 times the idf; 10x the visits, < 2x the weight.
    assert 0 < recon[0, 0] / recon[1, 0] < 2
    assert (recon[:, 0] < 2.2 * svd.idf_[0] + 1e-5).all()


def test_combination_items(frame):
    svd = SVDItemEmbedder(item=("category", "price"), n_components=4, random_state=0)
    emb = svd.fit_transform(frame)
    long = _flat(frame)
    long = long[long.category.notna() & long.event_type.isin(["product_buy", "add_to_cart"])]
    pairs = sorted(set(zip(long.category.astype(int), long.price.astype(int), strict=True)))
    assert svd.vocabulary_.tolist() == pairs
    assert svd.item_embeddings_.shape == (len(pairs), 4)
    assert svd.get_feature_names_out()[0] == "svd_category_price_0"
    # A pair is one item: the same category at another price is another item.
    log = _log([(1, "product_buy", pairs[0][0], None)])
    new = group_events(log).assign(
        price=pd.Series([[pairs[0][1]]], dtype=frame.dtypes["price"], index=[1])
    )
    other = new.assign(price=pd.Series([[99]], dtype=frame.dtypes["price"], index=[1]))
    assert np.abs(svd.transform(new)).sum() > 0
    np.testing.assert_array_equal(svd.transform(other), 0.0)
    assert emb.shape == (len(frame), 4)


def test_vocabulary_selection(frame):
    full = SVDItemEmbedder(item="url", n_components=4, random_state=0).fit(frame)
    assert full.vocabulary_.shape == full.item_counts_.shape
    assert full.item_embeddings_.shape == (len(full.vocabulary_), 4)
    assert (np.diff(full.vocabulary_) > 0).all()
    top = SVDItemEmbedder(item="url", n_components=4, max_items=10, random_state=0).fit(frame)
    order = np.lexsort((full.vocabulary_, -full.item_counts_))[:10]
    np.testing.assert_array_equal(top.vocabulary_, np.sort(full.vocabulary_[order]))
    rare = SVDItemEmbedder(item="url", n_components=4, min_count=5, random_state=0).fit(frame)
    np.testing.assert_array_equal(rare.vocabulary_, full.vocabulary_[full.item_counts_ >= 5])
    assert (rare.item_counts_ >= 5).all()


def test_string_items_and_no_event_type():
    long = pd.DataFrame(
        {
            "client_id": [1, 1, 2, 3],
            "timestamp": T0 + np.arange(4).astype("timedelta64[m]"),
            "url": ["b", "a", "b", "c"],
        }
    )
    svd = SVDItemEmbedder(item="url", n_components=3, normalize=False)
    emb = svd.fit_transform(group_events(long))
    assert svd.vocabulary_.tolist() == ["a", "b", "c"]
    recon = emb @ svd.item_embeddings_.T  # every event weighs 1 without event_type
    np.testing.assert_allclose(recon, [[1, 1, 0], [0, 1, 0], [0, 0, 1]], atol=1e-5)


def test_too_many_components_warns_and_pads():
    log = _log([(1, "product_buy", 10, None), (2, "add_to_cart", 11, None)])
    svd = SVDItemEmbedder(n_components=5)
    with pytest.warns(UserWarning, match="only 2 factors"):
        emb = svd.fit_transform(group_events(log))
    assert emb.shape == (2, 5) and svd.n_components_ == 2
    np.testing.assert_array_equal(emb[:, 2:], 0.0)
    assert svd.item_embeddings_.shape == (2, 5)


def test_array_input_is_the_matrix(frame):
    counts = _counts(frame, "category")
    on_events = SVDItemEmbedder(n_components=5).fit_transform(frame)
    svd = SVDItemEmbedder(n_components=5).fit(counts.to_numpy())
    np.testing.assert_allclose(svd.transform(counts.to_numpy()), on_events, atol=1e-5)
    assert svd.get_feature_names_out()[0] == "svd_0"
    with pytest.raises(ValueError, match="fitted on a 2-D numeric array"):
        svd.transform(frame)


# ------------------------------------------------------------------ errors


def test_missing_item_column_is_named(frame):
    with pytest.raises(ValueError, match=r"'query_text'.*columns are \[.*'category'"):
        SVDItemEmbedder(item="query_text").fit(frame)
    svd = SVDItemEmbedder(item="url", n_components=3).fit(frame)
    with pytest.raises(ValueError, match=r"\['url'\].*columns are"):
        svd.transform(frame.drop(columns="url"))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"item": ()}, "non-empty"),
        ({"item": ("url", "url")}, "twice"),
        ({"item": "timestamp"}, "cannot be"),
        ({"event_weights": {"product_buy": np.nan}}, "finite"),
        ({"event_weights": {"product_buy": 0}}, "no event has"),
        ({"event_weights": {"product_bought": 1}}, "event types in the data"),
    ],
)
def test_bad_parameters(frame, params, match):
    with pytest.raises(ValueError, match=match):
        SVDItemEmbedder(**params).fit(frame)


# ------------------------------------------------------------------ interoperability


def test_polars_input_gives_the_same_output(frame):
    svd = SVDItemEmbedder(item="url", n_components=5, random_state=0)
    expected = svd.fit_transform(frame)
    as_polars = pl.from_pandas(frame.reset_index())
    np.testing.assert_allclose(svd.transform(as_polars), expected, atol=1e-7)
    np.testing.assert_allclose(
        SVDItemEmbedder(item="url", n_components=5, random_state=0).fit_transform(as_polars),
        expected,
        atol=1e-7,
    )


def test_set_output_pandas_keeps_the_index(frame):
    svd = SVDItemEmbedder(n_components=4, random_state=0).set_output(transform="pandas")
    out = svd.fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert out.index.equals(frame.index)
    assert out.columns.tolist() == [f"svd_category_{i}" for i in range(4)]
    sub = svd.transform(frame.iloc[5:9])
    assert sub.index.equals(frame.index[5:9])
    assert (sub.dtypes == np.float32).all()


def test_pickle_and_joblib_round_trip(big_frame, tmp_path):
    svd = SVDItemEmbedder(item=("category", "price"), n_components=6, weighting="bm25")
    expected = svd.set_params(random_state=0).fit_transform(big_frame)
    again = pickle.loads(pickle.dumps(svd))
    np.testing.assert_array_equal(again.transform(big_frame), expected)
    joblib.dump(svd, tmp_path / "svd.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "svd.joblib").transform(big_frame), expected
    )


def test_deterministic_given_random_state(big_frame):
    def run(seed):
        return SVDItemEmbedder(item="url", n_components=8, random_state=seed).fit_transform(
            big_frame
        )

    first = run(0)
    np.testing.assert_array_equal(run(0), first)
    # The sign of every factor is fixed: the largest loading of each item factor is > 0.
    svd = SVDItemEmbedder(item="url", n_components=8, random_state=1).fit(big_frame)
    V = svd.item_embeddings_
    assert (V[np.abs(V).argmax(axis=0), np.arange(8)] > 0).all()


@pytest.mark.slow
def test_check_estimator():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check_estimator(
            SVDItemEmbedder(n_components=2), expected_failed_checks=EXPECTED_FAILED_CHECKS
        )


# ------------------------------------------------------------------ quality


@pytest.fixture(scope="module")
def synthetic_tasks():
    data = make_events(n_users=20_000, random_state=0)
    events = data.events
    if "relevant_clients" in data:
        events = events.loc[data.relevant_clients]
    return make_tasks(events)


def _total(result):
    return float(result.loc[(result.task == "total") & (result.metric == "score"), "value"].iloc[0])


@pytest.mark.slow
def test_quality_on_synthetic_data(synthetic_tasks):
    tasks = synthetic_tasks
    emb = SVDItemEmbedder(item="category", random_state=0).fit_transform(tasks.X)
    # Whether it adds to the counts when concatenated is measured at scale by
    # benchmarks/bench_classic.py; at this size that comparison is within noise.
    svd_total = _total(evaluate(emb, tasks, protocol="fast"))
    random_total = _total(evaluate(random_embeddings(tasks.X), tasks, protocol="fast"))
    assert svd_total > random_total + 0.2
