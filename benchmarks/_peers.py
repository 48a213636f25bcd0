"""Peers for ``bench_quality.py --peers``: export a dataset, run a peer in its venv, read back.

Each peer lives in ``benchmarks/peers/``: a pinned requirements file, a venv built by
``make_envs.sh`` (never our dependencies) and a ``run_<peer>.py`` runner. The bench
exports the input-period events of the scored users as one long parquet file (one row
per event, scalar columns only), the runner writes user-indexed embeddings plus a JSON
file with its own wall time and peak RSS, and this module aligns them to the bench's
users (a missing or extra user is an error, never a silent reindex).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from sklearn_ubp import EventView

PEERS_DIR = Path(__file__).resolve().parent / "peers"
# name -> (venv and runner, extra runner arguments); "coles" trains for the profile's
# fit time (its --max-seconds is added by the bench), "coles-epochs" for ptls' 15 epochs
PEERS = {"featuretools": ("featuretools", []), "coles": ("coles", []),
         "coles-epochs": ("coles", ["--max-epochs", "15"])}  # fmt: skip
DEFAULT_PEERS = ["featuretools", "coles"]


def venv_python(peer: str) -> Path:
    return PEERS_DIR / f".venv-{PEERS[peer][0]}" / "bin" / "python"


def export_long(X: pd.DataFrame, path: Path) -> list[str]:
    """Write ``X`` (one row per user, list columns) as long events; return the code columns.

    Fixed-size list fields (hashed text embeddings) are left out: no peer reads them.
    Integer and string fields are codes (categoricals); floats are numerics.
    """
    view = EventView(X)  # the flat Arrow values the library's own members read
    out: dict[str, np.ndarray] = {"user": X.index.to_numpy()[view.user_of_event()]}
    codes: list[str] = []
    for column in view.columns:
        values = view.values(column)
        if pa.types.is_fixed_size_list(values.type):
            continue
        if pa.types.is_dictionary(values.type):
            values = values.cast(pa.string())
        if len(values) != view.n_events:
            raise ValueError(f"column {column!r}: {len(values)} events, "
                             f"{view.time_column!r} has {view.n_events}")  # fmt: skip
        if column != view.time_column and not pa.types.is_floating(values.type):
            codes.append(column)
        out[column] = values.to_numpy(zero_copy_only=False)
    pd.DataFrame(out).to_parquet(path)
    return codes


def run_peer(
    peer: str, X: pd.DataFrame, cut: pd.Timestamp, item: str | None, extra: list[str] = ()
) -> np.ndarray:
    """The peer's embedding of every user of ``X``, in ``X``'s order (float32)."""
    with tempfile.TemporaryDirectory(prefix=f"ubp-peer-{peer}-") as tmp:
        tmp = Path(tmp)
        codes = export_long(X, tmp / "events.parquet")
        command = [str(venv_python(peer)), "-W", "ignore", str(PEERS_DIR / f"run_{PEERS[peer][0]}.py"),
                   "--events", str(tmp / "events.parquet"), "--cut", str(cut),
                   "--out", str(tmp / "emb.parquet"), "--meta", str(tmp / "meta.json"),
                   "--categorical", *codes]  # fmt: skip
        if item is not None:
            command += ["--item", item]
        command += [*PEERS[peer][1], *extra]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(
                f"peer {peer} failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
            )
        meta = json.loads((tmp / "meta.json").read_text())
        emb = pd.read_parquet(tmp / "emb.parquet")
    missing = X.index.difference(emb.index)
    if len(missing) or len(emb) != len(X):
        raise RuntimeError(f"peer {peer}: {len(emb)} rows for {len(X)} users "
                           f"({len(missing)} users missing)")  # fmt: skip
    epochs = f", {meta['epochs']} epochs" if "epochs" in meta else ""
    print(
        f"  peer {peer}: {meta['n_features']} features{epochs}, its own fit+transform "
        f"{meta['fit_transform_seconds']:.1f} s, peak RSS {meta['peak_rss_bytes'] / 2**30:.2f} GiB"
    )
    return emb.loc[X.index].to_numpy(dtype=np.float32)


def available(peers: list[str]) -> list[str]:
    """The peers whose venv exists; a clear line for each one that is missing."""
    kept = []
    for peer in peers:
        if venv_python(peer).exists():
            kept.append(peer)
        else:
            print(f"  peer {peer} skipped: no {venv_python(peer)}; "
                  f"build it with bash benchmarks/peers/make_envs.sh {peer}")  # fmt: skip
    return kept
