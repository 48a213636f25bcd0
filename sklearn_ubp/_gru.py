"""GRUSequenceAutoencoder: the paper's event-sequence autoencoder, trained with skorch."""

from __future__ import annotations

import copy
import datetime
import time
from collections.abc import Iterator, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.decomposition import PCA
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted
from torch import nn
from torch.nn import functional as F

from ._arrow import timestamp_to_us
from ._base import ARRAY, EVENTS, EventTransformer, as_pandas_events
from ._device import check_device
from ._frame import EventView
from ._sequences import (
    OOV,
    PRESETS,
    Sequences,
    event_sequences,
    fit_vocabulary,
    length_batches,
    numeric_sequences,
    resolve_fields,
)

__all__ = ["GRUSequenceAutoencoder"]

#: Batches of ``transform``: at most this many users and padded positions (no
#: gradients, so larger batches are cheap; the token cap splits the long tail finely).
INFERENCE_BATCH = 4096
INFERENCE_TOKENS = 32_768
#: With ``softmax="adaptive"``, categorical fields with more ids than this get an
#: adaptive softmax head; its clusters start at these ids (ids are ordered by frequency).
ADAPTIVE_MIN_IDS = 256
ADAPTIVE_CUTOFFS = (32, 128, 512)
#: Gradients are clipped to this total L2 norm in training.
GRADIENT_CLIP = 1.0


def _adaptive_cutoffs(hidden_size: int, n_ids: int) -> list[int]:
    """Cluster boundaries of an adaptive softmax over ``n_ids`` classes.

    Tail cluster ``i`` projects to ``hidden_size // 2 ** (i + 1)`` dimensions, which
    must stay >= 1; a boundary must leave at least one id above it.
    """
    cutoffs = [c for c in ADAPTIVE_CUTOFFS if c < n_ids - 1]
    return cutoffs[: max(int(np.log2(max(hidden_size, 1))), 0)]


# --------------------------------------------------------------------------- model


class _Dropout(nn.Module):
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


class _StackedGRU(nn.Module):
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
        self.drop = _Dropout(dropout)

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


class _SequenceAutoencoder(nn.Module):
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
        self.drop = _Dropout(dropout)
        self.encoder = _StackedGRU(in_dim, hidden_size, n_layers, dropout)
        self.decoder = _StackedGRU(in_dim, hidden_size, n_layers, dropout)
        self.latent_in = nn.Linear(hidden_size, in_dim)
        if numeric:
            self.heads = nn.ModuleList([nn.Linear(hidden_size, 1)])
        else:
            adaptive = list(adaptive) or [False] * len(vocab_sizes)
            heads: list[nn.Module] = []
            for j in reconstruct:
                cutoffs = _adaptive_cutoffs(hidden_size, vocab_sizes[j]) if adaptive[j] else []
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


class _ReconstructionLoss(nn.Module):
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


def _make_net_class() -> type:
    """The private skorch NeuralNet (built lazily so that importing skorch is deferred)."""
    from skorch import NeuralNet

    class _AutoencoderNet(NeuralNet):
        def get_loss(self, y_pred, y_true, X=None, training=False):
            return self.criterion_(y_pred)

    return _AutoencoderNet


# ------------------------------------------------------------------ data plumbing


class _SequenceDataset(torch.utils.data.Dataset):
    """Ragged sequences as a torch Dataset (batched by :class:`_LengthBatches`)."""

    def __init__(self, seqs: Sequences) -> None:
        self.seqs = seqs

    def __len__(self) -> int:
        return len(self.seqs)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        tokens, lengths = self.seqs.padded(np.array([i]))
        return {"tokens": torch.from_numpy(tokens[0]), "lengths": torch.from_numpy(lengths)[0]}


