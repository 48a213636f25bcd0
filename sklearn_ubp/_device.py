"""One device rule for the whole package: the GRU members, ``evaluate`` and the CLI."""

from __future__ import annotations

from typing import Any

__all__ = ["check_device"]

_EXPECTED = "'cpu' or 'cuda' (or 'cuda:N', or 'mps' on Apple GPUs)"


def check_device(device: Any) -> str:
    """``device`` as a torch device string, checked to exist on this machine.

    Accepts ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"`` or a ``torch.device``. torch
    is imported only for an accelerator. Raises ``ValueError`` naming the device and
    what is expected or missing.
    """
    if hasattr(device, "type") and hasattr(device, "index"):  # a torch.device
        device = str(device)
    if not isinstance(device, str):
        raise ValueError(f"device must be {_EXPECTED}; got {device!r}")
    kind, sep, index = device.partition(":")
    if device == "cpu":
        return device
    if device == "mps":
        import torch

        if not torch.backends.mps.is_available():
            raise ValueError(f"device={device!r} was requested but MPS is not available here")
        return device
    if kind != "cuda" or (sep and not index.isdigit()):
        raise ValueError(f"device must be {_EXPECTED}; got {device!r}")
    import torch

    if not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available: no CUDA device is "
            "available on this machine (torch.cuda.is_available() is False); use device='cpu'"
        )
    if index and int(index) >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r} was requested but only {torch.cuda.device_count()} "
            "CUDA device(s) exist"
        )
    return device
