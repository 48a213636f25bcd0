"""sklearn_ubp.io: reading event logs (whole or by buckets of users) and embeddings files."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sklearn_ubp import group_events
from sklearn_ubp.datasets import load_recsys2025, make_events, write_recsys2025
from sklearn_ubp.io import bucket_of, read_embeddings, read_events, write_embeddings


@pytest.fixture(scope="module")
def data():
    return make_events(n_users=1500, random_state=3)


@pytest.fixture(scope="module")
def long_table(data):
    """One row per event, the five event types in one table, rows shuffled."""
    long = pd.concat(
        [t.assign(event_type=k) for k, t in data.tables.items() if k != "search_query"],
        ignore_index=True,
    )
    return long.sample(frac=1.0, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="module")
def parquet_folder(long_table, tmp_path_factory):
    """The long table as a parquet folder of 4 part files (and a file to ignore)."""
    folder = tmp_path_factory.mktemp("io") / "events"
    folder.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(long_table)), 4)):
        long_table.iloc[rows].to_parquet(folder / f"part-{i}.parquet", index=False)
    (folder / "_SUCCESS").write_text("")
    return folder


def assert_same_frame(got, expected):
    """Every column equal, value for value, and the same dtypes (event types as labels)."""
    got = got.sort_index()
    assert list(got.columns) == list(expected.columns)
    assert got.index.equals(expected.index) and got.index.name == expected.index.name
    for column in expected.columns:
        if column != "event_type":  # dictionary codes may differ; the labels may not
            assert got[column].dtype == expected[column].dtype, column
        assert got[column].tolist() == expected[column].tolist(), column


@pytest.mark.parametrize("buckets", [None, 1, 7])
def test_a_parquet_folder_reads_as_group_events_on_the_whole_table(
    parquet_folder, long_table, buckets
):
    expected = group_events(long_table)
    result = read_events(parquet_folder, buckets=buckets)
    if buckets is None:
        assert isinstance(result, pd.DataFrame)
        assert_same_frame(result, expected)
        return
    parts = list(result)
    assert len(parts) == buckets
    ids = np.concatenate([p.index.to_numpy() for p in parts])
    assert len(ids) == len(np.unique(ids))  # each user in exactly one bucket
    if buckets > 1:
        assert max(len(p) for p in parts) < 0.3 * len(expected)  # the users are spread out
    for b, part in enumerate(parts):
        assert (bucket_of(part.index, buckets) == b).all()
    assert_same_frame(pd.concat(parts), expected)


def test_string_user_ids_are_bucketed_too(long_table, tmp_path):
    long = long_table.assign(client_id="u" + long_table["client_id"].astype(str))
    long.to_parquet(tmp_path / "log.parquet", index=False)
    expected = group_events(long)
    parts = list(read_events(tmp_path / "log.parquet", buckets=5))
    assert all(len(p) for p in parts)
    assert_same_frame(pd.concat(parts), expected)


def test_bucket_of_is_stable_and_covers_every_bucket():
    ids = np.arange(10_000, dtype=np.int64)
    b = bucket_of(ids, 7)
    np.testing.assert_array_equal(b, bucket_of(ids.astype(np.int32), 7))
    assert set(b) == set(range(7)) and np.bincount(b).min() > 1_200
    # Ids that are all multiples of the number of buckets are spread out too.
    assert len(set(bucket_of(ids * 7, 7))) == 7
    # Known values: the same on every run and machine (strings: pandas' keyed hash).
    assert bucket_of([0, 1, 2, 3, -5], 4).tolist() == bucket_of([0, 1, 2, 3, -5], 4).tolist()
    assert bucket_of(["a", "b"], 3).tolist() == bucket_of(np.array(["a", "b"]), 3).tolist()


@pytest.mark.slow
def test_recsys_folder_whole_relevant_and_by_buckets(data, tmp_path):
    folder = tmp_path / "recsys"
    write_recsys2025(folder, data.tables, data.products, relevant_clients=data.relevant_clients)
    expected = load_recsys2025(folder).events
    assert_same_frame(read_events(folder), expected)
    assert_same_frame(pd.concat(read_events(folder, buckets=3)), expected)
    relevant = load_recsys2025(folder, clients="relevant").events
    assert_same_frame(read_events(folder, users=data.relevant_clients), relevant)
    assert_same_frame(
        pd.concat(read_events(folder, users=data.relevant_clients, buckets=4)), relevant
    )


def test_users_columns_and_users_without_events(parquet_folder, long_table):
    users = [long_table["client_id"].iloc[0], long_table["client_id"].iloc[1], -1]
    frame = read_events(parquet_folder, users=users, columns=["sku"])
    assert list(frame.columns) == ["timestamp", "event_type", "sku"]
    assert sorted(frame.index) == sorted(set(users))
    assert frame.loc[-1, "sku"] == [] and frame.loc[-1, "timestamp"] == []
    whole = group_events(long_table)
    for u in users[:2]:
        assert frame.loc[u, "sku"] == whole.loc[u, "sku"]


def test_an_event_frame_file_by_buckets(data, tmp_path):
    frame = data.events.iloc[:400]
    frame.to_parquet(tmp_path / "frame.parquet")
    assert_same_frame(read_events(tmp_path / "frame.parquet"), frame)
    parts = list(read_events(tmp_path / "frame.parquet", buckets=3))
    assert_same_frame(pd.concat(parts), frame)
    # Written with a RangeIndex: the row number is the user id.
    frame.reset_index(drop=True).to_parquet(tmp_path / "unnamed.parquet")
    parts = list(read_events(tmp_path / "unnamed.parquet", buckets=2))
    assert sorted(np.concatenate([p.index for p in parts]).tolist()) == list(range(400))


def test_only_the_bucket_s_rows_are_read(parquet_folder, monkeypatch):
    """The bucket filter goes into the scan (predicate push-down), not after it."""
    from sklearn_ubp import _event_files

    seen = []

    class Spy:
        def __init__(self, dataset):
            self.dataset, self.schema = dataset, dataset.schema

        def to_table(self, columns=None, filter=None):
            table = self.dataset.to_table(columns=columns, filter=filter)
            seen.append((filter is not None, table.num_rows, columns))
            return table

    original = _event_files._dataset
    monkeypatch.setattr(_event_files, "_dataset", lambda *a, **k: Spy(original(*a, **k)))
    total = pq.read_table(parquet_folder).num_rows
    list(read_events(parquet_folder, buckets=4, columns=["sku"]))
    assert len(seen) == 4 and all(pushed for pushed, _, _ in seen)
    assert sum(n for _, n, _ in seen) == total and max(n for _, n, _ in seen) < total / 2
    assert all(set(cols) == {"client_id", "timestamp", "event_type", "sku"} for *_, cols in seen)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"buckets": 0}, ValueError, "buckets must be at least 1; got 0"),
        ({"buckets": 2.5}, TypeError, "buckets must be None or an int"),
        ({"user": "uid"}, ValueError, "the user column 'uid' is missing"),
        ({"columns": ["colour"]}, ValueError, r"column\(s\) \['colour'\] were asked for"),
    ],
)
def test_bad_arguments_are_named(parquet_folder, kwargs, error, message):
    with pytest.raises(error, match=message):
        result = read_events(parquet_folder, **kwargs)
        list(result) if kwargs.get("buckets") else result


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_events(tmp_path / "nope.parquet")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(ValueError, match="cannot read"):
        read_events(tmp_path / "bad.parquet")
    (tmp_path / "x.txt").write_text("a")
    with pytest.raises(ValueError, match="unknown file type"):
        read_events(tmp_path / "x.txt")
    pq.write_table(pa.table({"client_id": pa.array([], pa.int64()),
                             "timestamp": pa.array([], pa.timestamp("us"))}),
                   tmp_path / "empty.parquet")  # fmt: skip
    with pytest.raises(ValueError, match="the table has no rows"):
        read_events(tmp_path / "empty.parquet")


def test_csv_and_feather_long_tables(long_table, tmp_path):
    expected = group_events(long_table)
    long_table.to_csv(tmp_path / "log.csv.gz", index=False)
    long_table.to_feather(tmp_path / "log.feather")
    for name in ("log.csv.gz", "log.feather"):
        parts = list(read_events(tmp_path / name, buckets=3))
        got = pd.concat(parts).sort_index()
        assert got.index.equals(expected.index), name
        assert got["sku"].tolist() == expected["sku"].tolist(), name


@pytest.mark.parametrize("suffix", [".parquet", ".npy", ".csv"])
def test_embeddings_round_trip(tmp_path, suffix):
    emb = pd.DataFrame(
        np.arange(12, dtype=np.float32).reshape(4, 3),
        index=pd.Index([10, 3, 7, 1], name="client_id"),
        columns=["a", "b", "c"],
    )
    write_embeddings(emb, tmp_path / f"emb{suffix}")
    got = read_embeddings(tmp_path / f"emb{suffix}")
    np.testing.assert_array_equal(got.to_numpy(), emb.to_numpy())
    assert got.index.tolist() == emb.index.tolist() and got.index.name == "client_id"


def test_embeddings_folder_of_parquet_parts(tmp_path):
    folder = tmp_path / "emb"
    folder.mkdir()
    emb = pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=pd.Index([5, 6, 7], name="client_id"))
    emb.iloc[:2].to_parquet(folder / "part-0.parquet")
    emb.iloc[2:].to_parquet(folder / "part-1.parquet")
    got = read_embeddings(folder).sort_index()
    assert got["a"].tolist() == [1.0, 2.0, 3.0] and got.index.tolist() == [5, 6, 7]
    with pytest.raises(ValueError, match="no user ids found"):
        np.save(tmp_path / "lonely.npy", np.zeros((2, 2)))
        read_embeddings(tmp_path / "lonely.npy")
    with pytest.raises(ValueError, match="write embeddings to a .parquet, .npy or .csv file"):
        write_embeddings(emb, tmp_path / "emb.txt")


@pytest.mark.parametrize("suffix", [".parquet", ".npy", ".csv"])
def test_embeddings_with_duplicated_users_or_non_finite_values(tmp_path, suffix):
    index = pd.Index([3, 3], name="client_id")
    with pytest.raises(ValueError, match=r"duplicated user ids \[3\]; expected one row per user"):
        write_embeddings(pd.DataFrame({"a": [1.0, 2.0]}, index=index), tmp_path / f"e{suffix}")
    nan = pd.DataFrame({"a": [1.0, np.nan]}, index=pd.Index([3, 4], name="client_id"))
    with pytest.raises(ValueError, match=r"1 value\(s\) are NaN or infinite \(first: user 4\)"):
        write_embeddings(nan, tmp_path / f"e{suffix}")
    # files written otherwise are checked on reading too
    if suffix == ".npy":
        np.save(tmp_path / "e.npy", np.array([[1.0], [np.inf]]))
        np.save(tmp_path / "e.ids.npy", np.array([3, 4]))
        with pytest.raises(ValueError, match="NaN or infinite"):
            read_embeddings(tmp_path / "e.npy")
        np.save(tmp_path / "e.npy", np.ones((2, 1)))
        np.save(tmp_path / "e.ids.npy", np.array([3, 3]))
        with pytest.raises(ValueError, match="duplicated user ids"):
            read_embeddings(tmp_path / "e.npy")
