import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from sklearn_ubp import check_event_frame, group_events
from sklearn_ubp._group import _sort_permutation

from conftest import random_long


def reference_group(df: pd.DataFrame) -> dict:
    """Per-user lists via a slow but obviously correct pandas path."""
    ordered = df.sort_values(["client_id", "timestamp"], kind="stable")
    return {
        uid: (list(g["timestamp"]), list(g["sku"]), list(g["event_type"]))
        for uid, g in ordered.groupby("client_id", sort=True)
    }


def test_sorted_by_user_then_time_and_stable_on_ties(long_events):
    frame = group_events(long_events)
    assert frame.index.name == "client_id"
    assert frame.index.tolist() == [1, 2, 3]
    assert frame["event_type"].tolist()[0] == ["page_visit", "product_buy"]
    # user 3: 08:00 cart, then two events at 10:00 kept in input order (visit, buy)
    assert frame["event_type"].tolist()[2] == ["add_to_cart", "page_visit", "product_buy"]
    assert frame["sku"].tolist()[2] == [30, None, 60]
    check_event_frame(frame)


@pytest.mark.slow
def test_matches_pandas_reference_on_random_log():
    df = random_long(20_000, 500, seed=1, span_s=600)  # many same-second ties
    frame = group_events(df)
    ref = reference_group(df)
    assert frame.index.tolist() == sorted(ref)
    for uid, ts, sku, et in zip(
        frame.index, frame["timestamp"], frame["sku"], frame["event_type"], strict=True
    ):
        ref_ts, ref_sku, ref_et = ref[uid]
        assert list(pd.to_datetime(ts)) == ref_ts
        assert list(sku) == ref_sku
        assert list(et) == ref_et


@pytest.mark.parametrize(
    ("n_users", "span_us"),
    [(50, 10**6), (4096, 10**15), (3000, 2**62)],  # one sort, bucketed sort, lexsort fallback
)
def test_sort_permutation_equals_lexsort(n_users, span_us):
    rng = np.random.default_rng(0)
    n = 30_000
    codes = rng.integers(0, n_users, n)
    times = rng.integers(0, span_us, n, dtype=np.int64)
    times[::7] = times[0]  # ties
    perm, sorted_times = _sort_permutation(codes, n_users, times)
    expected = np.lexsort((times, codes))
    np.testing.assert_array_equal(perm, expected)
    np.testing.assert_array_equal(sorted_times, times[expected])


def test_dict_of_tables_keys_become_event_types():
    buys = pd.DataFrame(
        {
            "client_id": [1, 2],
            "timestamp": ["2022-06-24 10:00:00", "2022-06-23 10:00:00"],
            "sku": [5, 6],
        }
    )
    visits = pd.DataFrame(
        {
            "client_id": [2, 2],
            "timestamp": ["2022-06-22 10:00:00", "2022-06-25 10:00:00"],
            "url": [7, 8],
        }
    )
    frame = group_events({"product_buy": buys, "page_visit": visits})
    assert frame["event_type"].tolist() == [
        ["product_buy"],
        ["page_visit", "product_buy", "page_visit"],
    ]
    assert frame["sku"].tolist() == [[5], [None, 6, None]]
    assert frame["url"].tolist() == [[None], [7, None, 8]]
    assert frame["timestamp"].dtype.pyarrow_dtype == pa.list_(pa.timestamp("us"))


@pytest.mark.parametrize("convert", ["polars", "lazy", "arrow"])
def test_polars_and_arrow_input_give_the_same_frame(long_events, convert):
    expected = group_events(long_events)
    other = {
        "polars": pl.from_pandas(long_events),
        "lazy": pl.from_pandas(long_events).lazy(),
        "arrow": pa.Table.from_pandas(long_events, preserve_index=False),
    }[convert]
    got = group_events(other)
    pd.testing.assert_frame_equal(got, expected)


def test_dict_of_polars_tables_equals_pandas():
    tables = {
        "product_buy": pd.DataFrame(
            {
                "client_id": [1, 2],
                "timestamp": pd.to_datetime(["2022-01-02", "2022-01-01"]),
                "sku": [5, 6],
            }
        ),
        "search_query": pd.DataFrame(
            {
                "client_id": [1],
                "timestamp": pd.to_datetime(["2022-01-01"]),
                "query": ["[" + " ".join(["3"] * 16) + "]"],
            }
        ),
    }
    expected = group_events(tables)
    got = group_events({k: pl.from_pandas(v) for k, v in tables.items()})
    pd.testing.assert_frame_equal(got, expected)
    assert expected["query"].tolist()[0][1] is None
    assert list(expected["query"].tolist()[0][0]) == [3] * 16


def test_users_without_events_get_empty_lists(long_events):
    frame = group_events(long_events, users=[99, 1])
    assert frame.index.tolist() == [1, 2, 3, 99]
    assert list(frame.loc[99, "timestamp"]) == []
    assert frame["sku"].list.len().tolist() == [2, 1, 3, 0]
    check_event_frame(frame)


def test_string_user_ids_and_columns_subset(long_events):
    df = long_events.assign(client_id=long_events["client_id"].map({1: "b", 2: "a", 3: "c"}))
    frame = group_events(df, columns=["sku"])
    assert frame.index.tolist() == ["a", "b", "c"]
    assert list(frame.columns) == ["timestamp", "event_type", "sku"]


def test_timezone_aware_times_are_converted_to_utc():
    df = pd.DataFrame(
        {
            "client_id": [1, 1],
            "timestamp": pd.to_datetime(["2022-01-01 12:00", "2022-01-01 13:00"]).tz_localize(
                "Europe/Warsaw"
            ),
        }
    )
    frame = group_events(df)
    got = pd.to_datetime(frame["timestamp"].iloc[0])
    assert [str(t) for t in got] == ["2022-01-01 11:00:00", "2022-01-01 12:00:00"]


