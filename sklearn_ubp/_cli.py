"""The ``ubp`` command line (also ``python -m sklearn_ubp``).

Subcommands::

    ubp demo        synthetic data, profiles and a score table (the README's main job)
    ubp fit         fit a model on an event log and save it with joblib
    ubp embed       embed the users of an event log with a saved model
    ubp recsys2025  fit on a RecSys Challenge 2025 folder and write a checked submission
    ubp evaluate    score embeddings on the challenge's downstream tasks

``ubp COMMAND --help`` lists each command's options. Errors in what the user gave
(bad paths, unreadable files, missing columns) print one line starting with
``ubp: error:`` to standard error and exit with status 1 (2 for bad arguments);
``--debug`` shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Suffixes read as long tables or event frames.
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz")
FEATHER_SUFFIXES = (".feather", ".arrow", ".ipc")
#: Suffix of the user-id file written next to ``embeddings.npy``.
IDS_SUFFIX = ".ids.npy"
DEFAULT_CHUNK_SIZE = 50_000


class CLIError(Exception):
    """An error in what the user gave: printed as ``ubp: error: ...``, exit status 1."""


#: Exceptions that mean "bad input" rather than a bug: reported in one line.
_USER_ERRORS: tuple[type[BaseException], ...] = (
    CLIError,
    OSError,
    ValueError,
    TypeError,
    KeyError,
    EOFError,
    ImportError,
    pickle.UnpicklingError,
)


# --------------------------------------------------------------------------- output


def _log(args: argparse.Namespace, message: str) -> None:
    """A status line on standard error (results go to standard output)."""
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr, flush=True)


def _progress(
    iterable: Iterable[Any], *, total: int, desc: str, args: argparse.Namespace
) -> Iterator[Any]:
    """``tqdm`` progress bar on standard error, off with ``--quiet`` or when not a TTY."""
    disable: bool | None = True if getattr(args, "quiet", False) else None
    if getattr(args, "progress", False):
        disable = False
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with skorch
        yield from iterable
        return
    yield from tqdm(iterable, total=total, desc=desc, unit="chunk", disable=disable, leave=False)


class _Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __str__(self) -> str:
        return f"{time.perf_counter() - self.start:.1f} s"


# --------------------------------------------------------------------------- paths


def _existing(path: str, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise CLIError(f"{what} {path!r} does not exist.")
    return p


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in (*CSV_SUFFIXES, *PARQUET_SUFFIXES, *FEATHER_SUFFIXES, ".npy", ".joblib"):
        if name.endswith(s):
            return s
    return path.suffix.lower()


def _output(path: str, allowed: Sequence[str], what: str) -> Path:
    out = Path(path)
    if _suffix(out) not in allowed:
        raise CLIError(f"{what} {path!r}: the name must end in one of {', '.join(allowed)}.")
    parent = out.parent
    if parent.exists() and not parent.is_dir():
        raise CLIError(f"{what} {path!r}: {str(parent)!r} is not a directory.")
    parent.mkdir(parents=True, exist_ok=True)
    return out


def ids_path(embeddings_npy: str | os.PathLike[str]) -> Path:
    """Where ``ubp embed --out NAME.npy`` writes the user ids: ``NAME.ids.npy``."""
    p = Path(embeddings_npy)
    name = p.name[: -len(".npy")] if p.name.lower().endswith(".npy") else p.name
    return p.with_name(name + IDS_SUFFIX)


# --------------------------------------------------------------------------- reading events


def is_recsys_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder in the RecSys Challenge 2025 layout."""
    from .datasets import EVENT_TABLES

    p = Path(path)
    return p.is_dir() and any((p / f"{name}.parquet").is_file() for name in EVENT_TABLES)


def _read_arrow(path: Path) -> Any:
    """A pyarrow Table from a parquet file or folder, a CSV file or a Feather file."""
    import pyarrow as pa

    suffix = _suffix(path)
    try:
        if path.is_dir() or suffix in PARQUET_SUFFIXES:
            import pyarrow.parquet as pq

            if path.is_dir() and not any(path.rglob("*.parquet")):
                raise CLIError(
                    f"{str(path)!r} is a folder without parquet files; expected a RecSys 2025 "
                    "folder (product_buy.parquet, page_visit.parquet, ...) or a parquet "
                    "dataset."
                )
            return pq.read_table(path)
        if suffix in CSV_SUFFIXES:
            import pyarrow.csv as pacsv

            parse = pacsv.ParseOptions(delimiter="\t" if suffix.startswith(".tsv") else ",")
            return pacsv.read_csv(path, parse_options=parse)
        if suffix in FEATHER_SUFFIXES:
            import pyarrow.feather as feather

            return feather.read_table(path)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        raise CLIError(f"cannot read {str(path)!r}: {exc}") from exc
    raise CLIError(
        f"{str(path)!r}: unknown file type; expected a parquet file or folder "
        f"({', '.join(PARQUET_SUFFIXES)}), a CSV file ({', '.join(CSV_SUFFIXES)}), a Feather "
        "file or a RecSys 2025 folder."
    )


def _is_list_type(t: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)


