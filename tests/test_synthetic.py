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
from sklearn_ubp.datasets import make_events, purchase_probabilities
from sklearn_ubp.evaluation import make_tasks
from sklearn_ubp.evaluation._metrics import auroc

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


@pytest.fixture(scope="module")
def large():
    """The brief's setting: 50k users, defaults, tasks on the relevant clients."""
    d = make_events(50_000, random_state=0)
    return d, make_tasks(d.events.loc[d.relevant_clients])


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


def test_make_events_small_example():
    """The checks of make_events' former docstring Examples, on its 200-user log."""
    data = make_events(n_users=200, n_days=60, random_state=0)
    assert data.events.shape[0] == data.traits.shape[0] == 200
    assert data.events.index.equals(data.traits.index)
    assert (data.start, data.end) == (
        pd.Timestamp("2022-06-23 00:00:00"),
        pd.Timestamp("2022-08-21 23:59:59"),
    )
    # the challenge's split (purchases in the first target window)
    cutoff = data.end.normalize() - pd.Timedelta(days=27)
    buys = data.tables["product_buy"]
    in_window = buys[(buys.timestamp >= cutoff) & (buys.timestamp < cutoff + pd.Timedelta(days=14))]
    y = data.traits.index.isin(in_window.client_id)
    assert y.shape == (200,)
    # the relevant clients include every buyer of the input period, plus non-buyers
    buyers = buys.client_id[buys.timestamp < cutoff].unique()
    assert bool(pd.Index(buyers).isin(data.relevant_clients).all())
    assert len(data.relevant_clients) > len(buyers)


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
    np.testing.assert_array_equal(a.relevant_clients, b.relevant_clients)
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


@pytest.mark.slow
def test_split_signal(rich):
    """The history predicts the challenge's targets, the true traits much better."""
    y, inside = _window_buyers(rich)
    assert 0.04 <= y.mean() <= 0.25
    y2, _ = _window_buyers(rich, 1)
    assert 0.04 <= y2.mean() <= 0.25
    counts = _input_counts(rich)
    traits = rich.traits.to_numpy()
    noise = np.random.default_rng(0).normal(size=(len(y), 5))
    auc_noise, auc_counts, auc_traits = (_auc(X, y) for X in (noise, counts, traits))
    assert abs(auc_noise - 0.5) < 0.05
    assert auc_counts > 0.65
    assert auc_traits > auc_counts + 0.03
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


# ----------------------------------------------------------------- relevant clients


def _input_buyers(d):
    buys = d.tables["product_buy"]
    return buys.client_id[buys.timestamp < _cutoff(d)].unique()


def test_relevant_clients(data):
    rel = data.relevant_clients
    assert rel.dtype == np.int64 and rel.ndim == 1
    assert np.all(np.diff(rel) > 0)  # sorted, unique
    assert np.isin(rel, data.traits.index).all()
    # every buyer of the input period, and about as many other users (~50% active)
    buyers = _input_buyers(data)
    assert np.isin(buyers, rel).all()
    active = np.isin(rel, buyers).mean()
    assert 0.4 < active < 0.6
    # the others had events in the input period, except ~1% without any
    cut = _cutoff(data)
    seen = np.unique(np.concatenate([t.client_id[t.timestamp < cut] for t in data.tables.values()]))
    unseen = ~np.isin(rel, seen)
    assert 0 < unseen.sum() <= 0.03 * rel.size
    lengths = data.events["timestamp"].list.len().loc[rel]
    assert (lengths == 0).any()  # some relevant clients have no events at all
    # buyer-rich: relevant clients buy far more often than users at large
    y, _ = _window_buyers(data)
    rel_rate = y[data.traits.index.isin(rel)].mean()
    assert rel_rate > 5 * y.mean() and rel_rate >= 0.04


@pytest.mark.slow
def test_relevant_tasks_measurable(large):
    """At 50k users the tasks on the relevant clients have enough positives."""
    d, tasks = large
    assert 1_000 <= len(d.relevant_clients) <= 10_000
    conversion = tasks.tasks["conversion"]
    for y in (conversion.y_train, conversion.y_test):
        assert (1 - y).mean() >= 0.05  # >= 5% of the relevant clients buy in each window
    churn = tasks.tasks["churn"]
    assert 0.4 < churn.mask.mean() < 0.6
    assert (1 - churn.y_test[churn.mask]).sum() >= 60
    least = {
        "propensity_category": 60,
        "propensity_sku": 30,
        "propensity_price": 80,
        "propensity_new_sku": 1,
    }
    for name, n_cols in least.items():
        task = tasks.tasks[name]
        for y in (task.y_train, task.y_test):
            assert (y.sum(0) > 0).sum() >= n_cols, name


