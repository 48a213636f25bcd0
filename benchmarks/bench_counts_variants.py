"""EventCountEmbedder settings on the quality table's logs and probe.

Run: ``python benchmarks/bench_counts_variants.py [--datasets synthetic tafeng cdnow]
[--synthetic-users 20000] [--max-users N] [--seed 0] [--folds 5]``

The data, cut, tasks and protocol of ``bench_quality.py`` (the future-window tasks,
``evaluate(..., protocol="probe")``: L2 strength chosen by inner cross-validation,
5-fold mean +- std); the counts are fitted on ``--fit-users`` users and embed all. One
row per setting: the settings before the defaults were chosen on several logs
(``"wave 1"``: chosen on one synthetic generator with a fixed-``C`` probe), the
defaults, and the defaults with one thing changed at a time. RFM and RFM + categories
are printed beside them, measured in the same run. This is how the defaults were
chosen (see the Notes of ``EventCountEmbedder``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bench_quality import DATASETS, baseline_rows, load_tasks, score

from sklearn_ubp import EventCountEmbedder
from sklearn_ubp._counts import DEFAULT_STATISTICS

DEFAULTS = tuple(DEFAULT_STATISTICS)
VARIANTS = {
    "wave 1 (counts, recency, numeric, cart, codes; 7, 30, all)": {
        "statistics": ("counts", "recency", "numeric", "cart", "codes"),
        "windows": (7, 30, None),
        "top_k": 10,
    },
    "defaults": {},
    "top_k=10": {"top_k": 10},
    "- top_k": {"statistics": tuple(s for s in DEFAULTS if s != "top_k")},
    "- bgnbd": {"statistics": tuple(s for s in DEFAULTS if s != "bgnbd")},
    "- decay": {"statistics": tuple(s for s in DEFAULTS if s != "decay")},
    "- active": {"statistics": tuple(s for s in DEFAULTS if s != "active")},
    "- distinct": {"statistics": tuple(s for s in DEFAULTS if s != "distinct")},
    "windows=(7, 30, all)": {"windows": (7, 30, None)},
    "value_windows=windows": {"value_windows": (7, 30, 90, 365, None)},
    "all groups": {"statistics": "all"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--synthetic-users", type=int, default=20_000)
    parser.add_argument("--fit-users", type=int, default=20_000)
    parser.add_argument("--max-users", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--variants", nargs="+", default=None,
                        help="only the rows whose name contains one of these strings")  # fmt: skip
    args = parser.parse_args()
    for name in args.datasets:
        ds, tasks, X_fit = load_tasks(name, args)
        print(f"\n## {name}: {len(tasks.X):,} users", flush=True)
        rows = {k: v for k, v in baseline_rows(ds, tasks.X, args.seed).items() if "RFM" in k}
        todo = {**rows, **VARIANTS}
        if args.variants:
            todo = {k: v for k, v in todo.items() if any(s in k for s in args.variants)}
        for row, params in todo.items():
            t0 = time.perf_counter()
            if isinstance(params, dict):
                emb = EventCountEmbedder(**params).fit(X_fit).transform(tasks.X)
            else:
                emb = params()
            table = score(emb, tasks, args.seed, args.folds)
            cells = " ".join(f"{t}={v:.4f}" for t, (v, _) in table.iterrows())
            print(f"  {row:<60} {np.shape(emb)[1]:>5} dims | {cells} ± "
                  f"{table.loc['mean', 'std']:.4f} ({time.perf_counter() - t0:.0f} s)",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
