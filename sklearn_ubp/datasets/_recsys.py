"""Reading (and writing) the RecSys Challenge 2025 folder layout.

Layout (``DATA_DIR``)::

    product_buy.parquet        client_id, timestamp, sku
    add_to_cart.parquet        client_id, timestamp, sku
    remove_from_cart.parquet   client_id, timestamp, sku
    page_visit.parquet         client_id, timestamp, url
    search_query.parquet       client_id, timestamp, query   ("[12 0 255 ...]", 16 codes)
    product_properties.parquet sku, category, price, name    (name: 16 codes as query)
    input/relevant_clients.npy                    (optional)
    target/propensity_category.npy, target/propensity_sku.npy,
    target/popularity_propensity_category.npy, target/popularity_propensity_sku.npy,
    target/active_clients.npy                     (all optional)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.utils import Bunch

from .._arrow import CODE_LENGTH, as_arrow_table, normalize_type, parse_codes
from .._group import group_events

__all__ = ["EVENT_TABLES", "build_event_frame", "load_recsys2025", "write_recsys2025"]

#: The five event tables and the field each one carries besides client_id and timestamp.
EVENT_TABLES: dict[str, str] = {
    "product_buy": "sku",
    "add_to_cart": "sku",
    "remove_from_cart": "sku",
    "page_visit": "url",
    "search_query": "query",
}
PRODUCT_FIELDS = ("category", "price", "name")
TARGET_FILES = (
    "propensity_category",
    "propensity_sku",
    "popularity_propensity_category",
    "popularity_propensity_sku",
    "active_clients",
)


def _check_products(products: Any) -> pa.Table:
    table = as_arrow_table(products, what="products")
    missing = [c for c in ("sku", *PRODUCT_FIELDS) if c not in table.column_names]
    if missing:
        raise ValueError(
            f"products: missing column(s) {missing}; expected sku, category, price, name; "
            f"got {table.column_names}."
        )
    sku = normalize_type(table.column("sku"))
    if sku.null_count:
        raise ValueError("products: column 'sku' has missing values.")
    if len(pd.unique(sku.to_numpy(zero_copy_only=False))) != len(sku):
        raise ValueError("products: column 'sku' has duplicates; each sku must appear once.")
    return pa.table(
        {
            "sku": sku,
            "category": normalize_type(table.column("category")),
            "price": normalize_type(table.column("price")),
            "name": parse_codes(normalize_type(table.column("name")), "products['name']"),
        }
    )


def _join_products(table: pa.Table, products: pa.Table, what: str) -> pa.Table:
    """Add category, price and name of each event's sku (null for unknown skus)."""
    sku = normalize_type(table.column("sku"))
    position = pd.Index(products.column("sku").to_numpy(zero_copy_only=False)).get_indexer(
        sku.to_numpy(zero_copy_only=False)
    )
    take = pa.array(position, mask=position < 0)
    for field in PRODUCT_FIELDS:
        table = table.append_column(field, products.column(field).take(take))
    return table


def build_event_frame(
    tables: Mapping[str, Any],
    products: Any = None,
    *,
    users: Any = None,
    user: str = "client_id",
) -> pd.DataFrame:
    """Event frame from per-event-type tables, joined with product properties on sku.

    Parameters
    ----------
    tables : dict of str to DataFrame or pyarrow Table
        Event tables keyed by event type (``"product_buy"``, ``"page_visit"``, ...),
        each with ``client_id`` and ``timestamp`` columns and its own fields.
    products : DataFrame or pyarrow Table, optional
        ``sku, category, price, name``; tables with a ``sku`` column get the
        ``category``, ``price`` and ``name`` of each event's product.
    users : array-like, optional
        Users to include even without events (empty lists).
    user : str, default="client_id"
        The user id column.

    Returns
    -------
    frame : pandas.DataFrame
        Event frame with columns ``timestamp, event_type`` and the fields present
        (``sku, url, query, category, price, name`` for the challenge data).
    """
    arrow = {}
    product_table = None if products is None else _check_products(products)
    for key, table in tables.items():
        table = as_arrow_table(table, what=f"tables[{key!r}]")
        if product_table is not None and "sku" in table.column_names:
            table = _join_products(table, product_table, key)
        arrow[key] = table
    return group_events(arrow, user=user, users=users)


