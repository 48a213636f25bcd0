"""The skorch ``NeuralNet`` of a sequence member (imported when a member trains)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, GradientNormClipping, ProgressBar
from skorch.helper import predefined_split

from .._sequences import Sequences
from ._batching import LengthBatches, SequenceDataset
from ._checkpoint import EpochCheckpoint, ResumeFromCheckpoint
from ._training import (
    GRADIENT_CLIP,
    ModelSpec,
    TrainingConfig,
    check_loss,
    fused_adam_available,
)

__all__ = ["LossGuard", "SelfSupervisedNet", "build_net", "member_callbacks", "release_net"]


class SelfSupervisedNet(NeuralNet):
    """A ``NeuralNet`` whose criterion reads the module's output alone (no ``y``): the
    module returns its own (predictions, targets) pairs."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.criterion_(y_pred)

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """skorch's loop, for the epochs left after a resumed checkpoint (none when it
        had finished)."""
        if epochs is None:
            done = getattr(self, "resumed_done_", False)
            epochs = 0 if done else max(self.max_epochs - len(self.history), 0)
        return super().fit_loop(X, y, epochs=epochs, **fit_params)


class LossGuard(Callback):
    """Stops training at the first batch whose loss is not finite or exploded.

    After every training and validation batch, its loss (as skorch recorded it, so no
    extra device sync) goes through :func:`._training.check_loss` against the first
    training batch's loss (read from the history, so a resumed training keeps it).
    """

    def on_epoch_begin(self, net: Any, dataset_train: Any = None, **kwargs: Any) -> None:
        self.counts_ = {"train": 0, "valid": 0}

    def on_batch_end(self, net: Any, batch: Any = None, training: bool = False, **kwargs: Any):
        prefix = "train" if training else "valid"
        self.counts_[prefix] += 1
        loss = net.history[-1, "batches", -1, f"{prefix}_loss"]
        first = net.history[0, "batches", 0, "train_loss"]
        name = "training" if training else "validation"
        check_loss(
            float(loss),
            float(first),
            epoch=int(net.history[-1, "epoch"]),
            batch=f"{name} batch {self.counts_[prefix]}",
            lr=float(net.lr),
        )


def _silent(*args: Any, **kwargs: Any) -> None:
    """Early stopping's sink when not verbose (a function, so that the net pickles)."""


def member_callbacks(config: TrainingConfig, *, has_valid: bool, fingerprint: str = "") -> list:
    """Gradient clipping, the loss guard, early stopping (with a hold-out), a progress
    bar (verbose), the checkpoint and its resumption (``config.checkpoint``), then
    ``config.callbacks``."""
    callbacks: list = [
        ("clip", GradientNormClipping(gradient_clip_value=GRADIENT_CLIP)),
        ("loss_guard", LossGuard()),
    ]
    if has_valid:
        sink = print if config.verbose else _silent
        stopping = EarlyStopping(
            monitor="valid_loss", patience=config.patience, load_best=True, sink=sink
        )
        callbacks.append(("early_stopping", stopping))
    if config.verbose:
        callbacks.append(("progress", ProgressBar()))
    if config.checkpoint is not None:
        checkpoint = EpochCheckpoint(config.checkpoint, fingerprint)
        callbacks += [("checkpoint", checkpoint), ("resume", ResumeFromCheckpoint(checkpoint))]
    return callbacks + list(config.callbacks)


def build_net(
    model: ModelSpec,
    config: TrainingConfig,
    device: torch.device,
    valid: Sequences | None,
    seed: int,
    fingerprint: str = "",
) -> SelfSupervisedNet:
    """The net that trains ``model`` with Adam (fused where torch has it for
    ``device``) on length-bucketed batches, early stopping on ``valid`` if given."""
    fused = {"optimizer__fused": True} if fused_adam_available(device) else {}
    return SelfSupervisedNet(
        module=model.module,
        **{f"module__{k}": v for k, v in model.module_params.items()},
        criterion=model.criterion,
        **{f"criterion__{k}": v for k, v in model.criterion_params.items()},
        optimizer=torch.optim.Adam,
        **fused,
        lr=config.lr,
        max_epochs=config.max_epochs,
        batch_size=config.batch_size,
        iterator_train=LengthBatches,
        iterator_train__shuffle=True,
        iterator_train__rng=np.random.default_rng(seed),
        iterator_valid=LengthBatches,
        train_split=None if valid is None else predefined_split(SequenceDataset(valid)),
        callbacks=member_callbacks(config, has_valid=valid is not None, fingerprint=fingerprint),
        device=str(device),
        verbose=int(config.verbose),
    )


def release_net(net: SelfSupervisedNet) -> None:
    """Leave a trained net on the CPU with only what inference and inspection need.

    Its module (in eval mode, gradients dropped) and criterion move to the CPU and
    ``net.device`` becomes ``"cpu"``, so that it pickles and loads on any machine; the
    optimizer's state (Adam's moments, twice the weights) and early stopping's copy of
    the best weights (now the module's own) are released. Configuration, history and
    callbacks stay.
    """
    net.module_.zero_grad(set_to_none=True)
    net.module_.to("cpu").eval()
    net.criterion_.to("cpu")
    net.optimizer_.state.clear()
    for _, callback in net.callbacks_:
        if isinstance(callback, EarlyStopping):
            callback.best_model_weights_ = None
    net.device = "cpu"
