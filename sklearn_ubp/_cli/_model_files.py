"""Model files: saved with a SHA-256 checksum beside them, loaded with checks.

``ubp fit --out model.joblib`` writes ``model.joblib`` and ``model.joblib.sha256`` (the
``sha256sum`` format: ``HEX  model.joblib``); ``ubp embed`` refuses a model file whose
bytes no longer match, and reports a model that refers to a class or module this
installation lacks (saved by another version) in one line. ``--out model.skops``
writes the skops format instead (with its checksum too), which ``ubp embed`` loads
trusting only :data:`sklearn_ubp.io.SKOPS_TRUSTED_TYPES` (no code of the file runs).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

from .._persistence import is_skops_path, load_skops, skops_io, write_model
from ._common import UserError, existing, log

CHECKSUM_SUFFIX = ".sha256"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (read in blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksum_path(model_file: Path) -> Path:
    """``model.joblib`` -> ``model.joblib.sha256``."""
    return model_file.with_name(model_file.name + CHECKSUM_SUFFIX)


def check_format(out: Path) -> None:
    """Before a fit: a ``.skops`` output needs skops (a UserError if missing)."""
    if is_skops_path(out):
        try:
            skops_io()
        except ImportError as exc:
            raise UserError(f"--out {str(out)!r}: {exc}") from exc


def save_model(model: Any, out: Path) -> list[Path]:
    """Save ``model`` with joblib (skops for ``.skops``), then its checksum; returns
    the files written.

    Both are written under temporary names and renamed, so that a model file never
    stands without (or with a stale) checksum after a killed run.
    """
    tmp = out.with_name(f".{out.name}.tmp")
    write_model(model, tmp, skops=is_skops_path(out))
    digest = file_sha256(tmp)
    sums = checksum_path(out)
    sums_tmp = sums.with_name(f".{sums.name}.tmp")
    sums_tmp.write_text(f"{digest}  {out.name}\n")
    os.replace(tmp, out)
    os.replace(sums_tmp, sums)
    return [out, sums]


def verify_checksum(p: Path) -> bool:
    """Check ``p`` against ``p.sha256`` (a UserError if it differs); False if there is
    no checksum file (a model saved otherwise than by ``ubp fit``)."""
    sums = checksum_path(p)
    if not sums.is_file():
        return False
    fields = sums.read_text().split()
    if not fields or len(fields[0]) != 64:
        raise UserError(
            f"MODEL {str(p)!r}: the checksum file {str(sums)!r} is not a SHA-256 line "
            "('HEX  NAME', as 'ubp fit' writes it)."
        )
    if file_sha256(p) != fields[0].lower():
        raise UserError(
            f"MODEL {str(p)!r} does not match its checksum {str(sums)!r}: the file changed "
            "after 'ubp fit' wrote it (damaged or replaced); fit it again, or delete the "
            "checksum file to load it anyway."
        )
    return True


def _load(p: Path) -> Any:
    """joblib, or skops (trusting sklearn-ubp's types only) for ``.skops``."""
    if not is_skops_path(p):
        import joblib

        return joblib.load(p)
    try:
        skops_io()
    except ImportError as exc:
        raise UserError(f"MODEL {str(p)!r}: {exc}") from exc
    try:
        return load_skops(p)
    except ValueError as exc:  # untrusted types, or not a skops file (names the file)
        raise UserError(str(exc)) from exc


def load_model(path: str, args: argparse.Namespace | None = None) -> Any:
    """The transformer saved at ``path`` by ``ubp fit``; bad files are user errors."""
    p = existing(path, "MODEL")
    if p.is_dir():
        raise UserError(f"MODEL {path!r} is a directory; expected a file written by 'ubp fit'.")
    verified = verify_checksum(p)
    try:
        model = _load(p)
    except (ImportError, AttributeError) as exc:  # a class or module gone since the save
        raise UserError(
            f"MODEL {path!r} refers to a class or module that this installation does not "
            f"have ({type(exc).__name__}: {exc}); it was saved by another version of "
            "sklearn-ubp or of a library it uses: fit it again with 'ubp fit', or install "
            "the versions that saved it."
        ) from exc
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise UserError(
            f"MODEL {path!r} is not a model saved by 'ubp fit' (joblib): {exc!r}"
        ) from exc
    if not hasattr(model, "transform"):
        raise UserError(f"MODEL {path!r} holds a {type(model).__name__}, not a transformer.")
    if not verified and args is not None:
        name = checksum_path(p).name
        log(args, f"MODEL {path!r}: no checksum file {name!r} beside it; not verified")
    return model
