"""Training of a sequence member's module: configuration, seeding, hold-out, history.

The skorch ``NeuralNet`` itself is built in :mod:`._net`, imported only when a member
trains (skorch stays unimported until then).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.utils._param_validation import Interval
from torch import nn

from .._sequences import Sequences
from ._batching import SequenceDataset

__all__ = [
    "EXPLOSION_FACTOR",
    "GRADIENT_CLIP",
    "ModelSpec",
    "OWN_CALLBACKS",
    "TRAINING_CONSTRAINTS",
    "TrainedNet",
    "TrainingConfig",
    "TrainingDivergedError",
    "check_callbacks",
    "check_checkpoint",
    "check_loss",
    "epoch_history",
    "fused_adam_available",
    "holdout_split",
    "train_net",
]

#: Gradients are clipped to this total L2 norm in training.
GRADIENT_CLIP = 1.0
#: A batch loss above this many times ``max(first training batch's loss, 1)`` stops
#: training as diverged (see :func:`check_loss`).
EXPLOSION_FACTOR = 1e3
#: Names of the callbacks a member's net has without ``callbacks``: skorch's defaults
#: and the member's own (gradient clipping, early stopping, progress bar).
OWN_CALLBACKS = (
    "epoch_timer",
    "train_loss",
    "valid_loss",
    "print_log",
    "clip",
    "loss_guard",
    "early_stopping",
    "progress",
    "checkpoint",
    "resume",
)
#: ``_parameter_constraints`` of the training parameters every sequence member has.
TRAINING_CONSTRAINTS: dict = {
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "patience": [Interval(Integral, 1, None, closed="left")],
    "callbacks": [None, list, tuple],
    "checkpoint": [None, str, os.PathLike],
    "device": [str],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


class TrainingDivergedError(FloatingPointError):
    """Training stopped because a batch loss was not finite or exploded.

    Raised by :func:`check_loss` during ``fit``; the message names the epoch, the batch,
    the loss and the likely causes.
    """


def check_loss(loss: float, first: float, *, epoch: int, batch: str, lr: float) -> None:
    """Raise :class:`TrainingDivergedError` unless the batch loss ``loss`` is sane.

    The rule: ``loss`` must be finite and at most :data:`EXPLOSION_FACTOR` times
    ``max(first, 1)``, where ``first`` is the loss of the first training batch of the
    training (the floor of 1 keeps a tiny first loss from making every later one an
    explosion). ``batch`` names the batch in the message, e.g. ``"training batch 3 of
    12"``.
    """
    limit = EXPLOSION_FACTOR * max(first, 1.0) if np.isfinite(first) else np.inf
    if np.isfinite(loss) and loss <= limit:
        return
    what = "is not finite" if not np.isfinite(loss) else f"exceeds {limit:.4g}"
    raise TrainingDivergedError(
        f"training diverged at epoch {epoch}, {batch}: the loss {loss:.4g} {what} "
        f"({EXPLOSION_FACTOR:g} x max(first batch's loss {first:.4g}, 1)). Likely causes: "
        f"a learning rate too high (lr={lr:g}; try 10 times lower) or input values of an "
        "extreme scale (rescale or clip them)."
    )


@dataclass(frozen=True)
class TrainingConfig:
    """The training parameters of a sequence member (see :data:`TRAINING_CONSTRAINTS`).

    ``callbacks`` are extra skorch callbacks, checked by :func:`check_callbacks`;
    ``checkpoint`` is the folder of the training's checkpoints (``None``: none).
    """

    lr: float
    max_epochs: int
    batch_size: int
    validation_fraction: float
    patience: int
    verbose: bool = False
    callbacks: tuple = ()
    checkpoint: str | None = None

    @classmethod
    def from_estimator(cls, estimator: Any) -> TrainingConfig:
        """The configuration of ``estimator``'s parameters, its callbacks checked."""
        return cls(
            lr=estimator.lr,
            max_epochs=estimator.max_epochs,
            batch_size=estimator.batch_size,
            validation_fraction=estimator.validation_fraction,
            patience=estimator.patience,
            verbose=bool(estimator.verbose),
            callbacks=tuple(check_callbacks(estimator.callbacks)),
            checkpoint=check_checkpoint(getattr(estimator, "checkpoint", None)),
        )


@dataclass(frozen=True)
class ModelSpec:
    """What a sequence member trains: ``module(**module_params)``, whose output
    ``criterion(**criterion_params)`` maps to the loss (no ``y``)."""

    module: type[nn.Module]
    module_params: dict[str, Any]
    criterion: type[nn.Module]
    criterion_params: dict[str, Any]


