"""``Vocabulary``: top values by frequency, ties by value, one out-of-vocabulary code."""

import pickle

import numpy as np
import pytest

from sklearn_ubp import Vocabulary
from sklearn_ubp._vocabulary import OOV


def test_frequency_then_value_order():
    vocab = Vocabulary().fit([3, 1, 2, 2, 3, 5, 4, 4])
    assert vocab.labels_.tolist() == [2, 3, 4, 1, 5]
    assert vocab.counts_.tolist() == [2, 2, 2, 1, 1]
    assert vocab.encode([5, 2, 9]).tolist() == [4, 0, OOV]


def test_max_size_breaks_ties_by_value_and_partition_agrees():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 500, 5000)
    for k in (0, 1, 7, 100, 499, 500, 1000):
        vocab = Vocabulary(max_size=k).fit(values)
        uniq, counts = np.unique(values, return_counts=True)
        expected = uniq[np.lexsort((uniq, -counts))][:k]
        assert vocab.labels_.tolist() == expected.tolist()


def test_strings_nulls_and_weights():
    vocab = Vocabulary(max_size=2).fit(np.array(["b", None, "a", "b", "a", "c"], dtype=object))
    assert vocab.labels_.tolist() == ["a", "b"]
    assert vocab.encode(["c", None, "b"]).tolist() == [OOV, OOV, 1]
    weighted = Vocabulary(min_count=2.5).fit([1, 2, 2, 3], weights=[3.0, 1.0, 1.0, 0.5])
    assert weighted.labels_.tolist() == [1] and weighted.counts_.tolist() == [3.0]
    floats = Vocabulary().fit([1.5, np.nan, 1.5, 0.5])
    assert floats.labels_.tolist() == [1.5, 0.5]


def test_mixed_types_fall_back_to_text_order():
    vocab = Vocabulary().fit_counts(np.array([10, "a", 9], dtype=object), [1, 1, 1])
    assert vocab.labels_.tolist() == [10, 9, "a"]  # "10" < "9" < "a"
    assert Vocabulary().fit([1, 2]).encode(np.array(["x"], dtype=object)).tolist() == [OOV]


def test_value_order_encode_codes_and_pickle():
    vocab = Vocabulary(max_size=2, order="value").fit([7, 7, 7, 5, 5, 9])
    assert vocab.labels_.tolist() == [5, 7]
    codes = vocab.encode_codes(np.array([0, 1, 2, -1]), [9, 7, 5])
    assert codes.tolist() == [OOV, 1, 0, OOV]
    again = pickle.loads(pickle.dumps(vocab))
    assert again.labels_.tolist() == [5, 7] and again.max_size == 2
    assert len(Vocabulary()) == 0 and Vocabulary().fit([]).encode([1]).tolist() == [OOV]
    assert Vocabulary.from_labels(["b", "a"]).encode(["a"]).tolist() == [1]


def test_bad_order():
    with pytest.raises(ValueError, match="order"):
        Vocabulary(order="random").fit([1])
