import pickle

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.utils.estimator_checks import check_estimator

from sklearn_ubp import group_events
from sklearn_ubp._counts import DEFAULT_STATISTICS, STATISTICS, EventCountEmbedder
from sklearn_ubp._input import array_events
from sklearn_ubp.datasets import make_events
from sklearn_ubp.evaluation import evaluate, make_tasks, official_baseline, random_embeddings

#: check name -> why EventCountEmbedder is expected to fail it (none so far).
EXPECTED_FAILED_CHECKS: dict[str, str] = {}

REF = "2022-02-01"
#: Every statistic group and the baseline's windows: a superset of the official baseline.
FULL_WINDOWS = {"windows": (1, 7, 30, None), "value_windows": (1, 7, 30, None)}
FULL = {"statistics": "all", **FULL_WINDOWS}
CODE = "[" + " ".join(["51"] * 16) + "]"


@pytest.fixture(scope="module")
def tiny():
    """User 1 browses, carts and buys; 2 buys once; 3 has no events; 4 only after REF."""
    df = pd.DataFrame(
        {
            "client_id": [1, 1, 1, 1, 1, 1, 2, 4],
            "timestamp": pd.to_datetime(
                [
                    "2022-01-01 10:00",  # age 30.583 days
                    "2022-01-10 10:00",  # 21.583
                    "2022-01-20 12:00",  # 11.5
                    "2022-01-25 12:00",  # 6.5
                    "2022-01-29 12:00",  # 2.5
                    "2022-01-31 12:00",  # 0.5
                    "2022-01-31 18:00",  # 0.25
                    "2022-02-05 00:00",  # after REF
                ]
            ),
            "event_type": [
                "page_visit",
                "add_to_cart",
                "add_to_cart",
                "product_buy",
                "page_visit",
                "search_query",
                "product_buy",
                "product_buy",
            ],
            "sku": [None, 5, 6, 5, None, None, 6, 5],
            "price": [None, 3, 7, 3, None, None, 7, 3],
            "url": [100, None, None, None, 100, None, None, None],
            "query": [None, None, None, None, None, CODE, None, None],
        }
    ).astype({"sku": "Int64", "price": "Int64", "url": "Int64"})
    return group_events(df, users=[1, 2, 3, 4])


def features(emb, X):
    return pd.DataFrame(emb.transform(X), index=X.index, columns=emb.get_feature_names_out())


