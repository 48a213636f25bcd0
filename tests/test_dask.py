"""``sklearn_ubp.dask.transform``: a Dask DataFrame of long events to embeddings."""

import io
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
cloudpickle = pytest.importorskip("cloudpickle")

from sklearn.exceptions import NotFittedError  # noqa: E402

from sklearn_ubp import EventCountEmbedder, UniversalProfile, group_events  # noqa: E402
from sklearn_ubp.dask import transform  # noqa: E402
from sklearn_ubp.datasets import make_events  # noqa: E402

TINY_GRU = {"hidden_size": 8, "embedding_dim": 8, "max_length": 16, "max_epochs": 1}


def long_table(data, *, codes_as_text: bool = False) -> pd.DataFrame:
    """The synthetic tables as one long table (category and price joined), shuffled."""
    parts = [table.assign(event_type=name) for name, table in data.tables.items()]
    long = pd.concat(parts, ignore_index=True)
    long = long.merge(data.products[["sku", "category", "price"]], on="sku", how="left")
    if codes_as_text:  # as in the RecSys parquet files: "[12 0 255 ...]"
        long["query"] = [
            f"[{' '.join(map(str, v))}]" if isinstance(v, list | np.ndarray) else None
            for v in long["query"]
        ]
    return long.sample(frac=1.0, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="module")
def data():
    return make_events(n_users=300, random_state=0)


@pytest.fixture(scope="module")
def long(data):
    return long_table(data)


@pytest.fixture(scope="module")
def counts(long):
    return EventCountEmbedder().fit(group_events(long))


def sync(collection):
    return collection.compute(scheduler="synchronous")


def check_equal(out: pd.DataFrame, model, long: pd.DataFrame) -> None:
    """``out`` (computed) is ``model.transform(group_events(long))``, exactly."""
    frame = group_events(long)
    out = out.sort_index()
    assert out.index.name == "client_id"
    assert out.index.is_unique and out.index.equals(frame.index)
    assert list(out.columns) == [str(n) for n in model.get_feature_names_out()]
    assert (out.dtypes == np.float32).all()
    expected = model.transform(frame)
    assert np.array_equal(out.to_numpy(), expected)


def test_synchronous_counts_equal_single_process(counts, long):
    result = transform(counts, dd.from_pandas(long, npartitions=6), npartitions=4)
    assert isinstance(result, dd.DataFrame) and result.npartitions == 4
    # the meta is right without computing anything
    assert list(result.columns) == list(counts.get_feature_names_out())
    assert (result.dtypes == np.float32).all()
    assert result._meta.index.name == "client_id" and result._meta.index.dtype == np.int64
    check_equal(sync(result), counts, long)
    # columns=: only those travel (and are grouped)
    frame = group_events(long, columns=["sku"])
    model = EventCountEmbedder().fit(frame)
    out = sync(transform(model, dd.from_pandas(long, npartitions=3), columns=["sku"]))
    assert np.array_equal(out.sort_index().to_numpy(), model.transform(frame))


@pytest.mark.slow
def test_users_spread_over_many_partitions_get_one_row(counts, long):
    by_time = long.sort_values("timestamp", kind="stable").reset_index(drop=True)
    events = dd.from_pandas(by_time, npartitions=12, sort=False)
    per_part = [set(sync(events.partitions[i])["client_id"]) for i in range(12)]
    assert sum(len(a & b) for a, b in zip(per_part, per_part[1:], strict=False)) > 50
    out = sync(transform(counts, events, npartitions=3))
    check_equal(out, counts, by_time)


@pytest.mark.slow
def test_string_user_ids(long):
    named = long.assign(client_id="u" + long["client_id"].astype(str))
    model = EventCountEmbedder().fit(group_events(named))
    result = transform(model, dd.from_pandas(named, npartitions=3), npartitions=2)
    assert result._meta.index.dtype == dd.from_pandas(named, npartitions=1)["client_id"].dtype
    check_equal(sync(result), model, named)


@pytest.mark.slow
def test_empty_partitions(counts, long):
    few = long[long["client_id"].isin(long["client_id"].unique()[:3])]
    result = transform(counts, dd.from_pandas(few, npartitions=2), npartitions=9)
    parts = dask.compute(*result.to_delayed(), scheduler="synchronous")
    empty = [p for p in parts if len(p) == 0]
    assert len(empty) >= 6
    for part in empty:
        pd.testing.assert_frame_equal(part, result._meta)
    check_equal(pd.concat(parts), counts, few)
    # an input partition without events (filtered away)
    events = dd.from_pandas(long, npartitions=4)
    events = events[events["client_id"] < long["client_id"].quantile(0.3)]
    out = sync(transform(counts, events, npartitions=2))
    check_equal(out, counts, long[long["client_id"] < long["client_id"].quantile(0.3)])


