"""EventCountEmbedder and SVDItemEmbedder: speed, memory and downstream scores.

Run: ``python benchmarks/bench_classic.py [--users 200000] [--big-users 1000000] [--seed 0]``

On ``make_events(n_users=--users, random_state=--seed)``: the members with their default
parameters (``EventCountEmbedder()``: the compact default statistic groups, about 100
columns; ``SVDItemEmbedder`` over categories and over urls, 64 factors each) are fitted
on the input period of all users and score the relevant clients' tasks
(``protocol="fast"``), alone and concatenated, next to random vectors and the
official-baseline counts; fit/transform wall time and peak memory of each. Then fit +
transform of all three on ``--big-users`` users (about 8M events; ``--big-users 0``
skips it).

Targets (issue "EventCountEmbedder and SVDItemEmbedder"): EventCountEmbedder >= the
baseline counts on every task; an SVD member adds to the counts when concatenated
(total); fit + transform of both on 1M users in under 2 minutes and 8 GiB.

One more row, ``ECE + true tastes``, concatenates the generator's true taste vectors
(the ``pref_*`` traits that an item-factor member estimates from the purchase
history) with EventCountEmbedder: what the best possible SVD member could add under
this protocol.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import time

import numpy as np
import pandas as pd
import pyarrow as pa

from sklearn_ubp import EventCountEmbedder, EventView, SVDItemEmbedder, filter_events
from sklearn_ubp.datasets import make_events
from sklearn_ubp.evaluation import (
    evaluate,
    make_tasks,
    official_baseline,
    oracle_embeddings,
    random_embeddings,
)

from _common import gib, measure


def input_period(events: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    times = EventView(events).times()
    return filter_events(events, times < np.datetime64(cut, "us").astype(np.int64))


def load_split(n_users: int, seed: int) -> tuple:
    """Synthetic data, the relevant clients' tasks, and all users' input-period events."""
    data = make_events(n_users=n_users, random_state=seed)
    tasks = make_tasks(data.events.loc[data.relevant_clients])
    return data, tasks, input_period(data.events, tasks.cut)


def release_memory() -> None:
    """Give freed memory back to the system, so that RSS growth counts new allocations.

    Without it, memory freed earlier (by Arrow's allocator or glibc) is reused without
    growing the RSS and a later peak-memory figure reads too low.
    """
    gc.collect()
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # not glibc
        pass


def members() -> dict:
    return {
        "EventCountEmbedder": EventCountEmbedder(),
        "SVD category": SVDItemEmbedder(item="category", random_state=0),
        "SVD url": SVDItemEmbedder(item="url", random_state=0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--big-users", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    data, tasks, train = load_split(args.users, args.seed)
    print(
        f"make_events(n_users={args.users:,}): {EventView(data.events).n_events:,} events; "
        f"tasks on {len(tasks.X):,} relevant clients; members fitted on the input period "
        f"of all {len(train):,} users"
    )
    embeddings = {
        "random": random_embeddings(tasks.X, random_state=args.seed),
        "baseline counts": official_baseline(tasks.X).to_numpy(),
    }
    print(f"\n{'member':<20} {'dims':>5} {'fit':>8} {'transform':>10} {'peak memory':>12}")
    for name, est in members().items():
        _, fit_s, fit_mem = measure(lambda est=est: est.fit(train))
        emb, tr_s, tr_mem = measure(lambda est=est: est.transform(tasks.X))
        embeddings[name] = emb
        print(
            f"{name:<20} {emb.shape[1]:>5} {fit_s:>7.1f}s {tr_s:>9.1f}s "
            f"{gib(max(fit_mem, tr_mem)):>12}"
        )
    combos = {
        "baseline + SVD category": ["baseline counts", "SVD category"],
        "baseline + SVD url": ["baseline counts", "SVD url"],
        "ECE + SVD category": ["EventCountEmbedder", "SVD category"],
        "ECE + SVD url": ["EventCountEmbedder", "SVD url"],
        "ECE + both SVD": ["EventCountEmbedder", "SVD category", "SVD url"],
    }
    for name, parts in combos.items():
        embeddings[name] = np.hstack([embeddings[p] for p in parts])
    tastes = data.traits.filter(regex=r"^pref_")
    embeddings["ECE + true tastes"] = np.hstack(
        [embeddings["EventCountEmbedder"], oracle_embeddings(tastes, tasks.X.index)]
    )

    table = {}
    for name, emb in embeddings.items():
        t0 = time.perf_counter()
        scores = evaluate(emb, tasks, protocol="fast", random_state=args.seed)
        table[name] = scores[scores["metric"] == "score"].set_index("task")["value"]
        print(f"  scored {name} ({emb.shape[1]} dims) in {time.perf_counter() - t0:.1f} s")
    result = pd.DataFrame(table).T
    print('\n## protocol="fast" scores (rows: embeddings)')
    print(result.round(4).to_string())
    per_task = result.drop(columns="total")
    margin = per_task.loc["EventCountEmbedder"] - per_task.loc["baseline counts"]
    print(f"\nEventCountEmbedder >= baseline counts on every task: {(margin >= 0).all()}")
    print(
        "  EventCountEmbedder minus baseline counts per task: "
        + ", ".join(f"{task} {value:+.4f}" for task, value in margin.items())
    )
    for svd in ("SVD category", "SVD url", "true tastes"):
        gain = result.loc[f"ECE + {svd}", "total"] - result.loc["EventCountEmbedder", "total"]
        print(f"ECE + {svd} minus ECE alone (total): {gain:+.4f}")
    for svd in ("SVD category", "SVD url"):
        gain = result.loc[f"baseline + {svd}", "total"] - result.loc["baseline counts", "total"]
        print(f"baseline + {svd} minus baseline counts alone (total): {gain:+.4f}")

    if args.big_users:
        del data, tasks, train, embeddings
        release_memory()
        big = make_events(n_users=args.big_users, random_state=args.seed).events
        n_events = EventView(big).n_events
        release_memory()

        def fit_transform_both():
            return [est.fit_transform(big).shape for est in members().values()]

        shapes, seconds, peak = measure(fit_transform_both)
        print(
            f"\nfit + transform of EventCountEmbedder and both SVD members on "
            f"{args.big_users:,} users / {n_events:,} events: {seconds:.1f} s "
            f"(target < 120 s), peak memory growth {gib(peak)} (target < 8 GiB); "
            f"outputs {shapes}"
        )


if __name__ == "__main__":
    main()
