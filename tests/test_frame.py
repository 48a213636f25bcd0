import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from sklearn_ubp import EventView, check_event_frame, group_events, is_event_frame

TS = pd.ArrowDtype(pa.list_(pa.timestamp("us")))
INTS = pd.ArrowDtype(pa.list_(pa.int64()))


def hand_frame(**overrides) -> pd.DataFrame:
    data = {
        "timestamp": pd.Series(
            [
                [pd.Timestamp("2022-01-01"), pd.Timestamp("2022-01-02")],
                [],
                [pd.Timestamp("2022-01-03")],
            ],
            dtype=TS,
        ),
        "sku": pd.Series([[1, 2], [], [3]], dtype=INTS),
    }
    data.update(overrides)
    return pd.DataFrame(data).set_axis(pd.Index([10, 20, 30], name="client_id"))


def test_hand_built_frame_with_empty_history_is_valid():
    frame = hand_frame()
    assert check_event_frame(frame) is frame
    view = EventView(frame)
    np.testing.assert_array_equal(view.offsets, [0, 2, 2, 3])
    np.testing.assert_array_equal(view.lengths, [2, 0, 1])
    np.testing.assert_array_equal(view.numpy("sku"), [1, 2, 3])
    np.testing.assert_array_equal(view.user_of_event(), [0, 0, 2])
    assert is_event_frame(frame)
    assert not is_event_frame(np.zeros((3, 2)))


def test_view_of_a_sliced_or_reordered_frame_reads_the_right_events(long_events):
    frame = group_events(long_events)
    for subset in (frame.iloc[1:], frame.iloc[[2, 0]], frame.take([1])):
        view = EventView(subset)
        assert view.n_events == subset["sku"].list.len().sum()
        expected = [s for lst in subset["sku"] for s in lst]
        got = view.numpy("sku", fill=-1)
        np.testing.assert_array_equal(got, [-1 if s is None else s for s in expected])
        times = [t for lst in subset["timestamp"] for t in lst]
        np.testing.assert_array_equal(
            view.times(), pd.DatetimeIndex(times).as_unit("us").asi8 if times else []
        )


def test_view_categories_and_codes():
    df = pd.DataFrame(
        {
            "client_id": [1, 1, 2],
            "timestamp": ["2022-01-01", "2022-01-02", "2022-01-03"],
            "event_type": ["search_query", "page_visit", "search_query"],
            "query": ["[" + " ".join(["7"] * 16) + "]", None, "[" + " ".join(["9"] * 16) + "]"],
        }
    )
    view = EventView(group_events(df).iloc[::-1])
    codes, labels = view.categories("event_type")
    assert [labels[c] for c in codes] == ["search_query", "search_query", "page_visit"]
    matrix, valid = view.codes("query")
    np.testing.assert_array_equal(valid, [True, True, False])
    np.testing.assert_array_equal(matrix[:2, 0], [9, 7])


def test_polars_event_frame_is_accepted(long_events):
    frame = group_events(long_events)
    as_polars = pl.from_pandas(frame.reset_index())
    back = check_event_frame(as_polars)
    assert back.index.tolist() == frame.index.tolist()
    assert back.index.name == "client_id"
    assert back["sku"].tolist() == frame["sku"].tolist()
    assert back["event_type"].tolist() == frame["event_type"].tolist()
    arrow = pa.Table.from_pandas(frame.reset_index(), preserve_index=False)
    assert check_event_frame(arrow)["sku"].tolist() == frame["sku"].tolist()


def test_polars_frame_needs_one_user_column(long_events):
    frame = pl.from_pandas(group_events(long_events).reset_index()).with_columns(
        pl.lit(1).alias("other")
    )
    with pytest.raises(ValueError, match="exactly one non-list column"):
        check_event_frame(frame)
    assert check_event_frame(frame.drop("other"), user="client_id").shape == (3, 3)


def test_not_a_dataframe():
    with pytest.raises(TypeError, match="expected an event frame"):
        check_event_frame(np.zeros((2, 2)))


def test_non_list_column_is_named():
    frame = hand_frame(age=pd.Series([1, 2, 3]))
    with pytest.raises(TypeError, match="column 'age' must be a pyarrow list column"):
        check_event_frame(frame)