# ------------------------------------------------------------------ product launches


def test_product_launches(data):
    model = data.model
    launch = pd.Series(model.sku_launch_day, index=model.sku_id)
    launched = np.isfinite(launch)
    assert 0.05 < launched.mean() < 0.2
    assert launch[launched].between(1, 138).all()
    # no events of a sku before its launch day
    sku_events = pd.concat([data.tables[name][["timestamp", "sku"]] for name in SKU_TABLES])
    day = (sku_events.timestamp - data.start) / pd.Timedelta(days=1)
    age = day.to_numpy() - launch.loc[sku_events.sku].to_numpy()
    assert not (age < 0).any()
    # a boost right after the launch that decays over weeks (events per sku and day)
    ok = np.isfinite(age)
    early = ((age >= 0) & (age < 14)).sum() / 14
    late = ((age >= 70) & (age < 84)).sum() / 14
    n_early = (launch[launched] < 139 - 14).sum()
    n_late = (launch[launched] < 139 - 84).sum()
    assert early / n_early > 2 * late / n_late
    assert ok.mean() > 0.05  # launched skus take a real share of the carts and purchases


def test_new_sku_targets_are_launches(large):
    d, tasks = large
    task = tasks.tasks["propensity_new_sku"]
    launch = pd.Series(d.model.sku_launch_day, index=d.model.sku_id).loc[task.targets]
    cut_day = (tasks.cut - d.start) / pd.Timedelta(days=1)
    recent = launch.between(cut_day - 14, cut_day - 1).to_numpy()
    assert recent.sum() >= 10
    # the positives of both windows are (nearly all) launched products; a product
    # launched earlier but first bought recently counts as new too
    for y in (task.y_train, task.y_test):
        bought = y.sum(0)
        assert bought.sum() > 0
        assert bought[recent].sum() > 0
        assert bought[np.isfinite(launch.to_numpy())].sum() >= 0.75 * bought.sum()


# ------------------------------------------------------------- purchase probabilities


def _windows(d):
    cut = _cutoff(d)
    day = pd.Timedelta(days=14)
    return [(cut, cut + day), (cut + day, cut + 2 * day)]


def _binned_calibration(p, y, n_bins=6):
    """Bins of roughly equal expected positives; returns (predicted, observed, n) per bin."""
    order = np.argsort(p)
    cum = np.cumsum(p[order])
    edges = np.searchsorted(cum, np.linspace(0, cum[-1], n_bins + 1)[1:-1])
    return [
        (p[order][part].mean(), y[order][part].mean(), part.size)
        for part in np.split(np.arange(p.size), edges)
        if part.size
    ]


def _check_calibration(p, y, rel_tol=0.2):
    p, y = np.ravel(p), np.ravel(y).astype(float)
    assert p.min() >= 0 and p.max() <= 1
    expected, observed = p.sum(), y.sum()
    # total: within Poisson noise (4 sd) plus a small relative tolerance
    assert abs(observed - expected) <= 4 * np.sqrt(expected) + rel_tol * expected
    for pred, obs, n in _binned_calibration(p, y):
        sd = np.sqrt(max(pred * (1 - pred), 1e-12) / n)
        assert abs(obs - pred) <= 4 * sd + rel_tol * pred, (pred, obs, n)


def test_purchase_probabilities_any(data):
    for k, (a, b) in enumerate(_windows(data)):
        p = purchase_probabilities(data, a, b)
        assert p.shape == (len(data.traits),) and p.dtype == np.float64
        y, _ = _window_buyers(data, k)
        _check_calibration(p, y)
        assert auroc(y, p) > 0.9
        rel = data.traits.index.isin(data.relevant_clients)
        assert auroc(y[rel], p[rel]) > 0.8
    # a longer window, not aligned on midnight
    a, b = data.start + pd.Timedelta(hours=30), data.start + pd.Timedelta(days=60.5)
    p = purchase_probabilities(data, a, b)
    buys = data.tables["product_buy"]
    y = data.traits.index.isin(buys.client_id[(buys.timestamp >= a) & (buys.timestamp < b)])
    _check_calibration(p, y)
    # users: rows follow the given ids
    ids = data.traits.index[[5, 3, 100]]
    np.testing.assert_allclose(purchase_probabilities(data, a, b, users=ids), p[[5, 3, 100]])


