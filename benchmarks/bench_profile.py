"""UniversalProfile against each of its members, the baselines and the oracle.

Run: ``python benchmarks/bench_profile.py [--users 50000] [--seed 0] [--C auto]
[--set gru__max_epochs=3] [--save profile.joblib]``

On ``make_events(n_users=--users)``: ``UniversalProfile(random_state=seed)`` (the
default members, adapted to the fields present; ``--set`` changes profile or member
parameters through ``set_params``) is fitted on the input period of all users and
embeds the relevant clients, whose tasks are scored with ``protocol="fast"`` and
``--C`` (default ``auto``, as the demo: the L2 strength chosen per task and per row on
the training users only; a number fixes it for every row). Rows:
random vectors, the official-baseline counts, six RFM features (as in the demo), each fitted member alone (its own
output, and its post-processed block of the profile), the profile, and the oracle
(the generator's true probabilities). Wall times: each member's fit (within the
profile's fit), its transform of the relevant clients, the profile's fit, and the
profile's chunked transform of the relevant clients and of all users.

Targets (issue "UniversalProfile"): the profile >= every single member on the total,
and its lift over random >= 0.8 of the oracle's.

The oracle, as the evaluation issue defines it, is "the score of the generator's true
traits (and of its true purchase probabilities, where it can compute them)". Three
rows show it:

* ``oracle: true traits`` -- the generator's latent traits as the embedding
  (:func:`~sklearn_ubp.evaluation.oracle_embeddings`), through the same protocol;
* ``true probabilities as embedding`` -- the logits of the true purchase probabilities
  of every task's targets, in both target windows, as the embedding, through the same
  protocol: about the best any embedding can do through this linear model trained on
  the window-1 labels of half the relevant clients;
* ``oracle: true probabilities`` -- :func:`~sklearn_ubp.evaluation.oracle_scores`, the
  true probabilities scored directly (no model trained): the ceiling of the tasks.

The lift ratio is printed against the first and the last; ``--no-ceilings`` leaves out
the first two rows.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import time
import warnings

import joblib
import numpy as np
import pandas as pd

from sklearn_ubp import EventView, UniversalProfile
from sklearn_ubp._cli._parser import _C_value  # the CLI's --C: a positive number or auto
from sklearn_ubp.datasets import purchase_probabilities
from sklearn_ubp.evaluation import (
    evaluate,
    official_baseline,
    oracle_embeddings,
    oracle_scores,
    random_embeddings,
    rfm_features,
)
from sklearn_ubp.evaluation._baselines import TASK_FIELDS

from _common import gib, measure, parse_sets
from bench_classic import load_split


class _Tee(io.TextIOBase):
    """Write to stdout and keep a copy (the profile's verbose report)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        sys.__stdout__.write(text)
        sys.__stdout__.flush()
        self.lines.append(text)
        return len(text)


def scores_of(emb: np.ndarray, tasks, seed: int, C: float | str) -> pd.Series:
    table = evaluate(emb, tasks, protocol="fast", C=C, random_state=seed)
    return table[table["metric"] == "score"].set_index("task")["value"]


def true_probability_embedding(data, tasks) -> np.ndarray:
    """Logits of the true purchase probabilities (any purchase, and every target of each
    propensity task) in both target windows, for the relevant clients."""
    users = tasks.X.index
    parts = []
    for start, stop in tasks.windows:
        parts.append(purchase_probabilities(data, start, stop, users=users)[:, None])
        for name, task in tasks.tasks.items():
            if task.kind != "binary":
                parts.append(
                    purchase_probabilities(
                        data, start, stop, by=TASK_FIELDS[name], targets=task.targets, users=users
                    )
                )
    p = np.clip(np.hstack(parts), 1e-6, 1 - 1e-6)
    return (np.log(p) - np.log1p(-p)).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--C", type=_C_value, default="auto", help="the fast protocol's C: a number or auto"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="profile set_params"
    )
    parser.add_argument("--save", metavar="PATH", help="joblib.dump the fitted profile here")
    parser.add_argument(
        "--no-ceilings",
        dest="ceilings",
        action="store_false",
        help="leave out the 'true traits' and 'true probabilities' rows",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # e.g. SVD: fewer items than factors

    data, tasks, train = load_split(args.users, args.seed)
    print(
        f"make_events(n_users={args.users:,}): {EventView(data.events).n_events:,} events; "
        f"tasks on {len(tasks.X):,} relevant clients; the profile is fitted on the input "
        f"period of all {len(train):,} users"
    )
    profile = UniversalProfile(random_state=args.seed, verbose=True)
    if args.set:
        profile.set_params(**parse_sets(args.set))
    print(f"{profile!r}\n")

    tee = _Tee()
    stdout, sys.stdout = sys.stdout, tee
    try:
        _, fit_s, fit_mem = measure(lambda: profile.fit(train))
    finally:
        sys.stdout = stdout
    if args.save:
        joblib.dump(profile, args.save)
    fit_times = dict(re.findall(r"\) (\w+): fit in ([\d.]+) s", "".join(tee.lines)))
    profile.set_params(verbose=False)
    emb, tr_s, tr_mem = measure(lambda: profile.transform(tasks.X))
    _, all_s, all_mem = measure(lambda: profile.transform(train))

    embeddings: dict[str, np.ndarray] = {
        "random": random_embeddings(tasks.X, random_state=args.seed),
        "baseline counts": official_baseline(tasks.X).to_numpy(),
        # the hand-made anchor, as in the demo: recency, frequency, monetary, tenure
        "RFM": rfm_features(
            tasks.X, reference_time=tasks.cut, amount="price", item="sku"
        ).to_numpy(),
    }
    timing = []
    for name, member in profile.transformers_:
        raw, seconds, _ = measure(lambda member=member: member.transform(tasks.X))
        embeddings[f"{name} alone"] = raw
        block = emb[:, profile.output_indices_[name]]
        embeddings[f"{name} post-processed"] = block
        timing.append((name, raw.shape[1], block.shape[1], fit_times.get(name, "?"), seconds))
    embeddings["UniversalProfile"] = emb
    if args.ceilings:
        embeddings["oracle: true traits"] = oracle_embeddings(data.traits, tasks.X.index)
        embeddings["true probabilities as embedding"] = true_probability_embedding(data, tasks)

    print(f"\n{'member':<14} {'dims':>5} {'in profile':>10} {'fit':>9} {'transform':>10}")
    for name, dims, block_dims, fit, seconds in timing:
        print(f"{name:<14} {dims:>5} {block_dims:>10} {fit:>8}s {seconds:>9.1f}s")
    for name, reason in profile.skipped_members_.items():
        print(f"{name:<14} left out: {reason}")
    print(
        f"\nUniversalProfile: {emb.shape[1]} dims; fit {fit_s:.1f} s (peak memory growth "
        f"{gib(fit_mem)}); transform of the {len(tasks.X):,} relevant clients {tr_s:.1f} s "
        f"({gib(tr_mem)}), of all {len(train):,} users {all_s:.1f} s ({gib(all_mem)}; "
        f"chunk_size={profile.chunk_size})"
    )

    table = {}
    for name, values in embeddings.items():
        t0 = time.perf_counter()
        table[name] = scores_of(values, tasks, args.seed, args.C)
        print(f"  scored {name} ({values.shape[1]} dims) in {time.perf_counter() - t0:.1f} s")
    oracle = oracle_scores(data, tasks, random_state=args.seed)
    table["oracle: true probabilities"] = oracle[oracle["metric"] == "score"].set_index("task")[
        "value"
    ]
    result = pd.DataFrame(table).T
    print(f'\n## protocol="fast", C={args.C!r} scores (rows: embeddings)')
    print(result.round(4).to_string())

    total = result["total"]
    members = [r for r in result.index if r.endswith((" alone", " post-processed"))]
    best = total[members].idxmax()
    ok_members = bool(total["UniversalProfile"] >= total[members].max())
    print(
        f"\nUniversalProfile >= every single member on the total: {ok_members} "
        f"({total['UniversalProfile']:.4f} vs best member {best!r} {total[best]:.4f})"
    )

    print(
        f"UniversalProfile >= RFM on the total: {bool(total['UniversalProfile'] >= total['RFM'])} "
        f"({total['UniversalProfile']:.4f} vs {total['RFM']:.4f}; per task, profile - RFM: "
        + ", ".join(
            f"{t} {result.loc['UniversalProfile', t] - result.loc['RFM', t]:+.4f}"
            for t in result.columns
            if t != "total"
        )
        + ")"
    )

    def lift(row: str, over: str) -> float:
        return (total[row] - total["random"]) / (total[over] - total["random"])

    for oracle_row in ("oracle: true traits", "oracle: true probabilities"):
        if oracle_row in total:
            ratio = lift("UniversalProfile", oracle_row)
            print(
                f"UniversalProfile's lift over random >= 0.8 of the {oracle_row!r} lift: "
                f"{bool(ratio >= 0.8)} (ratio {ratio:.3f}: random {total['random']:.4f}, "
                f"profile {total['UniversalProfile']:.4f}, oracle {total[oracle_row]:.4f})"
            )
    if "true probabilities as embedding" in total:
        reach = lift("true probabilities as embedding", "oracle: true probabilities")
        print(
            f"The true probabilities as an embedding, through the same protocol, reach "
            f"{reach:.3f} of the 'oracle: true probabilities' lift: the most any embedding "
            f"can be expected to reach here; the profile reaches "
            f"{lift('UniversalProfile', 'oracle: true probabilities') / reach:.2f} of that"
        )


if __name__ == "__main__":
    main()
