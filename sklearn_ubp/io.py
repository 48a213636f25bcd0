"""Reading event logs and reading / writing embeddings files.

:func:`read_events` turns a file or folder into an event frame: a RecSys Challenge
2025 folder, an event frame saved as parquet (one row per user, list columns) or a
long table (one row per event: parquet file or folder, CSV/TSV, Feather).
:func:`write_embeddings` and :func:`read_embeddings` store embeddings by user as
``.parquet``, ``.npy`` (with the ids in ``NAME.ids.npy``) or ``.csv``. The ``ubp``
command line reads and writes through these functions. :func:`dump_model` and
:func:`load_model` save and load fitted models: ``.skops`` files with skops, loaded
trusting only :data:`SKOPS_TRUSTED_TYPES` (no code of the file runs), other files
with joblib.

Errors in the files (a path that does not exist, a file that cannot be read, a missing
column) raise :class:`FileNotFoundError` or :class:`ValueError` with a message that
names the file and what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._event_files import (
    CSV_SUFFIXES,
    PARQUET_SUFFIXES,
    _must_exist,
    bucket_frames,
    bucket_of,
    is_recsys_folder,
    suffix_of,
    whole_frame,
)
from ._persistence import SKOPS_TRUSTED_TYPES, dump_model, load_model

__all__ = [
    "SKOPS_TRUSTED_TYPES",
    "bucket_of",
    "dump_model",
    "ids_path",
    "is_recsys_folder",
    "load_model",
    "read_embeddings",
    "read_events",
    "write_embeddings",
]

#: Suffix of the user-id file written next to ``embeddings.npy``.
IDS_SUFFIX = ".ids.npy"


def ids_path(embeddings_npy: str | os.PathLike[str]) -> Path:
    """Where the user ids of ``NAME.npy`` embeddings are written: ``NAME.ids.npy``.

    Parameters
    ----------
    embeddings_npy : str or path-like
        The ``.npy`` file of the embeddings.

    Returns
    -------
    path : pathlib.Path
        The ids file beside it.

    Examples
    --------
    >>> from sklearn_ubp.io import ids_path
    >>> ids_path("out/embeddings.npy").as_posix()
    'out/embeddings.ids.npy'
    """
    p = Path(embeddings_npy)
    name = p.name[: -len(".npy")] if p.name.lower().endswith(".npy") else p.name
    return p.with_name(name + IDS_SUFFIX)


def read_events(
    source: str | os.PathLike[str],
    *,
    user: str = "client_id",
    time: str = "timestamp",
    event_type: str = "event_type",
    columns: Sequence[str] | None = None,
    users: Any = None,
    buckets: int | None = None,
    time_unit: str | None = None,
) -> pd.DataFrame | Iterator[pd.DataFrame]:
    """Read an event log into an event frame, whole or bucket by bucket of users.

    The files are read through :mod:`pyarrow.dataset`: only the columns needed are
    read (projection), and the rows of other users are dropped while the files are
    scanned (predicate push-down), so that the memory needed is about one bucket's.

    Parameters
    ----------
    source : str or path-like
        A RecSys Challenge 2025 folder (read as
        :func:`sklearn_ubp.datasets.load_recsys2025` does: products joined on sku, the
        relevant clients without events as rows of empty lists), an event frame saved
        as parquet (one row per user, list columns), or a long table with one row per
        event: a parquet file or folder, a CSV/TSV file (optionally gzipped) or a
        Feather file, grouped with :func:`sklearn_ubp.group_events`.
    user : str, default="client_id"
        The user-id column. An event frame without such a column uses its only
        non-list column, or the row number.
    time : str, default="timestamp"
        The time column.
    event_type : str, default="event_type"
        The event-type column of a long table, if it has one.
    columns : sequence of str, optional
        The fields to keep (default all); only those are read.
    users : array-like, optional
        Only these users, each a row (of empty lists for a user without events).
    buckets : int, optional
        ``None``: return one event frame. ``k``: return an iterator over ``k`` event
        frames, each holding the users of one bucket and all their events; every user
        is in exactly one bucket. Integer ids are bucketed by a multiplicative hash of
        their value, computed inside the scan's filter; other ids are read once (the
        id column alone) and bucketed by :func:`pandas.util.hash_array`. Either way the
        buckets are the same on every run, and each bucket scans the files again
        (``k`` reads of the projected columns, for a memory of about one bucket).
    time_unit : {"s", "ms", "us", "ns"}, optional
        Read a numeric time column as epoch times in this unit.

    Returns
    -------
    frame : pandas.DataFrame or iterator of pandas.DataFrame
        The event frame indexed by user id (sorted, except for an event frame file,
        whose row order is kept), or, with ``buckets``, one such frame per bucket.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> from sklearn_ubp.io import read_events
    >>> log = pd.DataFrame({"client_id": [2, 1, 2, 5], "sku": [7, 8, 9, 4],
    ...                     "timestamp": pd.to_datetime(["2022-06-25", "2022-06-24",
    ...                                                  "2022-06-23", "2022-06-22"])})
    >>> path = os.path.join(tempfile.mkdtemp(), "log.parquet")
    >>> log.to_parquet(path, index=False)
    >>> frame = read_events(path)
    >>> frame.index.tolist(), frame["sku"].tolist()
    ([1, 2, 5], [[8], [9, 7], [4]])
    >>> parts = list(read_events(path, buckets=2))
    >>> len(parts), sorted(u for part in parts for u in part.index)
    (2, [1, 2, 5])
    """
    options = {"user": user, "time": time, "event_type": event_type, "columns": columns}
    options["time_unit"] = time_unit
    if buckets is not None:
        parts = bucket_frames(source, buckets, users=users, **options)
        return (frame for _, frame in parts)
    return whole_frame(source, users=users, **options)


# --------------------------------------------------------------------------- embeddings


def write_embeddings(embeddings: pd.DataFrame, path: str | os.PathLike[str]) -> list[Path]:
    """Write embeddings by user; returns the files written.

    Parameters
    ----------
    embeddings : pandas.DataFrame
        One row per user (the index holds the user ids), one column per dimension.
    path : str or path-like
        ``.parquet``: one column per dimension and the user ids as the index (a
        column named after the index, ``client_id`` by default). ``.npy``: a float32
        matrix and the ids, in the same order, in ``NAME.ids.npy``. ``.csv``: the ids
        in the first column.

    Returns
    -------
    files : list of pathlib.Path
        The files written.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> from sklearn_ubp.io import read_embeddings, write_embeddings
    >>> emb = pd.DataFrame({"a": [0.5, 1.0], "b": [2.0, 0.0]},
    ...                    index=pd.Index([7, 3], name="client_id"))
    >>> folder = tempfile.mkdtemp()
    >>> [f.name for f in write_embeddings(emb, os.path.join(folder, "emb.npy"))]
    ['emb.npy', 'emb.ids.npy']
    >>> read_embeddings(os.path.join(folder, "emb.npy")).loc[3].tolist()
    [1.0, 0.0]
    """
    out = Path(path)
    _check_embeddings(embeddings, f"embeddings to write to {str(out)!r}")
    suffix = suffix_of(out)
    if suffix in PARQUET_SUFFIXES:
        embeddings.to_parquet(out, index=True)
        return [out]
    if suffix == ".npy":
        ids = embeddings.index.to_numpy()
        if ids.dtype == object:
            ids = ids.astype(str)
        np.save(out, embeddings.to_numpy(dtype=np.float32), allow_pickle=False)
        np.save(ids_path(out), ids, allow_pickle=False)
        return [out, ids_path(out)]
    if suffix in CSV_SUFFIXES:
        embeddings.to_csv(out, index=True)
        return [out]
    raise ValueError(f"{str(out)!r}: write embeddings to a .parquet, .npy or .csv file.")


def _check_embeddings(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """Unique user ids and finite values, or a ValueError naming ``what``."""
    if not frame.index.is_unique:
        dup = frame.index[frame.index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"{what}: duplicated user ids {dup}; expected one row per user.")
    values = frame.to_numpy()
    if np.issubdtype(values.dtype, np.number) and not np.isfinite(values).all():
        bad = ~np.isfinite(values)
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        user = frame.index[row : row + 1].tolist()[0]
        raise ValueError(
            f"{what}: {int(bad.sum())} value(s) are NaN or infinite (first: user {user!r}); "
            "expected finite numbers."
        )
    return frame


def _read_npy_embeddings(p: Path, ids: str | None, user_col: str) -> pd.DataFrame:
    source = str(p)
    candidates = [Path(ids)] if ids else [ids_path(p), p.with_name("client_ids.npy")]
    id_file = next((c for c in candidates if c.is_file()), None)
    if id_file is None:
        raise ValueError(
            f"embeddings {source!r}: no user ids found; expected "
            f"{' or '.join(repr(str(c)) for c in candidates)} (or name the ids file: "
            "ids=FILE, --ids FILE)."
        )
    try:
        values = np.load(p, allow_pickle=False)
        user_ids = np.load(id_file, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"cannot read {source!r} / {str(id_file)!r}: {exc}") from exc
    if values.ndim != 2 or user_ids.ndim != 1 or len(values) != len(user_ids):
        raise ValueError(
            f"embeddings {source!r} has shape {values.shape} but {str(id_file)!r} holds "
            f"{user_ids.shape} ids; expected a (n_users, n_dims) matrix and n_users ids."
        )
    if not np.issubdtype(values.dtype, np.number):
        raise ValueError(f"embeddings {source!r}: values are not numeric ({values.dtype}).")
    frame = pd.DataFrame(values.astype(np.float32), index=pd.Index(user_ids, name=user_col))
    return _check_embeddings(frame.rename(columns=str), f"embeddings {source!r}")


def _read_table_embeddings(p: Path, user_col: str) -> pd.DataFrame:
    source = str(p)
    suffix = suffix_of(p)
    try:
        if suffix in PARQUET_SUFFIXES or p.is_dir():
            frame = pd.read_parquet(p)
        elif suffix in CSV_SUFFIXES:
            frame = pd.read_csv(p, sep="\t" if suffix.startswith(".tsv") else ",")
        else:
            raise ValueError(
                f"embeddings {source!r}: expected a .parquet, .csv or .npy file, a folder of "
                "parquet files or a submission folder."
            )
    except (ValueError, OSError) as exc:
        raise ValueError(f"cannot read {source!r}: {exc}") from exc
    if user_col in frame.columns:
        frame = frame.set_index(user_col)
    elif isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        raise ValueError(
            f"embeddings {source!r}: no user ids; expected an index or a {user_col!r} column "
            "(name another one with user_col=, --user-col)."
        )
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ValueError(f"embeddings {source!r}: non-numeric column(s) {bad[:5]}.")
    return _check_embeddings(frame.astype(np.float32), f"embeddings {source!r}")


def read_embeddings(
    path: str | os.PathLike[str], *, ids: str | None = None, user_col: str = "client_id"
) -> pd.DataFrame:
    """Embeddings indexed by user id, from what :func:`write_embeddings` or ``ubp`` wrote.

    Parameters
    ----------
    path : str or path-like
        A ``.parquet`` or ``.csv`` file with user ids (the index, or the column
        ``user_col``); a folder of parquet files (``ubp embed --buckets``); a ``.npy``
        matrix with its ids in ``ids``, ``NAME.ids.npy`` or ``client_ids.npy`` beside
        it; or a submission folder holding ``client_ids.npy`` and ``embeddings.npy``.
    ids : str, optional
        The ids file of a ``.npy`` matrix.
    user_col : str, default="client_id"
        The user-id column of a table without an index; the index name of a ``.npy``
        matrix's frame.

    Returns
    -------
    embeddings : pandas.DataFrame
        float32 values, one row per user, indexed by user id.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> from sklearn_ubp.io import read_embeddings
    >>> path = os.path.join(tempfile.mkdtemp(), "emb.csv")
    >>> pd.DataFrame({"client_id": [4, 2], "dim_0": [0.25, 0.5]}).to_csv(path, index=False)
    >>> read_embeddings(path)["dim_0"].to_dict()
    {4: 0.25, 2: 0.5}
    """
    p = _must_exist(path)
    if p.is_dir():
        if (p / "embeddings.npy").is_file():
            return read_embeddings(p / "embeddings.npy", ids=ids or str(p / "client_ids.npy"))
        if not any(p.glob("*.parquet")):
            raise ValueError(
                f"embeddings {str(p)!r} is a folder without embeddings.npy or parquet files; "
                "expected a submission folder (client_ids.npy, embeddings.npy), a folder of "
                "parquet files or a file."
            )
    if suffix_of(p) == ".npy":
        return _read_npy_embeddings(p, ids, user_col)
    return _read_table_embeddings(p, user_col)
