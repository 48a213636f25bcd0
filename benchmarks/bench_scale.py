"""End to end at scale: ingest, fit on a sample, streaming and Dask transforms of everyone.

Run: ``python benchmarks/bench_scale.py [--users 1000000] [--fit-users 100000]
[--bucket-events 1000000 | --buckets K] [--skip-dask] [--set gru__max_epochs=1]``;
``--users 250000 1000000`` runs the transforms at several sizes (the model is fitted
once): with buckets of a fixed number of events (``--bucket-events``, the default; the
number of buckets grows with the log), the streaming transform's peak memory stays
flat as the log grows.

For each size ``N``, a synthetic log in the RecSys 2025 layout (one row per event:
``client_id, timestamp, event_type, sku, category, price, url``; about 10 events per
user, heavy-tailed; time-ordered, so each user's events are spread over the files) is
written as a parquet folder. Then each stage runs in a fresh subprocess, whose peak
memory is the peak of the summed RSS of its process tree (the stage and, for Dask,
the worker processes; each interpreter with torch loaded counts about 0.3 GiB),
sampled by this process every 20 ms:

a. ``ingest``: :func:`sklearn_ubp.io.read_events` of the whole folder into one event
   frame;
b. ``fit``: ``UniversalProfile(random_state=0)`` (counts, SVDs, GRU; ``--set``
   changes its parameters) on ``--fit-users`` users read with ``users=``;
c. ``stream``: ``read_events(folder, buckets=k)``, each bucket transformed and appended
   to one parquet file (:class:`pyarrow.parquet.ParquetWriter`), in one process;
d. ``dask``: :func:`sklearn_ubp.dask.transform` of ``dd.read_parquet(folder)`` on a
   ``distributed.LocalCluster`` of 2 single-threaded worker processes (warmed up:
   sklearn-ubp and torch imported before the clock starts), partitions of about
   ``2 * --bucket-events`` events, written with ``to_parquet``; its rows are checked
   equal to the streaming ones (``--no-check`` skips that).

Wall times are those of the stage's work (after the imports); events/s count the
log's events. The last table extrapolates the measured per-event costs to the full
RecSys 2025 release (18.7M clients, 175.6M events).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

FULL_USERS, FULL_EVENTS = 18_700_000, 175_600_000
EVENT_TYPES = ["page_visit", "search_query", "add_to_cart", "remove_from_cart", "product_buy"]
TYPE_P = [0.89, 0.058, 0.032, 0.01, 0.01]
START = np.datetime64("2022-06-23T00:00:00", "us")


def make_log(n_users: int, events_per_user: float = 10.0, seed: int = 0) -> pa.Table:
    """A long log in time order, vectorised: heavy-tailed users, every user active."""
    rng = np.random.default_rng(seed)
    n_events = int(n_users * events_per_user)
    weights = rng.pareto(1.5, n_users) + 0.1
    users = rng.choice(n_users, size=n_events, p=weights / weights.sum())
    users[rng.permutation(n_events)[:n_users]] = np.arange(n_users)  # everyone has one
    seconds = np.sort(rng.integers(0, 139 * 86400, n_events))  # the log is time-ordered
    types = rng.choice(len(EVENT_TYPES), size=n_events, p=TYPE_P).astype(np.int8)
    n_skus = max(1000, int(30 * np.sqrt(n_users)))
    sku_category = rng.integers(0, max(20, int(1.2 * np.sqrt(n_users))), n_skus)
    sku_price = rng.integers(0, 100, n_skus)
    sku = (rng.zipf(1.3, n_events) - 1) % n_skus
    url = (rng.zipf(1.2, n_events) - 1) % (4 * n_skus)
    no_sku = types <= 1  # page visits and searches have no sku
    return pa.table(
        {
            "client_id": pa.array(users.astype(np.int64) * 7 + 1000),
            "timestamp": pa.array(START + seconds.astype("timedelta64[s]")),
            "event_type": pa.DictionaryArray.from_arrays(pa.array(types), EVENT_TYPES),
            "sku": pa.array(sku, mask=no_sku),
            "category": pa.array(sku_category[sku], mask=no_sku),
            "price": pa.array(sku_price[sku], mask=no_sku),
            "url": pa.array(url, mask=types != 0),
        }
    )


def write_log(n_users: int, folder: Path, n_files: int = 8) -> tuple[int, int]:
    """Write the log of ``n_users`` as ``n_files`` parquet files; (users, events)."""
    table = make_log(n_users)
    folder.mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, table.num_rows, n_files + 1).astype(int)
    for i in range(n_files):
        part = table.slice(bounds[i], bounds[i + 1] - bounds[i])
        pq.write_table(part, folder / f"part-{i:03d}.parquet", row_group_size=1 << 20)
    return n_users, table.num_rows


def fit_ids(n_users: int, fit_users: int) -> np.ndarray:
    """The ids of the fit sample (a seeded random subset of the log's users)."""
    rng = np.random.default_rng(1)
    chosen = np.sort(rng.choice(n_users, size=min(fit_users, n_users), replace=False))
    return chosen.astype(np.int64) * 7 + 1000


# ------------------------------------------------------------------ stages


def stage_ingest(args: argparse.Namespace) -> dict:
    from sklearn_ubp.io import read_events

    t0 = time.perf_counter()
    frame = read_events(args.data)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "users": len(frame), "events": _events(frame)}