def test_hand_computed_statistics(tiny):
    emb = EventCountEmbedder(reference_time=REF, scale=None, **FULL).fit(tiny)
    assert emb.max_days_ == 31  # ceil(30.583)
    assert emb.event_types_.tolist() == [
        "add_to_cart",
        "page_visit",
        "product_buy",
        "search_query",
    ]
    f = features(emb, tiny)
    u1 = f.loc[1]
    # counts per window: ages 30.58, 21.58, 11.5, 6.5, 2.5, 0.5
    assert u1[["count_any_1d", "count_any_7d", "count_any_30d", "count_any_all"]].tolist() == [
        1,
        3,
        5,
        6,
    ]
    assert u1[["count_add_to_cart_7d", "count_add_to_cart_30d"]].tolist() == [0, 2]
    assert u1[["count_page_visit_1d", "count_page_visit_7d", "count_page_visit_all"]].tolist() == [
        0,
        1,
        2,
    ]
    # recency, tenure, mean gap (days)
    np.testing.assert_allclose(u1["recency_any"], 0.5)
    np.testing.assert_allclose(u1["recency_product_buy"], 6.5)
    np.testing.assert_allclose(u1["tenure_any"], 30 + 14 / 24, rtol=1e-6)
    np.testing.assert_allclose(u1["mean_gap_any"], (30 + 14 / 24 - 0.5) / 5, rtol=1e-6)
    np.testing.assert_allclose(u1["mean_gap_page_visit"], 30 + 14 / 24 - 2.5, rtol=1e-6)
    assert u1["mean_gap_product_buy"] == 31  # a single purchase: the cap
    assert u1["has_product_buy"] == 1 and u1["has_search_query"] == 1
    # trends: [0, 7) minus [7, 14) = 3 - 1; [0, 30) minus [30, 60) = 5 - 1
    assert u1["trend_any_7d"] == 2 and u1["trend_any_30d"] == 4
    assert u1["trend_add_to_cart_7d"] == -1
    # distinct periods counted back from REF: days 30, 21, 11, 6, 2, 0; weeks 4, 3, 1, 0
    assert u1[["active_days_any", "active_weeks_any", "active_months_any"]].tolist() == [6, 4, 2]
    # the same days, each weighted by 2 ** (-day / w): half-lives = the finite windows
    days = np.array([30, 21, 11, 6, 2, 0])
    for w in (1, 7, 30):
        np.testing.assert_allclose(u1[f"decay_days_any_{w}d"], np.exp2(-days / w).sum(), rtol=1e-6)
    assert "decay_days_any_alld" not in f.columns
    # sku 5 was carted then bought; sku 6 was carted only (user 2 bought it, not user 1)
    assert u1["cart_bought_share_sku"] == 0.5 and u1["cart_bought_share_price"] == 0.5
    # top-k values learned in fit: a tie between skus 5 and 6, ordered by value
    assert emb.top_k_values_[("product_buy", "sku")].tolist() == [5, 6]
    assert u1["count_product_buy_sku=5_7d"] == 1 and u1["count_product_buy_sku=6_all"] == 0
    assert f.loc[2, "count_product_buy_sku=6_1d"] == 1
    assert u1[["count_page_visit_url=100_7d", "count_page_visit_url=100_all"]].tolist() == [1, 2]
    assert u1["distinct_add_to_cart_sku"] == 2 and u1["distinct_page_visit_url"] == 1
    # sku 5 and 6 each have 2 events before REF
    np.testing.assert_allclose(u1["popularity_product_buy_sku"], np.log1p(2), rtol=1e-6)
    # price is numeric: sum/mean/last/max over buy and cart events
    np.testing.assert_allclose(
        u1[["sum_any_price_all", "mean_any_price", "last_any_price", "max_any_price"]],
        [13, 13 / 3, 3, 7],
        rtol=1e-6,
    )
    assert f.loc[2, "sum_product_buy_price_7d"] == 7
    np.testing.assert_allclose(u1[[f"mean_query_{j}" for j in range(16)]], 51 / 255, rtol=1e-6)
    # users 3 (no events) and 4 (only after REF) are empty users with finite fills
    for user in (3, 4):
        row = f.loc[user]
        assert row["count_any_all"] == 0 and row["has_any"] == 0
        assert row["recency_any"] == 31 and row["tenure_any"] == 0
    np.testing.assert_array_equal(f.loc[3], f.loc[4])


def test_reference_time_semantics(tiny):
    default = EventCountEmbedder(scale=None, **FULL).fit(tiny)
    assert default.reference_time_ == pd.Timestamp("2022-02-05")
    f = features(default, tiny)
    assert f.loc[4, "count_product_buy_1d"] == 1 and f.loc[4, "recency_product_buy"] == 0
    # the fitted reference time holds in transform, whatever the later data
    sub = tiny.loc[[1]]
    np.testing.assert_array_equal(default.transform(sub), f.loc[[1]].to_numpy())
    fixed = EventCountEmbedder(reference_time=pd.Timestamp(REF), scale=None, **FULL).fit(tiny)
    assert fixed.reference_time_ == pd.Timestamp(REF)
    g = features(fixed, tiny)
    assert g.loc[4, "count_any_all"] == 0  # its only event is after the reference time
    assert g.loc[1, "recency_any"] == 0.5 and f.loc[1, "recency_any"] == 4.5


