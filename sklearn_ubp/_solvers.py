"""The truncated SVD solvers of :class:`~sklearn_ubp.SVDItemEmbedder`."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from sklearn.utils import check_random_state
from sklearn.utils.extmath import svd_flip

__all__ = ["top_factors"]

# Solvers (see top_factors): a dense LAPACK SVD when the matrix has at most
# _DENSE_MAX_ENTRIES entries and its smaller side at most _DENSE_MAX_SIDE; else an exact
# eigendecomposition of the item Gram matrix A^T A when there are at most _GRAM_MAX_ITEMS
# items; else a randomized subspace iteration on A^T A.
_DENSE_MAX_ENTRIES = 2_000_000
_DENSE_MAX_SIDE = 1_000
_GRAM_MAX_ITEMS = 2_000
_OVERSAMPLES = 10


def top_factors(
    A: sp.csr_array, k: int, n_iter: int, random_state: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` leading singular values and right singular vectors (items x k) of ``A``.

    The sign of every vector is fixed (``svd_flip``: its largest loading is positive).

    Every step works on the item side (``n_items x (k + 10)`` blocks), never on tall
    ``n_users``-high dense blocks, so a million users cost a few sparse products.
    """
    n_users, n_items = A.shape
    if n_users * n_items <= _DENSE_MAX_ENTRIES and min(n_users, n_items) <= _DENSE_MAX_SIDE:
        _, s, Vt = scipy.linalg.svd(A.toarray(), full_matrices=False, lapack_driver="gesdd")
        return s[:k], _signed(Vt[:k].T)
    if n_items <= _GRAM_MAX_ITEMS:
        gram = (A.T @ A).toarray()
        eigvals, V = scipy.linalg.eigh(gram, subset_by_index=[n_items - k, n_items - 1])
    else:
        # Randomized subspace iteration on A^T A (float32, LU-normalised as in
        # sklearn's randomized_svd, QR at the end), then Rayleigh-Ritz.
        rng = check_random_state(random_state)
        A32 = A.astype(np.float32)
        At32 = A32.T
        Q = rng.standard_normal((n_items, min(k + _OVERSAMPLES, n_items))).astype(np.float32)
        for _ in range(n_iter):
            Q, _ = scipy.linalg.lu(At32 @ (A32 @ Q), permute_l=True, check_finite=False)
        Q, _ = scipy.linalg.qr(At32 @ (A32 @ Q), mode="economic", check_finite=False)
        B = A32 @ Q
        eigvals, W = scipy.linalg.eigh((B.T @ B).astype(np.float64))
        eigvals, V = eigvals[-k:], Q.astype(np.float64) @ W[:, -k:]
    order = np.argsort(eigvals)[::-1]
    return np.sqrt(np.clip(eigvals[order], 0.0, None)), _signed(V[:, order])


def _signed(V: np.ndarray) -> np.ndarray:
    """``V`` with the sign of every column fixed: its largest loading is positive."""
    _, Vt = svd_flip(None, np.array(V.T, dtype=np.float64), u_based_decision=False)
    return np.ascontiguousarray(Vt.T)