def stage_fit(args: argparse.Namespace) -> dict:
    import joblib

    from sklearn_ubp import UniversalProfile
    from sklearn_ubp.io import read_events

    t0 = time.perf_counter()
    frame = read_events(args.data, users=fit_ids(args.n_users, args.fit_users))
    read = time.perf_counter() - t0
    profile = UniversalProfile(random_state=0).set_params(**dict(args.set))
    profile.fit(frame)
    seconds = time.perf_counter() - t0
    joblib.dump(profile, args.model)
    width = len(profile.get_feature_names_out())
    return {"seconds": seconds, "read": read, "users": len(frame), "events": _events(frame),
            "width": width}  # fmt: skip


def stage_stream(args: argparse.Namespace) -> dict:
    import joblib

    from sklearn_ubp.io import read_events

    model = joblib.load(args.model)
    names = [str(n) for n in model.get_feature_names_out()]
    schema = pa.schema([("client_id", pa.int64())] + [(n, pa.float32()) for n in names])
    t0 = time.perf_counter()
    users = events = 0
    with pq.ParquetWriter(args.out, schema) as writer:
        for frame in read_events(args.data, buckets=args.n_buckets):
            values = model.transform(frame)
            columns = [pa.array(frame.index.to_numpy(np.int64))]
            columns += [pa.array(values[:, j]) for j in range(values.shape[1])]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
            users, events = users + len(frame), events + _events(frame)
    return {"seconds": time.perf_counter() - t0, "users": users, "events": events}