def test_log1p_and_quantile_scaling(tiny):
    raw = EventCountEmbedder(reference_time=REF, scale=None, **FULL).fit(tiny).transform(tiny)
    logged = EventCountEmbedder(reference_time=REF, **FULL).fit(tiny).transform(tiny)
    np.testing.assert_allclose(logged, np.sign(raw) * np.log1p(np.abs(raw)), rtol=1e-5, atol=1e-7)
    assert (raw < 0).any()  # trends are signed
    q = EventCountEmbedder(reference_time=REF, scale="quantile", **FULL).fit(tiny)
    out = q.transform(tiny)
    assert out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1
    np.testing.assert_array_equal(out, q.fit_transform(tiny))


@pytest.fixture(scope="module")
def synthetic():
    return make_events(n_users=3000, random_state=1).events


def test_subset_and_reordered_users_give_the_same_rows(synthetic):
    emb = EventCountEmbedder().fit(synthetic)
    full = emb.transform(synthetic)
    assert np.isfinite(full).all() and full.dtype == np.float32
    assert np.abs(full).max() < 65504  # fits float16
    rows = np.random.default_rng(0).permutation(len(synthetic))[:700]
    np.testing.assert_array_equal(emb.transform(synthetic.iloc[rows]), full[rows])
    np.testing.assert_array_equal(emb.transform(synthetic.iloc[[5]]), full[[5]])


def test_determinism_and_pickle(synthetic, tmp_path):
    a = EventCountEmbedder().fit(synthetic)
    b = EventCountEmbedder().fit(synthetic)
    out = a.transform(synthetic)
    np.testing.assert_array_equal(out, b.transform(synthetic))
    np.testing.assert_array_equal(out, EventCountEmbedder().fit_transform(synthetic))
    np.testing.assert_array_equal(out, pickle.loads(pickle.dumps(a)).transform(synthetic))
    joblib.dump(a, tmp_path / "emb.joblib")
    np.testing.assert_array_equal(out, joblib.load(tmp_path / "emb.joblib").transform(synthetic))


@pytest.mark.slow
def test_feature_groups_on_challenge_like_data(synthetic):
    emb = EventCountEmbedder(**FULL).fit(synthetic)
    names = emb.get_feature_names_out().tolist()
    assert len(names) == len(set(names))
    for name in (
        "count_product_buy_7d",
        "recency_page_visit",
        "trend_add_to_cart_30d",
        "active_weeks_any",
        "sum_product_buy_price_all",
        "popularity_page_visit_url",
        "cart_bought_share_sku",
        "mean_query_15",
        "mean_name_0",
    ):
        assert name in names
    baseline = official_baseline(synthetic, reference_time=emb.reference_time_)
    # every baseline count has its counterpart
    for col in baseline.columns:
        if col.startswith("query_mean_"):
            assert f"mean_query_{col.rsplit('_', 1)[1]}" in names
        else:
            assert f"count_{col}" in names, col
    ours = pd.DataFrame(emb.transform(synthetic), columns=names, index=synthetic.index)
    np.testing.assert_allclose(
        ours[[f"count_{c}" for c in baseline.columns[:-16]]].to_numpy(),
        baseline.iloc[:, :-16].to_numpy(),
        rtol=1e-5,
    )
    # the default groups are a subset of every group's columns, with the same values
    default = EventCountEmbedder().set_output(transform="pandas").fit(synthetic)
    small = default.transform(synthetic)
    assert default.statistics_ == list(DEFAULT_STATISTICS)
    windows = {k: getattr(default, k) for k in ("windows", "value_windows", "top_k")}
    every = EventCountEmbedder(statistics="all", **windows).set_output(transform="pandas")
    every = every.fit(synthetic).transform(synthetic)
    assert set(small.columns) < set(every.columns)
    pd.testing.assert_frame_equal(small, every[small.columns])
    assert not small.columns.str.contains(r"^(?:trend|popularity)_|_1d$").any()
    assert small.columns.str.contains("=").any() and "active_days_any" in small.columns


