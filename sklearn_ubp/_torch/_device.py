"""torch devices of the sequence members, from the package's one rule, ``check_device``."""

from __future__ import annotations

from typing import Any

import torch

from .._device import check_device

__all__ = ["inference_device", "training_device"]


def training_device(device: Any) -> torch.device:
    """``device`` checked by :func:`sklearn_ubp._device.check_device`, as a ``torch.device``.

    Raises ``ValueError`` naming the device when it is malformed or absent here.
    """
    return torch.device(check_device(device))


def inference_device(device: Any) -> torch.device:
    """Where a fitted model runs: ``device``, or the CPU when that is CUDA and none is
    present (a model trained on a GPU, loaded on a machine without one)."""
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        return torch.device("cpu")
    return device