@dataclass
class TrainedNet:
    """What :func:`train_net` returns: the net (on the CPU) and its epoch table."""

    net: Any
    history: list[dict[str, float]]
    best_epoch: int
    fit_seconds: float


def check_callbacks(callbacks: Sequence | None) -> list:
    """``callbacks`` as a list of skorch callbacks, or ``ValueError`` naming the item.

    An item is a ``skorch.callbacks.Callback`` instance or subclass, or a
    ``(name, callback)`` pair whose name is not one of :data:`OWN_CALLBACKS`.
    """
    from skorch.callbacks import Callback

    def is_callback(cb: Any) -> bool:
        return isinstance(cb, Callback) or (isinstance(cb, type) and issubclass(cb, Callback))

    if callbacks is None:
        return []
    if not isinstance(callbacks, list | tuple):
        raise ValueError(f"callbacks must be None or a list of skorch callbacks; got {callbacks!r}")
    for i, item in enumerate(callbacks):
        named = isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
        if not is_callback(item[1] if named else item):
            raise ValueError(
                f"callbacks[{i}] must be a skorch Callback (an instance or a subclass) or a "
                f"(name, callback) pair; got {item!r}"
            )
        if named and item[0] in OWN_CALLBACKS:
            raise ValueError(
                f"callbacks[{i}] is named {item[0]!r}, a name the estimator's own callbacks "
                f"use ({', '.join(OWN_CALLBACKS)}); choose another name"
            )
    return list(callbacks)


def check_checkpoint(checkpoint: str | os.PathLike | None) -> str | None:
    """``checkpoint`` as a folder path, or ``ValueError`` when it names a file."""
    if checkpoint is None:
        return None
    path = os.fspath(checkpoint)
    if not path or os.path.isfile(path):
        raise ValueError(f"checkpoint must be a folder path; got {checkpoint!r}")
    return path


def fused_adam_available(device: torch.device) -> bool:
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


def holdout_split(seqs: Sequences, fraction: float, seed: int) -> tuple[Sequences, Any]:
    """``(train, valid)``: a random ``fraction`` of the users held out for early stopping.

    ``valid`` is ``None`` when that rounds to no user, or to all of them.
    """
    n = len(seqs)
    n_valid = int(round(fraction * n))
    order = np.random.default_rng(seed).permutation(n)
    if n_valid == 0 or n_valid >= n:
        return seqs, None
    return seqs.subset(np.sort(order[n_valid:])), seqs.subset(np.sort(order[:n_valid]))


def train_net(
    model: ModelSpec, seqs: Sequences, config: TrainingConfig, *, device: torch.device, seed: int
) -> TrainedNet:
    """Train ``model``'s module on ``seqs`` with skorch, seeded by ``seed``.

    Weight initialisation, dropout and the batch order draw from ``seed`` only
    (torch's global random state is restored after); the net ends on the CPU
    (:func:`._net.release_net`). With ``config.checkpoint``, a checkpoint of this
    training (same model, parameters, seed and data) found there is resumed.
    """
    from ._checkpoint import training_fingerprint
    from ._net import build_net, release_net

    train, valid = holdout_split(seqs, config.validation_fraction, seed)
    fingerprint = ""
    if config.checkpoint is not None:
        fingerprint = training_fingerprint(model, config, seed, train, valid)
    net = build_net(model, config, device, valid, seed, fingerprint=fingerprint)
    devices = [device] if device.type == "cuda" else []
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=devices, device_type=device.type):
        torch.manual_seed(seed)
        net.fit(SequenceDataset(train), y=None)
    fit_seconds = time.perf_counter() - t0
    release_net(net)
    history, best_epoch = epoch_history(net, has_valid=valid is not None)
    return TrainedNet(net, history, best_epoch, fit_seconds)


def epoch_history(net: Any, *, has_valid: bool) -> tuple[list[dict[str, float]], int]:
    """Per epoch ``epoch``, ``train_loss``, ``valid_loss`` (``nan`` without a hold-out)
    and ``dur``; and the epoch whose weights the net kept."""
    rows = [
        {
            "epoch": int(row["epoch"]),
            "train_loss": float(row["train_loss"]),
            "valid_loss": float(row["valid_loss"]) if has_valid else float("nan"),
            "dur": float(row["dur"]),
        }
        for row in net.history
    ]
    if has_valid:  # the epoch whose weights early stopping restored
        return rows, int(dict(net.callbacks_)["early_stopping"].best_epoch_)
    return rows, rows[-1]["epoch"]