def test_set_output_pandas_keeps_index(synthetic):
    X = synthetic.iloc[::7]
    emb = EventCountEmbedder().set_output(transform="pandas")
    out = emb.fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert out.index.equals(X.index)
    assert out.columns.tolist() == emb.get_feature_names_out().tolist()
    np.testing.assert_array_equal(out.to_numpy(), EventCountEmbedder().fit_transform(X))


def test_polars_input_gives_the_same_output(tiny):
    pl = pytest.importorskip("polars")
    table = pa.Table.from_pandas(tiny.reset_index(), preserve_index=False)
    plf = pl.from_arrow(table)
    emb = EventCountEmbedder(reference_time=REF).fit(tiny)
    np.testing.assert_array_equal(emb.transform(plf), emb.transform(tiny))
    np.testing.assert_array_equal(
        EventCountEmbedder(reference_time=REF).fit(plf).transform(plf), emb.transform(tiny)
    )


@pytest.fixture
def purchases():
    df = pd.DataFrame(
        {
            "client_id": ["a", "a", "a", "b"],
            "timestamp": pd.to_datetime(["2022-03-01", "2022-03-20", "2022-03-30", "2022-03-31"]),
            "amount": [10.0, 5.5, 2.5, 100.0],
            "quantity": [1, 2, 1, 4],
        }
    )
    return group_events(df)


def test_purchase_log_uses_numeric_fields(purchases):
    emb = EventCountEmbedder(scale=None, **FULL).fit(purchases)
    assert emb.event_types_.tolist() == []
    assert emb.numeric_fields_ == ["amount", "quantity"] and emb.item_fields_ == []
    f = features(emb, purchases)
    assert f.loc["a", "count_any_all"] == 3 and f.loc["a", "count_any_7d"] == 1
    np.testing.assert_allclose(
        f.loc["a", ["sum_any_amount_all", "sum_any_amount_30d", "mean_any_amount"]],
        [18, 8, 6],
    )
    assert f.loc["a", "last_any_amount"] == 2.5 and f.loc["a", "max_any_amount"] == 10
    assert f.loc["b", "sum_any_quantity_1d"] == 4 and f.loc["a", "sum_any_quantity_all"] == 4
    np.testing.assert_allclose(f.loc["a", "recency_any"], 1)
    np.testing.assert_allclose(f.loc["a", "mean_gap_any"], 14.5)
    assert np.isfinite(EventCountEmbedder().fit_transform(purchases)).all()


def test_missing_fields_raise(purchases, tiny):
    with pytest.raises(ValueError, match=r"item_fields.*\['url'\]"):
        EventCountEmbedder(item_fields=["url"]).fit(purchases)
    with pytest.raises(ValueError, match=r"numeric_fields.*\['price'\]"):
        EventCountEmbedder(numeric_fields=["amount", "price"]).fit(purchases)
    emb = EventCountEmbedder(item_fields=["sku"], numeric_fields=[], code_fields=[]).fit(tiny)
    assert emb.item_fields_ == ["sku"] and emb.numeric_pairs_ == []
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['sku'\]"):
        emb.transform(tiny.drop(columns="sku"))
    with pytest.raises(ValueError, match="windows"):
        EventCountEmbedder(windows=(7, 7)).fit(tiny)


def test_unseen_event_types_are_ignored(tiny):
    emb = EventCountEmbedder(reference_time=REF).fit(tiny)
    renamed = tiny.copy()
    types = renamed["event_type"].list.flatten().astype(str)
    types = types.where(types != "page_visit", "new_type")
    renamed["event_type"] = pd.Series(
        pa.ListArray.from_arrays(
            pa.array(np.concatenate([[0], np.cumsum(tiny["event_type"].list.len())])),
            pa.array(types.tolist()),
        ),
        index=tiny.index,
        dtype=pd.ArrowDtype(pa.list_(pa.string())),
    )
    out = features(emb, renamed)
    ref = features(emb, tiny)
    assert out.loc[1, "count_page_visit_all"] == 0
    assert out.loc[1, "count_any_all"] < ref.loc[1, "count_any_all"]
    np.testing.assert_array_equal(out["count_product_buy_all"], ref["count_product_buy_all"])


