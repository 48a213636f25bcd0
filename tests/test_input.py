"""The one input boundary: every input kind becomes one checked EventView, once per call."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import sklearn_ubp._input as boundary
from sklearn_ubp import (
    EventCountEmbedder,
    EventView,
    SVDItemEmbedder,
    UniversalProfile,
    check_event_frame,
    group_events,
)
from sklearn_ubp._input import ARRAY_ITEM, ARRAY_VALUE, array_events, as_event_view
from sklearn_ubp.datasets import make_events


@pytest.fixture(scope="module")
def frame():
    return make_events(n_users=120, random_state=1).events


def long_tables():
    buys = pd.DataFrame(
        {
            "client_id": [1, 2, 2],
            "timestamp": pd.to_datetime(["2022-01-03", "2022-01-01", "2022-01-04"]),
            "sku": [5, 6, 5],
        }
    )
    visits = pd.DataFrame(
        {"client_id": [1], "timestamp": pd.to_datetime(["2022-01-02"]), "url": [9]}
    )
    return {"product_buy": buys, "page_visit": visits}


def test_every_event_input_kind_gives_the_same_output(frame):
    pl = pytest.importorskip("polars")
    est = EventCountEmbedder().fit(frame)
    expected = est.transform(frame)
    table = pa.Table.from_pandas(frame.reset_index(), preserve_index=False)
    view = as_event_view(frame)
    for X in (table, pl.from_arrow(table), pl.from_arrow(table).lazy(), view, EventView(frame)):
        np.testing.assert_array_equal(est.transform(X), expected)
    assert view.checked and as_event_view(view) is view  # a checked view is not re-checked


def test_a_dict_of_tables_is_grouped_at_the_boundary():
    tables = long_tables()
    grouped = group_events(tables)
    est = EventCountEmbedder(scale=None)
    np.testing.assert_array_equal(est.fit_transform(tables), est.fit_transform(grouped))
    assert check_event_frame(tables)["sku"].tolist() == grouped["sku"].tolist()


def test_an_unchecked_view_is_checked():
    frame = group_events(long_tables())
    bad = frame.iloc[[0, 0]]  # user 1 twice
    with pytest.raises(ValueError, match="duplicate users"):
        EventCountEmbedder().fit(EventView(bad))


def test_the_profile_checks_its_input_once_and_hands_members_the_view(frame, monkeypatch):
    calls = []
    original = boundary.validate_frame
    monkeypatch.setattr(
        boundary, "validate_frame", lambda X, *a: calls.append(len(X)) or original(X, *a)
    )
    members = [
        ("counts", EventCountEmbedder()),
        ("svd", SVDItemEmbedder(n_components=4, random_state=0)),
    ]
    profile = UniversalProfile(members).fit(frame)
    assert calls == [len(frame)]
    calls.clear()
    profile.set_params(chunk_size=50).transform(frame)
    assert calls == [len(frame)]


def test_a_2d_array_becomes_an_event_frame():
    X = np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 4.0]], dtype=np.float32)
    frame = array_events(X)
    assert frame.columns.tolist() == ["timestamp", ARRAY_ITEM, ARRAY_VALUE]
    assert frame[ARRAY_VALUE].tolist() == X.tolist()
    assert frame[ARRAY_ITEM].tolist() == [[0, 1, 2], [0, 1, 2]]
    days = [str(t.date()) for t in frame["timestamp"].iloc[0]]
    assert days == ["1970-01-01", "1970-01-02", "1970-01-03"]
    assert check_event_frame(frame) is frame
    view = as_event_view(X, estimator=EventCountEmbedder())
    assert view.array is not None and view.n_events == 6
    # the SVD's matrix of an array is the array itself
    svd = SVDItemEmbedder(n_components=2, normalize=False).fit(X)
    assert svd.vocabulary_.tolist() == [0, 2] and svd.item_counts_.tolist() == [1, 2]
    np.testing.assert_allclose(svd.transform(X) @ svd.item_embeddings_.T, X[:, [0, 2]], atol=1e-5)


def test_arrays_are_refused_where_only_event_frames_apply():
    with pytest.raises(TypeError, match="expected an event frame"):
        check_event_frame(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="Sparse data"):
        import scipy.sparse as sp

        EventCountEmbedder().fit(sp.dok_matrix(np.eye(3)))  # a dok matrix is a dict


# ------------------------------------------------------------------ input rules (#19)

ESTIMATOR_CLASSES = ["EventCountEmbedder", "SVDItemEmbedder", "GRUSequenceAutoencoder"]
TINY_GRU = {"hidden_size": 4, "embedding_dim": 4, "max_epochs": 1, "random_state": 0}


def make_member(name):
    import sklearn_ubp

    cls = getattr(sklearn_ubp, name)
    if name == "GRUSequenceAutoencoder":
        return cls(**TINY_GRU)
    return cls(n_components=2, random_state=0) if name == "SVDItemEmbedder" else cls()


def test_a_type_mismatch_across_tables_names_both_tables_and_types():
    tables = long_tables()
    tables["page_visit"]["sku"] = ["a"]  # str here, int in product_buy
    with pytest.raises(TypeError, match=r"'sku' is int64 in table 'product_buy' but string in"):
        group_events(tables)
    with pytest.raises(TypeError, match=r"table 'page_visit'"):
        group_events(dict(reversed(list(tables.items()))))
    with pytest.raises(TypeError, match=r"'sku' is string in table 'page_visit' but int64"):
        EventCountEmbedder().fit(dict(reversed(list(tables.items()))))


def test_types_across_tables_promote_whatever_the_order():
    tables = long_tables()
    tables["page_visit"]["sku"] = np.array([7.5])  # float here, int in product_buy
    tables["page_visit"]["client_id"] = np.array([1], dtype=np.int32)
    one = group_events(tables)
    other = group_events(dict(reversed(list(tables.items()))))
    assert one["sku"].dtype.pyarrow_dtype == pa.list_(pa.float64())
    assert other["sku"].dtype == one["sku"].dtype and one.index.dtype == np.int64
    assert sorted(one["sku"].tolist()[0], key=str) == sorted(other["sku"].tolist()[0], key=str)


@pytest.mark.parametrize("first_aware", [True, False])
def test_timestamp_objects_mixing_aware_and_naive_are_refused(first_aware):
    aware, naive = pd.Timestamp("2022-01-01 10:00", tz="Europe/Paris"), pd.Timestamp("2022-01-02")
    values = [aware, naive] if first_aware else [naive, aware]
    log = pd.DataFrame({"client_id": [1, 2], "timestamp": pd.Series(values, dtype=object)})
    with pytest.raises(ValueError, match="'timestamp' mixes timezone-aware .* and naive"):
        group_events(log)
    # all aware (any zones) or all naive objects are fine
    same = pd.Series([aware, aware.tz_convert("UTC")], dtype=object)
    assert group_events(log.assign(timestamp=same))["timestamp"].list.len().tolist() == [1, 1]


@pytest.mark.parametrize("name", [*ESTIMATOR_CLASSES, "UniversalProfile"])
def test_fitting_on_a_log_without_events_is_refused(name, frame):
    from sklearn_ubp import filter_events

    est = UniversalProfile() if name == "UniversalProfile" else make_member(name)
    no_events = filter_events(frame.iloc[:5], np.zeros(EventView(frame.iloc[:5]).n_events, bool))
    for X in (frame.iloc[:0], no_events):
        with pytest.raises(ValueError, match=f"{name} cannot be fitted on an event log without"):
            est.fit(X)


def test_unknown_event_types_among_known_ones_are_reported():
    log = pd.DataFrame(
        {
            "client_id": [1, 1, 2, 2],
            "timestamp": pd.to_datetime(["2022-01-01", "2022-01-02", "2022-01-03", "2022-01-04"]),
            "event_type": ["prodcut_buy", "add_to_cart", "page_visit", "clikc"],
            "category": [1, 2, 3, 1],
        }
    )
    frame = group_events(log)
    for est in (EventCountEmbedder(), SVDItemEmbedder(n_components=1)):
        with pytest.warns(
            UserWarning, match=r"'prodcut_buy' \(did you mean 'product_buy'\?\)"
        ) as w:
            est.fit(frame)
        message = str(next(x.message for x in w if "known types" in str(x.message)))
        assert "'clikc'" in message and "'add_to_cart', 'page_visit', 'product_buy'" in message
    members = [("counts", EventCountEmbedder()), ("svd", SVDItemEmbedder(n_components=1))]
    with pytest.warns(UserWarning, match="prodcut_buy") as w:
        UniversalProfile(members).fit(frame)
    assert sum("known types" in str(x.message) for x in w) == 1  # once for the profile
    # a log of its own types only (no known one) is not reported
    own = log.assign(event_type=["view", "view", "click", "click"])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        EventCountEmbedder().fit(group_events(own))


@pytest.mark.parametrize("name", [*ESTIMATOR_CLASSES, "UniversalProfile"])
def test_an_almost_event_frame_gets_the_event_frame_message(name, frame):
    est = UniversalProfile() if name == "UniversalProfile" else make_member(name)
    almost = frame.assign(segment=np.arange(len(frame)))
    with pytest.raises(TypeError, match="event frame column 'segment' must be a pyarrow list"):
        est.fit(almost)
    python_lists = pd.DataFrame({"timestamp": [[pd.Timestamp(0)]], "segment": [1]})
    with pytest.raises(TypeError, match="event frame column 'timestamp' must be a pyarrow list"):
        est.fit(python_lists)


@pytest.mark.parametrize("name", ESTIMATOR_CLASSES)
def test_a_missing_fitted_column_gets_one_message_from_every_member(name, frame):
    est = make_member(name).fit(frame)
    column = "category" if name == "SVDItemEmbedder" else "sku"
    expected = rf"the event frame lacks column\(s\) \['{column}'\] that {name} used in fit"
    with pytest.raises(ValueError, match=expected):
        est.transform(frame.drop(columns=column))


BAD_ARRAYS = {
    "nan": (np.array([[1.0, np.nan], [0.0, 1.0]]), ValueError, "Input X contains NaN"),
    "inf": (np.array([[1.0, np.inf], [0.0, 1.0]]), ValueError, "Input X contains infinity"),
    "one_d": (np.array([1.0, 2.0, 3.0]), ValueError, "Expected 2D array, got 1D array"),
    "no_rows": (np.zeros((0, 3)), ValueError, r"0 sample\(s\)"),
    "no_columns": (np.zeros((3, 0)), ValueError, r"0 feature\(s\)"),
    "complex": (np.array([[1 + 1j, 0], [0, 1]]), ValueError, "Complex data not supported"),
    "strings": (np.array([["a", "b"], ["c", "d"]], dtype=object), ValueError, "could not convert"),
    "overflow": (np.full((3, 2), 1e300), ValueError, "field 'value'.*overflows float64"),
}


@pytest.mark.parametrize("case", list(BAD_ARRAYS))
@pytest.mark.parametrize("name", [*ESTIMATOR_CLASSES, "UniversalProfile"])
def test_bad_arrays_are_refused_at_the_boundary(name, case):
    X, error, message = BAD_ARRAYS[case]
    est = UniversalProfile() if name == "UniversalProfile" else make_member(name)
    with pytest.raises(error, match=message):
        est.fit(X)


def test_an_empty_dict_of_tables_is_refused():
    with pytest.raises(ValueError, match="the dict of tables is empty"):
        EventCountEmbedder().fit({})


@pytest.mark.parametrize(
    "name",
    ["EventCountEmbedder", pytest.param("GRUSequenceAutoencoder", marks=pytest.mark.slow)],
)
def test_an_unparseable_reference_time_names_the_parameter(frame, name):
    import sklearn_ubp

    cls = getattr(sklearn_ubp, name)
    with pytest.raises(ValueError, match="reference_time='yesterday' is not a time"):
        cls(reference_time="yesterday").fit(frame)


def test_naive_and_aware_times_between_fit_and_transform_are_refused(frame):
    aware_type = pd.ArrowDtype(pa.list_(pa.timestamp("us", tz="UTC")))
    aware = frame.assign(timestamp=frame["timestamp"].astype(aware_type))
    est = EventCountEmbedder().fit(frame)
    with pytest.raises(
        ValueError, match="fitted on naive timestamps but X's 'timestamp' column is timezone-aware"
    ):
        est.transform(aware)
    back = EventCountEmbedder().fit(aware)
    with pytest.raises(ValueError, match="fitted on timezone-aware timestamps"):
        back.transform(frame)
    np.testing.assert_array_equal(back.transform(aware), est.transform(frame))


def test_events_without_an_event_type_are_reported():
    log = pd.DataFrame(
        {
            "client_id": [1, 1, 2],
            "timestamp": pd.to_datetime(["2022-01-01", "2022-01-02", "2022-01-03"]),
            "event_type": ["product_buy", None, "page_visit"],
        }
    )
    with pytest.warns(UserWarning, match=r"'event_type' has 1 missing \(null\) event type"):
        EventCountEmbedder().fit(group_events(log))