def _frame_from_table(table: Any, args: argparse.Namespace, source: str) -> pd.DataFrame:
    """An event frame from an Arrow table that is either an event frame or a long log."""
    from ._frame import check_event_frame
    from ._group import group_events

    user = args.user_col
    lists = [f.name for f in table.schema if _is_list_type(f.type)]
    code_columns = {"query", "name"}
    if lists and not set(lists) <= code_columns:  # an event frame, one row per user
        non_list = [f.name for f in table.schema if not _is_list_type(f.type)]
        if not non_list:  # written by pandas with a RangeIndex: the row number is the id
            import pyarrow as pa

            ids = pa.array(np.arange(table.num_rows, dtype=np.int64))
            table = table.replace_schema_metadata(None).append_column(user, ids)
            non_list = [user]
        if user not in non_list:
            if len(non_list) != 1:
                raise CLIError(
                    f"{source}: looks like an event frame (list columns {lists}) but has "
                    f"several non-list columns {non_list}; name the user-id column with "
                    "--user-col."
                )
            user = non_list[0]
        if args.time_col != "timestamp" and args.time_col in table.column_names:
            table = table.rename_columns(
                ["timestamp" if c == args.time_col else c for c in table.column_names]
            )
        if args.event_type_col != "event_type" and args.event_type_col in table.column_names:
            table = table.rename_columns(
                ["event_type" if c == args.event_type_col else c for c in table.column_names]
            )
        try:
            return check_event_frame(table, user=user)
        except (ValueError, TypeError) as exc:
            raise CLIError(f"{source}: not a valid event frame: {exc}") from exc
    try:
        return group_events(
            table,
            user=user,
            time=args.time_col,
            event_type=args.event_type_col,
            time_unit=args.time_unit,
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise CLIError(
            f"{source}: cannot group the long event table: {exc} (use --user-col, --time-col "
            "and --event-type-col to name the columns)"
        ) from exc


def _sample_users(frame: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """``n`` users drawn at random (seeded), kept in their original order."""
    if n is None or n >= len(frame):
        return frame
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(len(frame), size=n, replace=False))
    return frame.iloc[keep]


def _cut(frame: pd.DataFrame, before: str | None, source: str) -> pd.DataFrame:
    """Drop the events at or after ``before`` (a date, or ``split``: the challenge's cut)."""
    if before is None:
        return frame
    if before == "split":
        from .evaluation import make_tasks

        try:
            return make_tasks(frame).X
        except (ValueError, TypeError) as exc:
            raise CLIError(f"{source}: --before split: {exc}") from exc
    from ._arrow import timestamp_to_us
    from ._frame import EventView, filter_events

    try:
        limit = timestamp_to_us(pd.Timestamp(before))
    except (ValueError, TypeError) as exc:
        raise CLIError(f"--before {before!r}: not a date or 'split' ({exc})") from exc
    return filter_events(frame, EventView(frame).times() < limit)


class Events:
    """What :func:`read_events` found: the event frame and, for a RecSys folder, more."""

    def __init__(
        self,
        frame: pd.DataFrame,
        kind: str,
        relevant_clients: np.ndarray | None = None,
        data: Any = None,
    ) -> None:
        self.frame = frame
        self.kind = kind
        self.relevant_clients = relevant_clients
        self.data = data


def read_events(
    path: str | os.PathLike[str],
    args: argparse.Namespace,
    *,
    max_users: int | None = None,
    clients: str = "all",
) -> Events:
    """Read EVENTS: a RecSys 2025 folder, an event frame or a long table (parquet / CSV).

    ``max_users`` keeps that many users: the first ones in id order for a RecSys
    folder (read without loading the others), a seeded random sample otherwise.
    """
    from .datasets import load_recsys2025

    p = _existing(str(path), "EVENTS")
    source = str(p)
    if is_recsys_folder(p):
        try:
            data = load_recsys2025(p, clients=clients, max_clients=max_users)
        except (ValueError, TypeError, KeyError) as exc:
            raise CLIError(f"{source}: cannot read the RecSys 2025 folder: {exc}") from exc
        return Events(data.events, "recsys2025", data.relevant_clients, data)
    table = _read_arrow(p)
    if table.num_rows == 0:
        raise CLIError(f"{source}: the table has no rows.")
    frame = _frame_from_table(table, args, source)
    frame = _sample_users(frame, max_users, args.seed)
    return Events(frame, "table")


def _events_with_cut(path: str, args: argparse.Namespace, **kwargs: Any) -> Events:
    timer = _Timer()
    events = read_events(path, args, **kwargs)
    events.frame = _cut(events.frame, getattr(args, "before", None), str(path))
    from ._frame import EventView

    frame = events.frame
    n_events = EventView(frame).n_events
    _log(
        args,
        f"read {path}: {len(frame):,} users, {n_events:,} events, fields "
        f"{', '.join(map(str, frame.columns))} ({timer})",
    )
    return events


# --------------------------------------------------------------------------- models


def _check_device(device: str) -> str:
    from ._device import check_device

    try:
        return check_device(device)
    except ValueError as exc:
        raise CLIError(f"--device {device!r}: {exc}") from exc


def available_models() -> dict[str, str]:
    """Model names accepted by ``--model`` and the estimator each one builds (the
    registry, :data:`sklearn_ubp._registry.ESTIMATORS`)."""
    from ._registry import ESTIMATORS

    return {name: spec.class_name for name, spec in ESTIMATORS.items()}


def _default_model() -> str:
    return next(iter(available_models()))


def _set_matching(model: Any, name: str, value: Any) -> list[str]:
    """Set every parameter called ``name`` (nested ones too); the keys that were set."""
    keys = [k for k in model.get_params(deep=True) if k == name or k.endswith(f"__{name}")]
    if keys:
        model.set_params(**dict.fromkeys(keys, value))
    return keys


def make_model(args: argparse.Namespace) -> Any:
    """The estimator ``ubp fit`` / ``ubp recsys2025`` / ``ubp demo`` fit.

    ``profile`` is :class:`sklearn_ubp.UniversalProfile` (the ensemble), ``gru`` the
    :class:`sklearn_ubp.GRUSequenceAutoencoder` alone, ``counts`` an
    :class:`sklearn_ubp.EventCountEmbedder` and ``svd`` an
    :class:`sklearn_ubp.SVDItemEmbedder` over categories. ``--seed``, ``--device`` and
    ``--epochs`` are passed to every (nested) parameter of that name.
    """
    from ._registry import make_estimator

    name = args.model or _default_model()
    models = available_models()
    if name not in models:
        raise CLIError(f"--model {name!r}: choose from {', '.join(models)}.")
    model = make_estimator(name)
    _set_matching(model, "random_state", args.seed)
    device = getattr(args, "device", "cpu")
    _set_matching(model, "device", device)
    epochs = getattr(args, "epochs", None)
    if epochs is not None:
        _set_matching(model, "max_epochs", epochs)
    if not getattr(args, "quiet", False):
        # The profile reports each member's fit; the members' own progress bars (the
        # GRU's epochs) only on a terminal or with --progress.
        if "verbose" in model.get_params(deep=False):
            model.set_params(verbose=True)
        if getattr(args, "progress", False) or sys.stderr.isatty():
            _set_matching(model, "verbose", True)
    return model


def _fit(model: Any, frame: pd.DataFrame, args: argparse.Namespace) -> Any:
    timer = _Timer()
    _log(args, f"fitting {type(model).__name__} on {len(frame):,} users ...")
    try:
        model.fit(frame)
    except (ValueError, TypeError, KeyError) as exc:
        raise CLIError(f"cannot fit {type(model).__name__} on these events: {exc}") from exc
    _log(args, f"fitted {type(model).__name__} ({timer})")
    _set_matching(model, "verbose", False)  # a quiet model to save and to transform with
    return model


def _feature_names(model: Any, n: int) -> list[str]:
    try:
        names = [str(c) for c in model.get_feature_names_out()]
    except (AttributeError, ValueError, TypeError):
        names = []
    if len(names) != n or len(set(names)) != n:
        names = [f"dim_{i}" for i in range(n)]
    return names


def embed_frame(
    model: Any,
    frame: pd.DataFrame,
    args: argparse.Namespace,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> pd.DataFrame:
    """Transform ``frame`` in chunks of users (a progress bar) into a DataFrame by user."""
    if chunk_size < 1:
        raise CLIError(f"--chunk-size must be at least 1; got {chunk_size}.")
    starts = range(0, max(len(frame), 1), chunk_size)
    parts = []
    timer = _Timer()
    for start in _progress(starts, total=len(starts), desc="embedding", args=args):
        part = frame.iloc[start : start + chunk_size]
        try:
            out = model.transform(part)
        except (ValueError, TypeError, KeyError) as exc:
            raise CLIError(f"cannot embed these events with {type(model).__name__}: {exc}") from exc
        parts.append(np.asarray(out, dtype=np.float32))
    values = np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)
    index = frame.index.copy()
    index.name = index.name or "client_id"
    out = pd.DataFrame(values, index=index, columns=_feature_names(model, values.shape[1]))
    _log(args, f"embedded {len(frame):,} users into {values.shape[1]} dimensions ({timer})")
    return out


def _load_model(path: str) -> Any:
    import joblib

    p = _existing(path, "MODEL")
    if p.is_dir():
        raise CLIError(f"MODEL {path!r} is a directory; expected a file written by 'ubp fit'.")
    try:
        model = joblib.load(p)
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise CLIError(
            f"MODEL {path!r} is not a model saved by 'ubp fit' (joblib): {exc!r}"
        ) from exc
    if not hasattr(model, "transform"):
        raise CLIError(f"MODEL {path!r} holds a {type(model).__name__}, not a transformer.")
    return model


# --------------------------------------------------------------------------- embeddings files


def write_embeddings(embeddings: pd.DataFrame, path: str | os.PathLike[str]) -> list[Path]:
    """Write embeddings by user; returns the files written.

    ``.parquet``: one column per dimension and the user ids as the index (a column
    named after the index, ``client_id`` by default). ``.npy``: a float32 matrix and
    the ids, in the same order, in ``NAME.ids.npy``. ``.csv``: ids in the first column.
    """
    out = Path(path)
    suffix = _suffix(out)
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
    raise CLIError(f"{str(out)!r}: write embeddings to a .parquet, .npy or .csv file.")


def read_embeddings(
    path: str | os.PathLike[str], *, ids: str | None = None, user_col: str = "client_id"
) -> pd.DataFrame:
    """Embeddings indexed by user id, from what ``ubp embed`` or ``ubp recsys2025`` wrote.

    Accepts a ``.parquet`` or ``.csv`` file with user ids (the index, or the column
    ``user_col``), a ``.npy`` matrix with its ids in ``ids`` or ``NAME.ids.npy`` (or
    ``client_ids.npy`` in the same folder), or a submission folder holding
    ``client_ids.npy`` and ``embeddings.npy``.
    """
    p = _existing(str(path), "EMBEDDINGS")
    source = str(p)
    if p.is_dir():
        if not (p / "embeddings.npy").is_file():
            raise CLIError(
                f"EMBEDDINGS {source!r} is a folder without embeddings.npy; expected a "
                "submission folder (client_ids.npy, embeddings.npy) or a file."
            )
        return read_embeddings(p / "embeddings.npy", ids=ids or str(p / "client_ids.npy"))
    suffix = _suffix(p)
    if suffix == ".npy":
        candidates = [Path(ids)] if ids else [ids_path(p), p.with_name("client_ids.npy")]
        id_file = next((c for c in candidates if c.is_file()), None)
        if id_file is None:
            raise CLIError(
                f"EMBEDDINGS {source!r}: no user ids found; expected "
                f"{' or '.join(repr(str(c)) for c in candidates)} (or pass --ids FILE)."
            )
        try:
            values = np.load(p, allow_pickle=False)
            user_ids = np.load(id_file, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise CLIError(f"cannot read {source!r} / {str(id_file)!r}: {exc}") from exc
        if values.ndim != 2 or user_ids.ndim != 1 or len(values) != len(user_ids):
            raise CLIError(
                f"EMBEDDINGS {source!r} has shape {values.shape} but {str(id_file)!r} holds "
                f"{user_ids.shape} ids; expected a (n_users, n_dims) matrix and n_users ids."
            )
        if not np.issubdtype(values.dtype, np.number):
            raise CLIError(f"EMBEDDINGS {source!r}: values are not numeric ({values.dtype}).")
        return pd.DataFrame(
            values.astype(np.float32), index=pd.Index(user_ids, name=user_col)
        ).rename(columns=str)
    try:
        if suffix in PARQUET_SUFFIXES:
            frame = pd.read_parquet(p)
        elif suffix in CSV_SUFFIXES:
            frame = pd.read_csv(p, sep="\t" if suffix.startswith(".tsv") else ",")
        else:
            raise CLIError(
                f"EMBEDDINGS {source!r}: expected a .parquet, .csv or .npy file, or a "
                "submission folder."
            )
    except (ValueError, OSError) as exc:
        raise CLIError(f"cannot read {source!r}: {exc}") from exc
    if user_col in frame.columns:
        frame = frame.set_index(user_col)
    elif isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        raise CLIError(
            f"EMBEDDINGS {source!r}: no user ids; expected an index or a {user_col!r} column "
            "(name another one with --user-col)."
        )
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise CLIError(f"EMBEDDINGS {source!r}: non-numeric column(s) {bad[:5]}.")
    if not frame.index.is_unique:
        raise CLIError(f"EMBEDDINGS {source!r}: duplicated user ids.")
    return frame.astype(np.float32)


# --------------------------------------------------------------------------- scores


def score_table(scores: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Tasks x members table of the ``score`` rows of :func:`~sklearn_ubp.evaluation.evaluate`."""
    return pd.DataFrame(
        {
            name: table[table["metric"] == "score"].set_index("task")["value"]
            for name, table in scores.items()
        }
    )


def _score(
    name: str,
    embeddings: Any,
    tasks: Any,
    args: argparse.Namespace,
    scores: dict[str, pd.DataFrame],
) -> None:
    from .evaluation import evaluate

    timer = _Timer()
    try:
        scores[name] = evaluate(
            embeddings,
            tasks,
            protocol=getattr(args, "protocol", None),
            device=getattr(args, "device", "cpu"),
            random_state=args.seed,
        )
    except ValueError as exc:
        raise CLIError(
            f"cannot score {name}: {exc} (too few users, or too few purchases in the "
            "target windows, for this task?)"
        ) from exc
    _log(args, f"  scored {name} in {timer}")


def _members(model: Any) -> list[tuple[str, Any]]:
    """The fitted ``(name, member)`` pairs of a UniversalProfile or FeatureUnion."""
    pairs = getattr(model, "transformers_", None) or getattr(model, "transformer_list", None)
    return [(n, m) for n, m in pairs or [] if not isinstance(m, str)]


def _member_blocks(model: Any, embeddings: np.ndarray) -> dict[str, np.ndarray]:
    """Column blocks of a UniversalProfile's output, one per member (``output_indices_``)."""
    indices = getattr(model, "output_indices_", {})
    blocks = {name: embeddings[:, cols] for name, cols in indices.items()}
    blocks = {name: block for name, block in blocks.items() if block.shape[1]}
    return blocks if len(blocks) >= 2 else {}


# --------------------------------------------------------------------------- commands


def _demo(args: argparse.Namespace) -> int:
    from ._arrow import timestamp_to_us as _us
    from ._counts import EventCountEmbedder
    from ._frame import EventView, filter_events
    from .datasets import make_events
    from .evaluation import (
        make_tasks,
        official_baseline,
        oracle_scores,
        random_embeddings,
    )

    if args.users < 1000:
        raise CLIError(f"--users must be at least 1000 for the six tasks; got {args.users}.")
    _check_device(args.device)
    if args.plots is not None:
        from .plotting import _require_matplotlib

        _require_matplotlib()
    t0 = time.perf_counter()
    data = make_events(n_users=args.users, random_state=args.seed)
    view = EventView(data.events)
    codes, labels = view.categories("event_type")
    print(
        f"Synthetic RecSys-2025-style log: {view.n_users:,} users, {view.n_events:,} events "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    shares = pd.Series(codes).value_counts(normalize=True).rename(index=dict(enumerate(labels)))
    print("event types: " + ", ".join(f"{k} {v:.1%}" for k, v in shares.items()))
    print("\nEvent frame (one row per user, list columns):")
    print(data.events.head(3).to_string(max_colwidth=40))

    tasks = make_tasks(data.events.loc[data.relevant_clients])
    print(
        f"\nTime split (as in the challenge, for the {len(tasks.X):,} relevant clients): "
        f"input before {tasks.cut}; target windows {tasks.windows[0][0]} .. "
        f"{tasks.windows[1][1]}; tasks: {', '.join(tasks.tasks)}",
        flush=True,
    )
    scores: dict[str, pd.DataFrame] = {}
    _score("random", random_embeddings(tasks.X, random_state=args.seed), tasks, args, scores)
    _score("baseline counts", official_baseline(tasks.X).to_numpy(), tasks, args, scores)
    profile = embeddings = None
    members: dict[str, str] = {}
    model_name = args.model or _default_model()
    if model_name != "profile":  # the profile has EventCountEmbedder as its member
        _score(
            "EventCountEmbedder", EventCountEmbedder().fit_transform(tasks.X), tasks, args, scores
        )
    if model_name != "counts":
        args.model = model_name
        model = make_model(args)
        # The model learns without labels from input-period events only (before the
        # cut): those of the relevant clients, or of every user with --fit-on all.
        if args.fit_on == "all":
            fit_frame = filter_events(data.events, EventView(data.events).times() < _us(tasks.cut))
        else:
            fit_frame = tasks.X
        profile = _fit(model, fit_frame, args)
        embeddings = np.asarray(profile.transform(tasks.X), dtype=np.float32)
        fitted = dict(_members(profile))
        for member, block in _member_blocks(profile, embeddings).items():
            members[member] = type(fitted[member]).__name__
            _score(member, block, tasks, args, scores)
        _score(type(profile).__name__, embeddings, tasks, args, scores)
    oracle = oracle_scores(data, tasks, random_state=args.seed)
    scores["oracle (true probabilities)"] = oracle
    table = score_table(scores)
    print(
        '\nDownstream scores (protocol="fast"; AUROC for churn/conversion, '
        "0.8 AUROC + 0.1 diversity + 0.1 novelty for propensity):"
    )
    print(table.round(4).to_string())
    if members:
        print(
            f"Members of {type(profile).__name__}, alone (post-processed as in the profile): "
            + ", ".join(f"{k} = {v}" for k, v in members.items())
        )
    if args.plots is not None:
        for path in _demo_plots(args.plots, profile, embeddings, tasks, table):
            print(f"wrote {path}")
    return 0


def _demo_plots(
    folder: str, profile: Any, embeddings: np.ndarray | None, tasks: Any, table: pd.DataFrame
) -> list[Path]:
    from ._counts import EventCountEmbedder
    from .plotting import (
        _require_matplotlib,
        plot_embedding_map,
        plot_scores,
        plot_training_history,
    )

    plt = _require_matplotlib()
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--plots {folder!r} is not a directory.")
    out.mkdir(parents=True, exist_ok=True)
    written = []

    fig, ax = plt.subplots(figsize=(12, 4.5))
    plot_scores(table, ax=ax)
    fig.tight_layout()
    fig.savefig(out / "scores.png", dpi=110)
    plt.close(fig)
    written.append(out / "scores.png")

    if embeddings is None:
        embeddings = EventCountEmbedder().fit_transform(tasks.X)
        name = "EventCountEmbedder"
    else:
        name = type(profile).__name__
    churn = tasks.tasks["churn"]
    fig, ax = plt.subplots(figsize=(6, 5))
    y = churn.y_test[churn.mask]
    plot_embedding_map(embeddings[churn.mask], y, ax=ax, label="churn (1: no purchase)")
    ax.set_title(f"{name} of the buyers (PCA),\ncoloured by churn in the scored window")
    fig.tight_layout()
    fig.savefig(out / "embedding_map.png", dpi=110)
    plt.close(fig)
    written.append(out / "embedding_map.png")

    history = None
    if profile is not None:
        from .plotting import _find_history

        history = profile if _find_history(profile) is not None else None
    if history is not None:
        fig, ax = plt.subplots(figsize=(6, 4))
        plot_training_history(history, ax=ax)
        fig.tight_layout()
        fig.savefig(out / "training_history.png", dpi=110)
        plt.close(fig)
        written.append(out / "training_history.png")
    else:
        print("no training history to plot (the model has no GRU autoencoder member)")
    return written


def _fit_command(args: argparse.Namespace) -> int:
    import joblib

    _check_device(args.device)
    out = _output(args.out, (".joblib", ".pkl", ".pickle"), "--out")
    model = make_model(args)
    events = _events_with_cut(args.events, args, max_users=args.max_users)
    _fit(model, events.frame, args)
    joblib.dump(model, out)
    print(f"wrote {out} ({type(model).__name__}, fitted on {len(events.frame):,} users)")
    return 0


def _embed_command(args: argparse.Namespace) -> int:
    _check_device(args.device)
    out = _output(args.out, (*PARQUET_SUFFIXES, ".npy", *CSV_SUFFIXES), "--out")
    model = _load_model(args.model)
    _set_matching(model, "device", args.device)
    clients = "relevant" if args.relevant else "all"
    events = _events_with_cut(args.events, args, max_users=args.max_users, clients=clients)
    embeddings = embed_frame(model, events.frame, args, chunk_size=args.chunk_size)
    files = write_embeddings(embeddings, out)
    print(
        f"wrote {', '.join(map(str, files))} ({embeddings.shape[0]:,} users x "
        f"{embeddings.shape[1]} dimensions)"
    )
    return 0


def _recsys_command(args: argparse.Namespace) -> int:
    from .evaluation import validate_submission, write_submission

    _check_device(args.device)
    path = _existing(args.data_dir, "DATA_DIR")
    if not is_recsys_folder(path):
        raise CLIError(
            f"DATA_DIR {args.data_dir!r} is not a RecSys 2025 folder (no product_buy.parquet, "
            "page_visit.parquet, ...)."
        )
    if not (path / "input" / "relevant_clients.npy").is_file():
        raise CLIError(
            f"DATA_DIR {args.data_dir!r} has no input/relevant_clients.npy: the submission "
            "needs the list of clients to embed."
        )
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {args.out!r} exists and is not a directory.")
    model = make_model(args)
    if args.max_users is None:  # one read: fit on everyone, embed the relevant clients
        events = _events_with_cut(args.data_dir, args)
        fit_frame = events.frame
        relevant = events.relevant_clients
        embed_frame_ = fit_frame.loc[relevant]
    else:  # fit on the first --max-users clients, then read the relevant ones alone
        events = _events_with_cut(args.data_dir, args, max_users=args.max_users)
        fit_frame = events.frame
        relevant_events = _events_with_cut(args.data_dir, args, clients="relevant")
        relevant = relevant_events.relevant_clients
        embed_frame_ = relevant_events.frame.loc[relevant]
    _fit(model, fit_frame, args)
    embeddings = embed_frame(model, embed_frame_, args, chunk_size=args.chunk_size)
    write_submission(out, relevant, embeddings.to_numpy())
    validate_submission(out, relevant)
    print(
        f"wrote {out / 'client_ids.npy'} and {out / 'embeddings.npy'} "
        f"({len(relevant):,} relevant clients x {embeddings.shape[1]} dimensions, float16); "
        "validate_submission: OK"
    )
    return 0


def _scored_users(events: Events, embeddings: pd.DataFrame, args: argparse.Namespace) -> pd.Index:
    """The users of EVENTS (relevant clients of a RecSys folder) that have an embedding."""
    users = events.frame.index
    if events.relevant_clients is not None and not args.all_users:
        users = users[users.isin(events.relevant_clients)]
    have = users.isin(embeddings.index)
    if not have.any():
        raise CLIError(
            "none of the users of EVENTS has an embedding in EMBEDDINGS (check that the ids "
            f"match: EVENTS has e.g. {users[:3].tolist()}, EMBEDDINGS "
            f"{embeddings.index[:3].tolist()})."
        )
    if not have.all():
        _log(args, f"{(~have).sum():,} of {len(users):,} users have no embedding; scoring the rest")
    return users[have]


def _task_kind(frame: pd.DataFrame, args: argparse.Namespace) -> str:
    """``--tasks auto``: future-window tasks with --cut or on a log without the challenge's
    event types (a purchase type and another one), the challenge's tasks otherwise."""
    if args.tasks != "auto":
        return args.tasks
    if args.cut is not None or "event_type" not in frame.columns:
        return "future"
    from ._frame import EventView

    _, labels = EventView(frame).categories("event_type")
    return "challenge" if args.purchase in labels and len(labels) > 1 else "future"


def _future_fields(args: argparse.Namespace) -> dict[str, Any]:
    return {"purchase": args.purchase, "amount": args.amount, "basket": args.basket}


def _build_tasks(frame: pd.DataFrame, args: argparse.Namespace) -> Any:
    from .evaluation import make_future_tasks, make_tasks

    kind = _task_kind(frame, args)
    try:
        if kind == "challenge":
            tasks = make_tasks(frame, purchase=args.purchase)
            print(
                f"{len(tasks.X):,} users; input before {tasks.cut}, target windows "
                f"{tasks.windows[0][0]} .. {tasks.windows[1][1]} (embeddings must come from "
                "events before the cut)"
            )
            return tasks
        cut = args.cut
        if cut is None:  # the last horizon_days before the day after the last event
            from ._frame import EventView

            last = pd.Timestamp(int(EventView(frame).times().max()), unit="us")
            cut = last.normalize() + pd.Timedelta(days=1 - args.horizon_days)
        tasks = make_future_tasks(
            frame,
            cut=cut,
            horizon_days=args.horizon_days,
            category=args.category,
            n_categories=args.n_categories,
            **_future_fields(args),
        )
    except (ValueError, TypeError) as exc:
        hint = "" if kind == "future" else " (--cut DATE builds future-window tasks instead)"
        raise CLIError(
            f"cannot build the downstream tasks from {args.events!r}: {exc}{hint}"
        ) from exc
    print(
        f"{len(tasks.X):,} users with an event before {tasks.cut}; targets from "
        f"{tasks.windows[0][0]} .. {tasks.windows[0][1]}: {', '.join(tasks.tasks)} "
        "(embeddings must come from events before the cut: 'ubp embed --before CUT')"
    )
    return tasks


def _detail(table: pd.DataFrame) -> pd.DataFrame:
    """Tasks x metrics; ``value ± std`` cells for the probe."""
    values = table.pivot_table(index="task", columns="metric", values="value", sort=False)
    order = [m for m in ("auroc", "spearman", "diversity", "novelty", "score") if m in values]
    values = values[order].round(4)
    if "std" not in table:
        return values
    stds = table.pivot_table(index="task", columns="metric", values="std", sort=False)
    cells = values.map("{:.4f}".format) + " ± " + stds[order].round(4).map("{:.4f}".format)
    return cells.where(values.notna(), "")


def _evaluate_command(args: argparse.Namespace) -> int:
    from .evaluation import official_baseline, random_embeddings, rfm_features

    _check_device(args.device)
    embeddings = read_embeddings(args.embeddings, ids=args.ids, user_col=args.user_col)
    relevant_file = Path(args.events) / "input" / "relevant_clients.npy"
    only_relevant = is_recsys_folder(args.events) and relevant_file.is_file() and not args.all_users
    events = _events_with_cut(args.events, args, clients="relevant" if only_relevant else "all")
    users = _scored_users(events, embeddings, args)
    tasks = _build_tasks(events.frame.loc[users], args)
    scores: dict[str, pd.DataFrame] = {}
    _score("embeddings", embeddings.loc[tasks.X.index], tasks, args, scores)
    protocol = scores["embeddings"].attrs["protocol"]
    print(f'\nScores (protocol="{protocol}"):')
    table = _detail(scores["embeddings"])
    print(table.to_string())
    if args.baselines:
        _score("random", random_embeddings(tasks.X, random_state=args.seed), tasks, args, scores)
        if getattr(tasks, "default_protocol", None) == "probe":
            fields = _future_fields(args) | {"category": args.category}
            rfm = rfm_features(tasks.X, reference_time=tasks.cut, **fields)
            _score("RFM", rfm.to_numpy(), tasks, args, scores)
        else:
            _score("baseline counts", official_baseline(tasks.X).to_numpy(), tasks, args, scores)
        table = score_table(scores)
        print("\nScores next to the baselines:")
        print(table.round(4).to_string())
    if args.out:
        out = _output(args.out, CSV_SUFFIXES, "--out")
        table.to_csv(out)
        print(f"wrote {out}")
    return 0


# --------------------------------------------------------------------------- parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``ubp`` argument parser (its subcommands are documented in ``ubp --help``)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    common.add_argument(
        "--device", default="cpu", help="where neural members train: cpu, cuda or cuda:N"
    )
    common.add_argument("--quiet", action="store_true", help="no status lines or progress bars")
    common.add_argument(
        "--progress", action="store_true", help="progress bars even when stderr is not a terminal"
    )
    common.add_argument("--debug", action="store_true", help="show the full traceback of an error")

    reading = argparse.ArgumentParser(add_help=False)
    group = reading.add_argument_group("reading EVENTS")
    group.add_argument("--user-col", default="client_id", help="user-id column (default client_id)")
    group.add_argument(
        "--time-col", default="timestamp", help="time column of a long table (default timestamp)"
    )
    group.add_argument(
        "--event-type-col",
        default="event_type",
        help="event-type column of a long table, if any (default event_type)",
    )
    group.add_argument(
        "--time-unit",
        choices=("s", "ms", "us", "ns"),
        help="read a numeric time column as epoch times in this unit",
    )
    group.add_argument(
        "--before",
        metavar="DATE|split",
        help="drop events at or after DATE; 'split': at the challenge's cut (the input "
        "period of 'ubp evaluate')",
    )

    model_opts = argparse.ArgumentParser(add_help=False)
    group = model_opts.add_argument_group("model")
    group.add_argument(
        "--model",
        default=None,
        help="profile (UniversalProfile, the default when available), gru, counts or svd",
    )
    group.add_argument(
        "--epochs", type=_positive_int, help="max_epochs of the GRU autoencoder member(s)"
    )
    group.add_argument(
        "--max-users",
        type=_positive_int,
        help="fit on at most this many users (quick runs)",
    )

    chunking = argparse.ArgumentParser(add_help=False)
    chunking.add_argument(
        "--chunk-size",
        type=_positive_int,
        default=DEFAULT_CHUNK_SIZE,
        help=f"users transformed at a time (default {DEFAULT_CHUNK_SIZE:,})",
    )

    parser = argparse.ArgumentParser(
        prog="ubp",
        description="Universal Behavioral Profiles: one vector per user from event logs.",
        epilog="EVENTS is a RecSys Challenge 2025 folder, an event frame (parquet, one row "
        "per user with list columns) or a long table (parquet or CSV, one row per event "
        "with user-id and timestamp columns).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="synthetic data, profiles and a score table",
        description="Generate a synthetic RecSys-2025-style log, build the challenge's "
        "tasks, and print the downstream scores of random vectors, the official "
        "baseline's counts, EventCountEmbedder, the profile (and each of its members) "
        "and the oracle.",
    )
    demo.add_argument("--users", type=int, default=50_000, help="number of synthetic users")
    demo.add_argument(
        "--model",
        default=None,
        help="the profile to fit besides the baselines: profile (default when available), "
        "gru, svd, or counts (baselines only)",
    )
    demo.add_argument("--epochs", type=_positive_int, help="max_epochs of the GRU member(s)")
    demo.add_argument(
        "--fit-on",
        choices=("relevant", "all"),
        default="relevant",
        help="users the profile is fitted on: the relevant clients (default) or all users "
        "(input period only, either way)",
    )
    demo.add_argument("--plots", metavar="DIR", help="write scores, map and history PNGs here")
    demo.set_defaults(func=_demo)

    fit = sub.add_parser(
        "fit",
        parents=[common, reading, model_opts],
        help="fit a model on EVENTS and save it (joblib)",
        description="Fit a model on the users of EVENTS (all, or --max-users of them) and save "
        "it with joblib.",
    )
    fit.add_argument("events", metavar="EVENTS", help="event log to fit on")
    fit.add_argument("--out", required=True, help="where to save the model (.joblib)")
    fit.set_defaults(func=_fit_command)

    embed = sub.add_parser(
        "embed",
        parents=[common, reading, chunking],
        help="embed the users of EVENTS with a saved model",
        description="Embed every user of EVENTS with a model saved by 'ubp fit'. A "
        ".parquet output keeps the user ids as its index (column client_id, or the "
        "name of the input's user column); a .npy output writes a float32 matrix and "
        "the ids, in the same order, to NAME.ids.npy.",
    )
    embed.add_argument("model", metavar="MODEL", help="a model file written by 'ubp fit'")
    embed.add_argument("events", metavar="EVENTS", help="event log to embed")
    embed.add_argument("--out", required=True, help="embeddings.parquet, .npy or .csv")
    embed.add_argument(
        "--relevant",
        action="store_true",
        help="for a RecSys 2025 folder: only the relevant clients",
    )
    embed.add_argument(
        "--max-users", type=_positive_int, help="embed at most this many users (quick runs)"
    )
    embed.set_defaults(func=_embed_command)

    recsys = sub.add_parser(
        "recsys2025",
        parents=[common, model_opts, chunking],
        help="fit on a RecSys 2025 folder and write a checked submission",
        description="Load a RecSys Challenge 2025 folder, fit the model on all clients' "
        "events (or on the first --max-users clients), embed the relevant clients and "
        "write client_ids.npy and embeddings.npy (float16), checked by "
        "validate_submission.",
    )
    recsys.add_argument("data_dir", metavar="DATA_DIR", help="the challenge's data folder")
    recsys.add_argument("--out", required=True, help="submission folder to write")
    recsys.set_defaults(func=_recsys_command, before=None)

    evaluate = sub.add_parser(
        "evaluate",
        parents=[common, reading],
        help="score EMBEDDINGS on the challenge's tasks built from EVENTS",
        description="Build the challenge's time split and six tasks from EVENTS (its "
        "relevant clients for a RecSys 2025 folder) and score EMBEDDINGS on them. The "
        "embeddings must come from the events before the printed cut (see 'ubp embed "
        "--before split').",
    )
    evaluate.add_argument(
        "embeddings",
        metavar="EMBEDDINGS",
        help="embeddings by user: .parquet, .csv, .npy (+ NAME.ids.npy) or a submission folder",
    )
    evaluate.add_argument("events", metavar="EVENTS", help="the full event log (with targets)")
    evaluate.add_argument("--ids", help="user ids of a .npy EMBEDDINGS (default NAME.ids.npy)")
    evaluate.add_argument(
        "--protocol",
        choices=("fast", "official", "probe"),
        default=None,
        help="downstream model (default: fast for the challenge's tasks, probe for "
        "future-window tasks)",
    )
    tasks = evaluate.add_argument_group("tasks")
    tasks.add_argument(
        "--tasks",
        choices=("auto", "challenge", "future"),
        default="auto",
        help="the challenge's six tasks, or future-window tasks (active, n_future, spend, "
        "categories) for any log; auto: future with --cut or on a log without the "
        "challenge's event types",
    )
    tasks.add_argument(
        "--cut",
        metavar="DATE",
        help="future-window tasks: targets from DATE on (default: the last --horizon-days)",
    )
    tasks.add_argument("--horizon-days", type=_positive_int, default=28, help="(default 28)")
    tasks.add_argument(
        "--purchase", default="product_buy", help="the purchase event type (default product_buy)"
    )
    tasks.add_argument("--amount", help="numeric field summed into 'spend'")
    tasks.add_argument("--category", help="categorical field of the 'categories' task")
    tasks.add_argument("--n-categories", type=_positive_int, default=20, help="(default 20)")
    tasks.add_argument(
        "--basket", help="field grouping events into baskets for n_future (e.g. timestamp)"
    )
    evaluate.add_argument(
        "--all-users",
        action="store_true",
        help="for a RecSys 2025 folder: score every embedded user, not only relevant clients",
    )
    evaluate.add_argument(
        "--baselines", action="store_true", help="also score random vectors and baseline counts"
    )
    evaluate.add_argument("--out", help="also write the table to this .csv file")
    evaluate.set_defaults(func=_evaluate_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ubp`` console script; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 on success, 1 for an error in the input (reported on standard error as
        ``ubp: error: ...``), 130 when interrupted. Bad arguments exit with status 2
        (``SystemExit``, from argparse).
    """
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        print("ubp: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        if args.debug:
            raise
        print(
            "ubp: error: out of memory; try --max-users or a smaller --chunk-size",
            file=sys.stderr,
        )
        return 1
    except _USER_ERRORS as exc:
        if args.debug:
            raise
        message = str(exc) if isinstance(exc, CLIError) else f"{type(exc).__name__}: {exc}"
        hint = "" if isinstance(exc, CLIError) else " (run with --debug for the traceback)"
        print(f"ubp: error: {message}{hint}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
