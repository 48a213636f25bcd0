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
