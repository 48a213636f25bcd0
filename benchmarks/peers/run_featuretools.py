"""featuretools peer: deep feature synthesis per customer, run in its own venv.

Run (inside ``benchmarks/peers/.venv-featuretools``, built by ``make_envs.sh``)::

    python run_featuretools.py --events long.parquet --cut 2001-02-01 \
        --item sku --categorical event_type sku category --out emb.parquet --meta meta.json

``long.parquet`` has one row per event: ``user``, ``timestamp`` and any scalar columns
(categoricals as integers or strings, numerics as floats), the events before the cut
only (the bench exports it). The entity set is (customers, events, items) when
``--item`` names a column, else (customers, events); DFS uses the default aggregation
and transform primitives, ``max_depth=2`` and ``cutoff_time = --cut``. The output is
float32, one row per user (index ``user``), NaN/inf replaced by 0 (DFS yields NaN for
e.g. the std of one event); ``meta.json`` holds the wall time, the peak RSS and the
number of features.
"""

from __future__ import annotations

import time

import featuretools as ft
import numpy as np
import pandas as pd

import _runner


def entity_set(events: pd.DataFrame, item: str | None, categorical: list[str]) -> ft.EntitySet:
    events = events.reset_index(drop=True)
    events.insert(0, "event_id", np.arange(len(events)))
    es = ft.EntitySet(id="log")
    # integer codes (sku, category) are categories, not numbers to sum
    types = {c: "Categorical" for c in categorical}
    es.add_dataframe(dataframe_name="events", dataframe=events, index="event_id",
                     time_index="timestamp", logical_types=types)  # fmt: skip
    es.normalize_dataframe("events", "customers", index="user")
    if item is not None:
        es.normalize_dataframe("events", "items", index=item)
    return es


def features(
    events: pd.DataFrame, cut: pd.Timestamp, item: str | None, categorical: list[str]
) -> pd.DataFrame:
    es = entity_set(events, item, categorical)
    users = pd.DataFrame({"user": es["customers"]["user"].to_numpy(), "time": cut})
    matrix, defs = ft.dfs(entityset=es, target_dataframe_name="customers", max_depth=2,
                          cutoff_time=users, cutoff_time_in_index=False)  # fmt: skip
    # categorical outputs (e.g. MODE of a code) become one-hot columns, as a user would do
    matrix, _ = ft.encode_features(matrix, defs)
    numeric = matrix.apply(pd.to_numeric, errors="coerce").astype("float64")
    values = np.nan_to_num(numeric.to_numpy(), nan=0.0, posinf=0.0, neginf=0.0)
    return pd.DataFrame(values.astype(np.float32), index=matrix.index.rename("user"),
                        columns=[str(c) for c in matrix.columns])  # fmt: skip


def main() -> None:
    args = _runner.parser(__doc__).parse_args()
    events = _runner.read_events(args)
    t0 = time.perf_counter()
    emb = features(events, pd.Timestamp(args.cut), args.item, args.categorical)
    _runner.write(emb, args, peer="featuretools", version=ft.__version__,
                  fit_transform_seconds=time.perf_counter() - t0)  # fmt: skip


if __name__ == "__main__":
    main()
