"""make_events: schema, consistency, determinism, marginals and signal of the synthetic log."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ubp import EventView, check_event_frame
from sklearn_ubp.datasets import make_events

CODES = pd.ArrowDtype(pa.list_(pa.uint8(), 16))
SKU_TABLES = ("product_buy", "add_to_cart", "remove_from_cart")
# participants' count of the full release (millions of events)
RELEASE = {
    "product_buy": 1.8,
    "add_to_cart": 5.7,
    "remove_from_cart": 1.9,
    "page_visit": 156.0,
    "search_query": 10.2,
}
RICH = dict(
    activity_scale=5,
    lifetime_scale=8,
    event_shares={"product_buy": 0.04, "add_to_cart": 0.08, "remove_from_cart": 0.02},
)


@pytest.fixture(scope="module")
def data():
    return make_events(20_000, random_state=0)


@pytest.fixture(scope="module")
def rich():
    return make_events(20_000, random_state=1, **RICH)


def _cutoff(d):
    return d.end.normalize() - pd.Timedelta(days=27)


def _window_buyers(d, k=0):
    lo = _cutoff(d) + pd.Timedelta(days=14 * k)
    buys = d.tables["product_buy"]
    inside = buys[(buys.timestamp >= lo) & (buys.timestamp < lo + pd.Timedelta(days=14))]
    return d.traits.index.isin(inside.client_id).astype(int), inside


def _input_counts(d):
    cut = _cutoff(d)
    cols = []
    for table in d.tables.values():
        ids = table.client_id[table.timestamp < cut]
        cols.append(ids.value_counts().reindex(d.traits.index, fill_value=0).to_numpy())
    return np.log1p(np.column_stack(cols))


def _auc(X, y, seed=0):
    Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.5, random_state=seed, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(Xa, ya)
    return roc_auc_score(yb, model.predict_proba(Xb)[:, 1])


def test_tables_schema(data):
    assert list(data.tables) == [
        "product_buy",
        "add_to_cart",
        "remove_from_cart",
        "page_visit",
        "search_query",
    ]
    field = {"page_visit": "url", "search_query": "query"}
    for name, table in data.tables.items():
        assert isinstance(table, pd.DataFrame)
        assert list(table.columns) == ["client_id", "timestamp", field.get(name, "sku")], name
        assert table["client_id"].dtype == np.int64
        assert table["timestamp"].dtype.kind == "M" and table["timestamp"].dt.tz is None
        assert table["timestamp"].is_monotonic_increasing, name  # time order, as the release
        assert not table.isna().any().any(), name
        assert len(table) > 0, name
        assert table["client_id"].isin(data.traits.index).all()
    for name in SKU_TABLES:
        assert data.tables[name]["sku"].dtype == np.int64
        assert data.tables[name]["sku"].isin(data.products["sku"]).all()
    assert data.tables["page_visit"]["url"].dtype == np.int64
    query = data.tables["search_query"]["query"]
    assert query.dtype == CODES
    codes = np.stack(query.head(50).to_numpy())
    assert codes.shape == (50, 16) and codes.dtype == np.uint8


def test_products(data):
    p = data.products
    assert list(p.columns) == ["sku", "category", "price", "name"]
    assert [p[c].dtype for c in ("sku", "category", "price")] == [np.int64] * 3
    assert p["name"].dtype == CODES
    assert p["sku"].is_unique and p["sku"].is_monotonic_increasing
    assert p["price"].between(0, 99).all()
    # quantile buckets: about uniform
    assert np.bincount(p["price"], minlength=100).min() > 0
    # ids are not positions
    assert not np.array_equal(p["sku"].to_numpy(), np.arange(len(p)))
    # price correlated with category: most of its variance is between categories
    within = p.groupby("category")["price"].transform(lambda x: x - x.mean()).var()
    assert within / p["price"].var() < 0.5
    # names depend on the category: closer to their category's mean than to the global mean
    names = np.stack(p["name"].to_numpy()).astype(float)
    centers = pd.DataFrame(names).groupby(p["category"].to_numpy()).transform("mean").to_numpy()
    assert np.abs(names - centers).mean() < 0.5 * np.abs(names - names.mean(0)).mean()


def test_event_frame_matches_tables_and_products(data):
    events = check_event_frame(data.events)
    assert events.index.name == "client_id"
    assert events.index.equals(data.traits.index)
    assert events.index.is_monotonic_increasing and events.index.is_unique
    assert list(events.columns) == [
        "timestamp",
        "event_type",
        "sku",
        "category",
        "price",
        "name",
        "url",
        "query",
    ]
    view = EventView(events)
    assert view.n_events == sum(len(t) for t in data.tables.values())
    types, labels = view.categories("event_type")
    counts = dict(zip(labels, np.bincount(types, minlength=len(labels)), strict=True))
    assert counts == {k: len(t) for k, t in data.tables.items()}
    # joined columns agree with the product table
    sku = view.values("sku").to_numpy(zero_copy_only=False)
    has_sku = ~np.isnan(sku.astype(float))
    assert np.array_equal(has_sku, np.isin(np.asarray(labels)[types], SKU_TABLES))
    products = data.products.set_index("sku")
    sku = sku[has_sku].astype(np.int64)
    category = view.values("category").to_numpy(zero_copy_only=False)[has_sku]
    price = view.values("price").to_numpy(zero_copy_only=False)[has_sku]
    assert np.array_equal(category.astype(np.int64), products.loc[sku, "category"].to_numpy())
    assert np.array_equal(price.astype(np.int64), products.loc[sku, "price"].to_numpy())
    # events in [start, end]
    times = view.times()
    assert times.min() >= data.start.value // 1000 and times.max() <= data.end.value // 1000
    assert data.end == data.start + pd.Timedelta(days=139) - pd.Timedelta(seconds=1)


def test_users_without_events_are_empty_rows(data):
    lengths = data.events["timestamp"].list.len().to_numpy()
    empty = lengths == 0
    assert 0 < empty.mean() < 0.5
    row = data.events.iloc[int(np.flatnonzero(empty)[0])]
    assert all(len(v) == 0 for v in row)
    active = np.unique(np.concatenate([t.client_id.to_numpy() for t in data.tables.values()]))
    assert np.array_equal(data.traits.index[~empty], active)


def test_traits(data):
    traits = data.traits
    assert traits.index.name == "client_id" and traits.index.dtype == np.int64
    assert (traits.dtypes == np.float64).all()
    assert traits.shape[1] <= 100 and np.isfinite(traits.to_numpy()).all()
    prefs = traits.filter(regex=r"^pref_\d+$")
    assert prefs.shape[1] == 16
    np.testing.assert_allclose(prefs.sum(axis=1), 1.0)
    np.testing.assert_allclose(traits.filter(regex=r"^pref_end_").sum(axis=1), 1.0)
    assert ((prefs > 0).sum(axis=1).between(1, 3)).all()
    for col in ("buy_propensity", "price_level", "drift"):
        assert traits[col].between(0, 1).all()
    assert (traits["quit_day"] > traits["first_day"]).all()


def test_determinism():
    a = make_events(2_000, n_days=40, random_state=7)
    b = make_events(2_000, n_days=40, random_state=7)
    c = make_events(2_000, n_days=40, random_state=8)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    pd.testing.assert_frame_equal(a.products, b.products)
    pd.testing.assert_frame_equal(a.traits, b.traits)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert not a.traits.equals(c.traits)
    assert not a.tables["page_visit"].equals(c.tables["page_visit"])
    assert not a.products.equals(c.products)


def test_marginals(data):
    sizes = {k: len(t) for k, t in data.tables.items()}
    total = sum(sizes.values())
    release = sum(RELEASE.values())
    for name, count in sizes.items():
        expected = RELEASE[name] / release
        assert abs(count / total - expected) < 0.25 * expected + 0.002, (name, count / total)
    lengths = data.events["timestamp"].list.len().to_numpy()
    lengths = lengths[lengths > 0]
    assert 2 <= np.median(lengths) <= 3
    assert 12 <= np.percentile(lengths, 90) <= 25
    assert 70 <= np.percentile(lengths, 99) <= 200


def test_user_behaviour_follows_traits(data):
    traits, tables = data.traits, data.tables
    lengths = data.events["timestamp"].list.len()
    buys = tables["product_buy"].client_id.value_counts().reindex(traits.index, fill_value=0)
    busy = lengths >= 10
    corr = np.corrcoef(traits.buy_propensity[busy], buys[busy] / lengths[busy])[0, 1]
    assert corr > 0.2
    assert np.corrcoef(traits.buy_propensity[lengths > 0], buys[lengths > 0])[0, 1] > 0
    assert np.corrcoef(traits.log_activity[lengths > 0], np.log(lengths[lengths > 0]))[0, 1] > 0.3
    # price level: users add products near their level
    adds = tables["add_to_cart"].join(data.products.set_index("sku")["price"], on="sku")
    mean_price = adds.groupby("client_id")["price"].mean()
    assert np.corrcoef(traits.loc[mean_price.index, "price_level"], mean_price)[0, 1] > 0.3
    # active window: nothing before first_day, nothing long after quit_day
    stamps = pd.concat([t[["client_id", "timestamp"]] for t in tables.values()])
    day = (stamps.timestamp - data.start) / pd.Timedelta(days=1)
    window = traits.loc[stamps.client_id, ["first_day", "quit_day"]].to_numpy()
    assert (day.to_numpy() >= window[:, 0] - 1e-4).all()
    assert (day.to_numpy() <= window[:, 1] + 1).all()
    # weekly rhythm: users with a strong rhythm are active near their preferred weekday
    weekday = stamps.timestamp.dt.day_of_week.to_numpy()
    strength, phase = traits.loc[stamps.client_id, ["weekly_strength", "weekly_phase"]].to_numpy().T
    closeness = np.cos(2 * np.pi * (weekday - phase) / 7)
    assert closeness[strength > 1].mean() > 0.25
    assert abs(closeness[strength < 0.1].mean()) < 0.15


def test_carts_precede_purchases_and_removals(data):
    adds = data.tables["add_to_cart"]
    for name, least in (("product_buy", 0.75), ("remove_from_cart", 0.99)):
        table = data.tables[name]
        pairs = table.reset_index().merge(adds, on=["client_id", "sku"], suffixes=("", "_add"))
        preceded = pairs[pairs.timestamp_add < pairs.timestamp]["index"].unique()
        assert len(preceded) / len(table) >= least, name


def test_tastes_shape_categories(data):
    """Users dominated by different taste factors buy from different categories."""
    adds = data.tables["add_to_cart"].join(data.products.set_index("sku")["category"], on="sku")
    prefs = data.traits.filter(regex=r"^pref_\d+$")
    dominant = prefs.to_numpy().argmax(axis=1)
    pure = pd.Series(dominant, index=prefs.index)[prefs.max(axis=1) > 0.8]
    adds = adds[adds.client_id.isin(pure.index)]
    adds = adds.assign(taste=pure.loc[adds.client_id].to_numpy())
    top = adds.taste.value_counts().index[:2]
    dist = [adds[adds.taste == k].category.value_counts(normalize=True) for k in top]
    tv = 0.5 * dist[0].sub(dist[1], fill_value=0).abs().sum()
    assert tv > 0.4


def test_split_signal(rich):
    """The history predicts the challenge's targets, the true traits much better."""
    y, inside = _window_buyers(rich)
    assert 0.08 <= y.mean() <= 0.25
    y2, _ = _window_buyers(rich, 1)
    assert 0.08 <= y2.mean() <= 0.25
    counts = _input_counts(rich)
    traits = rich.traits.to_numpy()
    noise = np.random.default_rng(0).normal(size=(len(y), 5))
    auc_noise, auc_counts, auc_traits = (_auc(X, y) for X in (noise, counts, traits))
    assert abs(auc_noise - 0.5) < 0.05
    assert auc_counts > 0.65
    assert auc_traits > auc_counts + 0.05
    # a popular category
    category = rich.products.set_index("sku").category
    top = category.loc[inside.sku].value_counts().index[0]
    yc = rich.traits.index.isin(inside.client_id[category.loc[inside.sku].to_numpy() == top])
    assert yc.sum() >= 50
    auc_counts_c, auc_traits_c = (_auc(X, yc.astype(int)) for X in (counts, traits))
    assert auc_counts_c > 0.6 and auc_traits_c > auc_counts_c


