"""Model files: saving with a checksum beside them, loading with checks."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from ._common import UserError, existing


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (read in blocks)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_model(path: str) -> Any:
    """The transformer saved at ``path`` by ``ubp fit``; bad files are user errors."""
    import joblib

    p = existing(path, "MODEL")
    if p.is_dir():
        raise UserError(f"MODEL {path!r} is a directory; expected a file written by 'ubp fit'.")
    try:
        model = joblib.load(p)
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise UserError(
            f"MODEL {path!r} is not a model saved by 'ubp fit' (joblib): {exc!r}"
        ) from exc
    if not hasattr(model, "transform"):
        raise UserError(f"MODEL {path!r} holds a {type(model).__name__}, not a transformer.")
    return model


def save_model(model: Any, out: Path) -> list[Path]:
    """Save ``model`` with joblib; returns the files written."""
    import joblib

    joblib.dump(model, out)
    return [out]