def test_array_input_meaning():
    """A 2-D array is an event frame of one ``value`` event per column, a day apart."""
    X = np.array([[0.0, 2.0, 0.0, 3.0, 1.0, 0.0], [0.0] * 6])
    emb = EventCountEmbedder(scale=None)
    f = pd.DataFrame(emb.fit_transform(X), columns=emb.get_feature_names_out())
    assert str(emb.reference_time_) == "1970-01-06 00:00:00"  # the last column's day
    assert emb.n_features_in_ == 6 and emb.input_kind_ == "array"
    names = ["count_any_all", "recency_any", "tenure_any", "sum_any_value_all"]
    names += ["mean_any_value", "last_any_value", "max_any_value"]
    assert f.loc[0, names].tolist() == [6, 0, 5, 6, 1, 0, 3]
    assert f.loc[1, names].tolist() == [6, 0, 5, 0, 0, 0, 0]
    # the same as the event frame the input boundary builds
    events = array_events(X)
    assert events["value"].tolist()[0] == X[0].tolist()
    np.testing.assert_array_equal(EventCountEmbedder(scale=None).fit_transform(events), f)
    with pytest.raises(ValueError, match="fitted on a 2-D numeric array"):
        emb.transform(
            group_events(pd.DataFrame({"client_id": [1], "timestamp": [pd.Timestamp(0)]}))
        )
    with pytest.raises(ValueError, match="X has 5 features, but EventCountEmbedder"):
        emb.transform(X[:, :5])


def test_statistics_select_groups(tiny):
    full = features(EventCountEmbedder(reference_time=REF, scale=None, **FULL).fit(tiny), tiny)
    prefixes = {
        "counts": r"^count_[a-z_]+_(?:1d|7d|30d|all)$",
        "recency": r"^(?:recency|has|tenure|mean_gap)_",
        "trends": r"^trend_",
        "active": r"^active_",
        "decay": r"^decay_days_",
        "bgnbd": None,  # too few repeat buyers here: tests/test_bgnbd.py
        "numeric": r"^(?:sum|mean|last|max)_[a-z_]+_price",
        "top_k": "=",
        "popularity": r"^popularity_",
        "distinct": r"^distinct_",
        "cart": r"^cart_bought_share_",
        "codes": r"^mean_query_",
        "forecast": None,  # too few users here: tests/test_forecast.py
    }
    assert list(prefixes) == list(STATISTICS)
    seen = set()
    for group, pattern in prefixes.items():
        if pattern is None:
            continue
        emb = EventCountEmbedder(
            statistics=[group], **FULL_WINDOWS, reference_time=REF, scale=None
        ).fit(tiny)
        assert emb.statistics_ == [group]
        f = features(emb, tiny)
        assert f.shape[1] > 0 and f.columns.str.contains(pattern).all(), group
        # each group alone gives the same values as in the full output
        pd.testing.assert_frame_equal(f, full[f.columns])
        seen |= set(f.columns)
    assert seen == set(full.columns)  # the groups partition the full output
    # order of the groups does not matter; the output follows STATISTICS
    a = EventCountEmbedder(statistics=["codes", "counts"], reference_time=REF).fit(tiny)
    b = EventCountEmbedder(statistics=("counts", "codes"), reference_time=REF).fit(tiny)
    assert a.statistics_ == ["counts", "codes"]
    np.testing.assert_array_equal(a.transform(tiny), b.transform(tiny))
    # fields that no enabled group reads are not used, nor needed in transform
    counts = EventCountEmbedder(statistics=["counts", "recency"]).fit(tiny)
    assert counts.item_fields_ == [] and counts.numeric_fields_ == []
    assert counts.code_fields_ == []
    counts.transform(tiny[["timestamp", "event_type"]])
    cart = EventCountEmbedder(statistics=["cart"]).fit(tiny)
    assert cart.item_fields_ == cart.cart_fields_ == ["sku", "price"]
    assert cart.popularity_ == {}


