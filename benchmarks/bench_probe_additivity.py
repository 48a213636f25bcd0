"""Does one more column ever lower a probe score? An anchor against the anchor + columns.

Run: ``python benchmarks/bench_probe_additivity.py [--dataset cdnow] [--base RFM]
[--seeds 0 1 2 3] [--forecast-days 30]``

The data, tasks and probe of ``bench_quality.py``. For each seed of the probe's folds:
the anchor (``--base``: the RFM features, or BG/NBD's two columns of the quality
table, which need ``lifetimes``), then the anchor plus one column of
``EventCountEmbedder(statistics="all")`` at a time, then the anchor plus the default
``EventCountEmbedder()``'s columns, and those alone (each a superset of the anchor but
the last: the probe could give the added columns weight 0). A lower score for
the superset, on every seed, means the probe (ridge on ``log1p`` targets, scored by a
rank correlation; logistic models scored by AUROC) does not reward information
monotonically: a richer embedding can rank users worse although it fits the targets
no worse. This bounds what "above RFM on every task" can mean for any embedding that
holds more than RFM.

``--forecast-days H`` adds the columns of the counts' ``"forecast"`` group
(``EventCountEmbedder(statistics=[..., "forecast"], forecast_days=H)``, fitted without
the task labels: gradient-boosted trees learn, from the default counts taken ``H`` days
before the reference time, each user's events, event days and numeric sums in the last
``H`` days, and predict them from the counts at the reference time): alone, with the
anchor and with the counts.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from bench_quality import DATASETS, bgnbd, load_tasks, score

from sklearn_ubp import EventCountEmbedder
from sklearn_ubp._counts import DEFAULT_STATISTICS
from sklearn_ubp.evaluation import rfm_features

EXTRA = ("mean_gap_any", "count_any_30d", "active_weeks_any", "max_any_amount")


def forecast(X: pd.DataFrame, X_fit: pd.DataFrame, days: int) -> np.ndarray:
    """The columns of the counts' ``"forecast"`` group: fitted on ``X_fit``, for ``X``."""
    stats = [*DEFAULT_STATISTICS, "forecast"]
    emb = EventCountEmbedder(statistics=stats, forecast_days=days).set_output(transform="pandas")
    return emb.fit(X_fit).transform(X).filter(like="forecast_").to_numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=list(DATASETS), default="cdnow")
    parser.add_argument("--base", choices=["RFM", "BG/NBD"], default="RFM")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--forecast-days", type=int, default=None)
    args = parser.parse_args()
    args.synthetic_users, args.fit_users, args.max_users, args.seed = 20_000, 20_000, None, 0
    ds, tasks, X_fit = load_tasks(args.dataset, args)
    if args.base == "RFM":
        base = rfm_features(tasks.X, reference_time=ds["cut"], **ds["rfm"]).to_numpy()
    else:
        base = bgnbd(tasks.X, ds["cut"])
    every = EventCountEmbedder(statistics="all").set_output(transform="pandas")
    every = every.fit(X_fit).transform(tasks.X)
    counts = EventCountEmbedder().fit(X_fit).transform(tasks.X)
    rows = {args.base: base}
    rows.update(
        {f"{args.base} + {c}": np.column_stack([base, every[c]]) for c in EXTRA if c in every}
    )
    rows[f"{args.base} + counts ({counts.shape[1]})"] = np.column_stack([base, counts])
    rows[f"counts ({counts.shape[1]})"] = counts
    if args.forecast_days:
        fc = forecast(tasks.X, X_fit, args.forecast_days)
        rows[f"forecast ({fc.shape[1]})"] = fc
        rows[f"{args.base} + forecast"] = np.column_stack([base, fc])
        rows["counts + forecast"] = np.column_stack([counts, fc])
    print(f"## {args.dataset}: {len(tasks.X):,} users; cells: score per probe seed")
    for name, emb in rows.items():
        tables = [score(emb, tasks, seed, args.folds) for seed in args.seeds]
        cells = {
            t: " ".join(f"{tab.loc[t, 'value']:.4f}" for tab in tables) for t in tables[0].index
        }
        print(f"  {name:<26} " + " | ".join(f"{t} {v}" for t, v in cells.items()), flush=True)


if __name__ == "__main__":
    main()
