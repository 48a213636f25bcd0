"""The commands ``ubp fit``, ``ubp embed``, ``ubp recsys2025`` and ``ubp evaluate``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from .. import io
from ..io import CSV_SUFFIXES, PARQUET_SUFFIXES
from ._common import UserError, check_device, existing, log, output, user_input
from ._model_files import check_format, load_model, save_model
from ._models import embed_frame, fit, make_model, score, score_table, set_matching
from ._reading import Events, events_with_cut

MODEL_SUFFIXES = (".joblib", ".pkl", ".pickle", ".skops")
EMBEDDING_SUFFIXES = (*PARQUET_SUFFIXES, ".npy", *CSV_SUFFIXES)


def fit_command(args: argparse.Namespace) -> int:
    check_device(args.device)
    out = output(args.out, MODEL_SUFFIXES, "--out")
    check_format(out)
    model = make_model(args)
    events = events_with_cut(args.events, args, max_users=args.max_users)
    fit(model, events.frame, args)
    files = save_model(model, out)
    print(
        f"wrote {out} ({type(model).__name__}, fitted on {len(events.frame):,} users) and "
        f"its checksum {files[1].name}"
    )
    return 0


def embed_command(args: argparse.Namespace) -> int:
    check_device(args.device)
    if getattr(args, "buckets", None) is not None:
        from ._stream import embed_buckets

        return embed_buckets(args)
    out = output(args.out, EMBEDDING_SUFFIXES, "--out")
    model = load_model(args.model, args)
    set_matching(model, "device", args.device)
    clients = "relevant" if args.relevant else "all"
    events = events_with_cut(args.events, args, max_users=args.max_users, clients=clients)
    embeddings = embed_frame(model, events.frame, args, chunk_size=args.chunk_size)
    with user_input(f"--out {args.out!r}: "):
        files = io.write_embeddings(embeddings, out)
    print(
        f"wrote {', '.join(map(str, files))} ({embeddings.shape[0]:,} users x "
        f"{embeddings.shape[1]} dimensions)"
    )
    return 0


def _recsys_folder(data_dir: str) -> Path:
    path = existing(data_dir, "DATA_DIR")
    if not io.is_recsys_folder(path):
        raise UserError(
            f"DATA_DIR {data_dir!r} is not a RecSys 2025 folder (no product_buy.parquet, "
            "page_visit.parquet, ...)."
        )
    if not (path / "input" / "relevant_clients.npy").is_file():
        raise UserError(
            f"DATA_DIR {data_dir!r} has no input/relevant_clients.npy: the submission "
            "needs the list of clients to embed."
        )
    return path


def _relevant_clients(path: Path) -> Any:
    import numpy as np

    with user_input(f"DATA_DIR {str(path)!r}: "):
        return np.load(path / "input" / "relevant_clients.npy").astype(np.int64)


def _embed_relevant_by_buckets(model: Any, args: argparse.Namespace, relevant: Any) -> Any:
    """The relevant clients' embeddings, row i = client i, read ``--buckets`` at a time."""
    import numpy as np

    from ._reading import iter_buckets

    rows = pd.Index(relevant)
    values = None
    for b, frame in iter_buckets(args.data_dir, args, clients="relevant"):
        if len(frame) == 0:
            continue
        emb = embed_frame(model, frame, args, chunk_size=args.chunk_size, quiet=True)
        if values is None:
            values = np.zeros((len(rows), emb.shape[1]), dtype=np.float32)
        values[rows.get_indexer(emb.index)] = emb.to_numpy()
        log(args, f"bucket {b + 1}/{args.buckets}: {len(emb):,} relevant clients embedded")
    if values is None:
        raise UserError(f"DATA_DIR {args.data_dir!r}: no relevant client to embed.")
    return values


def recsys_command(args: argparse.Namespace) -> int:
    from ..evaluation import validate_submission, write_submission

    check_device(args.device)
    relevant = _relevant_clients(_recsys_folder(args.data_dir))
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {args.out!r} exists and is not a directory.")
    model = make_model(args)
    # Fit on everyone (or the first --max-users clients); embed the relevant clients from
    # the same read, or read alone (after --max-users), or bucket by bucket (--buckets).
    fit_frame = events_with_cut(args.data_dir, args, max_users=args.max_users).frame
    to_embed = None
    if not args.buckets:
        relevant_frame = fit_frame
        if args.max_users is not None:
            relevant_frame = events_with_cut(args.data_dir, args, clients="relevant").frame
        to_embed = relevant_frame.loc[relevant]
    fit(model, fit_frame, args)
    del fit_frame
    if to_embed is None:
        values = _embed_relevant_by_buckets(model, args, relevant)
    else:
        values = embed_frame(model, to_embed, args, chunk_size=args.chunk_size).to_numpy()
    write_submission(out, relevant, values)
    validate_submission(out, relevant)
    print(
        f"wrote {out / 'client_ids.npy'} and {out / 'embeddings.npy'} "
        f"({len(relevant):,} relevant clients x {values.shape[1]} dimensions, float16); "
        "validate_submission: OK"
    )
    return 0


# --------------------------------------------------------------------------- evaluate


