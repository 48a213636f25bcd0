"""How the commands read EVENTS: the RecSys 2025 extras, samples and time cuts."""

from __future__ import annotations

import argparse
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import io
from .._event_files import _open, _user_ids, bucket_frames
from ._common import Timer, UserError, existing, log, user_input


class Events:
    """What :func:`read_events` found: the event frame and, for a RecSys folder, more."""

    def __init__(
        self, frame: pd.DataFrame, kind: str, relevant_clients: np.ndarray | None = None
    ) -> None:
        self.frame = frame
        self.kind = kind
        self.relevant_clients = relevant_clients


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The reading options of the command (``recsys2025`` has none: the defaults)."""
    return {
        "user": getattr(args, "user_col", "client_id"),
        "time": getattr(args, "time_col", "timestamp"),
        "event_type": getattr(args, "event_type_col", "event_type"),
        "time_unit": getattr(args, "time_unit", None),
    }


def _recsys_users(path: Path, clients: str, max_users: int | None) -> tuple[Any, Any]:
    """The users to read from a RecSys folder and its relevant clients."""
    with user_input(f"{path}: cannot read the RecSys 2025 folder: "):
        opened = _open(path, "client_id")
        relevant = opened.relevant
        if clients == "relevant" and relevant is None:
            raise UserError(f"{path}: --relevant needs {path / 'input' / 'relevant_clients.npy'}.")
        users = np.unique(relevant) if clients == "relevant" else None
        if max_users is not None:
            users = (_user_ids(opened) if users is None else users)[:max_users]
    return users, relevant


def _sample_users(frame: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """``n`` users drawn at random (seeded), kept in their original order."""
    if n is None or n >= len(frame):
        return frame
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(len(frame), size=n, replace=False))
    return frame.iloc[keep]


def read_events(
    path: str, args: argparse.Namespace, *, max_users: int | None = None, clients: str = "all"
) -> Events:
    """Read EVENTS: a RecSys 2025 folder, an event frame or a long table (parquet / CSV).

    ``max_users`` keeps that many users: the first ones in id order for a RecSys
    folder (read without loading the others), a seeded random sample otherwise.
    """
    p = existing(str(path), "EVENTS")
    if io.is_recsys_folder(p):
        users, relevant = _recsys_users(p, clients, max_users)
        with user_input():
            return Events(io.read_events(p, users=users), "recsys2025", relevant)
    with user_input():
        frame = io.read_events(p, **_options(args))
    return Events(_sample_users(frame, max_users, args.seed), "table")


def iter_buckets(
    path: str, args: argparse.Namespace, *, clients: str = "all", skip: Collection[int] = ()
) -> Iterator[tuple[int, pd.DataFrame]]:
    """EVENTS bucket by bucket (``--buckets``): ``(bucket, event frame)`` of disjoint sets
    of users, after ``--before``; the buckets in ``skip`` are not read."""
    p = existing(str(path), "EVENTS")
    options: dict[str, Any] = {**_options(args), "columns": None}
    users = None
    if io.is_recsys_folder(p):
        users = _recsys_users(p, clients, None)[0]
    with user_input():
        parts = bucket_frames(p, args.buckets, users=users, skip=skip, **options)
    while True:
        with user_input():
            item = next(parts, None)
        if item is None:
            return
        yield item[0], cut(item[1], getattr(args, "before", None), str(path))


def cut(frame: pd.DataFrame, before: str | None, source: str) -> pd.DataFrame:
    """Drop the events at or after ``before`` (a date, or ``split``: the challenge's cut)."""
    if before is None:
        return frame
    if before == "split":
        from ..evaluation import make_tasks

        with user_input(f"{source}: --before split: "):
            return make_tasks(frame).X
    from .._arrow import timestamp_to_us
    from .._frame import EventView, filter_events

    try:
        limit = timestamp_to_us(pd.Timestamp(before))
    except (ValueError, TypeError) as exc:
        raise UserError(f"--before {before!r}: not a date or 'split' ({exc})") from exc
    return filter_events(frame, EventView(frame).times() < limit)


def events_with_cut(path: str, args: argparse.Namespace, **kwargs: Any) -> Events:
    """:func:`read_events`, then ``--before``; a status line says what was read."""
    from .._frame import EventView

    timer = Timer()
    events = read_events(path, args, **kwargs)
    events.frame = cut(events.frame, getattr(args, "before", None), str(path))
    frame = events.frame
    n_events = EventView(frame).n_events
    log(
        args,
        f"read {path}: {len(frame):,} users, {n_events:,} events, fields "
        f"{', '.join(map(str, frame.columns))} ({timer})",
    )
    return events
