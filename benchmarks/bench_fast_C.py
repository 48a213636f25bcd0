"""The fast protocol's L2 strength: six RFM features against ``EventCountEmbedder``.

Run: ``python benchmarks/bench_fast_C.py [--users 50000] [--seed 0]
[--C 0.001 0.003 0.01 0.03 auto]``

On ``make_events(n_users=--users)``, the challenge's tasks of the relevant clients (as
the demo builds them): the ``protocol="fast"`` scores of RFM (7 columns, as in the demo)
and of ``EventCountEmbedder()`` (several hundred columns) for each ``C`` given, a
number or ``"auto"`` (chosen per task by inner cross-validation on the training users
only). A fixed ``C`` tuned for a narrow embedding over-regularises or under-regularises
a wide one; this prints by how much, row by row, in the same run.
"""

from __future__ import annotations

import argparse
import time

from sklearn_ubp import EventCountEmbedder
from sklearn_ubp._cli._parser import _C_value  # the CLI's --C: a positive number or auto
from sklearn_ubp.datasets import make_events
from sklearn_ubp.evaluation import evaluate, make_tasks, rfm_features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--C", type=_C_value, nargs="+", default=[0.001, 0.003, 0.01, 0.03, "auto"])
    args = parser.parse_args()

    data = make_events(n_users=args.users, random_state=args.seed)
    tasks = make_tasks(data.events.loc[data.relevant_clients])
    print(f"make_events(n_users={args.users:,}): tasks on {len(tasks.X):,} relevant clients")
    rows = {
        "RFM": rfm_features(tasks.X, reference_time=tasks.cut, amount="price", item="sku"),
        "EventCountEmbedder": EventCountEmbedder().fit_transform(tasks.X),
    }
    best: dict[str, tuple[float, object]] = {}
    for C in args.C:
        for name, emb in rows.items():
            t0 = time.perf_counter()
            table = evaluate(emb, tasks, protocol="fast", C=C, random_state=args.seed)
            score = table[table["metric"] == "score"].set_index("task")["value"]
            cells = " ".join(f"{k}={v:.3f}" for k, v in score.items() if k != "total")
            print(
                f"C={C!s:<6} {name:<19} {emb.shape[1]:>4} dims  total {score['total']:.4f} | "
                f"{cells} ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
            if C != "auto" and score["total"] > best.get(name, (-1.0, None))[0]:
                best[name] = (score["total"], C)
    for name, (total, C) in best.items():
        print(f"best fixed C for {name}: {C} (total {total:.4f})")


if __name__ == "__main__":
    main()
