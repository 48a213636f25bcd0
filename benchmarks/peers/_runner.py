"""What every peer runner shares: its command line, reading the exported events and
writing the embeddings with their meta file. Standard library and pandas only, so that
it imports in every peer's venv."""

from __future__ import annotations

import argparse
import json
import resource

import pandas as pd


def parser(doc: str) -> argparse.ArgumentParser:
    """The arguments ``benchmarks/_peers.py`` passes to every runner."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--events", required=True, help="long events parquet (user, timestamp, ...)")
    p.add_argument("--cut", required=True, help="only events before this time are used")
    p.add_argument("--categorical", nargs="*", default=[],
                   help="columns holding codes (categories, never numbers)")  # fmt: skip
    p.add_argument("--item", default=None, help="the item column, if the log has one")
    p.add_argument("--out", required=True, help="embeddings parquet, indexed by user")
    p.add_argument("--meta", required=True, help="JSON file: times, peak RSS, sizes")
    return p


def read_events(args: argparse.Namespace) -> pd.DataFrame:
    """The exported events before ``--cut``; a clear exit when a column is missing."""
    events = pd.read_parquet(args.events)
    for column in ("user", "timestamp", *args.categorical):
        if column not in events.columns:
            raise SystemExit(f"--events: no {column!r} column (got {list(events.columns)})")
    return events[events["timestamp"] < pd.Timestamp(args.cut)]


def write(emb: pd.DataFrame, args: argparse.Namespace, **meta) -> None:
    """The embeddings to ``--out``; ``meta`` plus peak RSS and sizes to ``--meta``."""
    emb.to_parquet(args.out)
    meta.update(peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                n_features=emb.shape[1], n_users=len(emb))  # fmt: skip
    with open(args.meta, "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps(meta))