class _LengthBatches:
    """skorch iterator: batches of users of similar length, padded to the batch maximum."""

    def __init__(
        self,
        dataset: _SequenceDataset,
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


def _fused_adam_available(device: torch.device) -> bool:
    """Whether torch has a fused Adam for ``device`` (on CPUs since torch 2.4).

    It updates all parameters in one kernel, the same arithmetic as the default
    per-parameter loop; on a CPU it cuts the optimizer step about threefold.
    """
    try:
        p = torch.zeros(1, device=device, requires_grad=True)
        p.grad = torch.zeros_like(p)
        torch.optim.Adam([p], fused=True).step()
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def _resolve_device(device: str) -> torch.device:
    return torch.device(check_device(device))


# ------------------------------------------------------------------------ estimator


class GRUSequenceAutoencoder(EventTransformer):
    """User embeddings from a GRU autoencoder over each user's event sequence.

    The "GRU-AE" of the 2nd-place RecSys Challenge 2025 solution. Each user's events
    become one chronological sequence of tokens (``BOS``, the last ``max_length``
    events, ``EOS``); every event has one categorical token per *field* (see
    ``fields``). A GRU encoder reads the sequence; the **embedding is the last
    layer's final hidden state** (reduced by PCA to ``n_components`` if set). A GRU
    decoder, started from the encoder's final state, reconstructs the sequence with
    teacher forcing: its input at each step is the previous event's embedding plus a
    projection of the latent, and one linear head per reconstructed field predicts
    the next token; the loss is the sum over fields of the cross-entropy, with
    padding (and fields that do not apply to an event) ignored.

    Training runs through a skorch ``NeuralNet`` built in ``fit`` (Adam, fused where
    torch has it for the device, gradient norm clipped at 1, early stopping on
    held-out users with the best weights restored). Batches hold users of similar length (sorted by length, then
    shuffled as batches), so little padding is computed; padded steps never reach the
    heads or the loss. ``transform`` is batched inference without
    gradients; it is stateless, so any subset of users, in any order, gets the same
    rows.

    On a **2-D numeric array** each row is one equal-length numeric sequence (column
    ``j`` = step ``j``). The same model and training code run on it: a linear layer
    reads each (standardised) value, a learned vector marks ``BOS``, and the one
    head reconstructs the next value with a squared-error loss.

    Parameters
    ----------
    fields : {"week_all", "day_event_type", "all"} or sequence of str, default="week_all"
        The per-event fields read (and, by default, reconstructed). ``"day"`` and
        ``"week"`` are days / weeks before the reference time; any other name is a
        column of the event frame (integer, string or dictionary columns are
        categorical, floating-point columns get ``n_bins`` quantile buckets).
        Presets, adapted to the columns present: ``"day_event_type"`` = day and
        ``event_type``; ``"week_all"`` = week and every usable column (the paper's
        best single model reads week, event type, category, price, sku and url);
        ``"all"`` = every usable column. An explicit name that is missing raises
        ``ValueError``.
    reconstruct : sequence of str, optional
        The fields the decoder reconstructs (a subset of ``fields``); ``None``: all.
    max_length : int, default=126
        Events kept per user (the most recent); sequences hold up to
        ``max_length + 2`` tokens.
    max_vocabulary : int, default=1000
        Values kept per categorical field (the most frequent in ``fit``); the others
        share one out-of-vocabulary id. The paper kept 5,000 skus and urls; on a CPU
        a full softmax head over that many urls costs several times the GRUs
        (``softmax="adaptive"`` makes it much cheaper).
    n_bins : int, default=32
        Quantile buckets of floating-point fields.
    reference_time : datetime-like, optional
        The time day and week indices count back from. ``None``: the latest
        timestamp seen in ``fit`` (stored as :attr:`reference_time_`). Events after
        it get index 0; older than the span seen in ``fit``, the last index.
    embedding_dim : int, default=64
        Size of each field's embedding.
    combine : {"sum", "concat"}, default="sum"
        How the field embeddings of an event are combined.
    hidden_size : int, default=128
        GRU hidden size (the embedding size when ``n_components`` is ``None``).
    n_layers : int, default=1
        GRU layers of the encoder and of the decoder.
    dropout : float, default=0.1
        Dropout on the event embeddings (one mask per batch, shared by the encoder
        and the decoder, which read the same events) and between GRU layers. On a
        CPU the mask comes from 16-bit random lanes (cheaper than one Bernoulli draw
        per element), so the rate is rounded to a multiple of 1/65536.
    softmax : {"adaptive", "full"}, default="adaptive"
        Output heads of the reconstructed fields. ``"full"``: a linear layer and a
        softmax over all ids of the field, as in the paper. ``"adaptive"``: the same
        for fields of up to 256 ids; a categorical field with more (sku and url with
        the default ``max_vocabulary``) gets torch's
        :class:`~torch.nn.AdaptiveLogSoftmaxWithLoss` (Grave et al., 2017): the most
        frequent 32 ids and one entry per cluster in a full-width head, rarer ids in
        clusters of narrower projections (boundaries at ids 32, 128 and 512). The loss
        stays an exact cross-entropy of a factorised softmax. With the default sizes
        ``week_all`` then trains 1.4 times faster on a CPU at the same downstream
        score (``benchmarks/bench_gru.py``).
    n_components : int, optional
        Reduce the embedding to this many dimensions with a PCA fitted on the
        training users (as the paper does for its 512-dim model).
    max_epochs : int, default=10
        Epochs at most.
    lr : float, default=1e-3
        Adam learning rate.
    batch_size : int, default=256
        Users per training batch.
    validation_fraction : float, default=0.1
        Share of the users held out for early stopping. ``0`` (or too few users to
        hold out one) trains on all users for ``max_epochs``.
    patience : int, default=3
        Epochs without improvement of the held-out loss before stopping.
    device : str, default="cpu"
        Torch device for training and inference, e.g. ``"cuda"``. The fitted model
        is kept on the CPU, so a model trained on a GPU loads and transforms on a
        machine without one; ``transform`` then runs on the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, the validation split and the batch
        order (without touching torch's global random state). Training on the CPU is
        deterministic for a given seed.
    verbose : bool, default=False
        Print skorch's epoch table and a progress bar.

    Attributes
    ----------
    input_kind_ : {"events", "array"}
        What ``fit`` was given.
    fields_ : list of str
        The fields read.
    reconstruct_ : list of str
        The fields reconstructed.
    vocabularies_ : list of FieldVocabulary
        Per field: its kind (``"day"``, ``"week"``, ``"categorical"``, ``"numeric"``),
        its values (vocabulary or bucket edges) and its number of ids.
    reference_time_ : pandas.Timestamp or None
        The reference time (``None`` for arrays).
    mean_, scale_ : float
        Standardisation of array input.
    module_ : torch.nn.Module
        The trained autoencoder (on the CPU, in eval mode).
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``valid_loss`` (``nan`` without a
        validation split) and ``dur`` (seconds).
    best_epoch_ : int
        The epoch whose weights were kept.
    fit_seconds_ : float
        Wall time of the training loop.
    pca_ : PCA or None
        Fitted when ``n_components`` is set.
    n_features_in_ : int
        Number of columns of an array input (arrays only).

    See Also
    --------
    sklearn_ubp.EventCountEmbedder : Statistics of the same events.

    Examples
    --------
    >>> from sklearn_ubp import GRUSequenceAutoencoder
    >>> from sklearn_ubp.datasets import make_events
    >>> events = make_events(n_users=300, random_state=0).events
    >>> gru = GRUSequenceAutoencoder(hidden_size=16, max_epochs=2, random_state=0)
    >>> emb = gru.fit_transform(events)
    >>> emb.shape, emb.dtype
    ((300, 16), dtype('float32'))
    >>> gru.fields_
    ['week', 'event_type', 'sku', 'category', 'price', 'url']
    >>> [round(h["train_loss"], 1) > 0 for h in gru.history_]
    [True, True]
    """

    _ubp_postprocess = "learned"

    def _ubp_requirement(self, view: EventView) -> str | None:
        named = [] if isinstance(self.fields, str) else list(self.fields)
        named += [] if self.reconstruct is None else list(self.reconstruct)
        return self._missing_columns(view, [f for f in named if f not in ("day", "week")])

    _parameter_constraints: dict = {
        "fields": [StrOptions(set(PRESETS)), list, tuple],
        "reconstruct": [None, list, tuple],
        "max_length": [Interval(Integral, 1, None, closed="left")],
        "max_vocabulary": [Interval(Integral, 1, None, closed="left")],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "reference_time": [None, str, datetime.date, np.datetime64],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "combine": [StrOptions({"sum", "concat"})],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "softmax": [StrOptions({"adaptive", "full"})],
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        fields: str | Sequence[str] = "week_all",
        reconstruct: Sequence[str] | None = None,
        max_length: int = 126,
        max_vocabulary: int = 1000,
        n_bins: int = 32,
        reference_time: Any = None,
        embedding_dim: int = 64,
        combine: str = "sum",
        hidden_size: int = 128,
        n_layers: int = 1,
        dropout: float = 0.1,
        softmax: str = "adaptive",
        n_components: int | None = None,
        max_epochs: int = 10,
        lr: float = 1e-3,
        batch_size: int = 256,
        validation_fraction: float = 0.1,
        patience: int = 3,
        device: str = "cpu",
        random_state: Any = None,
        verbose: bool = False,
    ) -> None:
        self.fields = fields
        self.reconstruct = reconstruct
        self.max_length = max_length
        self.max_vocabulary = max_vocabulary
        self.n_bins = n_bins
        self.reference_time = reference_time
        self.embedding_dim = embedding_dim
        self.combine = combine
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.dropout = dropout
        self.softmax = softmax
        self.n_components = n_components
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> GRUSequenceAutoencoder:
        """Learn the vocabularies and train the autoencoder.

        Parameters
        ----------
        X : event frame or array-like of shape (n_users, n_steps)
            An event frame (pandas, polars or pyarrow; see :mod:`sklearn_ubp._frame`)
            or one equal-length numeric sequence per row.
        y : None
            Ignored.

        Returns
        -------
        self : GRUSequenceAutoencoder
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit, then return the embeddings of the users of ``X``.

        Parameters
        ----------
        X : event frame or array-like of shape (n_users, n_steps)
        y : None
            Ignored.

        Returns
        -------
        embeddings : ndarray of float32, shape (n_users, n_features_out)
        """
        X = as_pandas_events(X)
        return self._finish(self._fit(X), X)

    def _fit(self, X: Any) -> np.ndarray:
        device = _resolve_device(self.device)
        data = self._validate_input(X, reset=True)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        seqs = self._fit_sequences(data)
        n = len(seqs)
        n_valid = int(round(self.validation_fraction * n))
        order = np.random.default_rng(seed).permutation(n)
        if n_valid == 0 or n_valid >= n:
            train, valid = seqs, None
        else:
            train, valid = (
                seqs.subset(np.sort(order[n_valid:])),
                seqs.subset(np.sort(order[:n_valid])),
            )
        net = self._build_net(device, valid, seed)
        devices = [device] if device.type == "cuda" else []
        t0 = time.perf_counter()
        with torch.random.fork_rng(devices=devices, device_type=device.type):
            torch.manual_seed(seed)
            net.fit(_SequenceDataset(train), y=None)
        self.fit_seconds_ = time.perf_counter() - t0
        self.module_ = net.module_.to("cpu").eval()
        self._record_history(net, has_valid=valid is not None)
        latent = self._encode(seqs)
        self.pca_ = None
        if self.n_components is not None:
            if self.n_components > min(n, self.hidden_size):
                raise ValueError(
                    f"n_components={self.n_components} must be at most min(n_users, "
                    f"hidden_size) = {min(n, self.hidden_size)}."
                )
            self.pca_ = PCA(self.n_components, random_state=seed).fit(latent)
            latent = self.pca_.transform(latent)
        self._n_features_out = latent.shape[1]
        return latent

    def _fit_sequences(self, data: EventView | np.ndarray) -> Sequences:
        if self.input_kind_ == ARRAY:
            self.fields_ = ["value"]
            self.reconstruct_ = ["value"]
            self.vocabularies_ = []
            self.reference_time_ = None
            self.mean_ = float(data.mean())
            std = float(data.std())
            self.scale_ = std if std > 0 else 1.0
            return numeric_sequences((data - self.mean_) / self.scale_)
        view = data
        fields = resolve_fields(self.fields, view)
        if not fields:
            raise ValueError(f"fields={self.fields!r}: no usable field in {view.columns}.")
        if self.reconstruct is None:
            reconstruct = list(fields)
        else:
            reconstruct = list(self.reconstruct)
            unknown = [f for f in reconstruct if f not in fields]
            if unknown or not reconstruct:
                raise ValueError(
                    f"reconstruct={self.reconstruct!r} must name one or more of the fields "
                    f"read, {fields}; unknown: {unknown}."
                )
        ref = self._set_reference_time(view.times())
        self.fields_ = fields
        self.reconstruct_ = reconstruct
        self.vocabularies_ = [
            fit_vocabulary(
                view,
                f,
                reference_us=ref,
                max_vocabulary=self.max_vocabulary,
                n_bins=self.n_bins,
            )
            for f in fields
        ]
        return self._sequences(view)

    def _sequences(self, data: EventView | np.ndarray) -> Sequences:
        if self.input_kind_ == ARRAY:
            return numeric_sequences((data - self.mean_) / self.scale_)
        return event_sequences(
            data,
            self.vocabularies_,
            max_length=self.max_length,
            reference_us=timestamp_to_us(self.reference_time_),
        )

    def _module_params(self) -> dict[str, Any]:
        numeric = self.input_kind_ == ARRAY
        return {
            "vocab_sizes": [v.size for v in self.vocabularies_],
            "reconstruct": [self.fields_.index(f) for f in self.reconstruct_],
            "numeric": numeric,
            "embedding_dim": self.embedding_dim,
            "combine": self.combine,
            "hidden_size": self.hidden_size,
            "n_layers": self.n_layers,
            "dropout": self.dropout,
            "adaptive": [
                self.softmax == "adaptive" and v.kind == "categorical" and v.size > ADAPTIVE_MIN_IDS
                for v in self.vocabularies_
            ],
        }

    def _build_net(self, device: torch.device, valid: Sequences | None, seed: int) -> Any:
        from skorch.callbacks import EarlyStopping, GradientNormClipping, ProgressBar
        from skorch.helper import predefined_split

        callbacks: list = [("clip", GradientNormClipping(gradient_clip_value=GRADIENT_CLIP))]
        if valid is not None:
            sink = print if self.verbose else (lambda *a, **k: None)
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss", patience=self.patience, load_best=True, sink=sink
                    ),
                )
            )
        if self.verbose:
            callbacks.append(("progress", ProgressBar()))
        module_params = {f"module__{k}": v for k, v in self._module_params().items()}
        return _make_net_class()(
            module=_SequenceAutoencoder,
            **module_params,
            criterion=_ReconstructionLoss,
            criterion__reconstruct=module_params["module__reconstruct"],
            criterion__numeric=module_params["module__numeric"],
            optimizer=torch.optim.Adam,
            **({"optimizer__fused": True} if _fused_adam_available(device) else {}),
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=_LengthBatches,
            iterator_train__shuffle=True,
            iterator_train__rng=np.random.default_rng(seed),
            iterator_valid=_LengthBatches,
            train_split=None if valid is None else predefined_split(_SequenceDataset(valid)),
            callbacks=callbacks,
            device=str(device),
            verbose=int(bool(self.verbose)),
        )

    def _record_history(self, net: Any, *, has_valid: bool) -> None:
        rows = []
        for row in net.history:
            rows.append(
                {
                    "epoch": int(row["epoch"]),
                    "train_loss": float(row["train_loss"]),
                    "valid_loss": float(row["valid_loss"]) if has_valid else float("nan"),
                    "dur": float(row["dur"]),
                }
            )
        self.history_ = rows
        if has_valid:  # the epoch whose weights early stopping restored
            self.best_epoch_ = int(dict(net.callbacks_)["early_stopping"].best_epoch_)
        else:
            self.best_epoch_ = rows[-1]["epoch"]

    # --------------------------------------------------------------- inference

    def _inference_batches(
        self, seqs: Sequences
    ) -> Iterator[tuple[np.ndarray, nn.Module, torch.Tensor, torch.Tensor]]:
        """``(users, module, tokens, lengths)`` per padding-free inference batch.

        Runs on ``device``, or on the CPU when that is CUDA and none is present (a
        model trained on a GPU, loaded elsewhere); the fitted module stays on the CPU.
        """
        device = torch.device(self.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            device = torch.device("cpu")
        module = self.module_ if device.type == "cpu" else copy.deepcopy(self.module_).to(device)
        with torch.inference_mode():
            for users in length_batches(seqs.lengths, INFERENCE_BATCH, max_tokens=INFERENCE_TOKENS):
                tokens, lengths = seqs.padded(users)
                yield (
                    users,
                    module,
                    torch.from_numpy(tokens).to(device),
                    torch.from_numpy(lengths).to(device),
                )

    def _encode(self, seqs: Sequences) -> np.ndarray:
        """Latent of every sequence (last layer's final hidden state), batched."""
        out = np.empty((len(seqs), self.hidden_size), dtype=np.float32)
        for users, module, tokens, lengths in self._inference_batches(seqs):
            out[users] = module.encode(tokens, lengths)[-1].float().cpu().numpy()
        return out

    def transform(self, X: Any) -> np.ndarray:
        """Embed the users of ``X`` with the trained encoder (no refit).

        Parameters
        ----------
        X : event frame or array-like of shape (n_users, ``n_features_in_``)
            Of the kind seen in ``fit``. Values outside the fitted vocabularies get
            the out-of-vocabulary id; users without events get the embedding of the
            empty sequence (``BOS``, ``EOS``).

        Returns
        -------
        embeddings : ndarray of float32, shape (n_users, n_features_out)
            One row per user of ``X``, in order.
        """
        check_is_fitted(self, "module_")
        data = self._validate_input(X, reset=False)
        latent = self._encode(self._sequences(data))
        if self.pca_ is not None:
            latent = self.pca_.transform(latent)
        return self._finish(latent, data)

    def reconstruction_accuracy(self, X: Any) -> dict[str, float]:
        """Share of next tokens the decoder predicts right, per reconstructed field.

        Teacher forcing, as in training, over the users' real events: ``EOS`` targets
        and fields that do not apply to an event (padding) are left out; an
        out-of-vocabulary target counts as its own class. Compare with
        :meth:`majority_accuracy` on the same users: a model that learned nothing
        does no better.

        Parameters
        ----------
        X : event frame
            Users to score, e.g. users held out from ``fit``.

        Returns
        -------
        accuracy : dict
            Field name -> accuracy in ``[0, 1]`` (``nan`` without any target).
        """
        hits, totals = self._reconstruction_counts(X, majority=False)
        return {f: (hits[f] / totals[f] if totals[f] else float("nan")) for f in hits}

    def majority_accuracy(self, X: Any) -> dict[str, float]:
        """Accuracy of always predicting each field's most frequent target token.

        The most frequent token is counted on ``X`` itself, so this is an optimistic
        baseline for :meth:`reconstruction_accuracy`.

        Parameters
        ----------
        X : event frame

        Returns
        -------
        accuracy : dict
            Field name -> accuracy in ``[0, 1]``.
        """
        hits, totals = self._reconstruction_counts(X, majority=True)
        return {f: (hits[f] / totals[f] if totals[f] else float("nan")) for f in hits}

    def _reconstruction_counts(
        self, X: Any, *, majority: bool
    ) -> tuple[dict[str, int], dict[str, int]]:
        check_is_fitted(self, "module_")
        data = self._validate_input(X, reset=False)
        if self.input_kind_ != EVENTS:
            raise ValueError(
                "reconstruction accuracy is defined for event frames (token fields); this "
                "model was fitted on a 2-D numeric array."
            )
        seqs = self._sequences(data)
        cols = [self.fields_.index(f) for f in self.reconstruct_]
        hits = dict.fromkeys(self.reconstruct_, 0)
        totals = dict.fromkeys(self.reconstruct_, 0)
        if majority:
            # targets are every token after the first of each sequence
            first = np.zeros(len(seqs.tokens), dtype=bool)
            first[seqs.offsets[:-1]] = True
            for f, j in zip(self.reconstruct_, cols, strict=True):
                t = seqs.tokens[~first, j]
                t = t[t >= OOV]
                if t.size:
                    hits[f] = int(np.bincount(t).max())
                    totals[f] = int(t.size)
            return hits, totals
        for _, module, tokens, lengths in self._inference_batches(seqs):
            for f, (pred, t) in zip(
                self.reconstruct_, module.predict(tokens, lengths), strict=True
            ):
                keep = t >= OOV
                hits[f] += int((pred[keep] == t[keep]).sum())
                totals[f] += int(keep.sum())
        return hits, totals

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output column names: ``gru_0``, ``gru_1``, ...

        Parameters
        ----------
        input_features : array-like of str or None
            Only checked against the fitted column names after array input.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self, "module_")
        if self.input_kind_ == ARRAY:
            _check_feature_names_in(self, input_features, generate_names=False)
        return np.asarray([f"gru_{i}" for i in range(self._n_features_out)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
