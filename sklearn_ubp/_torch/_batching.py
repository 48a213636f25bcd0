"""Ragged sequences as torch batches: a dataset and skorch's length-bucketed iterator."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from .._sequences import Sequences, length_batches

__all__ = ["LengthBatches", "SequenceDataset"]


class SequenceDataset(torch.utils.data.Dataset):
    """Ragged sequences as a torch Dataset (batched by :class:`LengthBatches`)."""

    def __init__(self, seqs: Sequences) -> None:
        self.seqs = seqs

    def __len__(self) -> int:
        return len(self.seqs)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        tokens, lengths = self.seqs.padded(np.array([i]))
        return {"tokens": torch.from_numpy(tokens[0]), "lengths": torch.from_numpy(lengths)[0]}


class LengthBatches:
    """skorch iterator: batches of users of similar length, padded to the batch maximum.

    With ``shuffle``, the batches come in an order drawn from ``rng``; each batch is a
    dict of ``tokens`` ``(B, T, n_fields)`` and ``lengths`` ``(B,)``, the module's
    ``forward`` arguments.
    """

    def __init__(
        self,
        dataset: SequenceDataset,
        batch_size: int,
        shuffle: bool = False,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.seqs = dataset.seqs
        self.batches = length_batches(self.seqs.lengths, batch_size, rng if shuffle else None)

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[tuple[dict[str, torch.Tensor], None]]:
        for users in self.batches:
            tokens, lengths = self.seqs.padded(users)
            yield {"tokens": torch.from_numpy(tokens), "lengths": torch.from_numpy(lengths)}, None