def test_default_split_signal(data):
    y, _ = _window_buyers(data)
    assert 50 <= y.sum() <= 0.05 * len(y)
    assert _auc(data.traits.to_numpy(), y) > _auc(_input_counts(data), y) > 0.55


def test_parameters():
    d = make_events(
        300,
        n_days=35,
        n_skus=250,
        n_categories=25,
        n_urls=600,
        n_price_buckets=10,
        n_tastes=4,
        start="2023-01-05 13:00",
        random_state=np.random.default_rng(3),
    )
    assert d.start == pd.Timestamp("2023-01-05")
    assert d.products["price"].max() == 9 and d.products["category"].nunique() == 25
    assert len(d.products) == 250
    assert d.traits.filter(like="pref_").shape[1] == 8
    assert d.tables["page_visit"].url.nunique() <= 600
    make_events(10, n_days=30, random_state=np.random.RandomState(0))
    with pytest.raises(ValueError, match="n_days"):
        make_events(10, n_days=10)
    with pytest.raises(ValueError, match="unknown event type"):
        make_events(10, event_shares={"purchase": 0.5})
    with pytest.raises(TypeError, match="random_state"):
        make_events(10, random_state="seed")
    more = make_events(5_000, random_state=0, event_shares={"product_buy": 0.05})
    share = len(more.tables["product_buy"]) / sum(len(t) for t in more.tables.values())
    assert 0.035 < share < 0.06
