"""The ``ubp`` command line (also ``python -m sklearn_ubp``)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence


def _demo(args: argparse.Namespace) -> int:
    import pandas as pd

    from ._counts import EventCountEmbedder
    from ._frame import EventView
    from .datasets import make_events
    from .evaluation import (
        evaluate,
        make_tasks,
        official_baseline,
        oracle_scores,
        random_embeddings,
    )

    t0 = time.perf_counter()
    data = make_events(n_users=args.users, random_state=args.seed)
    view = EventView(data.events)
    codes, labels = view.categories("event_type")
    print(
        f"Synthetic RecSys-2025-style log: {view.n_users:,} users, {view.n_events:,} events "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    shares = pd.Series(codes).value_counts(normalize=True).rename(index=dict(enumerate(labels)))
    print("event types: " + ", ".join(f"{k} {v:.1%}" for k, v in shares.items()))
    print("\nEvent frame (one row per user, list columns):")
    print(data.events.head(3).to_string(max_colwidth=40))

    tasks = make_tasks(data.events.loc[data.relevant_clients])
    print(
        f"\nTime split (as in the challenge, for the {len(tasks.X):,} relevant clients): "
        f"input before {tasks.cut}; target windows {tasks.windows[0][0]} .. "
        f"{tasks.windows[1][1]}; tasks: {', '.join(tasks.tasks)}"
    )
    members = {
        "random": lambda: random_embeddings(tasks.X, random_state=args.seed),
        "baseline counts": lambda: official_baseline(tasks.X).to_numpy(),
        "EventCountEmbedder": lambda: EventCountEmbedder().fit_transform(tasks.X),
    }
    table = {}
    for name, build in members.items():
        t0 = time.perf_counter()
        scores = evaluate(build(), tasks, protocol="fast", random_state=args.seed)
        table[name] = scores[scores["metric"] == "score"].set_index("task")["value"]
        print(f"  scored {name} in {time.perf_counter() - t0:.1f} s", flush=True)
    oracle = oracle_scores(data, tasks, random_state=args.seed)
    table["oracle (true probabilities)"] = oracle[oracle["metric"] == "score"].set_index("task")[
        "value"
    ]
    print(
        '\nDownstream scores (protocol="fast"; AUROC for churn/conversion, '
        "0.8 AUROC + 0.1 diversity + 0.1 novelty for propensity):"
    )
    print(pd.DataFrame(table).round(4).to_string())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ubp", description="Universal Behavioral Profiles from user event logs."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="synthetic data, profiles and a score table")
    demo.add_argument("--users", type=int, default=50_000, help="number of synthetic users")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ubp`` console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
