"""``Vocabulary``: the most frequent values of a field and their integer codes.

One rule for every member and task: the ``max_size`` most frequent values, ties
broken by value (the smaller first; values of types that do not compare, such as
integers mixed with strings, by their text), coded ``0 .. len - 1`` in that order;
everything else (unseen values, nulls) gets :data:`OOV`. All of it is vectorised
(``pandas.factorize``, ``np.lexsort``, a hash lookup); there is no per-value loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["OOV", "Vocabulary"]

#: The code of a value outside the vocabulary, or of a null.
OOV = -1


def _as_array(values: Any) -> np.ndarray:
    """Values as an array; strings (and values mixed with them) as objects."""
    array = np.asarray(values)
    if array.dtype.kind not in "US":
        return array
    # a list mixing strings with numbers would become all strings: keep the values
    return array.astype(object) if isinstance(values, np.ndarray) else np.asarray(values, object)


def _value_order(labels: np.ndarray) -> np.ndarray:
    """Rank of each (distinct) label by value; by text when values do not compare."""
    if labels.dtype != object:
        return labels
    try:
        order = np.argsort(labels, kind="stable")
    except TypeError:
        order = np.argsort(labels.astype(str), kind="stable")
    rank = np.empty(labels.size, dtype=np.int64)
    rank[order] = np.arange(labels.size)
    return rank


def _top(counts: np.ndarray, labels: np.ndarray, k: int | None) -> np.ndarray:
    """Positions of the ``k`` largest counts (all if ``None``), ties by smaller label."""
    n = counts.size
    if k is not None and n > k:
        # candidates: every value at least as frequent as the k-th largest
        kth = np.partition(counts, n - k)[n - k] if k else np.inf
        cand = np.flatnonzero(counts >= kth)
    else:
        cand = np.arange(n)
    order = np.lexsort((_value_order(labels[cand]), -counts[cand]))
    return cand[order[:k]]


@dataclass
class Vocabulary:
    """The most frequent values of a field, ties broken by value, and their codes.

    ``fit`` counts the values (or sums their weights), keeps those counted at least
    ``min_count`` times and, of them, the ``max_size`` most frequent; ties are broken
    by value, the smaller first (values that do not compare with each other, e.g.
    integers mixed with strings, by their text). ``encode`` gives each value its
    position in :attr:`labels_`, and :data:`OOV` (``-1``) to values outside the
    vocabulary and to nulls (``None``, ``NaN``). Works for integer, float, boolean and
    string values; a plain picklable object (not an estimator).

    Parameters
    ----------
    max_size : int or None, default=None
        Keep at most this many values (``None``: all).
    min_count : float, default=1
        Leave out values counted (weighted) fewer times; values never seen, or of
        total weight 0 or less, are always left out.
    order : {"frequency", "value"}, default="frequency"
        The order of the kept values, hence of the codes: most frequent first (ties:
        the smaller value first), or by value. The values kept do not depend on it.

    Attributes
    ----------
    labels_ : ndarray
        The values, in ``order``.
    counts_ : ndarray
        Their counts (summed weights with ``weights``).

    Examples
    --------
    >>> from sklearn_ubp import Vocabulary
    >>> vocab = Vocabulary(max_size=2).fit(["b", "a", "c", "c", None, "a"])
    >>> vocab.labels_.tolist(), vocab.counts_.tolist()
    (['a', 'c'], [2, 2])
    >>> vocab.encode(["c", "b", None, "a"]).tolist()
    [1, -1, -1, 0]
    >>> Vocabulary().fit([3, 1, 2], weights=[1.0, 2.0, 2.0]).labels_.tolist()
    [1, 2, 3]
    >>> Vocabulary(max_size=2, order="value").fit([3, 3, 1, 2, 2, 2]).labels_.tolist()
    [2, 3]
    """

    max_size: int | None = None
    min_count: float = 1
    order: str = "frequency"
    labels_: np.ndarray = field(default=None, init=False, repr=False)
    counts_: np.ndarray = field(default=None, init=False, repr=False)

    def fit(self, values: Any, weights: Any = None) -> Vocabulary:
        """Learn the vocabulary from every occurrence of the values.

        Parameters
        ----------
        values : array-like of shape (n,)
            One value per occurrence; nulls are not counted.
        weights : array-like of shape (n,), optional
            The weight of each occurrence (default 1).

        Returns
        -------
        self : Vocabulary
        """
        codes, uniq = pd.factorize(_as_array(values))
        ok = codes >= 0
        w = None if weights is None else np.asarray(weights, dtype=np.float64)[ok]
        return self.fit_counts(uniq, np.bincount(codes[ok], weights=w, minlength=len(uniq)))

    def fit_counts(self, labels: Any, counts: Any) -> Vocabulary:
        """Learn the vocabulary from distinct values and their counts.

        Parameters
        ----------
        labels : array-like of shape (n_values,)
            Distinct values (e.g. the dictionary of an encoded column); nulls are
            left out.
        counts : array-like of shape (n_values,)
            The count (or total weight) of each.

        Returns
        -------
        self : Vocabulary
        """
        labels, counts = _as_array(labels), np.asarray(counts)
        keep = (counts > 0) & (counts >= self.min_count) & ~pd.isna(labels)
        labels, counts = labels[keep], counts[keep]
        if self.order not in ("frequency", "value"):
            raise ValueError(f"order must be 'frequency' or 'value'; got {self.order!r}.")
        order = _top(counts, labels, self.max_size)
        if self.order == "value":
            order = order[np.argsort(_value_order(labels[order]), kind="stable")]
        self.labels_, self.counts_ = labels[order], counts[order]
        return self

    @classmethod
    def from_labels(cls, labels: Any, counts: Any = None) -> Vocabulary:
        """The vocabulary of given distinct values, coded in their given order.

        Parameters
        ----------
        labels : array-like of shape (n_values,)
            Distinct values, e.g. ``labels_`` of a fitted vocabulary.
        counts : array-like of shape (n_values,), optional
            Their counts, stored as ``counts_``.

        Returns
        -------
        vocabulary : Vocabulary
        """
        vocab = cls()
        vocab.labels_ = _as_array(labels)
        vocab.counts_ = None if counts is None else np.asarray(counts)
        return vocab

    def __len__(self) -> int:
        return 0 if self.labels_ is None else len(self.labels_)

    def encode(self, values: Any) -> np.ndarray:
        """Codes of values: their position in ``labels_``, :data:`OOV` if absent or null.

        Parameters
        ----------
        values : array-like of shape (n,)

        Returns
        -------
        codes : ndarray of int64, shape (n,)
        """
        values = _as_array(values)
        if not len(self) or not values.size:
            return np.full(values.shape, OOV, dtype=np.int64)
        try:
            return pd.Index(self.labels_).get_indexer(pd.Index(values)).astype(np.int64)
        except TypeError:  # values of an incomparable type match nothing
            return np.full(values.shape, OOV, dtype=np.int64)

    def encode_codes(self, codes: np.ndarray, labels: Any) -> np.ndarray:
        """Codes of ``labels[codes]`` without decoding (a dictionary-encoded column).

        Parameters
        ----------
        codes : ndarray of int
            Positions in ``labels``; ``-1`` for a null.
        labels : array-like
            The distinct values (the dictionary).

        Returns
        -------
        codes : ndarray of int64, like ``codes``
        """
        return np.append(self.encode(labels), OOV)[codes]