def _target_hits(d, window, field, targets, users):
    buys = d.tables["product_buy"].join(
        d.products.set_index("sku")[["category", "price"]], on="sku"
    )
    a, b = window
    inside = buys[(buys.timestamp >= a) & (buys.timestamp < b) & buys[field].isin(targets)]
    y = np.zeros((len(users), len(targets)), dtype=bool)
    rows = pd.Index(users).get_indexer(inside.client_id)
    ok = rows >= 0
    y[rows[ok], pd.Index(targets).get_indexer(inside[field])[ok]] = True
    return y


@pytest.mark.slow
@pytest.mark.parametrize("by", ["category", "sku", "price"])
def test_purchase_probabilities_by_target(data, by):
    # targets chosen on the input period only (no selection on the windows' outcomes)
    buys = data.tables["product_buy"].join(data.products.set_index("sku"), on="sku")
    targets = buys[by][buys.timestamp < _cutoff(data)].value_counts().index[:30].to_numpy()
    # users still around in the windows (the others have probability 0)
    alive = data.traits.quit_day > data.model.n_days - 40
    users = data.traits.index[alive & (data.traits.first_day < data.model.n_days)]
    for window in _windows(data)[: 1 if by == "price" else 2]:  # price: the slowest
        p = purchase_probabilities(data, *window, by=by, targets=targets, users=users)
        assert p.shape == (len(users), len(targets))
        y = _target_hits(data, window, by, targets, users)
        _check_calibration(p, y, rel_tol=0.25)
        assert auroc(y, p) > 0.85
        # per target, the ceiling beats overall activity
        anyone = purchase_probabilities(data, *window, users=users)
        assert auroc(y, p) > auroc(y, np.repeat(anyone[:, None], len(targets), axis=1))


@pytest.mark.slow
def test_oracle_on_the_tasks(large):
    """Churn / conversion labels are 1 - P(buy); the ceiling is far above chance."""
    d, tasks = large
    users = tasks.X.index
    lengths = tasks.X["timestamp"].list.len().to_numpy()
    for name in ("churn", "conversion"):
        task = tasks.tasks[name]
        m = task.mask
        for (a, b), y in zip(tasks.windows, (task.y_train, task.y_test), strict=True):
            p = purchase_probabilities(d, a, b, users=users[m])
            assert auroc(y[m], 1 - p) > 0.85
            assert auroc(y[m], 1 - p) > auroc(y[m], -lengths[m]) + 0.05
    for name, by in (("propensity_category", "category"), ("propensity_new_sku", "sku")):
        task = tasks.tasks[name]
        p = purchase_probabilities(d, *tasks.windows[1], by=by, targets=task.targets, users=users)
        assert auroc(task.y_test, p) > 0.85


def test_purchase_probabilities_errors(data):
    a, b = _windows(data)[0]
    with pytest.raises(ValueError, match="start < stop"):
        purchase_probabilities(data, b, a)
    with pytest.raises(ValueError, match="by must be"):
        purchase_probabilities(data, a, b, by="url")
    with pytest.raises(ValueError, match="unknown category targets"):
        purchase_probabilities(data, a, b, by="category", targets=[-5])
    with pytest.raises(ValueError, match="unknown price buckets"):
        purchase_probabilities(data, a, b, by="price", targets=[100])
    with pytest.raises(ValueError, match="unknown users"):
        purchase_probabilities(data, a, b, users=[-1])
    with pytest.raises(ValueError, match="make_events"):
        purchase_probabilities({"traits": data.traits}, a, b)
    # outside the log: zero
    after = data.end + pd.Timedelta(days=1)
    assert purchase_probabilities(data, after, after + pd.Timedelta(days=3)).max() == 0
    # defaults: every target
    p = purchase_probabilities(data, a, b, by="price", users=data.traits.index[:10])
    assert p.shape == (10, 100)
