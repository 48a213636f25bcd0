"""``ubp embed --buckets N``: embed EVENTS bucket by bucket of users into a folder of
parquet parts, one per bucket, resumable.

Each part is written under a temporary name (``.part-00003.parquet.tmp``) and renamed
when complete, so a part that exists is whole; a rerun with the same model, EVENTS and
options skips the buckets whose part (or, for a bucket without users, ``_empty-00003``
marker) exists, and a killed run loses at most the bucket it was on. ``_ubp_embed.json``
records what the parts were made from; readers of parquet folders (pandas, pyarrow,
``ubp evaluate``) skip names starting with ``.`` or ``_``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from ..io import CSV_SUFFIXES, suffix_of
from ._common import Timer, UserError, log, user_input
from ._model_files import file_sha256, load_model
from ._models import embed_frame, set_matching
from ._reading import iter_buckets

MANIFEST = "_ubp_embed.json"


def part_name(bucket: int) -> str:
    return f"part-{bucket:05d}.parquet"


def _empty_marker(bucket: int) -> str:
    return f"_empty-{bucket:05d}"


def _check_args(args: argparse.Namespace) -> Path:
    if args.max_users is not None:
        raise UserError("--max-users and --buckets: choose one (--buckets embeds every user).")
    if args.before == "split":
        raise UserError(
            "--before split finds the challenge's cut from the whole log; with --buckets "
            "give the date instead (--before DATE, printed by 'ubp evaluate')."
        )
    out = Path(args.out)
    if suffix_of(out) in (".npy", *CSV_SUFFIXES):
        raise UserError(
            f"--out {args.out!r}: with --buckets the output is a folder of parquet files "
            "(one per bucket); give a folder name."
        )
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {args.out!r} exists and is not a folder.")
    return out


def _manifest(args: argparse.Namespace) -> dict[str, Any]:
    """What the parts are made from: a rerun resumes only if it is the same."""
    reading = ("user_col", "time_col", "event_type_col", "time_unit", "before", "relevant")
    return {
        "model_sha256": file_sha256(Path(args.model)),
        "events": str(Path(args.events).resolve()),
        "buckets": args.buckets,
        **{name: getattr(args, name) for name in reading},
    }


def _start(out: Path, manifest: dict[str, Any]) -> set[int]:
    """Create ``out`` (or check that its parts come from the same run); the done buckets."""
    path = out / MANIFEST
    with user_input(f"--out {str(out)!r}: "):
        out.mkdir(parents=True, exist_ok=True)
        if path.is_file():
            before = json.loads(path.read_text())
            if before != manifest:
                changed = sorted(k for k in manifest if before.get(k) != manifest[k])
                raise UserError(
                    f"--out {str(out)!r} holds the parts of another run (different "
                    f"{', '.join(changed)}); delete the folder or give another --out."
                )
        else:
            _write_atomically(path, lambda tmp: tmp.write_text(json.dumps(manifest, indent=1)))
    return {
        b
        for b in range(manifest["buckets"])
        if (out / part_name(b)).is_file() or (out / _empty_marker(b)).is_file()
    }


def _write_atomically(path: Path, write: Any) -> None:
    """``write(tmp)`` to a hidden temporary name, then rename it to ``path``."""
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def embed_buckets(args: argparse.Namespace) -> int:
    """``ubp embed --buckets N``: see the module docstring."""
    out = _check_args(args)
    model = load_model(args.model, args)
    set_matching(model, "device", args.device)
    done = _start(out, _manifest(args))
    n = args.buckets
    if done:
        log(args, f"{out}: {len(done)} of {n} buckets already written; resuming")
    clients = "relevant" if args.relevant else "all"
    timer, n_users, n_dims = Timer(), 0, 0
    for b, frame in iter_buckets(args.events, args, clients=clients, skip=done):
        if len(frame) == 0:
            (out / _empty_marker(b)).touch()
            continue
        emb = embed_frame(model, frame, args, chunk_size=args.chunk_size, quiet=True)
        _write_atomically(out / part_name(b), lambda tmp, emb=emb: emb.to_parquet(tmp))
        n_users, n_dims = n_users + len(emb), emb.shape[1]
        done.add(b)
        log(args, f"bucket {b + 1}/{n}: {len(emb):,} users ({len(done)}/{n} done, {timer})")
    print(
        f"wrote {out} ({n} buckets, one parquet part each; this run embedded {n_users:,} "
        f"users into {n_dims} dimensions)"
    )
    return 0
