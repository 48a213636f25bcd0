"""Batched inference of a fitted sequence module: padding-light batches, no gradients."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from .._sequences import OOV, Sequences, length_batches
from ._device import inference_device

__all__ = [
    "INFERENCE_BATCH",
    "INFERENCE_TOKENS",
    "MIN_INFERENCE_ROWS",
    "encode_sequences",
    "exact_batches",
    "inference_batches",
    "pca_project",
    "reconstruction_counts",
]

#: Batches of ``transform``: at most this many users and padded positions (no
#: gradients, so larger batches are cheap; the token cap splits the long tail finely).
INFERENCE_BATCH = 4096
INFERENCE_TOKENS = 32_768
#: Inference batches have at least this many rows. CPU kernels for a product of a
#: few rows (matrix-vector products, tail blocks) round differently from the blocked
#: ones, so a user's row would depend on how many users share its batch and where it
#: sits in it; from a dozen rows on, a row's arithmetic is the same whatever the other
#: rows (or the padding after it). On an AVX-512 AMD EPYC (MKL 2024.2, torch 2.13) a
#: GRU's rows move with their position in batches of 5 to 7 and 9 to 11 rows, and
#: never from 12 rows on (every size to 80, and larger ones, tested).
MIN_INFERENCE_ROWS = 16


def exact_batches(lengths: np.ndarray) -> list[np.ndarray]:
    """Inference batches: users of one length, up to :data:`INFERENCE_BATCH` users and
    :data:`INFERENCE_TOKENS` positions, except that batches of fewer than
    :data:`MIN_INFERENCE_ROWS` users join the next longer ones until they have as many.

    Only the last batch (the longest users) may stay smaller; :func:`encode_sequences`
    fills it up with copies.
    """
    batches: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    for users in length_batches(lengths, INFERENCE_BATCH, max_tokens=INFERENCE_TOKENS):
        pending.append(users)  # in order of length
        if sum(len(u) for u in pending) >= MIN_INFERENCE_ROWS:
            batches.append(np.concatenate(pending))
            pending = []
    if pending:
        batches.append(np.concatenate(pending))
    return batches


def inference_batches(
    module: nn.Module, seqs: Sequences, device: Any
) -> Iterator[tuple[np.ndarray, nn.Module, torch.Tensor, torch.Tensor]]:
    """``(users, module, tokens, lengths)`` per inference batch (:func:`exact_batches`).

    Runs on ``device``, or on the CPU when that is CUDA and none is present (see
    :func:`inference_device`); ``module`` stays where it is (the CPU for a fitted
    member): another device gets a copy.
    """
    device = inference_device(device)
    if device.type != "cpu":
        module = copy.deepcopy(module).to(device)
    with torch.inference_mode():
        for users in exact_batches(seqs.lengths):
            tokens, lengths = seqs.padded(users)
            yield (
                users,
                module,
                torch.from_numpy(tokens).to(device),
                torch.from_numpy(lengths).to(device),
            )


def encode_sequences(module: nn.Module, seqs: Sequences, device: Any, width: int) -> np.ndarray:
    """``module.encode``'s last layer (final hidden state) of every sequence, float32.

    ``module.encode(tokens, lengths)`` returns ``(n_layers, B, width)``; the rows are
    in the order of ``seqs``. A row depends on its sequence only, not on the other
    sequences encoded with it (every batch has at least :data:`MIN_INFERENCE_ROWS`
    rows, the last one filled up with copies), so any subset or order of users gets
    the same rows, bit for bit.
    """
    out = np.empty((len(seqs), width), dtype=np.float32)
    for users, mod, tokens, lengths in inference_batches(module, seqs, device):
        n = len(users)
        if n < MIN_INFERENCE_ROWS:
            fill = torch.arange(MIN_INFERENCE_ROWS, device=tokens.device) % n
            tokens, lengths = tokens[fill], lengths[fill]
        out[users] = mod.encode(tokens, lengths)[-1][:n].float().cpu().numpy()
    return out


def pca_project(pca: Any, X: np.ndarray) -> np.ndarray:
    """``pca.transform(X)`` (no whitening), each row computed on its own, float32.

    A matrix product's rounding depends on how many rows it has (BLAS kernels), so
    this one is an ``einsum`` (a fixed-order sum per output, no BLAS) in float64:
    a row of the result depends on its own row of ``X`` only.
    """
    centred = np.asarray(X, dtype=np.float64) - pca.mean_
    out = np.einsum("ij,kj->ik", centred, np.asarray(pca.components_, dtype=np.float64))
    return out.astype(np.float32)


def reconstruction_counts(
    module: nn.Module, seqs: Sequences, cols: list[int], device: Any, *, majority: bool
) -> tuple[list[int], list[int]]:
    """Per reconstructed token column ``cols[k]``: right next-token predictions and
    targets (out-of-vocabulary ones included, padding and ``EOS`` not).

    With ``majority``, the "right predictions" are those of always predicting the
    column's most frequent target of ``seqs``.
    """
    hits, totals = [0] * len(cols), [0] * len(cols)
    if majority:
        # targets are every token after the first of each sequence
        first = np.zeros(len(seqs.tokens), dtype=bool)
        first[seqs.offsets[:-1]] = True
        for k, j in enumerate(cols):
            t = seqs.tokens[~first, j]
            t = t[t >= OOV]
            if t.size:
                hits[k], totals[k] = int(np.bincount(t).max()), int(t.size)
        return hits, totals
    for _, mod, tokens, lengths in inference_batches(module, seqs, device):
        for k, (pred, t) in enumerate(mod.predict(tokens, lengths)):
            keep = t >= OOV
            hits[k] += int((pred[keep] == t[keep]).sum())
            totals[k] += int(keep.sum())
    return hits, totals