def test_aware_strings_are_converted_to_utc():
    df = pd.DataFrame({"client_id": [1], "timestamp": ["2022-01-01T12:00:00+02:00"]})
    got = pd.to_datetime(group_events(df)["timestamp"].iloc[0])
    assert str(got[0]) == "2022-01-01 10:00:00"


def test_numeric_time_needs_time_unit():
    df = pd.DataFrame({"client_id": [1, 1], "timestamp": [1_700_000_000, 1_600_000_000]})
    with pytest.raises(TypeError, match="'timestamp' holds numbers.*time_unit"):
        group_events(df)
    frame = group_events(df, time_unit="s")
    assert str(pd.to_datetime(frame["timestamp"].iloc[0])[0]) == "2020-09-13 12:26:40"


# ---- bad input -------------------------------------------------------------------


def test_missing_user_column_suggests_name(long_events):
    with pytest.raises(
        ValueError, match=r"user column 'user_id' is missing.*Did you mean 'client_id'"
    ):
        group_events(long_events, user="user_id")


def test_misnamed_time_column(long_events):
    df = long_events.rename(columns={"timestamp": "timestmp"})
    with pytest.raises(ValueError, match=r"time column 'timestamp' is missing.*'timestmp'"):
        group_events(df)


def test_missing_column_in_one_table_of_a_dict():
    with pytest.raises(ValueError, match=r"events\['page_visit'\].*'client_id' is missing"):
        group_events({"page_visit": pd.DataFrame({"user": [1], "timestamp": ["2022-01-01"]})})


def test_nan_user_ids(long_events):
    df = long_events.astype({"client_id": float})
    df.loc[2, "client_id"] = np.nan
    with pytest.raises(ValueError, match="user id column 'client_id' has 1 missing"):
        group_events(df)


def test_null_user_ids_in_arrow():
    table = pa.table(
        {"client_id": pa.array([1, None]), "timestamp": pa.array(["2022-01-01", "2022-01-02"])}
    )
    with pytest.raises(ValueError, match="'client_id' has 1 missing"):
        group_events(table)


def test_unparseable_timestamps_name_column_and_value():
    df = pd.DataFrame({"client_id": [1, 2], "timestamp": ["2022-01-01 10:00:00", "yesterday"]})
    with pytest.raises(ValueError, match=r"column 'timestamp': cannot parse timestamp 'yesterday'"):
        group_events(df)


def test_missing_timestamps():
    df = pd.DataFrame({"client_id": [1, 2], "timestamp": pd.to_datetime(["2022-01-01", None])})
    with pytest.raises(ValueError, match=r"'timestamp' has 1 missing timestamp"):
        group_events(df)


def test_mixed_aware_and_naive_strings():
    df = pd.DataFrame(
        {"client_id": [1, 2], "timestamp": ["2022-01-01 10:00:00+01:00", "2022-01-01 10:00:00"]}
    )
    with pytest.raises(ValueError, match="mixes timezone-aware.*naive"):
        group_events(df)


def test_mixed_aware_and_naive_tables():
    aware = pd.DataFrame(
        {"client_id": [1], "timestamp": pd.to_datetime(["2022-01-01"]).tz_localize("UTC")}
    )
    naive = pd.DataFrame({"client_id": [1], "timestamp": pd.to_datetime(["2022-01-01"])})
    with pytest.raises(ValueError, match=r"mixes timezone-aware tables \['product_buy'\]"):
        group_events({"product_buy": aware, "page_visit": naive})


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("[1 2 3]", "expected 16 codes per row, got 3"),
        ("[" + " ".join(["300"] * 16) + "]", r"codes must lie in 0\.\.255"),
        ("[" + " ".join(["-1"] * 16) + "]", r"codes must lie in 0\.\.255"),
        ("[" + " ".join(["x"] * 16) + "]", "codes must be integers"),
    ],
)
def test_bad_query_codes(query, message):
    df = pd.DataFrame({"client_id": [1], "timestamp": ["2022-01-01"], "query": [query]})
    with pytest.raises(ValueError, match=r"'query'.*" + message):
        group_events(df)


def test_query_codes_as_lists_are_accepted():
    df = pd.DataFrame({"client_id": [1], "timestamp": ["2022-01-01"], "query": [list(range(16))]})
    frame = group_events(df)
    assert list(frame["query"].iloc[0][0]) == list(range(16))
    assert frame["query"].dtype.pyarrow_dtype == pa.list_(pa.list_(pa.uint8(), 16))


def test_unknown_input_type():
    with pytest.raises(TypeError, match="expected a pandas DataFrame, a polars DataFrame"):
        group_events([[1, 2]])


def test_requested_columns_that_do_not_exist(long_events):
    with pytest.raises(ValueError, match=r"columns \['price'\] were asked for"):
        group_events(long_events, columns=["price"])


@pytest.mark.parametrize(
    "users, match",
    [
        ([1, np.nan], r"users= holds 1 missing \(null/NaN\) id"),
        ([1, None], r"users= holds 1 missing"),
        ([1, "a"], r"users= holds ids of type string that are not ids of the user column 'client_id' \(int64\)"),
    ],
)  # fmt: skip
def test_users_with_missing_or_foreign_ids(long_events, users, match):
    with pytest.raises(ValueError, match=match):
        group_events(long_events, users=users)
    # ids that convert to the column's type are the same users
    assert group_events(long_events, users=["1", "9"]).index.tolist() == [1, 2, 3, 9]
