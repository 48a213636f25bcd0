"""What every ``ubp`` command shares: the user-error type, status lines, paths."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..io import suffix_of

DEFAULT_CHUNK_SIZE = 50_000


class UserError(Exception):
    """An error in what the user gave (a path, a file, a value).

    ``ubp`` prints it as one line, ``ubp: error: ...``, and exits with status 2; every
    other exception is a bug and keeps its traceback.
    """


#: The name the command line used before 0.1 (kept for imports of it).
CLIError = UserError


@contextmanager
def user_input(prefix: str = "") -> Iterator[None]:
    """Report the ``ValueError`` / ``OSError`` of reading or checking input as a
    :class:`UserError` (the boundary where bad files and values come in)."""
    try:
        yield
    except (ValueError, OSError) as exc:
        raise UserError(f"{prefix}{exc}") from exc


def log(args: argparse.Namespace, message: str) -> None:
    """A status line on standard error (results go to standard output)."""
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr, flush=True)


def progress(
    iterable: Iterable[Any], *, total: int, desc: str, args: argparse.Namespace, unit: str = "chunk"
) -> Iterator[Any]:
    """``tqdm`` progress bar on standard error, off with ``--quiet`` or when not a TTY."""
    disable: bool | None = True if getattr(args, "quiet", False) else None
    if getattr(args, "progress", False):
        disable = False
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with skorch
        yield from iterable
        return
    yield from tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, leave=False)


class Timer:
    """Seconds since it was made, printed as ``1.2 s``."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __str__(self) -> str:
        return f"{time.perf_counter() - self.start:.1f} s"


def existing(path: str, what: str) -> Path:
    """``path``, which must exist (``what`` names it in the error)."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{what} {path!r} does not exist.")
    return p


def output(path: str, allowed: Sequence[str], what: str) -> Path:
    """An output file whose suffix is one of ``allowed``; its folder is created."""
    out = Path(path)
    if suffix_of(out) not in allowed:
        raise UserError(f"{what} {path!r}: the name must end in one of {', '.join(allowed)}.")
    parent = out.parent
    if parent.exists() and not parent.is_dir():
        raise UserError(f"{what} {path!r}: {str(parent)!r} is not a directory.")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"{what} {path!r}: cannot create the folder {str(parent)!r}: {exc}"
        ) from exc
    return out


def check_device(device: str) -> str:
    """``--device``, checked (a UserError for an unknown or unavailable device)."""
    from .._device import check_device as check

    with user_input(f"--device {device!r}: "):
        return check(device)
