"""load_recsys2025 on a small folder written by hand in exactly the official layout."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sklearn_ubp import check_event_frame
from sklearn_ubp.datasets import load_recsys2025, write_recsys2025


def codes(*values: int) -> str:
    return "[" + " ".join(str(v) for v in values) + "]"


Q1 = codes(*range(16))
Q2 = codes(*([255] * 8 + [0] * 8))


@pytest.fixture
def folder(tmp_path):
    def write(file, /, **cols):
        pq.write_table(pa.table(cols), tmp_path / f"{file}.parquet")

    # string timestamps "YYYY-MM-DD HH:MM:SS", as the organizers' README describes
    write(
        "product_buy",
        client_id=pa.array([1, 2], pa.int64()),
        timestamp=["2022-07-01 10:00:00", "2022-07-02 11:00:00"],
        sku=pa.array([100, 101], pa.int64()),
    )
    write(
        "add_to_cart",
        client_id=pa.array([1, 1], pa.int64()),
        timestamp=["2022-07-01 09:00:00", "2022-07-03 09:00:00"],
        sku=pa.array([100, 999], pa.int64()),
    )
    write(
        "remove_from_cart",
        client_id=pa.array([2], pa.int64()),
        timestamp=["2022-07-02 12:00:00"],
        sku=pa.array([101], pa.int64()),
    )
    # datetimes in this one: both forms occur in the wild
    write(
        "page_visit",
        client_id=pa.array([3, 1], pa.int64()),
        timestamp=pa.array(pd.to_datetime(["2022-07-05 08:00:00", "2022-07-01 08:30:00"]).values),
        url=pa.array([7, 8], pa.int64()),
    )
    write(
        "search_query",
        client_id=pa.array([3], pa.int64()),
        timestamp=["2022-07-04 08:00:00"],
        query=[Q1],
    )
    write(
        "product_properties",
        sku=pa.array([100, 101], pa.int64()),
        category=pa.array([5, 6], pa.int64()),
        price=pa.array([10, 90], pa.int64()),
        name=[Q2, Q1],
    )
    (tmp_path / "input").mkdir()
    np.save(
        tmp_path / "input" / "relevant_clients.npy", np.array([1, 2, 4], dtype=np.int64)
    )  # 4: no events
    (tmp_path / "target").mkdir()
    np.save(tmp_path / "target" / "propensity_sku.npy", np.array([100, 101]))
    np.save(tmp_path / "target" / "active_clients.npy", np.array([1, 2]))
    return tmp_path


def test_load_all_clients(folder):
    data = load_recsys2025(folder)
    events = check_event_frame(data.events)
    assert events.index.name == "client_id"
    assert events.index.tolist() == [1, 2, 3, 4]
    assert list(events.loc[4, "timestamp"]) == []
    assert events["event_type"].tolist()[0] == [
        "page_visit",
        "add_to_cart",
        "product_buy",
        "add_to_cart",
    ]
    assert events["sku"].tolist()[0] == [None, 100, 100, 999]
    assert events["url"].tolist()[0] == [8, None, None, None]
    # joined product properties; sku 999 is not in the properties: null, not dropped
    assert events["category"].tolist()[0] == [None, 5, 5, None]
    assert events["price"].tolist()[1] == [90, 90]
    name = events["name"].tolist()[0][1]
    assert list(name) == [255] * 8 + [0] * 8
    query = events["query"].tolist()[2]
    assert query[1] is None and list(query[0]) == list(range(16))
    assert (
        pd.to_datetime(events["timestamp"].tolist()[2]).tolist()
        == pd.to_datetime(["2022-07-04 08:00:00", "2022-07-05 08:00:00"]).tolist()
    )
    np.testing.assert_array_equal(data.relevant_clients, [1, 2, 4])
    assert set(data.targets) == {"propensity_sku", "active_clients"}
    assert data.products["sku"].tolist() == [100, 101]
    assert list(data.products["name"].iloc[1]) == list(range(16))


def test_load_relevant_clients_only(folder):
    data = load_recsys2025(folder, clients="relevant")
    assert data.events.index.tolist() == [1, 2, 4]
    assert data.events["sku"].list.len().tolist() == [4, 2, 0]


def test_max_clients_and_event_types(folder):
    data = load_recsys2025(folder, max_clients=2, event_types=["product_buy", "page_visit"])
    assert data.events.index.tolist() == [1, 2]
    assert data.events["event_type"].tolist() == [["page_visit", "product_buy"], ["product_buy"]]


def test_write_then_load_round_trip(tmp_path):
    tables = {
        "product_buy": pd.DataFrame(
            {"client_id": [7], "timestamp": pd.to_datetime(["2022-07-01 10:00:01"]), "sku": [1]}
        ),
        "search_query": pd.DataFrame(
            {
                "client_id": [8],
                "timestamp": pd.to_datetime(["2022-07-01 10:00:00"]),
                "query": [np.full(16, 3, np.uint8)],
            }
        ),
    }
    products = pd.DataFrame(
        {"sku": [1], "category": [2], "price": [3], "name": [np.arange(16, dtype=np.uint8)]}
    )
    write_recsys2025(tmp_path, tables, products, relevant_clients=[7, 8, 9])
    raw = pq.read_table(tmp_path / "search_query.parquet")
    assert raw.column("query").to_pylist() == [codes(*([3] * 16))]
    assert raw.column("timestamp").to_pylist() == ["2022-07-01 10:00:00"]
    data = load_recsys2025(tmp_path, event_types=list(tables))
    assert data.events.index.tolist() == [7, 8, 9]
    assert data.events["category"].tolist() == [[2], [None], []]


def test_missing_folder_and_files(tmp_path, folder):
    with pytest.raises(FileNotFoundError, match="not a directory"):
        load_recsys2025(tmp_path / "nope")
    (folder / "page_visit.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="page_visit.parquet not found"):
        load_recsys2025(folder)


def test_bad_codes_in_files(folder):
    pq.write_table(
        pa.table(
            {
                "client_id": pa.array([3], pa.int64()),
                "timestamp": ["2022-07-04 08:00:00"],
                "query": ["[1 2 3]"],
            }
        ),
        folder / "search_query.parquet",
    )
    with pytest.raises(ValueError, match=r"'query'.*expected 16 codes per row, got 3"):
        load_recsys2025(folder)


def test_misnamed_column_in_a_file(folder):
    pq.write_table(
        pa.table(
            {"user": pa.array([3], pa.int64()), "timestamp": ["2022-07-04 08:00:00"], "url": [1]}
        ),
        folder / "page_visit.parquet",
    )
    with pytest.raises(
        ValueError, match=r"page_visit.parquet: missing column\(s\) \['client_id'\]"
    ):
        load_recsys2025(folder)


def test_bad_arguments(folder):
    with pytest.raises(ValueError, match="clients must be 'all' or 'relevant'"):
        load_recsys2025(folder, clients="some")
    with pytest.raises(ValueError, match="unknown event type"):
        load_recsys2025(folder, event_types=["purchase"])
