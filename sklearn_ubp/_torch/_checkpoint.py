"""Checkpoints of a sequence member's training: saved every epoch, resumed by a later fit.

A checkpoint folder holds one complete checkpoint, ``epoch-NNNN-*/`` (skorch's
``params.pt``, ``optimizer.pt`` and ``history.json``, and ``state.pt``: the random
state, early stopping's state and a fingerprint of the training), and the file
``latest`` naming it. A checkpoint is written into a new folder first and ``latest``
is switched to it by one atomic rename, so a run killed at any point (SIGKILL
included) leaves the previous checkpoint whole.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from skorch.callbacks import Checkpoint, EarlyStopping, LoadInitState

from .._sequences import Sequences
from ._training import ModelSpec, TrainingConfig

__all__ = ["EpochCheckpoint", "ResumeFromCheckpoint", "latest_checkpoint", "training_fingerprint"]

#: The file naming the folder of the last complete checkpoint.
POINTER = "latest"
#: What skorch saves of the net, by ``save_params`` / ``load_params`` argument.
NET_FILES = {"f_params": "params.pt", "f_optimizer": "optimizer.pt", "f_history": "history.json"}
#: The rest of the training's state (random state, early stopping, fingerprint).
STATE = "state.pt"
#: Early stopping's attributes that a resumed training restores.
STOPPING_STATE = ("misses_", "dynamic_threshold_", "best_epoch_", "best_model_weights_")


def training_fingerprint(
    model: ModelSpec, config: TrainingConfig, seed: int, train: Sequences, valid: Sequences | None
) -> str:
    """A digest of what determines a training: model, training parameters, seed, data.

    A checkpoint resumes only a training of the same fingerprint.
    """
    digest = hashlib.sha256()
    settings = (
        model.module.__qualname__,
        sorted(model.module_params.items()),
        model.criterion.__qualname__,
        sorted(model.criterion_params.items()),
        (config.lr, config.max_epochs, config.batch_size),
        (config.validation_fraction, config.patience, seed),
    )
    digest.update(repr(settings).encode())
    for seqs in (train, valid):
        if seqs is not None:
            digest.update(np.ascontiguousarray(seqs.tokens).tobytes())
            digest.update(np.ascontiguousarray(seqs.offsets).tobytes())
    return digest.hexdigest()


def latest_checkpoint(dirname: str | os.PathLike) -> Path | None:
    """The folder of the last complete checkpoint in ``dirname``, or ``None``."""
    pointer = Path(dirname) / POINTER
    if not pointer.is_file():
        return None
    return Path(dirname) / pointer.read_text().strip()


def _plain(value: Any) -> Any:
    """numpy scalars as Python ones, so that ``torch.load(weights_only=True)`` reads them."""
    return value.item() if isinstance(value, np.generic) else value


def _rng_state(net: Any) -> dict[str, torch.Tensor]:
    state = {"cpu": torch.get_rng_state()}
    device = torch.device(net.device)
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


class EpochCheckpoint(Checkpoint):
    """skorch's ``Checkpoint`` after every epoch and at the end, written atomically.

    Besides skorch's files (module, optimizer, history) it saves what resuming needs
    for a result equal to an uninterrupted training's: torch's random state, early
    stopping's state and the training's ``fingerprint``.
    """

    def __init__(self, dirname: str, fingerprint: str = "") -> None:
        super().__init__(
            monitor=None,
            f_criterion=None,
            dirname=dirname,
            event_name=None,
            **NET_FILES,
        )
        self.fingerprint = fingerprint

    def on_train_end(self, net: Any, **kwargs: Any) -> None:
        # after early stopping restored the best weights: the final model
        self.save_model(net, done=True)

    def save_model(self, net: Any, done: bool = False) -> None:
        """Save the net and the training state in a new folder, then point to it."""
        root = Path(self.dirname)
        root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"epoch-{len(net.history):04d}-", dir=root))
        net.save_params(**{k: folder / v for k, v in NET_FILES.items()})
        state: dict[str, Any] = {
            "fingerprint": self.fingerprint,
            "done": done,
            "rng": _rng_state(net),
        }
        for name, cb in net.callbacks_:
            if isinstance(cb, EarlyStopping):
                state[f"stopping:{name}"] = {a: _plain(getattr(cb, a)) for a in STOPPING_STATE}
        torch.save(state, folder / STATE)
        staged = root / f".{POINTER}.tmp"
        staged.write_text(folder.name)
        os.replace(staged, root / POINTER)  # the one atomic step
        for old in root.glob("epoch-*"):
            if old != folder and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)


class ResumeFromCheckpoint(LoadInitState):
    """skorch's ``LoadInitState`` for :class:`EpochCheckpoint`: resumes its training.

    At the start of training, when the checkpoint folder holds a complete checkpoint,
    loads the module, optimizer and history, torch's random state and early stopping's
    state, and sets ``net.resumed_done_`` when that training had finished. A
    checkpoint of another training (other parameters or data) is refused.
    """

    def on_train_begin(self, net: Any, X: Any = None, y: Any = None, **kwargs: Any) -> None:
        if self.did_load_:
            return
        self.did_load_ = True
        net.resumed_done_ = False
        folder = latest_checkpoint(self.checkpoint.dirname)
        if folder is None:
            return
        try:
            state = torch.load(folder / STATE, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError) as e:
            raise ValueError(
                f"checkpoint={self.checkpoint.dirname!r}: {folder.name} cannot be loaded "
                f"({type(e).__name__}: {e}); remove the folder to train afresh."
            ) from e
        if state["fingerprint"] != self.checkpoint.fingerprint:
            raise ValueError(
                f"checkpoint={self.checkpoint.dirname!r} holds a checkpoint of another "
                "training (other parameters, seed or data); use another folder, or remove "
                "it to train afresh."
            )
        net.load_params(**{k: folder / v for k, v in NET_FILES.items()})
        _restore(net, state)


def _restore(net: Any, state: dict[str, Any]) -> None:
    """Random state, early stopping and best scores of a resumed training."""
    torch.set_rng_state(state["rng"]["cpu"])
    if "cuda" in state["rng"] and torch.device(net.device).type == "cuda":
        torch.cuda.set_rng_state(state["rng"]["cuda"], torch.device(net.device))
    for name, cb in net.callbacks_:
        saved = state.get(f"stopping:{name}")
        if saved is not None:
            for attr, value in saved.items():
                setattr(cb, attr, value)
        score = getattr(cb, "name", None)
        if hasattr(cb, "best_score_") and isinstance(score, str):
            # scoring callbacks: the best score so far, from the history's flags
            best = [row[score] for row in net.history if row.get(f"{score}_best")]
            if best:
                cb.best_score_ = best[-1]
    net.resumed_done_ = bool(state["done"])