def _scored_users(events: Events, embeddings: pd.DataFrame, args: argparse.Namespace) -> pd.Index:
    """The users of EVENTS (relevant clients of a RecSys folder) that have an embedding."""
    users = events.frame.index
    if events.relevant_clients is not None and not args.all_users:
        users = users[users.isin(events.relevant_clients)]
    have = users.isin(embeddings.index)
    if not have.any():
        raise UserError(
            "none of the users of EVENTS has an embedding in EMBEDDINGS (check that the ids "
            f"match: EVENTS has e.g. {users[:3].tolist()}, EMBEDDINGS "
            f"{embeddings.index[:3].tolist()})."
        )
    if not have.all():
        log(args, f"{(~have).sum():,} of {len(users):,} users have no embedding; scoring the rest")
    return users[have]


def _task_kind(frame: pd.DataFrame, args: argparse.Namespace) -> str:
    """``--tasks auto``: future-window tasks with --cut or on a log without the challenge's
    event types (a purchase type and another one), the challenge's tasks otherwise."""
    if args.tasks != "auto":
        return args.tasks
    if args.cut is not None or "event_type" not in frame.columns:
        return "future"
    from .._frame import EventView

    _, labels = EventView(frame).categories("event_type")
    return "challenge" if args.purchase in labels and len(labels) > 1 else "future"


def _future_fields(args: argparse.Namespace) -> dict[str, Any]:
    return {"purchase": args.purchase, "amount": args.amount, "basket": args.basket}


def _future_tasks(frame: pd.DataFrame, args: argparse.Namespace) -> Any:
    from .._frame import EventView
    from ..evaluation import make_future_tasks

    cut = args.cut
    if cut is None:  # the last horizon_days before the day after the last event
        last = pd.Timestamp(int(EventView(frame).times().max()), unit="us")
        cut = last.normalize() + pd.Timedelta(days=1 - args.horizon_days)
    return make_future_tasks(
        frame,
        cut=cut,
        horizon_days=args.horizon_days,
        category=args.category,
        n_categories=args.n_categories,
        **_future_fields(args),
    )


def _build_tasks(frame: pd.DataFrame, args: argparse.Namespace) -> Any:
    from ..evaluation import make_tasks

    kind = _task_kind(frame, args)
    try:
        if kind == "challenge":
            tasks = make_tasks(frame, purchase=args.purchase)
            print(
                f"{len(tasks.X):,} users; input before {tasks.cut}, target windows "
                f"{tasks.windows[0][0]} .. {tasks.windows[1][1]} (embeddings must come from "
                "events before the cut)"
            )
            return tasks
        tasks = _future_tasks(frame, args)
    except (ValueError, TypeError) as exc:
        hint = "" if kind == "future" else " (--cut DATE builds future-window tasks instead)"
        raise UserError(
            f"cannot build the downstream tasks from {args.events!r}: {exc}{hint}"
        ) from exc
    print(
        f"{len(tasks.X):,} users with an event before {tasks.cut}; targets from "
        f"{tasks.windows[0][0]} .. {tasks.windows[0][1]}: {', '.join(tasks.tasks)} "
        "(embeddings must come from events before the cut: 'ubp embed --before CUT')"
    )
    return tasks


def _detail(table: pd.DataFrame) -> pd.DataFrame:
    """Tasks x metrics; ``value ± std`` cells for the probe."""
    values = table.pivot_table(index="task", columns="metric", values="value", sort=False)
    order = [m for m in ("auroc", "spearman", "diversity", "novelty", "score") if m in values]
    values = values[order].round(4)
    if "std" not in table:
        return values
    stds = table.pivot_table(index="task", columns="metric", values="std", sort=False)
    cells = values.map("{:.4f}".format) + " ± " + stds[order].round(4).map("{:.4f}".format)
    return cells.where(values.notna(), "")


def _baselines(tasks: Any, args: argparse.Namespace, scores: dict[str, pd.DataFrame]) -> None:
    from ..evaluation import official_baseline, random_embeddings, rfm_features

    score("random", random_embeddings(tasks.X, random_state=args.seed), tasks, args, scores)
    if getattr(tasks, "default_protocol", None) == "probe":
        fields = _future_fields(args) | {"category": args.category}
        rfm = rfm_features(tasks.X, reference_time=tasks.cut, **fields)
        score("RFM", rfm.to_numpy(), tasks, args, scores)
    else:
        score("baseline counts", official_baseline(tasks.X).to_numpy(), tasks, args, scores)


def evaluate_command(args: argparse.Namespace) -> int:
    check_device(args.device)
    existing(args.embeddings, "EMBEDDINGS")
    with user_input():
        embeddings = io.read_embeddings(args.embeddings, ids=args.ids, user_col=args.user_col)
    relevant_file = Path(args.events) / "input" / "relevant_clients.npy"
    only_relevant = io.is_recsys_folder(args.events) and relevant_file.is_file()
    clients = "relevant" if only_relevant and not args.all_users else "all"
    events = events_with_cut(args.events, args, clients=clients)
    users = _scored_users(events, embeddings, args)
    tasks = _build_tasks(events.frame.loc[users], args)
    scores: dict[str, pd.DataFrame] = {}
    score("embeddings", embeddings.loc[tasks.X.index], tasks, args, scores)
    protocol = scores["embeddings"].attrs["protocol"]
    print(f'\nScores (protocol="{protocol}"):')
    table = _detail(scores["embeddings"])
    print(table.to_string())
    if args.baselines:
        _baselines(tasks, args, scores)
        table = score_table(scores)
        print("\nScores next to the baselines:")
        print(table.round(4).to_string())
    if args.out:
        out = output(args.out, CSV_SUFFIXES, "--out")
        table.to_csv(out)
        print(f"wrote {out}")
    return 0
