"""Batched inference of a fitted sequence module: padding-light batches, no gradients."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from .._sequences import Sequences, length_batches
from ._device import inference_device

__all__ = ["INFERENCE_BATCH", "INFERENCE_TOKENS", "encode_sequences", "inference_batches"]

#: Batches of ``transform``: at most this many users and padded positions (no
#: gradients, so larger batches are cheap; the token cap splits the long tail finely).
INFERENCE_BATCH = 4096
INFERENCE_TOKENS = 32_768


def inference_batches(
    module: nn.Module, seqs: Sequences, device: Any
) -> Iterator[tuple[np.ndarray, nn.Module, torch.Tensor, torch.Tensor]]:
    """``(users, module, tokens, lengths)`` per padding-light inference batch.

    Runs on ``device``, or on the CPU when that is CUDA and none is present (see
    :func:`inference_device`); ``module`` stays where it is (the CPU for a fitted
    member): another device gets a copy.
    """
    device = inference_device(device)
    if device.type != "cpu":
        module = copy.deepcopy(module).to(device)
    with torch.inference_mode():
        for users in length_batches(seqs.lengths, INFERENCE_BATCH, max_tokens=INFERENCE_TOKENS):
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
    in the order of ``seqs``.
    """
    out = np.empty((len(seqs), width), dtype=np.float32)
    for users, mod, tokens, lengths in inference_batches(module, seqs, device):
        out[users] = mod.encode(tokens, lengths)[-1].float().cpu().numpy()
    return out
