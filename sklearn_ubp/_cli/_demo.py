"""``ubp demo``: synthetic data, profiles and a score table (the README's main job)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._common import UserError, check_device
from ._models import default_model, fit, make_model, member_blocks, members, score, score_table


def _describe(data: Any) -> None:
    from .._frame import EventView

    view = EventView(data.events)
    codes, labels = view.categories("event_type")
    shares = pd.Series(codes).value_counts(normalize=True).rename(index=dict(enumerate(labels)))
    print("event types: " + ", ".join(f"{k} {v:.1%}" for k, v in shares.items()))
    print("\nEvent frame (one row per user, list columns):")
    print(data.events.head(3).to_string(max_colwidth=40))


def _fit_profile(
    data: Any, tasks: Any, args: argparse.Namespace, scores: dict[str, pd.DataFrame]
) -> tuple[Any, np.ndarray, dict[str, str]]:
    """Fit ``--model`` on the input period; score it and each of its members."""
    from .._arrow import timestamp_to_us
    from .._frame import EventView, filter_events

    model = make_model(args)
    # The model learns without labels from input-period events only (before the cut):
    # those of every user (the default, --fit-on all) or of the relevant clients only.
    if args.fit_on == "all":
        before = EventView(data.events).times() < timestamp_to_us(tasks.cut)
        fit_frame = filter_events(data.events, before)
    else:
        fit_frame = tasks.X
    profile = fit(model, fit_frame, args)
    embeddings = np.asarray(profile.transform(tasks.X), dtype=np.float32)
    fitted = dict(members(profile))
    names: dict[str, str] = {}
    for member, block in member_blocks(profile, embeddings).items():
        names[member] = type(fitted[member]).__name__
        score(member, block, tasks, args, scores)
    score(type(profile).__name__, embeddings, tasks, args, scores)
    return profile, embeddings, names


def demo(args: argparse.Namespace) -> int:
    from .._counts import EventCountEmbedder
    from .._frame import EventView
    from ..datasets import make_events
    from ..evaluation import (
        make_tasks,
        official_baseline,
        oracle_scores,
        random_embeddings,
        rfm_features,
    )

    if args.users < 1000:
        raise UserError(f"--users must be at least 1000 for the six tasks; got {args.users}.")
    check_device(args.device)
    if args.plots is not None:
        from ..plotting import _require_matplotlib

        _require_matplotlib()
    t0 = time.perf_counter()
    data = make_events(n_users=args.users, random_state=args.seed)
    view = EventView(data.events)
    print(
        f"Synthetic RecSys-2025-style log: {view.n_users:,} users, {view.n_events:,} events "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    _describe(data)
    tasks = make_tasks(data.events.loc[data.relevant_clients])
    print(
        f"\nTime split (as in the challenge, for the {len(tasks.X):,} relevant clients): "
        f"input before {tasks.cut}; target windows {tasks.windows[0][0]} .. "
        f"{tasks.windows[1][1]}; tasks: {', '.join(tasks.tasks)}",
        flush=True,
    )
    scores: dict[str, pd.DataFrame] = {}
    score("random", random_embeddings(tasks.X, random_state=args.seed), tasks, args, scores)
    score("baseline counts", official_baseline(tasks.X).to_numpy(), tasks, args, scores)
    # the hand-made baseline: recency, frequency, monetary (price buckets), tenure
    rfm = rfm_features(tasks.X, reference_time=tasks.cut, amount="price", item="sku")
    score("RFM", rfm.to_numpy(), tasks, args, scores)
    profile = embeddings = None
    names: dict[str, str] = {}
    model_name = args.model or default_model()
    if model_name != "profile":  # the profile has EventCountEmbedder as its member
        counts = EventCountEmbedder().fit_transform(tasks.X)
        score("EventCountEmbedder", counts, tasks, args, scores)
    if model_name != "counts":
        args.model = model_name
        profile, embeddings, names = _fit_profile(data, tasks, args, scores)
    scores["oracle (true probabilities)"] = oracle_scores(data, tasks, random_state=args.seed)
    table = score_table(scores)
    penalty = (
        "C chosen per task and row on the training users" if args.C == "auto" else f"C={args.C:g}"
    )
    print(
        f'\nDownstream scores (protocol="fast", {penalty}; AUROC for churn/conversion, '
        "0.8 AUROC + 0.1 diversity + 0.1 novelty for propensity):"
    )
    print(table.round(4).to_string())
    if names:
        print(
            f"Members of {type(profile).__name__}, alone (post-processed as in the profile): "
            + ", ".join(f"{k} = {v}" for k, v in names.items())
        )
    if args.plots is not None:
        for path in _demo_plots(args.plots, profile, embeddings, tasks, table):
            print(f"wrote {path}")
    return 0


def _save(plt: Any, fig: Any, path: Path, written: list[Path]) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)


def _demo_plots(
    folder: str, profile: Any, embeddings: np.ndarray | None, tasks: Any, table: pd.DataFrame
) -> list[Path]:
    from .._counts import EventCountEmbedder
    from ..plotting import (
        _find_history,
        _require_matplotlib,
        plot_embedding_map,
        plot_scores,
        plot_training_history,
    )

    plt = _require_matplotlib()
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise UserError(f"--plots {folder!r} is not a directory.")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    fig, ax = plt.subplots(figsize=(12, 4.5))
    plot_scores(table, ax=ax)
    _save(plt, fig, out / "scores.png", written)

    if embeddings is None:
        embeddings = EventCountEmbedder().fit_transform(tasks.X)
        name = "EventCountEmbedder"
    else:
        name = type(profile).__name__
    churn = tasks.tasks["churn"]
    fig, ax = plt.subplots(figsize=(6, 5))
    y = churn.y_test[churn.mask]
    plot_embedding_map(embeddings[churn.mask], y, ax=ax, label="churn (1: no purchase)")
    ax.set_title(f"{name} of the buyers (PCA),\ncoloured by churn in the scored window")
    _save(plt, fig, out / "embedding_map.png", written)

    if profile is not None and _find_history(profile) is not None:
        fig, ax = plt.subplots(figsize=(6, 4))
        plot_training_history(profile, ax=ax)
        _save(plt, fig, out / "training_history.png", written)
    else:
        print("no training history to plot (the model has no GRU autoencoder member)")
    return written
