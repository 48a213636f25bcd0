"""Event frames to token sequences, and length-bucketed batches of them.

Each user becomes one chronological sequence: ``BOS``, the user's last ``max_length``
events, ``EOS``. Every event is a row of categorical token ids, one per *field*:

* ``"day"`` / ``"week"``: days (weeks) before the reference time ``T``, clipped to the
  span seen in ``fit``;
* a categorical column (``event_type``, ``sku``, ``category``, ``price``, ``url``, any
  integer, string or dictionary column): its ``max_vocabulary`` most frequent values in
  ``fit``, the others sharing one out-of-vocabulary id;
* a floating-point column (e.g. ``amount``): ``n_bins`` quantile buckets fitted in
  ``fit``; unless all its values are whole numbers (ids stored as floats because of
  missing values), then it is categorical.

Ids: ``0`` pad (also a field that does not apply to an event: a null, such as the url
of a purchase), ``1`` BOS, ``2`` EOS, ``3`` out of vocabulary, real values from ``4``.
Everything is vectorised over the flat Arrow values; there is no per-user loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._arrow import US_PER_DAY
from ._frame import CODE_COLUMNS, EVENT_TYPE, TIME, EventView
from ._vocabulary import Vocabulary

PAD, BOS, EOS, OOV = 0, 1, 2, 3
N_SPECIAL = 4
TIME_FIELDS = ("day", "week")

#: The paper's variants, named by the fields they read and reconstruct.
PRESETS = {
    "day_event_type": ("day", EVENT_TYPE),
    "week_all": ("week", "*"),
    "all": ("*",),
}


def usable_columns(view: EventView) -> list[str]:
    """Columns that can be tokenised: every list column except time and text codes."""
    out = []
    for name in view.columns:
        if name == TIME or name in CODE_COLUMNS:
            continue
        t = view.values(name).type
        if pa.types.is_dictionary(t):
            t = t.value_type
        if (
            pa.types.is_integer(t)
            or pa.types.is_string(t)
            or pa.types.is_large_string(t)
            or pa.types.is_boolean(t)
            or pa.types.is_floating(t)
            or pa.types.is_decimal(t)
        ):
            out.append(name)
    return out


def resolve_fields(fields: str | Sequence[str], view: EventView) -> list[str]:
    """The field list of a preset (adapted to the columns present) or an explicit tuple."""
    usable = usable_columns(view)
    if isinstance(fields, str):
        out: list[str] = []
        for f in PRESETS[fields]:
            if f == "*":
                out += [c for c in usable if c not in out]
            elif f in TIME_FIELDS or f in usable:
                out.append(f)
        return out
    fields = list(fields)
    if not fields:
        raise ValueError("fields: expected at least one field name; got an empty sequence.")
    for f in fields:
        if f in TIME_FIELDS:
            continue
        if f not in view.columns:
            raise ValueError(
                f"fields: the event frame has no column {f!r} (columns: {view.columns}); "
                f"the time fields are {TIME_FIELDS}."
            )
        if f not in usable:
            raise ValueError(
                f"fields: column {f!r} of type {view.values(f).type} cannot be tokenised; "
                "expected integer, string, dictionary, boolean or floating-point values."
            )
    if len(set(fields)) != len(fields):
        raise ValueError(f"fields: duplicate field names in {fields}.")
    return fields


@dataclass
class FieldVocabulary:
    """How one field's values become token ids."""

    name: str
    kind: str  # "day" | "week" | "categorical" | "numeric"
    values: np.ndarray = field(default_factory=lambda: np.empty(0))
    size: int = N_SPECIAL  # number of ids, specials included

    def describe(self) -> str:
        return f"{self.name} ({self.kind}, {self.size - N_SPECIAL} values)"