def _read_table(path: Path, name: str, columns: Sequence[str]) -> pa.Table:
    file = path / f"{name}.parquet"
    if not file.exists():
        raise FileNotFoundError(f"{file} not found; expected the RecSys 2025 layout under {path}.")
    table = pq.read_table(file)
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise ValueError(f"{file.name}: missing column(s) {missing}; it has {table.column_names}.")
    return table.select(list(columns))


def load_recsys2025(
    path: str | os.PathLike,
    *,
    clients: str = "all",
    event_types: Sequence[str] | None = None,
    max_clients: int | None = None,
) -> Bunch:
    """Load the RecSys Challenge 2025 data folder into an event frame.

    Parameters
    ----------
    path : str or path-like
        The folder holding the five event parquet files, ``product_properties.parquet``
        and, optionally, ``input/relevant_clients.npy`` and ``target/*.npy``.
    clients : {"all", "relevant"}, default="all"
        ``"all"``: every client with events plus the relevant clients without events.
        ``"relevant"``: only the relevant clients (requires ``relevant_clients.npy``).
        Relevant clients without events are rows of empty lists.
    event_types : sequence of str, optional
        Subset of the five event tables to read (default all).
    max_clients : int, optional
        Keep only the first ``max_clients`` clients (in id order) for quick runs.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``events`` (the event frame), ``products`` (DataFrame of sku, category, price,
        name), ``relevant_clients`` (int64 array or None), ``targets`` (dict of the
        ``target/*.npy`` arrays found) and ``path``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile
    >>> from sklearn_ubp.datasets import load_recsys2025, write_recsys2025
    >>> tmp = tempfile.mkdtemp()
    >>> ts = pd.to_datetime(["2022-06-23 10:00:00"])
    >>> tables = {"product_buy": pd.DataFrame({"client_id": [5], "timestamp": ts, "sku": [1]})}
    >>> products = pd.DataFrame({"sku": [1], "category": [3], "price": [42],
    ...                          "name": [np.arange(16, dtype=np.uint8)]})
    >>> write_recsys2025(tmp, tables, products, relevant_clients=[5, 6])
    >>> data = load_recsys2025(tmp, event_types=["product_buy"])
    >>> data.events.index.tolist(), data.events["category"].tolist()
    ([5, 6], [[3], []])
    """
    path = Path(path)
    names = _check_load_options(path, clients, event_types)
    relevant = _relevant_clients(path, clients)
    keep = _kept_clients(path, names, relevant, clients, max_clients)
    tables = {}
    for name in names:
        table = _read_table(path, name, ["client_id", "timestamp", EVENT_TABLES[name]])
        if keep is not None:
            ids = table.column("client_id").to_numpy()
            table = table.filter(pa.array(np.isin(ids, keep)))
        tables[name] = table
    products = _read_table(path, "product_properties", ["sku", *PRODUCT_FIELDS])
    extra = keep if keep is not None else relevant
    events = build_event_frame(tables, products, users=extra)
    targets = {}
    for name in TARGET_FILES:
        file = path / "target" / f"{name}.npy"
        if file.exists():
            targets[name] = np.load(file)
    product_frame = _check_products(products).to_pandas(types_mapper=_arrow_lists)
    return Bunch(
        events=events,
        products=product_frame,
        relevant_clients=relevant,
        targets=targets,
        path=str(path),
    )


def _check_load_options(path: Path, clients: str, event_types: Sequence[str] | None) -> list[str]:
    """The event tables to read, after checking the folder and ``clients``."""
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a directory; expected the RecSys 2025 data folder.")
    if clients not in ("all", "relevant"):
        raise ValueError(f"clients must be 'all' or 'relevant'; got {clients!r}.")
    names = list(EVENT_TABLES) if event_types is None else list(event_types)
    unknown = [n for n in names if n not in EVENT_TABLES]
    if unknown:
        raise ValueError(f"unknown event type(s) {unknown}; choose from {list(EVENT_TABLES)}.")
    return names


