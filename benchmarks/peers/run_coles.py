"""pytorch-lifestream CoLES peer: a contrastively trained GRU encoder, run in its own venv.

Run (inside ``benchmarks/peers/.venv-coles``, built by ``make_envs.sh``)::

    python run_coles.py --events long.parquet --cut 2001-02-01 \
        --categorical event_type sku category --out emb.parquet --meta meta.json \
        [--max-seconds 120] [--max-epochs 15] [--hidden-size 128]

``long.parquet`` has one row per event (``user``, ``timestamp``, scalar fields), the
input period only. Each user becomes a ptls feature dict built here directly (the 0.7.0
wheel cannot import ``ptls.preprocessing``): ``event_time`` in days, each categorical
column as 1-based codes of its top ``--vocab`` values (0 = padding, the last code = any
other value), each float column as a number that ``TrxEncoder`` log-scales. The encoder
is ``RnnSeqEncoder(type="gru")`` with ``--hidden-size`` (our GRU member's default, 128),
trained by ``CoLESModule`` with its default loss (contrastive, hard negatives) on
``SampleSlices`` sub-sequences, for ``--max-epochs`` (15, the ptls tutorial's) or until
``--max-seconds`` of wall time. The output is float32, one row per user.
"""

from __future__ import annotations

import argparse
import datetime
import time
from functools import partial

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch
from ptls.data_load.datasets import MemoryMapDataset, inference_data_loader
from ptls.frames import PtlsDataModule
from ptls.frames.coles import ColesDataset, CoLESModule
from ptls.frames.coles.split_strategy import SampleSlices
from ptls.nn import RnnSeqEncoder, TrxEncoder

import _runner


def encode_codes(values: pd.Series, vocab: int) -> tuple[np.ndarray, int]:
    """1-based codes of the ``vocab`` most frequent values; the rest share the last code."""
    top = values.value_counts().index[:vocab]
    codes = pd.Index(top).get_indexer(values)
    codes = np.where(codes < 0, len(top), codes) + 1
    return codes.astype(np.int64), len(top) + 2


def feature_dicts(events: pd.DataFrame, categorical: list[str], vocab: int):
    """One ptls feature dict per user (events in time order) and the embedding sizes."""
    events = events.sort_values(["user", "timestamp"], kind="stable")
    days = (events["timestamp"] - events["timestamp"].min()) / pd.Timedelta(days=1)
    columns = {"event_time": days.to_numpy(np.float32)}
    sizes = {}
    for column in categorical:
        columns[column], sizes[column] = encode_codes(events[column], vocab)
    numeric = [c for c in events.columns
               if c not in {"user", "timestamp", *categorical} and events[c].dtype.kind == "f"]  # fmt: skip
    for column in numeric:
        columns[column] = events[column].fillna(0).to_numpy(np.float32)
    users, starts = np.unique(events["user"].to_numpy(), return_index=True)
    bounds = np.append(starts, len(events))
    tensors = {k: torch.from_numpy(v) for k, v in columns.items()}
    data = [{"user": u, **{k: t[a:b] for k, t in tensors.items()}}
            for u, a, b in zip(users, bounds[:-1], bounds[1:], strict=True)]  # fmt: skip
    return data, sizes, numeric


def fit_transform(events: pd.DataFrame, args: argparse.Namespace) -> tuple[pd.DataFrame, dict]:
    torch.manual_seed(args.seed)
    data, sizes, numeric = feature_dicts(events, args.categorical, args.vocab)
    trx = TrxEncoder(
        embeddings={c: {"in": n, "out": min(32, max(4, int(n**0.5)))} for c, n in sizes.items()},
        numeric_values={c: "log" for c in numeric},
        embeddings_noise=0.003,
    )
    encoder = RnnSeqEncoder(trx_encoder=trx, hidden_size=args.hidden_size, type="gru")
    model = CoLESModule(seq_encoder=encoder, optimizer_partial=partial(torch.optim.Adam, lr=1e-3),
                        lr_scheduler_partial=partial(torch.optim.lr_scheduler.StepLR,
                                                     step_size=30, gamma=0.9))  # fmt: skip
    splitter = SampleSlices(split_count=5, cnt_min=args.cnt_min, cnt_max=args.cnt_max)
    module = PtlsDataModule(train_data=ColesDataset(MemoryMapDataset(data=data), splitter=splitter),
                            train_batch_size=args.batch_size, train_num_workers=0)  # fmt: skip
    limit = None if args.max_seconds is None else datetime.timedelta(seconds=args.max_seconds)
    trainer = pl.Trainer(max_epochs=args.max_epochs, max_time=limit, accelerator="cpu",
                         enable_progress_bar=False, enable_checkpointing=False, logger=False)  # fmt: skip
    t0 = time.perf_counter()
    trainer.fit(model, module)
    fit_seconds = time.perf_counter() - t0
    loader = inference_data_loader(data, num_workers=0, batch_size=512)
    emb = torch.vstack(trainer.predict(model, loader)).numpy().astype(np.float32)
    index = pd.Index([d["user"] for d in data], name="user")
    frame = pd.DataFrame(
        np.nan_to_num(emb), index=index, columns=[f"coles_{i}" for i in range(emb.shape[1])]
    )
    info = {"fit_seconds": fit_seconds, "epochs": trainer.current_epoch}
    return frame, info


def main() -> None:
    parser = _runner.parser(__doc__)
    parser.add_argument("--max-seconds", type=float, default=None)
    parser.add_argument("--max-epochs", type=int, default=15)
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--cnt-min", type=int, default=25)
    parser.add_argument("--cnt-max", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    events = _runner.read_events(args)
    t0 = time.perf_counter()
    emb, info = fit_transform(events, args)
    _runner.write(emb, args, peer="coles", fit_transform_seconds=time.perf_counter() - t0, **info)


if __name__ == "__main__":
    main()