def test_missing_timestamp_column():
    frame = hand_frame().drop(columns="timestamp")
    with pytest.raises(ValueError, match=r"missing required column\(s\) \['timestamp'\]"):
        check_event_frame(frame)


def test_duplicate_users():
    frame = hand_frame().set_axis(pd.Index([10, 20, 10], name="client_id"))
    with pytest.raises(ValueError, match=r"duplicate users in its index: \[10\]"):
        check_event_frame(frame)


def test_nan_user_ids():
    frame = hand_frame().set_axis(pd.Index([10.0, np.nan, 30.0], name="client_id"))
    with pytest.raises(ValueError, match="index .*client_id.* has missing values"):
        check_event_frame(frame)


def test_list_columns_of_different_lengths_within_a_user():
    frame = hand_frame(sku=pd.Series([[1, 2], [], [3, 4]], dtype=INTS))
    with pytest.raises(
        ValueError, match="column 'sku' has 2 elements for user 30 but 'timestamp' has 1"
    ):
        check_event_frame(frame)


def test_missing_list():
    frame = hand_frame(sku=pd.Series([[1, 2], None, [3]], dtype=INTS))
    with pytest.raises(ValueError, match="column 'sku' has a missing list for user 20"):
        check_event_frame(frame)


def test_events_out_of_time_order():
    ts = pd.Series(
        [
            [pd.Timestamp("2022-01-02"), pd.Timestamp("2022-01-01")],
            [],
            [pd.Timestamp("2022-01-03")],
        ],
        dtype=TS,
    )
    with pytest.raises(ValueError, match="events of user 10 are not in time order"):
        check_event_frame(hand_frame(timestamp=ts))


def test_time_order_is_checked_within_users_only():
    # user 10 ends later than user 30 starts: fine.
    ts = pd.Series([[pd.Timestamp("2022-01-05")], [], [pd.Timestamp("2022-01-01")]], dtype=TS)
    check_event_frame(hand_frame(timestamp=ts, sku=pd.Series([[1], [], [3]], dtype=INTS)))


def test_missing_timestamp_inside_lists():
    ts = pd.Series([[pd.Timestamp("2022-01-02"), None], [], [pd.Timestamp("2022-01-03")]], dtype=TS)
    with pytest.raises(ValueError, match="'timestamp' has 1 missing timestamp"):
        check_event_frame(hand_frame(timestamp=ts))


def test_all_empty_frame_is_valid():
    frame = hand_frame(
        timestamp=pd.Series([[], [], []], dtype=TS), sku=pd.Series([[], [], []], dtype=INTS)
    )
    view = EventView(check_event_frame(frame))
    assert view.n_events == 0
    assert view.times().shape == (0,)


def test_code_columns_must_be_fixed_size_uint8():
    codes = pd.Series(
        [[[1] * 16, [2] * 16], [], [[3] * 16]], dtype=pd.ArrowDtype(pa.list_(pa.list_(pa.int64())))
    )
    with pytest.raises(
        TypeError, match="column 'query' must hold one fixed-size list of 16 uint8 codes"
    ):
        check_event_frame(hand_frame(query=codes))
    fixed = codes.astype(pd.ArrowDtype(pa.list_(pa.list_(pa.uint8(), 16))))
    check_event_frame(hand_frame(query=fixed))


def test_a_multiindex_is_refused():
    frame = hand_frame()
    frame.index = pd.MultiIndex.from_arrays([frame.index, [1, 2, 3]], names=["client_id", "day"])
    with pytest.raises(ValueError, match=r"one level of user ids; got a MultiIndex .*'day'"):
        check_event_frame(frame)


def test_infinite_numbers_are_refused_nan_is_missing():
    floats = pd.ArrowDtype(pa.list_(pa.float64()))
    bad = hand_frame(price=pd.Series([[1.0, 2.0], [], [-np.inf]], dtype=floats))
    with pytest.raises(ValueError, match=r"'price' holds 1 infinite value\(s\) \(first: user 30\)"):
        check_event_frame(bad)
    # NaN (like null) is a missing value, accepted
    check_event_frame(hand_frame(price=pd.Series([[1.0, np.nan], [], [None]], dtype=floats)))
