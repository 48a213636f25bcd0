"""Write and check a RecSys Challenge 2025 submission.

A submission is a directory with two files:

* ``client_ids.npy``: int64, 1-D, an exact permutation of the relevant clients (no
  duplicates, none missing, none extra);
* ``embeddings.npy``: float16, 2-D, one row per client id in the same order, at most
  2048 columns, no NaN or Inf.

float16 cannot hold values above 65504 in absolute value (raw counts often are): writing
such embeddings is refused with an error that suggests scaling, never silently clipped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["validate_submission", "write_submission"]

CLIENT_IDS_FILE = "client_ids.npy"
EMBEDDINGS_FILE = "embeddings.npy"
#: The largest number of embedding columns the challenge accepts.
MAX_EMBEDDING_DIM = 2048
#: The largest finite float16 value.
FLOAT16_MAX = float(np.finfo(np.float16).max)  # 65504.0

_N_EXAMPLES = 5
_CHUNK_VALUES = 2**22  # values per chunk when scanning embeddings (32 MiB as float64)


def _examples(values: np.ndarray) -> list[Any]:
    return np.asarray(values)[:_N_EXAMPLES].tolist()


def _as_int64_ids(client_ids: Any, name: str) -> np.ndarray:
    ids = np.asarray(client_ids)
    if ids.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got an array with shape {ids.shape}")
    if ids.dtype == bool or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{name} must hold integers; got dtype {ids.dtype}")
    if ids.dtype == np.uint64 and ids.size and ids.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} holds values too large for int64")
    return ids.astype(np.int64, copy=False)


def _duplicates(ids: np.ndarray) -> np.ndarray:
    uniq, counts = np.unique(ids, return_counts=True)
    return uniq[counts > 1]


def _scan(arr: np.ndarray) -> tuple[int, int, float]:
    """NaN/Inf count, count of finite ``|x| > 65504`` and finite max ``|x|``.

    Scans in row chunks so that a memory-mapped or huge array is never copied whole.
    """
    n_bad, n_over, max_abs = 0, 0, 0.0
    step = max(1, _CHUNK_VALUES // max(1, int(np.prod(arr.shape[1:]))))
    for start in range(0, arr.shape[0], step):
        block = np.abs(np.asarray(arr[start : start + step], dtype=np.float64))
        finite = np.isfinite(block)
        n_bad += int(block.size - np.count_nonzero(finite))
        block = block[finite]
        if block.size:
            n_over += int(np.count_nonzero(block > FLOAT16_MAX))
            max_abs = max(max_abs, float(block.max()))
    return n_bad, n_over, max_abs


def write_submission(directory: str | os.PathLike[str], client_ids: Any, embeddings: Any) -> None:
    """Check and write ``client_ids.npy`` (int64) and ``embeddings.npy`` (float16).

    Parameters
    ----------
    directory : str or path-like
        Output directory, created if needed; existing files of the same names are
        overwritten.
    client_ids : array-like of int, shape (n_clients,)
        Client ids, unique.
    embeddings : array-like of shape (n_clients, n_dims) or DataFrame
        Row ``i`` is the embedding of ``client_ids[i]``. A DataFrame indexed by client
        id is reindexed to ``client_ids`` first (every id must be in its index).

    Raises
    ------
    ValueError
        If the lengths differ, ids are duplicated or not integers, the embeddings are not
        2-D, have more than 2048 columns, contain NaN/Inf, or hold values beyond the
        float16 range (``|x| > 65504``; scale them first, e.g. ``np.log1p`` for counts or
        ``StandardScaler``; values are never clipped silently).

    See Also
    --------
    validate_submission : Check the written files against the official rules.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from sklearn_ubp.evaluation import write_submission, validate_submission
    >>> folder = tempfile.mkdtemp()
    >>> write_submission(folder, [10, 30, 20], np.eye(3, 4))
    >>> np.load(f"{folder}/embeddings.npy").dtype
    dtype('float16')
    >>> validate_submission(folder, [20, 10, 30])
    >>> write_submission(folder, [10, 30, 20], np.full((3, 4), 1e5))
    Traceback (most recent call last):
    ...
    ValueError: embeddings has 12 value(s) beyond the float16 range ...
    """
    ids = _unique_ids(client_ids)
    emb = _embedding_matrix(embeddings, ids)
    _check_float16_range(emb)
    emb16 = emb.astype(np.float16)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / CLIENT_IDS_FILE, ids, allow_pickle=False)
    np.save(folder / EMBEDDINGS_FILE, emb16, allow_pickle=False)


def _unique_ids(client_ids: Any) -> np.ndarray:
    """``client_ids`` as int64; an error for duplicated ids."""
    ids = _as_int64_ids(client_ids, "client_ids")
    dup = _duplicates(ids)
    if dup.size:
        raise ValueError(
            f"client_ids has {dup.size} duplicated id(s), e.g. {_examples(dup)}; "
            "each client needs exactly one row"
        )
    return ids


def _embedding_matrix(embeddings: Any, ids: np.ndarray) -> np.ndarray:
    """The embeddings as a numeric 2-D array, one row per id (a DataFrame reindexed)."""
    if isinstance(embeddings, pd.DataFrame):
        index = embeddings.index
        if not index.is_unique:
            raise ValueError("the embeddings DataFrame has duplicated ids in its index")
        missing = ids[~np.isin(ids, index.to_numpy())]
        if missing.size:
            raise ValueError(
                f"the embeddings DataFrame lacks {missing.size} of the client_ids, "
                f"e.g. {_examples(missing)}"
            )
        embeddings = embeddings.reindex(pd.Index(ids))
        try:
            emb = embeddings.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"embeddings must be numeric: {exc}") from exc
    else:
        emb = np.asarray(embeddings)
        if emb.dtype == bool or not np.issubdtype(emb.dtype, np.number):
            raise ValueError(f"embeddings must be numeric; got dtype {emb.dtype}")
        if np.iscomplexobj(emb):
            raise ValueError("embeddings must be real-valued; got a complex array")
    if emb.ndim != 2:
        raise ValueError(f"embeddings must be 2-D (n_clients, n_dims); got shape {emb.shape}")
    if emb.shape[0] != ids.shape[0]:
        raise ValueError(
            f"embeddings has {emb.shape[0]} rows but there are {ids.shape[0]} client_ids; "
            "they must be aligned one row per id"
        )
    if not 1 <= emb.shape[1] <= MAX_EMBEDDING_DIM:
        raise ValueError(
            f"embeddings has {emb.shape[1]} columns; the challenge accepts 1 to {MAX_EMBEDDING_DIM}"
        )
    return emb


def _check_float16_range(emb: np.ndarray) -> None:
    """An error for NaN/Inf values and for values that float16 cannot hold."""
    n_bad, n_over, max_abs = _scan(emb)
    if n_bad:
        raise ValueError(f"embeddings contains {n_bad} non-finite value(s) (NaN or Inf)")
    if n_over:
        raise ValueError(
            f"embeddings has {n_over} value(s) beyond the float16 range "
            f"(|x| > {FLOAT16_MAX:g}; max |x| = {max_abs:.6g}), which would overflow "
            "to Inf in embeddings.npy; scale the embeddings first (e.g. np.log1p for "
            "counts, or StandardScaler); values are never clipped"
        )


def _load(path: Path, mmap: bool) -> np.ndarray:
    if not path.is_file():
        raise ValueError(f"{path.name}: file not found in {path.parent}")
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path.name}: not a readable .npy array ({exc})") from exc


def validate_submission(directory: str | os.PathLike[str], relevant_clients: Any) -> None:
    """Check a submission directory against the official RecSys Challenge 2025 rules.

    Parameters
    ----------
    directory : str or path-like
        Directory holding ``client_ids.npy`` and ``embeddings.npy``.
    relevant_clients : array-like of int, or path to a ``.npy`` file
        The client ids that need an embedding (``input/relevant_clients.npy``).

    Raises
    ------
    ValueError
        Naming the file and every problem found: a missing or unreadable file;
        ``client_ids`` not int64 1-D, with duplicates, or not an exact permutation of
        ``relevant_clients`` (counts of missing and extra ids); ``embeddings`` not
        float16, not 2-D, with a row count different from the number of ids, more than
        2048 columns, or NaN/Inf values.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from sklearn_ubp.evaluation import write_submission, validate_submission
    >>> folder = tempfile.mkdtemp()
    >>> write_submission(folder, [1, 2], np.ones((2, 3)))
    >>> validate_submission(folder, [2, 1])
    >>> validate_submission(folder, [1, 2, 3])
    Traceback (most recent call last):
    ...
    ValueError: invalid submission in ...:
      client_ids.npy: not a permutation of relevant_clients: 1 relevant client(s) missing (e.g. [3]), 0 extra
    """
    folder = Path(directory)
    if isinstance(relevant_clients, (str, os.PathLike)):
        relevant_clients = _load(Path(relevant_clients), mmap=False)
    relevant = _as_int64_ids(relevant_clients, "relevant_clients")
    problems: list[str] = []
    ids = _check_client_ids_file(folder, relevant, problems)
    _check_embeddings_file(folder, ids, problems)
    if problems:
        raise ValueError(f"invalid submission in {folder}:\n  " + "\n  ".join(problems))


def _load_or_report(path: Path, mmap: bool, problems: list[str]) -> np.ndarray | None:
    """The array in ``path``, or ``None`` with the reason appended to ``problems``."""
    try:
        return _load(path, mmap=mmap)
    except ValueError as exc:
        problems.append(str(exc))
        return None


def _permutation_problem(ids: np.ndarray, relevant: np.ndarray, n_dup: int) -> str | None:
    """How ``ids`` fail to be a permutation of ``relevant``, if they do."""
    missing = np.setdiff1d(relevant, ids)
    extra = np.setdiff1d(ids, relevant)
    if missing.size or extra.size:
        parts = [f"{missing.size} relevant client(s) missing"]
        if missing.size:
            parts[0] += f" (e.g. {_examples(missing)})"
        parts.append(f"{extra.size} extra")
        if extra.size:
            parts[1] += f" (e.g. {_examples(extra)})"
        return f"{CLIENT_IDS_FILE}: not a permutation of relevant_clients: " + ", ".join(parts)
    if n_dup == 0 and ids.size != relevant.size:
        return f"{CLIENT_IDS_FILE}: {ids.size} ids but {relevant.size} relevant clients"
    return None


def _check_client_ids_file(
    folder: Path, relevant: np.ndarray, problems: list[str]
) -> np.ndarray | None:
    """Append the problems of ``client_ids.npy``; its ids when they are 1-D integers."""
    raw_ids = _load_or_report(folder / CLIENT_IDS_FILE, False, problems)
    if raw_ids is None:
        return None
    if raw_ids.dtype != np.int64:
        problems.append(f"{CLIENT_IDS_FILE}: dtype is {raw_ids.dtype}, expected int64")
    if raw_ids.ndim != 1:
        problems.append(f"{CLIENT_IDS_FILE}: shape is {raw_ids.shape}, expected 1-D")
    if not (raw_ids.ndim == 1 and np.issubdtype(raw_ids.dtype, np.integer)):
        return None
    ids = raw_ids.astype(np.int64, copy=False)
    dup = _duplicates(ids)
    if dup.size:
        problems.append(f"{CLIENT_IDS_FILE}: {dup.size} duplicated id(s), e.g. {_examples(dup)}")
    problem = _permutation_problem(ids, relevant, dup.size)
    if problem is not None:
        problems.append(problem)
    return ids


def _check_embeddings_file(folder: Path, ids: np.ndarray | None, problems: list[str]) -> None:
    """Append the problems of ``embeddings.npy`` (read as a memory map)."""
    emb = _load_or_report(folder / EMBEDDINGS_FILE, True, problems)
    if emb is None:
        return
    if emb.dtype != np.float16:
        problems.append(f"{EMBEDDINGS_FILE}: dtype is {emb.dtype}, expected float16")
    if emb.ndim != 2:
        problems.append(f"{EMBEDDINGS_FILE}: shape is {emb.shape}, expected 2-D")
    else:
        if ids is not None and emb.shape[0] != ids.shape[0]:
            problems.append(
                f"{EMBEDDINGS_FILE}: {emb.shape[0]} rows but {CLIENT_IDS_FILE} has "
                f"{ids.shape[0]} ids"
            )
        if not 1 <= emb.shape[1] <= MAX_EMBEDDING_DIM:
            problems.append(
                f"{EMBEDDINGS_FILE}: {emb.shape[1]} columns, expected 1 to {MAX_EMBEDDING_DIM}"
            )
    if np.issubdtype(emb.dtype, np.number) and not np.iscomplexobj(emb) and emb.ndim >= 1:
        n_bad = _scan(emb)[0]
        if n_bad:
            problems.append(f"{EMBEDDINGS_FILE}: {n_bad} non-finite value(s) (NaN or Inf)")
    elif not np.issubdtype(emb.dtype, np.number):
        problems.append(f"{EMBEDDINGS_FILE}: values are not numeric")
    del emb  # release the memory map
