"""Torch modules of the sequence members: dropout, stacked GRU, autoencoder, loss."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "ADAPTIVE_CUTOFFS",
    "ADAPTIVE_MIN_IDS",
    "LaneDropout",
    "ReconstructionLoss",
    "SequenceAutoencoder",
    "StackedGRU",
    "adaptive_cutoffs",
]

#: With ``softmax="adaptive"``, categorical fields with more ids than this get an
#: adaptive softmax head; its clusters start at these ids (ids are ordered by frequency).
ADAPTIVE_MIN_IDS = 256
ADAPTIVE_CUTOFFS = (32, 128, 512)


def adaptive_cutoffs(hidden_size: int, n_ids: int) -> list[int]:
    """Cluster boundaries of an adaptive softmax over ``n_ids`` classes.

    Tail cluster ``i`` projects to ``hidden_size // 2 ** (i + 1)`` dimensions, which
    must stay >= 1; a boundary must leave at least one id above it.
    """
    cutoffs = [c for c in ADAPTIVE_CUTOFFS if c < n_ids - 1]
    return cutoffs[: max(int(np.log2(max(hidden_size, 1))), 0)]


class LaneDropout(nn.Module):
    """Dropout whose mask costs a few random words instead of one draw per element.

    ``nn.Dropout`` on a CPU draws one ``bernoulli_`` sample per element, which costs
    far more than the multiplication it masks. Here each 64-bit
    draw of torch's generator gives three uniform 16-bit lanes, and an element is kept
    when its lane is above ``p`` (so ``p`` is rounded to a multiple of ``1 / 65536``);
    kept elements are scaled by ``1 / (1 - p)`` as usual. Same expectation, still
    seeded by torch's (CPU) generator, and cheaper than ``nn.Dropout``; other
    devices use ``F.dropout``.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0 or x.numel() == 0:
            return x
        if x.device.type != "cpu":
            return F.dropout(x, self.p, training=True)
        drop = round(self.p * 65536)
        if drop >= 65536:
            return torch.zeros_like(x)
        n = x.numel()
        words = torch.empty((n + 2) // 3, dtype=torch.int64).random_()  # [0, 2**63)
        lanes = words.view(torch.int16).view(-1, 4)[:, :3].reshape(-1)[:n]
        keep = lanes >= drop - 32768
        return x * keep.view(x.shape).to(x.dtype).mul_(65536 / (65536 - drop))


class StackedGRU(nn.Module):
    """GRU layers run one by one on a zero-padded batch, with true-length final states.

    Batches hold users of similar length, so running the dense (padded) GRU kernels
    wastes little, and is several times faster on a CPU than packed sequences
    (whose backward pass steps through time in Python-visible pieces). Padding only
    follows a sequence's real steps, so it never changes them; each layer's final
    state is read at the sequence's own last step.
    """

    def __init__(self, in_dim: int, hidden_size: int, n_layers: int, dropout: float) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.GRU(in_dim if i == 0 else hidden_size, hidden_size, 1, batch_first=True)
            for i in range(n_layers)
        )
        self.drop = LaneDropout(dropout)

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor, h0: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        last = (lengths - 1).view(-1, 1, 1).expand(-1, 1, self.layers[0].hidden_size)
        finals = []
        for i, layer in enumerate(self.layers):
            if i:
                x = self.drop(x)
            x, _ = layer(x, None if h0 is None else h0[i : i + 1].contiguous())
            finals.append(x.gather(1, last)[:, 0])
        return x, torch.stack(finals)


