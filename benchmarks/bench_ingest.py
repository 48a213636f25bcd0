"""Throughput and memory of ``group_events`` against a pandas ``groupby().agg(list)``.

Run: ``python benchmarks/bench_ingest.py [--events 10000000] [--users 1000000]``

Targets (issue "Foundation"), on a 2-core machine: >= 3M events/s, >= 50x the pandas
baseline (events/s of ``sort_values().groupby().agg(list)`` on a 1M-event subset of whole users,
timed in the same run), peak memory growth <= 3x the input arrays.
"""

from __future__ import annotations

import argparse
import gc

import numpy as np
import pandas as pd

from sklearn_ubp import check_event_frame, group_events

from _common import gib, measure

EVENT_TYPES = ["page_visit", "search_query", "add_to_cart", "remove_from_cart", "product_buy"]
TYPE_P = [0.89, 0.058, 0.032, 0.01, 0.01]


def make_long(n_events: int, n_users: int, seed: int = 0) -> pd.DataFrame:
    """A long table in arbitrary order: heavy-tailed users, 139 days of timestamps."""
    rng = np.random.default_rng(seed)
    weights = rng.pareto(1.2, n_users) + 0.05
    users = rng.choice(n_users, size=n_events, p=weights / weights.sum()).astype(np.int64)
    users[rng.permutation(n_events)[:n_users]] = np.arange(n_users)  # every user has an event
    start = np.datetime64("2022-06-23T00:00:00", "us")
    seconds = rng.integers(0, 139 * 86400, n_events)
    types = rng.choice(len(EVENT_TYPES), size=n_events, p=TYPE_P)
    sku = rng.integers(0, 1_260_000, n_events)
    url = rng.integers(0, 12_650_000, n_events)
    return pd.DataFrame(
        {
            "client_id": users * 7 + 1000,  # ids are not 0..n-1
            "timestamp": start + seconds.astype("timedelta64[s]"),
            "event_type": pd.Categorical.from_codes(types, EVENT_TYPES),
            "sku": sku,
            "url": url,
        }
    )


def input_bytes(df: pd.DataFrame) -> int:
    return int(df.memory_usage(index=False, deep=True).sum())


def pandas_baseline(df: pd.DataFrame) -> pd.DataFrame:
    ordered = df.sort_values(["client_id", "timestamp"], kind="stable")
    return ordered.groupby("client_id", observed=True).agg(list)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--baseline-events", type=int, default=1_000_000)
    args = parser.parse_args()

    df = make_long(args.events, args.users)
    size = input_bytes(df)
    gc.collect()
    frame, seconds, peak = measure(lambda: group_events(df))
    check_event_frame(frame)
    assert len(frame) == args.users and frame["sku"].list.len().sum() == args.events
    rate = args.events / seconds
    del frame
    gc.collect()

    # The subset keeps whole users (about 10 events each), as a real log would.
    keep = df["client_id"].to_numpy() < np.quantile(df["client_id"], args.baseline_events / len(df))
    sub = df[keep].reset_index(drop=True)
    _, base_seconds, _ = measure(lambda: pandas_baseline(sub))
    base_rate = len(sub) / base_seconds
    _, sub_seconds, _ = measure(lambda: group_events(sub))

    rows = [
        ("events", f"{args.events:,}"),
        ("users", f"{args.users:,}"),
        ("input arrays", gib(size)),
        ("group_events time", f"{seconds:.2f} s"),
        ("group_events events/s", f"{rate / 1e6:.2f} M/s  (target >= 3 M/s)"),
        (
            "group_events peak memory growth",
            f"{gib(peak)} = {peak / size:.2f}x input (target <= 3x)",
        ),
        (
            f"pandas groupby.agg(list), {len(sub):,} events",
            f"{base_seconds:.2f} s = {base_rate / 1e6:.3f} M/s",
        ),
        (
            f"group_events, same {len(sub):,} events",
            f"{sub_seconds:.2f} s = {len(sub) / sub_seconds / 1e6:.2f} M/s",
        ),
        ("speed-up vs pandas (events/s)", f"{rate / base_rate:.0f}x  (target >= 50x)"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
