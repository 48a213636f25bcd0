"""EventCountEmbedder settings against the official-baseline counts (fast protocol).

Run: ``python benchmarks/bench_counts_variants.py [--users 200000]``

Same data and split as ``bench_classic.py``; prints one row of task scores per setting,
to choose defaults that beat the baseline on every task.
"""

from __future__ import annotations

import argparse
import time

from sklearn_ubp import EventCountEmbedder
from sklearn_ubp.evaluation import evaluate, official_baseline

from bench_classic import load_split

VARIANTS = {
    "defaults": {},
    "quantile": {"scale": "quantile"},
    "top_k=5": {"top_k": 5},
    "windows=(7, 30, all)": {"windows": (7, 30, None)},
    "top_k=5, windows=(7, 30, all)": {"top_k": 5, "windows": (7, 30, None)},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    _, tasks, train = load_split(args.users, args.seed)

    def scores(emb):
        table = evaluate(emb, tasks, protocol="fast", random_state=args.seed)
        return table[table["metric"] == "score"].set_index("task")["value"]

    base = scores(official_baseline(tasks.X).to_numpy())
    print(
        f"{'baseline counts':<32} {' '.join(f'{v:.4f}' for v in base)}  ({', '.join(base.index)})"
    )
    for name, params in VARIANTS.items():
        t0 = time.perf_counter()
        emb = EventCountEmbedder(**params).fit(train).transform(tasks.X)
        s = scores(emb)
        wins = int((s.drop("total") >= base.drop("total")).sum())
        print(
            f"{name:<32} {' '.join(f'{v:.4f}' for v in s)}  dims {emb.shape[1]}, "
            f">= baseline on {wins}/{len(s) - 1} tasks ({time.perf_counter() - t0:.0f} s)"
        )


if __name__ == "__main__":
    main()
