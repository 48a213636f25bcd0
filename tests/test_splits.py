"""One row = one user: scikit-learn's splitters and cross-validation keep X and y aligned."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_ubp import EventView, check_event_frame, group_events

from conftest import random_long


def buy_share(frame: pd.DataFrame) -> np.ndarray:
    """Share of each user's events that are purchases (vectorised over the flat events)."""
    view = EventView(check_event_frame(frame))
    codes, labels = view.categories("event_type")
    is_buy = (codes == labels.index("product_buy")).astype(float)
    buys = np.bincount(view.user_of_event(), weights=is_buy, minlength=view.n_users)
    return (buys / np.maximum(view.lengths, 1)).reshape(-1, 1)


@pytest.fixture
def data():
    frame = group_events(random_long(6_000, 400, seed=3))
    # The label is a function of the user's own events, so misalignment is detectable.
    y = pd.Series((buy_share(frame)[:, 0] > 1 / 3).astype(int), index=frame.index)
    return frame, y


def test_train_test_split_keeps_users_aligned(data):
    frame, y = data
    X_train, X_test, y_train, y_test = train_test_split(frame, y, test_size=0.3, random_state=0)
    assert len(X_train) == len(y_train) and len(X_test) == len(y_test)
    assert X_train.index.equals(y_train.index) and X_test.index.equals(y_test.index)
    assert set(X_train.index).isdisjoint(X_test.index)
    np.testing.assert_array_equal((buy_share(X_test)[:, 0] > 1 / 3).astype(int), y_test.to_numpy())
    check_event_frame(X_train)


def test_kfold_splits_by_user(data):
    frame, y = data
    seen = []
    for _, test in KFold(5, shuffle=True, random_state=0).split(frame, y):
        part = frame.iloc[test]
        seen.extend(part.index)
        np.testing.assert_array_equal(
            (buy_share(part)[:, 0] > 1 / 3).astype(int), y.iloc[test].to_numpy()
        )
    assert sorted(seen) == sorted(frame.index)


def test_cross_val_score_with_a_pipeline_on_event_frames(data):
    frame, y = data
    pipe = make_pipeline(FunctionTransformer(buy_share), LogisticRegression(C=100.0))
    scores = cross_val_score(pipe, frame, y.to_numpy(), cv=KFold(4, shuffle=True, random_state=0))
    assert scores.shape == (4,)
    # The feature determines the label: only an aligned split scores this high.
    assert scores.min() > 0.9
    shuffled = cross_val_score(
        pipe, frame, np.random.default_rng(0).permutation(y.to_numpy()), cv=4
    )
    assert shuffled.mean() < 0.8