def test_bad_statistics(tiny, purchases):
    with pytest.raises(ValueError, match=r"unknown group\(s\) \['trend'\]"):
        EventCountEmbedder(statistics=["counts", "trend"]).fit(tiny)
    with pytest.raises(ValueError, match="must not repeat"):
        EventCountEmbedder(statistics=["counts", "counts"]).fit(tiny)
    with pytest.raises(ValueError, match="gives no feature"):
        EventCountEmbedder(statistics=["codes"]).fit(purchases)  # no code fields
    with pytest.raises(ValueError, match="gives no feature"):
        EventCountEmbedder(statistics=["cart"]).fit(np.ones((3, 4)))
    with pytest.raises(ValueError, match="statistics"):
        EventCountEmbedder(statistics="most").fit(tiny)


def test_check_estimator():
    check_estimator(EventCountEmbedder(), expected_failed_checks=EXPECTED_FAILED_CHECKS)


# Slow (about 30-60 s): downstream quality on synthetic data against the official baseline.
@pytest.mark.slow
def test_learns_the_signal_of_synthetic_data():
    # About 30 s. Whether it beats the official baseline is measured at scale by
    # benchmarks/bench_classic.py: at this size (~900 relevant clients) that
    # comparison is within noise, while the margin over random vectors is not.
    data = make_events(n_users=20_000, random_state=0)
    tasks = make_tasks(data.events.loc[data.relevant_clients])

    def scores(emb):
        table = evaluate(emb, tasks, protocol="fast")
        return table[table["metric"] == "score"].set_index("task")["value"]

    ours = scores(EventCountEmbedder().fit_transform(tasks.X))
    rand = scores(random_embeddings(tasks.X))
    for task in ("churn", "conversion", "propensity_category", "propensity_price"):
        assert ours[task] > rand[task] + 0.05, (task, ours, rand)


def test_value_windows_and_pruned_windows(tiny):
    emb = EventCountEmbedder(statistics=["top_k"], value_windows=(7, None), top_k=2).fit(tiny)
    names = emb.get_feature_names_out().tolist()
    assert names and all(n.endswith(("_7d", "_all")) for n in names)
    # a window longer than the fitted history (here 10,000 days) would repeat "all"
    emb = EventCountEmbedder(statistics=["counts"], windows=(7, 10_000, None)).fit(tiny)
    assert emb.windows_ == [7, None]
    assert not any("10000d" in n for n in emb.get_feature_names_out())
    # without None, a long window is the only whole-history count and is kept
    emb = EventCountEmbedder(statistics=["counts"], windows=(7, 10_000)).fit(tiny)
    assert emb.windows_ == [7, 10_000]
    with pytest.raises(ValueError, match="value_windows must hold positive integers"):
        EventCountEmbedder(value_windows=(0,)).fit(tiny)


def test_one_event_type_gives_no_repeated_column(purchases):
    typed = purchases.assign(event_type=purchases["timestamp"].map(lambda t: ["buy"] * len(t)))
    one = EventCountEmbedder(statistics="all", purchase_type="buy").fit(typed)
    names = one.get_feature_names_out().tolist()
    # the statistics of the only type are those of "any": computed once, under "any"
    assert not any("_buy" in n for n in names) and "count_any_all" in names
    untyped = EventCountEmbedder(statistics="all").fit(purchases)
    assert names == untyped.get_feature_names_out().tolist()
    np.testing.assert_array_equal(one.transform(typed), untyped.transform(purchases))
