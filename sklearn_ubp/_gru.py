"""GRUSequenceAutoencoder: the paper's event-sequence autoencoder, trained with skorch."""

from __future__ import annotations

import copyreg
import datetime
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import _fit_context
from sklearn.decomposition import PCA
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._arrow import timestamp_to_us
from ._base import ARRAY, EventTransformer
from ._frame import EventView
from ._sequences import (
    PRESETS,
    TIME_FIELDS,
    Sequences,
    event_sequences,
    fit_vocabulary,
    resolve_fields,
)
from ._torch import (
    ADAPTIVE_MIN_IDS,
    TRAINING_CONSTRAINTS,
    ModelSpec,
    ReconstructionLoss,
    SequenceAutoencoder,
    TrainingConfig,
    encode_sequences,
    pca_project,
    reconstruction_counts,
    train_net,
    training_device,
)
from ._torch._portable import NET_KEYS, plain_net, rebuild_net
from ._versions import BASE_PACKAGES, TORCH

__all__ = ["GRUSequenceAutoencoder"]


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
    held-out users with the best weights restored), extended by ``callbacks`` and
    kept as :attr:`net_`. Batches hold users of similar length (sorted by length,
    then shuffled as batches), so little padding is computed; padded steps never
    reach the heads or the loss. ``transform`` is batched inference without
    gradients; it is stateless, so any subset of users, in any order, gets the same
    rows, bit for bit: every inference batch has at least 16 rows (users of one
    length, or of neighbouring lengths where few share one; the last batch filled up
    with copies), since CPU kernels round a product of fewer rows differently, and the
    PCA projects each row on its own. A fitted model pickles (``joblib.dump``) without any CUDA state, and loads
    and transforms on a CPU-only machine whatever device it trained on.

    **Training faults** stop ``fit`` with a message, never a silently broken model:
    every parameter (``n_components`` against the number of users included) is checked
    before training starts; and a batch loss that is not finite, or above
    1000 x max(the first training batch's loss, 1), stops training at that batch with a
    ``FloatingPointError`` naming the epoch, the batch, the loss and the likely causes
    (a learning rate too high, inputs of an extreme scale).

    A **2-D numeric array** is read as the event frame the input boundary makes of
    it: row ``i`` is user ``i``, column ``j`` one event at ``1970-01-01 + j`` days
    with the fields ``value`` (the entry; quantile buckets unless whole numbers) and
    ``column_id`` (``j``); ``fields=("value",)`` reads the values only.

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
    callbacks : list of skorch callbacks, optional
        Extra ``skorch.callbacks.Callback`` instances (or classes, or ``(name,
        callback)`` pairs) run after the estimator's own (gradient clipping, early
        stopping, progress bar, checkpoints), e.g. a learning-rate scheduler or a
        logger. They are used as given (not copied), so their state after ``fit`` is
        the training's; the names ``clip``, ``loss_guard``, ``early_stopping``,
        ``progress``, ``checkpoint``, ``resume`` and skorch's defaults are taken.
        Checked in ``fit`` (``ValueError`` naming the item).
    checkpoint : str or path-like, optional
        A folder (created if needed) where training saves a checkpoint after every
        epoch and at its end: skorch's ``Checkpoint`` files (the module, the
        optimizer's state, the history) and the rest of the training's state (torch's
        random state, early stopping's state, a fingerprint of the parameters, seed
        and data). A checkpoint is written into a new subfolder, then published by
        one atomic rename, so a training killed at any point leaves the last complete
        one. A later ``fit`` with the same folder resumes it (skorch's
        ``LoadInitState``): it trains only the epochs left (none, when that training
        had finished), and, with the same ``random_state``, gives the same model as a
        training never interrupted. A folder holding a checkpoint of another training
        (other parameters, seed or data) raises ``ValueError``; the state of
        ``callbacks`` is not saved. ``None``: no checkpoints.
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
    reference_time_ : pandas.Timestamp
        The reference time.
    module_ : torch.nn.Module
        The trained autoencoder (on the CPU, in eval mode); ``net_.module_``.
    net_ : skorch.NeuralNet
        The net that trained it, with skorch's full ``history`` and the fitted
        ``callbacks_``. Left on the CPU after ``fit`` (``net_.device == "cpu"``), its
        optimizer state and early stopping's copy of the weights released. Pickles
        keep it whole; skops stores the weights as arrays and the history, and
        rebuilds the net on load (with skorch's default callbacks).
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
    >>> [row["epoch"] for row in gru.net_.history]  # the skorch net that trained it
    [1, 2]
    """

    _ubp_postprocess = "learned"
    _ubp_packages = {**BASE_PACKAGES, **TORCH}

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
        **TRAINING_CONSTRAINTS,
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
        callbacks: Sequence | None = None,
        checkpoint: Any = None,
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
        self.callbacks = callbacks
        self.checkpoint = checkpoint
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
            or a 2-D numeric array (see above).
        y : None
            Ignored.

        Returns
        -------
        self : GRUSequenceAutoencoder

        Raises
        ------
        ValueError
            A bad parameter or input, before any training.
        FloatingPointError
            Training diverged: a batch loss not finite, or exploded (see above).
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
        view, out = self._fit(X)
        return self._finish(out, view)

    def _fit(self, X: Any) -> tuple[EventView, np.ndarray]:
        device = training_device(self.device)
        config = TrainingConfig.from_estimator(self)
        view = self._validate_input(X, reset=True)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        seqs = self._fit_sequences(view)
        self._check_n_components(len(seqs))
        module_params = self._module_params()
        criterion_params = {k: module_params[k] for k in ("reconstruct", "numeric")}
        model = ModelSpec(SequenceAutoencoder, module_params, ReconstructionLoss, criterion_params)
        trained = train_net(model, seqs, config, device=device, seed=seed)
        self.net_ = trained.net
        self.module_ = trained.net.module_
        self.history_, self.best_epoch_ = trained.history, trained.best_epoch
        self.fit_seconds_ = trained.fit_seconds
        latent = encode_sequences(self.module_, seqs, self.device, self.hidden_size)
        self.pca_ = None
        if self.n_components is not None:
            self.pca_ = PCA(self.n_components, random_state=seed).fit(latent)
            latent = pca_project(self.pca_, latent)
        self._n_features_out = latent.shape[1]
        return view, latent

    def _check_n_components(self, n_users: int) -> None:
        """``n_components`` against the data, before any training."""
        if self.n_components is not None and self.n_components > min(n_users, self.hidden_size):
            raise ValueError(
                f"n_components={self.n_components} must be at most min(n_users, "
                f"hidden_size) = {min(n_users, self.hidden_size)}."
            )

    def _fit_sequences(self, view: EventView) -> Sequences:
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

    def _sequences(self, view: EventView) -> Sequences:
        self._check_fitted_columns(view, [f for f in self.fields_ if f not in TIME_FIELDS])
        return event_sequences(
            view,
            self.vocabularies_,
            max_length=self.max_length,
            reference_us=timestamp_to_us(self.reference_time_),
        )

    def _module_params(self) -> dict[str, Any]:
        return {
            "vocab_sizes": [v.size for v in self.vocabularies_],
            "reconstruct": [self.fields_.index(f) for f in self.reconstruct_],
            "numeric": False,
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

    # --------------------------------------------------------------- inference

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
        view = self._validate_input(X, reset=False)
        latent = encode_sequences(
            self.module_, self._sequences(view), self.device, self.hidden_size
        )
        if self.pca_ is not None:
            latent = pca_project(self.pca_, latent)
        return self._finish(latent, view)

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
        seqs = self._sequences(self._validate_input(X, reset=False))
        cols = [self.fields_.index(f) for f in self.reconstruct_]
        counts = reconstruction_counts(self.module_, seqs, cols, self.device, majority=majority)
        hits, totals = (dict(zip(self.reconstruct_, c, strict=True)) for c in counts)
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

    def _pickle_state(self) -> dict[str, Any]:
        # ``module_`` is ``net_.module_``: pickled once, with the net
        state = dict(super().__getstate__())
        if "net_" in state:
            state.pop("module_", None)
        return state

    def __getstate__(self) -> dict[str, Any]:
        # Plain data, what skops stores: the net as numpy weights (rebuilt on load).
        state = self._pickle_state()
        net = state.pop("net_", None)
        return {**state, **plain_net(net)} if net is not None else state

    def __reduce_ex__(self, protocol: Any) -> Any:
        # pickle (joblib, copy) keeps the whole skorch net: callbacks, full history
        if not isinstance(protocol, int) or protocol < 2:
            return super().__reduce_ex__(protocol)
        return (copyreg.__newobj__, (type(self),), self._pickle_state(), None, None)

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        net = {k: state.pop(k) for k in NET_KEYS if k in state}
        super().__setstate__(state)
        if len(net) == len(NET_KEYS):
            self.net_ = rebuild_net(self, SequenceAutoencoder, ReconstructionLoss, net)
        if "net_" in self.__dict__:
            self.module_ = self.net_.module_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