def _relevant_clients(path: Path, clients: str) -> np.ndarray | None:
    """``input/relevant_clients.npy`` as int64, or ``None`` when the file is absent."""
    relevant_file = path / "input" / "relevant_clients.npy"
    if relevant_file.exists():
        return np.load(relevant_file).astype(np.int64)
    if clients == "relevant":
        raise FileNotFoundError(f"clients='relevant' needs {relevant_file}.")
    return None


def _kept_clients(
    path: Path,
    names: list[str],
    relevant: np.ndarray | None,
    clients: str,
    max_clients: int | None,
) -> np.ndarray | None:
    """The sorted client ids to keep (``None``: every client)."""
    keep = None
    if clients == "relevant":
        keep = np.unique(relevant)
    if max_clients is not None:
        if keep is None:
            ids = [
                _read_table(path, n, ["client_id"]).column("client_id").to_numpy() for n in names
            ]
            keep = np.unique(np.concatenate(ids + ([relevant] if relevant is not None else [])))
        keep = keep[:max_clients]
    return keep


def _arrow_lists(t: pa.DataType) -> Any:
    return pd.ArrowDtype(t) if pa.types.is_fixed_size_list(t) else None


def _codes_to_strings(codes: pa.Array, name: str) -> pa.Array:
    arr = parse_codes(codes, name)
    matrix = arr.values.to_numpy(zero_copy_only=False).reshape(-1, CODE_LENGTH)
    text = ["[" + " ".join(map(str, row)) + "]" for row in matrix.tolist()]
    return pa.array(text, mask=np.asarray(arr.is_null()))


def write_recsys2025(
    path: str | os.PathLike,
    tables: Mapping[str, Any],
    products: Any,
    *,
    relevant_clients: Any = None,
    targets: Mapping[str, np.ndarray] | None = None,
    string_timestamps: bool = True,
) -> None:
    """Write tables in the official RecSys 2025 layout (the inverse of :func:`load_recsys2025`).

    Codes (``query``, ``name``) are written as strings like ``"[12 0 255 ...]"`` and,
    by default, timestamps as ``"YYYY-MM-DD HH:MM:SS"`` strings, as in the release.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        if name not in EVENT_TABLES:
            raise ValueError(f"unknown event table {name!r}; expected one of {list(EVENT_TABLES)}.")
        table = as_arrow_table(table, what=f"tables[{name!r}]")
        field = EVENT_TABLES[name]
        ts = normalize_type(table.column("timestamp"))
        if string_timestamps and not pa.types.is_string(ts.type):
            ts = pa.array(pd.Series(ts.to_pandas()).dt.strftime("%Y-%m-%d %H:%M:%S"))
        values = normalize_type(table.column(field))
        if field == "query":
            values = _codes_to_strings(values, f"{name}['query']")
        out = pa.table({"client_id": table.column("client_id"), "timestamp": ts, field: values})
        pq.write_table(out, path / f"{name}.parquet")
    prod = as_arrow_table(products, what="products")
    prod = pa.table(
        {
            "sku": prod.column("sku"),
            "category": prod.column("category"),
            "price": prod.column("price"),
            "name": _codes_to_strings(normalize_type(prod.column("name")), "products['name']"),
        }
    )
    pq.write_table(prod, path / "product_properties.parquet")
    if relevant_clients is not None:
        (path / "input").mkdir(exist_ok=True)
        np.save(
            path / "input" / "relevant_clients.npy", np.asarray(relevant_clients, dtype=np.int64)
        )
    if targets:
        (path / "target").mkdir(exist_ok=True)
        for name, values in targets.items():
            np.save(path / "target" / f"{name}.npy", np.asarray(values))