def _keys(values: pa.Array) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Flat keys of a categorical column: (integer keys, labels or None, valid mask).

    Integer/boolean columns give their values as int64 keys (labels None); string and
    dictionary columns give dictionary codes and the label of each code.
    """
    valid = ~np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    t = values.type
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        # whole-number floats (ids stored as float because of missing values)
        x, valid = _float_values(values)
        whole = (x == np.floor(x)) & (np.abs(x) < 2.0**53)
        keys = np.where(whole, x, 0).astype(np.int64)
        return np.where(whole, keys, _NOT_A_KEY), None, valid
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        filled = pc.fill_null(values.cast(pa.int64()), 0)
        return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.int64), None, valid
    if not pa.types.is_dictionary(t):
        values = pc.dictionary_encode(values)
    codes = pc.fill_null(values.indices.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    labels = np.asarray(values.dictionary.to_pylist(), dtype=object)
    return np.asarray(codes, dtype=np.int64), labels, valid


#: Key of a non-whole float in a categorical float column: never in a vocabulary.
_NOT_A_KEY = np.iinfo(np.int64).min


def _is_whole(values: pa.Array) -> bool:
    x, valid = _float_values(values)
    x = x[valid]
    return bool(x.size) and bool(((x == np.floor(x)) & (np.abs(x) < 2.0**53)).all())


def _float_values(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    valid = ~np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    x = pc.fill_null(values.cast(pa.float64()), 0.0).to_numpy(zero_copy_only=False)
    x = np.asarray(x, dtype=np.float64)
    valid &= np.isfinite(x)
    return x, valid


def _days_ago(view: EventView, reference_us: int) -> np.ndarray:
    return (reference_us - view.times()) // US_PER_DAY


def fit_vocabulary(
    view: EventView,
    name: str,
    *,
    reference_us: int,
    max_vocabulary: int,
    n_bins: int,
) -> FieldVocabulary:
    """Learn the ids of one field from the events of ``view``."""
    if name in TIME_FIELDS:
        days = _days_ago(view, reference_us)
        span = int(days.max()) + 1 if days.size and days.max() >= 0 else 1
        n = span if name == "day" else (span + 6) // 7
        return FieldVocabulary(name, name, np.arange(n), N_SPECIAL + n)
    values = view.values(name)
    t = values.type.value_type if pa.types.is_dictionary(values.type) else values.type
    if (pa.types.is_floating(t) or pa.types.is_decimal(t)) and not _is_whole(values):
        x, valid = _float_values(values)
        x = x[valid]
        if x.size == 0:
            edges = np.empty(0)
        else:
            edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)[1:-1]))
        return FieldVocabulary(name, "numeric", edges, N_SPECIAL + edges.size + 1)
    keys, labels, valid = _keys(values)
    keys = keys[valid]
    # most frequent first; ties by value, so that the vocabulary is deterministic
    vocab = Vocabulary(max_size=max_vocabulary)
    if labels is None:
        vocab.fit(keys)
    else:
        vocab.fit_counts(labels, np.bincount(keys, minlength=len(labels)))
    return FieldVocabulary(name, "categorical", vocab.labels_, N_SPECIAL + len(vocab))


def encode_field(view: EventView, vocab: FieldVocabulary, *, reference_us: int) -> np.ndarray:
    """Token ids (int64) of every flat event of ``view`` for one field."""
    if vocab.kind in TIME_FIELDS:
        days = _days_ago(view, reference_us)
        if vocab.kind == "week":
            days = days // 7
        return np.clip(days, 0, vocab.size - N_SPECIAL - 1) + N_SPECIAL
    values = view.values(vocab.name)
    if vocab.kind == "numeric":
        x, valid = _float_values(values)
        ids = np.searchsorted(vocab.values, x, side="right") + N_SPECIAL
        return np.where(valid, ids, PAD)
    keys, labels, valid = _keys(values)
    # map each dictionary label to its code once, then the events' keys
    table = Vocabulary.from_labels(vocab.values)
    codes = table.encode(keys) if labels is None else table.encode_codes(keys, labels)
    ids = np.where(codes >= 0, codes + N_SPECIAL, OOV)
    return np.where(valid, ids, PAD)


@dataclass
class Sequences:
    """Ragged token sequences: ``tokens[offsets[i]:offsets[i + 1]]`` is user ``i``'s."""

    tokens: np.ndarray  # (n_tokens, n_fields), int64 ids or float32 values
    offsets: np.ndarray  # (n_users + 1,) int64

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def subset(self, users: np.ndarray) -> Sequences:
        """The sequences of ``users`` (positions), in that order."""
        lengths = self.lengths[users]
        offsets = np.zeros(len(users) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        rows = np.repeat(self.offsets[users] - offsets[:-1], lengths) + np.arange(offsets[-1])
        return Sequences(self.tokens[rows], offsets)

    def padded(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A ``(len(users), max_length, n_fields)`` batch, zero-padded, and its lengths."""
        lengths = self.lengths[users]
        width = int(lengths.max()) if len(users) else 0
        steps = np.arange(width)
        mask = steps[None, :] < lengths[:, None]
        rows = self.offsets[users][:, None] + np.minimum(steps[None, :], lengths[:, None] - 1)
        batch = self.tokens[rows]
        batch[~mask] = 0
        return batch, lengths


def event_sequences(
    view: EventView,
    vocabularies: Sequence[FieldVocabulary],
    *,
    max_length: int,
    reference_us: int,
) -> Sequences:
    """``BOS``, the last ``max_length`` events, ``EOS`` of every user, as token ids."""
    kept = np.minimum(view.lengths, max_length)
    lengths = kept + 2
    offsets = np.zeros(view.n_users + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    n_kept = int(kept.sum())
    # flat positions of the kept events (the last `kept` of each user) ...
    first_kept = view.offsets[:-1] + view.lengths - kept
    starts = np.zeros(view.n_users, dtype=np.int64)
    np.cumsum(kept[:-1], out=starts[1:])
    events = np.repeat(first_kept - starts, kept) + np.arange(n_kept)
    # ... and their rows in the token array (after each user's BOS)
    rows = np.repeat(offsets[:-1] + 1 - starts, kept) + np.arange(n_kept)
    dtype = np.int32 if max(v.size for v in vocabularies) < 2**31 else np.int64
    tokens = np.empty((int(offsets[-1]), len(vocabularies)), dtype=dtype)
    tokens[offsets[:-1]] = BOS
    tokens[offsets[1:] - 1] = EOS
    for j, vocab in enumerate(vocabularies):
        ids = encode_field(view, vocab, reference_us=reference_us)
        tokens[rows, j] = ids[events]
    return Sequences(tokens, offsets)


def numeric_sequences(X: np.ndarray) -> Sequences:
    """A 2-D array as sequences: a BOS step, then one step per column.

    Input of the numeric mode of the torch autoencoder (``numeric=True``), which the
    estimators no longer use (a 2-D array reaches them as an event frame, see
    :mod:`sklearn_ubp._input`); kept for that mode's tests.

    Each step is ``(value, is_bos)`` (float32), so the model reads the value through a
    linear layer and BOS as a learned vector.
    """
    n, p = X.shape
    tokens = np.zeros((n, p + 1, 2), dtype=np.float32)
    tokens[:, 0, 1] = 1.0
    tokens[:, 1:, 0] = X
    offsets = np.arange(n + 1, dtype=np.int64) * (p + 1)
    return Sequences(tokens.reshape(n * (p + 1), 2), offsets)


def length_batches(
    lengths: np.ndarray,
    batch_size: int,
    rng: np.random.Generator | None = None,
    max_tokens: int | None = None,
) -> list[np.ndarray]:
    """Users grouped into batches of similar length, so that padding stays small.

    Users are sorted by length (ties in random order when ``rng`` is given) and cut
    into consecutive batches of at most ``batch_size`` users. With ``max_tokens``,
    every batch holds users of one length only (no padding at all), at most
    ``max_tokens // length`` of them. With ``rng`` the batch order is shuffled too.
    """
    n = len(lengths)
    if rng is None:
        order = np.argsort(lengths, kind="stable")
    else:
        order = np.lexsort((rng.random(n), lengths))
    if n == 0:
        return []
    if max_tokens is not None:
        sorted_lengths = lengths[order]
        starts = np.flatnonzero(np.r_[True, sorted_lengths[1:] != sorted_lengths[:-1]])
        ends = np.r_[starts[1:], n]
        batches = []
        for a, b in zip(starts, ends, strict=True):
            step = max(min(batch_size, max_tokens // max(int(sorted_lengths[a]), 1)), 1)
            batches += [order[i : min(i + step, b)] for i in range(a, b, step)]
    else:
        batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def padding_waste(lengths: np.ndarray, batches: Sequence[np.ndarray]) -> float:
    """Share of padded positions among all positions of ``batches``."""
    real = sum(int(lengths[b].sum()) for b in batches)
    total = sum(int(lengths[b].max()) * len(b) for b in batches if len(b))
    return 1.0 - real / total if total else 0.0
