"""Synthetic data realism, task positive rates, and the floor/ceiling of the scores.

Run: ``python benchmarks/bench_tasks.py [--users 50000] [--big-users 1000000]``

Prints, for ``make_events(n_users=...)`` with defaults: the marginal statistics of all
events next to the real release's; the tasks of the challenge's time split built, as in
the challenge, for the relevant clients, with each task's positive rate; and the
``protocol="fast"`` scores of random vectors, the official-baseline counts, a linear
model on the generator's true traits, and the oracle (the generator's true purchase
probabilities scored directly, on the same held-out users). The oracle must clearly
beat the counts and the counts must clearly beat random on every task. Then the
generation time for ``--big-users`` users.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from sklearn_ubp import EventView
from sklearn_ubp.datasets import make_events
from sklearn_ubp.evaluation import (
    evaluate,
    make_tasks,
    official_baseline,
    oracle_embeddings,
    oracle_scores,
    random_embeddings,
)

from _common import gib, measure

REAL = {
    "page_visit": 0.888,
    "search_query": 0.058,
    "add_to_cart": 0.032,
    "remove_from_cart": 0.011,
    "product_buy": 0.010,
}
REAL_LENGTHS = {"median": 2, "p90": 18, "p99": 119}


def marginals(events: pd.DataFrame) -> None:
    view = EventView(events)
    codes, labels = view.categories("event_type")
    shares = np.bincount(codes, minlength=len(labels)) / max(len(codes), 1)
    print("\n## Marginals (synthetic vs the real release)")
    print(
        f"users {view.n_users:,}, events {view.n_events:,}, users with events "
        f"{(view.lengths > 0).mean():.1%}"
    )
    for label in REAL:
        share = shares[labels.index(label)] if label in labels else 0.0
        print(f"  {label:<17} {share:7.2%}   real {REAL[label]:6.1%}")
    active = view.lengths[view.lengths > 0]
    stats = {
        "median": np.median(active),
        "p90": np.percentile(active, 90),
        "p99": np.percentile(active, 99),
    }
    print(
        "  events per user (users with events): "
        + ", ".join(f"{k} {v:.0f} (real {REAL_LENGTHS[k]})" for k, v in stats.items())
        + f", mean {active.mean():.1f}, max {active.max()}"
    )


def positive_rates(tasks) -> None:
    print("\n## Tasks (window 1 / window 2)")
    for name, task in tasks.tasks.items():
        users = int(task.mask.sum())
        if task.kind == "binary":
            rates = [y[task.mask].mean() for y in (task.y_train, task.y_test)]
            print(f"  {name:<20} users {users:>7,}  positive rate {rates[0]:.3f} / {rates[1]:.3f}")
        else:
            anyp = [(y[task.mask].sum(1) > 0).mean() for y in (task.y_train, task.y_test)]
            with_pos = (task.y_test[task.mask].sum(0) > 0).sum()
            print(
                f"  {name:<20} users {users:>7,}  targets {len(task.targets):>3} "
                f"({with_pos} with positives in window 2)  users with any positive "
                f"{anyp[0]:.3f} / {anyp[1]:.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--big-users", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    t0 = time.perf_counter()
    data = make_events(n_users=args.users, random_state=args.seed)
    print(f"make_events(n_users={args.users:,}): {time.perf_counter() - t0:.1f} s")
    marginals(data.events)
    relevant = data.relevant_clients
    print(f"\nrelevant clients: {len(relevant):,} ({len(relevant) / args.users:.1%} of users)")
    tasks = make_tasks(data.events.loc[relevant])
    print(f"\ncut {tasks.cut}, windows {[(str(a), str(b)) for a, b in tasks.windows]}")
    positive_rates(tasks)

    members = {
        "random": lambda: random_embeddings(tasks.X, n_components=64, random_state=args.seed),
        "baseline counts": lambda: official_baseline(tasks.X).to_numpy(),
        "true traits": lambda: oracle_embeddings(data.traits, tasks.X.index),
    }
    table = {}
    for name, build in members.items():
        t0 = time.perf_counter()
        emb = build()
        scores = evaluate(emb, tasks, protocol="fast", random_state=args.seed)
        scored = scores[scores["metric"] == "score"].set_index("task")["value"]
        table[name] = scored
        print(f"{name}: dim {emb.shape[1]}, embed + evaluate {time.perf_counter() - t0:.1f} s")
    oracle = oracle_scores(data, tasks, random_state=args.seed)
    table["oracle"] = oracle[oracle["metric"] == "score"].set_index("task")["value"]
    result = pd.DataFrame(table)
    lift = (result["baseline counts"] - result["random"]) / (result["oracle"] - result["random"])
    result["counts' share of oracle lift"] = lift
    print('\n## protocol="fast" scores')
    print(result.round(4).to_string())
    per_task = result.drop(index="total")
    margin = 0.01
    ok_counts = (per_task["baseline counts"] > per_task["random"] + margin).all()
    ok_oracle = (per_task["oracle"] > per_task["baseline counts"] + margin).all()
    print(f"\ncounts beat random by > {margin} on every task: {ok_counts}")
    print(f"oracle beats counts by > {margin} on every task: {ok_oracle}")

    if args.big_users:
        _, seconds, peak = measure(
            lambda: make_events(n_users=args.big_users, random_state=args.seed)
        )
        print(
            f"\nmake_events(n_users={args.big_users:,}): {seconds:.1f} s "
            f"(target < 60 s), peak memory growth {gib(peak)}"
        )


if __name__ == "__main__":
    main()