class SequenceAutoencoder(nn.Module):
    """GRU encoder-decoder over length-bucketed, zero-padded event sequences.

    ``forward(tokens, lengths)`` takes a ``(B, T, n_fields)`` batch (ids, or
    ``(value, is_bos)`` pairs when ``numeric``) and returns, per reconstructed field,
    the logits (values) and targets of the real decoder steps where the field has a
    target; padded steps, and events a field does not apply to, never reach the heads.
    """

    def __init__(
        self,
        *,
        vocab_sizes: Sequence[int],
        reconstruct: Sequence[int],
        numeric: bool,
        embedding_dim: int,
        combine: str,
        hidden_size: int,
        n_layers: int,
        dropout: float,
        adaptive: Sequence[bool] = (),
    ) -> None:
        super().__init__()
        self.numeric = numeric
        self.combine = combine
        self.reconstruct = list(reconstruct)
        if numeric:
            self.value_embedding = nn.Linear(2, embedding_dim)
            in_dim = embedding_dim
        else:
            self.embeddings = nn.ModuleList(
                nn.Embedding(v, embedding_dim, padding_idx=0) for v in vocab_sizes
            )
            in_dim = embedding_dim * (len(vocab_sizes) if combine == "concat" else 1)
        self.drop = LaneDropout(dropout)
        self.encoder = StackedGRU(in_dim, hidden_size, n_layers, dropout)
        self.decoder = StackedGRU(in_dim, hidden_size, n_layers, dropout)
        self.latent_in = nn.Linear(hidden_size, in_dim)
        if numeric:
            self.heads = nn.ModuleList([nn.Linear(hidden_size, 1)])
        else:
            adaptive = list(adaptive) or [False] * len(vocab_sizes)
            heads: list[nn.Module] = []
            for j in reconstruct:
                cutoffs = adaptive_cutoffs(hidden_size, vocab_sizes[j]) if adaptive[j] else []
                if cutoffs:
                    heads.append(
                        nn.AdaptiveLogSoftmaxWithLoss(
                            hidden_size, vocab_sizes[j], cutoffs, div_value=2.0
                        )
                    )
                else:
                    heads.append(nn.Linear(hidden_size, vocab_sizes[j]))
            self.heads = nn.ModuleList(heads)

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(..., n_fields)`` tokens to ``(..., in_dim)`` input vectors."""
        if self.numeric:
            return self.value_embedding(tokens)
        parts = [emb(tokens[..., j]) for j, emb in enumerate(self.embeddings)]
        if self.combine == "concat":
            return torch.cat(parts, dim=-1)
        out = parts[0]
        for p in parts[1:]:
            out = out + p
        return out

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Final hidden state of every encoder layer, ``(n_layers, B, hidden)``."""
        _, h = self.encoder(self.drop(self.embed(tokens)), lengths)
        return h

    def _decoder_states(
        self, tokens: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Decoder states ``(B, T - 1, hidden)`` and their next-event targets."""
        # one embedding pass and one dropout mask: the decoder reads the same events
        # as the encoder, shifted by one step
        emb = self.drop(self.embed(tokens))
        _, h = self.encoder(emb, lengths)
        x = emb[:, :-1] + self.latent_in(h[-1])[:, None, :]
        out, _ = self.decoder(x, lengths - 1, h)
        return out, tokens[:, 1:]

    def _decode(
        self, tokens: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Decoder states and next-event targets of the real steps, ``(n_steps, ...)``."""
        out, targets = self._decoder_states(tokens, lengths)
        steps = torch.arange(out.shape[1], device=out.device)[None, :]
        real = steps < (lengths - 1)[:, None]
        return out[real], targets[real]

    def _first_layer(self, k: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Weight and bias of head ``k``'s first product: the whole head of a linear
        field, the shortlist-and-clusters head of an adaptive one."""
        head = self.heads[k]
        if isinstance(head, nn.AdaptiveLogSoftmaxWithLoss):
            return head.head.weight, head.head.bias
        return head.weight, head.bias

    def _log_probs(
        self,
        k: int,
        x: torch.Tensor,
        logits: torch.Tensor,
        t: torch.Tensor,
    ) -> torch.Tensor:
        """Log-probability of target ``t`` of every row of ``x`` under head ``k``, given
        the rows' first-layer ``logits``; a row without a target (``t == 0``, padding)
        gets a finite value that the caller drops.

        For an adaptive softmax: ``log p(t) = head[t]`` for a shortlist id, else
        ``head[cluster] + log_softmax(tail(x))[t - cutoff]``, exactly as torch's
        :class:`~torch.nn.AdaptiveLogSoftmaxWithLoss` computes it; only the rows whose
        target falls in a cluster go through that cluster's tail.
        """
        lp_head = F.log_softmax(logits, dim=1)
        head = self.heads[k]
        if not isinstance(head, nn.AdaptiveLogSoftmaxWithLoss):
            return lp_head.gather(1, t[:, None])[:, 0]
        t = t.contiguous()  # a column of the batch's targets
        bounds = torch.tensor(head.cutoffs[:-1], device=t.device, dtype=t.dtype)
        cluster = torch.bucketize(t, bounds, right=True)  # 0: shortlist
        column = torch.where(cluster == 0, t, head.shortlist_size + cluster - 1)
        lp = lp_head.gather(1, column[:, None])[:, 0]
        for i, tail in enumerate(head.tail):
            rows = (cluster == i + 1).nonzero()[:, 0]  # never a padded row (id 0)
            if rows.numel():
                lp_tail = F.log_softmax(tail(x.index_select(0, rows)), dim=1)
                offset = t.index_select(0, rows) - head.cutoffs[i]
                lp = lp.index_add(0, rows, lp_tail.gather(1, offset[:, None])[:, 0])
        return lp

    def _groups(
        self, targets: torch.Tensor
    ) -> tuple[list[tuple[int, torch.Tensor]], list[tuple[torch.Tensor, list[int]]]]:
        """Heads run on every decoder row, and the others grouped by their steps.

        ``targets`` is ``(n_rows, n_fields)``, padded rows included. A field with a
        target at more than half of the rows (week and event type at every real step,
        url at every page visit) is computed on all rows and masked after: cheaper
        than gathering its rows and scattering the gradient back. The rarer fields
        (sku, category and price at product events) share one gather per distinct set
        of steps. Returns ``[(head, mask)]`` of the former and ``[(mask, heads)]``.
        """
        dense: list[tuple[int, torch.Tensor]] = []
        sparse: list[tuple[torch.Tensor, list[int]]] = []
        for k, j in enumerate(self.reconstruct):
            keep = targets[:, j] != 0
            if 2 * int(keep.sum()) > keep.numel():
                dense.append((k, keep))
                continue
            for mask, members in sparse:
                if torch.equal(mask, keep):
                    members.append(k)
                    break
            else:
                sparse.append((keep, [k]))
        return dense, sparse

    def _group_log_probs(
        self,
        members: list[int],
        x: torch.Tensor,
        targets: torch.Tensor,
    ) -> list[torch.Tensor]:
        """Per member head: the log-probability of its target at every row of ``x``;
        the members' first layers run as one matrix product."""
        weights, biases = zip(*(self._first_layer(k) for k in members), strict=True)
        bias = None
        if any(b is not None for b in biases):
            bias = torch.cat(
                [
                    w.new_zeros(w.shape[0]) if b is None else b
                    for w, b in zip(weights, biases, strict=True)
                ]
            )
        logits = F.linear(x, torch.cat(weights), bias).split([w.shape[0] for w in weights], 1)
        return [
            self._log_probs(k, x, y, targets[:, self.reconstruct[k]].long())
            for k, y in zip(members, logits, strict=True)
        ]

    def forward(
        self, tokens: torch.Tensor, lengths: torch.Tensor
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per reconstructed field: ``(log-probability of each target, targets)``, both
        1-D over the real decoder steps where the field has a target, in order; for
        numeric input ``(predicted values, target values)``."""
        if self.numeric:
            out, targets = self._decode(tokens, lengths)
            return [(self.heads[0](out)[:, 0], targets[:, 0])]
        out, targets = self._decoder_states(tokens, lengths)
        out = out.reshape(-1, out.shape[-1])
        targets = targets.reshape(-1, targets.shape[-1])
        pairs: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * len(self.heads)
        dense, sparse = self._groups(targets)
        if dense:
            log_probs = self._group_log_probs([k for k, _ in dense], out, targets)
            for (k, keep), lp in zip(dense, log_probs, strict=True):
                pairs[k] = (lp[keep], targets[keep, self.reconstruct[k]].long())
        for keep, members in sparse:
            rows = keep.nonzero()[:, 0]
            x, t = out.index_select(0, rows), targets.index_select(0, rows)
            for k, lp in zip(members, self._group_log_probs(members, x, t), strict=True):
                pairs[k] = (lp, t[:, self.reconstruct[k]].long())
        return pairs  # type: ignore[return-value]

    def predict(
        self, tokens: torch.Tensor, lengths: torch.Tensor
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per reconstructed field: the most likely next ids (values) and the targets,
        over the real decoder steps where the field has a target."""
        if self.numeric:  # the predicted values are the output
            return self.forward(tokens, lengths)
        out, targets = self._decode(tokens, lengths)
        pairs = []
        for head, j in zip(self.heads, self.reconstruct, strict=True):
            keep = targets[:, j] != 0
            x = out[keep]
            if isinstance(head, nn.AdaptiveLogSoftmaxWithLoss):
                pred = head.predict(x)
            else:
                pred = head(x).argmax(1)
            pairs.append((pred, targets[keep, j].long()))
        return pairs


class ReconstructionLoss(nn.Module):
    """Sum over fields of the mean cross-entropy (pad ignored); MSE for numeric input."""

    def __init__(self, *, reconstruct: Sequence[int], numeric: bool) -> None:
        super().__init__()
        self.reconstruct = list(reconstruct)
        self.numeric = numeric

    def per_field(self, pairs: list[tuple[torch.Tensor, torch.Tensor]]) -> list[torch.Tensor]:
        if self.numeric:
            (pred, target) = pairs[0]
            return [F.mse_loss(pred, target)]
        # categorical fields: the log-probabilities of their targets
        return [-log_p.sum() / max(int(t.numel()), 1) for log_p, t in pairs]

    def forward(self, y_pred: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        return torch.stack(self.per_field(y_pred)).sum()