def stage_dask(args: argparse.Namespace) -> dict:
    import dask.dataframe as dd
    import joblib
    from distributed import Client, LocalCluster

    from sklearn_ubp.dask import transform

    model = joblib.load(args.model)
    cluster = LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    n_events = ds.dataset(args.data).count_rows()  # from the files' metadata
    with cluster, Client(cluster) as client:
        client.run(importlib.import_module, "sklearn_ubp._gru")  # imports torch too
        t_start = time.perf_counter()
        events = dd.read_parquet(args.data)
        per_partition = 2 * args.bucket_events
        npartitions = args.npartitions or max(2 * args.workers, n_events // per_partition)
        embeddings = transform(model, events, npartitions=npartitions)
        embeddings.to_parquet(args.out)
        seconds = time.perf_counter() - t_start
    users = pq.ParquetDataset(args.out).read(columns=["client_id"]).num_rows
    return {"seconds": seconds, "users": users, "events": n_events, "partitions": npartitions}


def _events(frame) -> int:
    return int(frame["timestamp"].list.len().sum())


STAGES = {"ingest": stage_ingest, "fit": stage_fit, "stream": stage_stream, "dask": stage_dask}


# ------------------------------------------------------------------ driver


def _tree_rss(proc) -> int:
    """Summed RSS of ``proc`` and its descendants (those that still exist)."""
    import psutil

    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def run_stage(name: str, args: argparse.Namespace, **extra) -> dict:
    """Run one stage in a fresh subprocess; its result, with the peak RSS of its tree."""
    import psutil

    options = {**vars(args), **extra, "stage": name}
    cmd = [sys.executable, __file__, "--stage-json", json.dumps(options, default=str)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    watched = psutil.Process(proc.pid)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(watched))
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"stage {name} failed (exit {proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    return {**result, **extra, "stage": name, "peak": peak[0]}


def check_same_rows(stream: Path, dask_out: Path) -> None:
    """The Dask rows equal the streaming rows, exactly (both sorted by user)."""
    a = pq.read_table(stream).to_pandas().set_index("client_id").sort_index()
    b = pq.read_table(dask_out).to_pandas()
    b = (b.set_index("client_id") if "client_id" in b else b).sort_index()
    assert a.index.equals(b.index) and list(a.columns) == list(b.columns)
    assert np.array_equal(a.to_numpy(), b.to_numpy()), "dask rows differ from streaming rows"


def row(r: dict, n_users: int) -> str:
    rate = r["events"] / r["seconds"]
    return (
        f"{r['stage']:<10} {n_users:>10,} {r['users']:>10,} {r['events']:>12,} "
        f"{r['seconds']:>9.1f} {rate:>12,.0f} {r['peak'] / 2**30:>9.2f}"
    )


HEADER = (
    f"{'stage':<10} {'log users':>10} {'users':>10} {'events':>12} {'wall s':>9} "
    f"{'events/s':>12} {'peak GiB':>9}"
)


def run_size(n_users: int, args: argparse.Namespace, work: Path, model: Path) -> list[dict]:
    data = work / f"log-{n_users}"
    t0 = time.perf_counter()
    _, n_events = write_log(n_users, data)
    print(f"# {n_users:,} users, {n_events:,} events written in {time.perf_counter() - t0:.1f} s")
    n_buckets = args.buckets or max(1, int(np.ceil(n_events / args.bucket_events)))
    common = {"data": str(data), "model": str(model), "n_users": n_users}
    common["n_buckets"] = n_buckets
    results = [run_stage("ingest", args, **common)]
    if not model.exists():
        results.append(run_stage("fit", args, **common))
    stream_out = work / f"stream-{n_users}.parquet"
    results.append(run_stage("stream", args, **common, out=str(stream_out)))
    results[-1]["stage"] = f"stream/{n_buckets}"
    if not args.skip_dask:
        dask_out = work / f"dask-{n_users}"
        results.append(run_stage("dask", args, **common, out=str(dask_out)))
        if args.check:
            check_same_rows(stream_out, dask_out)
            print("# dask rows == streaming rows (exactly)")
    shutil.rmtree(data)
    for r in results:
        r["log_users"] = n_users
    if not args.skip_dask:
        results[-1]["stage"] = f"dask/{results[-1]['partitions']}"
    return results


def extrapolate(results: list[dict]) -> None:
    """Per-event costs of the largest size, scaled to the full release."""
    largest = max(r["log_users"] for r in results)
    print(f"\nExtrapolation to RecSys 2025 ({FULL_USERS:,} clients, {FULL_EVENTS:,} events)")
    print(f"from the {largest:,}-user run, per event (linear in the events):")
    for r in results:
        if r["log_users"] != largest or r["stage"] == "fit":
            continue
        per_event = r["seconds"] / r["events"]
        hours = per_event * FULL_EVENTS / 3600
        print(f"  {r['stage']:<10} {per_event * 1e6:8.2f} us/event -> {hours:6.2f} h")
    fit = [r for r in results if r["stage"] == "fit"]
    if fit:
        print(f"  fit        {fit[0]['seconds']:8.1f} s on {fit[0]['users']:,} users: a fixed cost, "
              "independent of the log's size")  # fmt: skip
    last = [r for r in results if r["log_users"] == largest]
    scale = FULL_EVENTS / last[0]["events"]
    per_bucket = last[0]["events"] / next(r["n_buckets"] for r in last)
    print(
        f"  memory: ingest (one whole frame) grows linearly, x{scale:.0f}; the streaming "
        f"transform stays at its measured peak with buckets of {per_bucket:,.0f} events "
        f"({int(np.ceil(FULL_EVENTS / per_bucket))} buckets), and each Dask worker with "
        "partitions of --npartitions' size; read_events rescans the (projected) files once per bucket, "
        "so the streaming I/O grows as buckets x log size, quadratically in the log"
    )


def parse_set(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--fit-users", type=int, default=100_000)
    parser.add_argument("--buckets", type=int, default=None)
    parser.add_argument("--bucket-events", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--npartitions", type=int, default=None)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--no-check", dest="check", action="store_false")
    parser.add_argument("--set", type=parse_set, action="append", default=[])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--stage-json", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage_json:  # a stage, in its own process
        stage = argparse.Namespace(**json.loads(args.stage_json))
        print(json.dumps(STAGES[stage.stage](stage)))
        return
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_scale-"))
    model = work / "model.joblib"
    model.unlink(missing_ok=True)
    results = []
    try:
        for n_users in args.users:
            results += run_size(n_users, args, work, model)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print("\n" + HEADER)
    for r in results:
        print(row(r, r["log_users"]))
    extrapolate(results)


if __name__ == "__main__":
    main()