class FirstSku:
    """Not an estimator: transform and get_feature_names_out only. Order-sensitive."""

    def transform(self, frame):
        first = frame["sku"].list[0].astype("float64").fillna(-1)
        return first.to_numpy()[:, None]

    def get_feature_names_out(self):
        return np.array(["first_sku"], dtype=object)


@pytest.mark.slow
def test_equal_times_keep_input_order():
    rng = np.random.default_rng(0)
    n = 2000
    long = pd.DataFrame(
        {
            "client_id": rng.integers(0, 50, n),
            "timestamp": pd.Timestamp("2022-06-23") + pd.to_timedelta(rng.integers(0, 3, n), "D"),
            "sku": rng.integers(0, 10_000, n),
        }
    )
    model = FirstSku()
    for method in ("tasks", "disk", None):
        result = transform(model, dd.from_pandas(long, npartitions=7), shuffle_method=method)
        check_equal(sync(result), model, long)


def test_model_is_one_key_of_the_graph(counts, long):
    result = transform(counts, dd.from_pandas(long, npartitions=5), npartitions=6)
    graph = dict(result.__dask_graph__())

    class Spy(cloudpickle.Pickler):
        def persistent_id(self, obj):
            if obj is counts:
                found.append(obj)
                return "model"
            return None

    holders = []
    for key, node in graph.items():
        found = []
        Spy(io.BytesIO()).dump(node)
        if found:
            holders.append(key)
    assert len(holders) == 1, holders
    dependents = [k for k, node in graph.items() if holders[0] in getattr(node, "dependencies", ())]
    assert len(dependents) == result.npartitions


def test_errors(counts, long):
    events = dd.from_pandas(long, npartitions=2)
    with pytest.raises(TypeError, match=r"pandas DataFrame.*model\.transform.*from_pandas"):
        transform(counts, long)
    with pytest.raises(TypeError, match="events must be a dask.dataframe.DataFrame"):
        transform(counts, long.to_dict("list"))
    with pytest.raises(NotFittedError):
        transform(EventCountEmbedder(), events)
    with pytest.raises(TypeError, match="get_feature_names_out"):
        transform(object(), events)
    with pytest.raises(ValueError, match=r"user column 'user_id' is missing.*client_id"):
        transform(counts, events, user="user_id")
    with pytest.raises(ValueError, match=r"time column 'time' is missing.*timestamp"):
        transform(counts, events, time="time")
    with pytest.raises(ValueError, match="npartitions must be a positive int"):
        transform(counts, events, npartitions=0)


@pytest.mark.slow
def test_import_is_lazy_and_optional():
    code = (
        "import sys, sklearn_ubp, sklearn_ubp.io\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]\n"
        "sys.modules['dask'] = sys.modules['dask.dataframe'] = None  # as if not installed\n"
        "try:\n    import sklearn_ubp.dask\nexcept ImportError as e:\n    print(e)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert 'pip install "sklearn-ubp[dask]"' in out.stdout


# ------------------------------------------------------------ distributed cluster


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    # A LocalCluster writes its workers' settings (OMP_NUM_THREADS=1, ...) into this
    # process's os.environ and leaves them there: restore it, or every later test that
    # starts a subprocess runs it with other thread counts (other float rounding).
    saved = dict(os.environ)
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    try:
        with cluster, distributed.Client(cluster) as client:
            yield client
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def profile(long):
    """The default members (counts, SVDs, GRU), small and fast."""
    nested = {f"gru__{k}": v for k, v in TINY_GRU.items()}
    model = UniversalProfile(random_state=0).set_params(
        **nested, svd_category__n_components=4, svd_url__n_components=4
    )
    return model.fit(group_events(long))


@pytest.mark.slow
@pytest.mark.parametrize("codes_as_text", [True, False], ids=["p2p", "tasks"])
def test_cluster_profile_equals_single_process(client, data, profile, codes_as_text):
    # query codes as text (the RecSys files): Dask's default p2p shuffle; as
    # fixed-size lists: the tasks shuffle. Both group to the same event frame.
    long = long_table(data, codes_as_text=codes_as_text)
    result = transform(profile, dd.from_pandas(long, npartitions=8), npartitions=5)
    out = result.compute()
    assert {"gru", "counts", "svd_category"} <= {n.split("__")[0] for n in out.columns}
    check_equal(out, profile, long)
