"""The ``ubp`` argument parser and the entry point, :func:`main`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from . import _commands, _demo
from ._common import DEFAULT_CHUNK_SIZE, UserError

#: Exit status of an error in what the user gave (as argparse's for bad arguments).
USER_ERROR_STATUS = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {value}")
    return value


def _C_value(text: str) -> float | str:
    """``--C``: a positive number or ``auto``."""
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number or 'auto'; got {text!r}")
    return value


def _common_options() -> argparse.ArgumentParser:
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
    return common


def _reading_options() -> argparse.ArgumentParser:
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
    return reading


def _model_options() -> argparse.ArgumentParser:
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
    return model_opts


def _chunk_options() -> argparse.ArgumentParser:
    chunking = argparse.ArgumentParser(add_help=False)
    chunking.add_argument(
        "--chunk-size",
        type=_positive_int,
        default=DEFAULT_CHUNK_SIZE,
        help=f"users transformed at a time (default {DEFAULT_CHUNK_SIZE:,})",
    )
    return chunking


#: Each subcommand: its option groups, its line in ``ubp --help`` and its description.
_COMMANDS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "demo": (
        ("common",),
        "synthetic data, profiles and a score table",
        "Generate a synthetic RecSys-2025-style log, build the challenge's "
        "tasks, and print the downstream scores of random vectors, the official "
        "baseline's counts, EventCountEmbedder, the profile (and each of its members) "
        "and the oracle.",
    ),
    "fit": (
        ("common", "reading", "model"),
        "fit a model on EVENTS and save it (joblib)",
        "Fit a model on the users of EVENTS (all, or --max-users of them) and save it with joblib.",
    ),
    "embed": (
        ("common", "reading", "chunking"),
        "embed the users of EVENTS with a saved model",
        "Embed every user of EVENTS with a model saved by 'ubp fit'. A "
        ".parquet output keeps the user ids as its index (column client_id, or the "
        "name of the input's user column); a .npy output writes a float32 matrix and "
        "the ids, in the same order, to NAME.ids.npy.",
    ),
    "recsys2025": (
        ("common", "model", "chunking"),
        "fit on a RecSys 2025 folder and write a checked submission",
        "Load a RecSys Challenge 2025 folder, fit the model on all clients' "
        "events (or on the first --max-users clients), embed the relevant clients and "
        "write client_ids.npy and embeddings.npy (float16), checked by "
        "validate_submission.",
    ),
    "evaluate": (
        ("common", "reading"),
        "score EMBEDDINGS on the challenge's tasks built from EVENTS",
        "Build the challenge's time split and six tasks from EVENTS (its "
        "relevant clients for a RecSys 2025 folder) and score EMBEDDINGS on them. The "
        "embeddings must come from the events before the printed cut (see 'ubp embed "
        "--before split').",
    ),
}


def _add_demo(parsers: dict[str, argparse.ArgumentParser]) -> None:
    demo = parsers["demo"]
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
        default="all",
        help="users the profile is fitted on, without labels: all users (default) or only "
        "the relevant clients that are scored (input-period events only, either way)",
    )
    demo.add_argument(
        "--C",
        type=_C_value,
        default="auto",
        help="inverse L2 strength of the fast protocol's logistic models: a number, or auto "
        "(default: chosen per task and per row by inner cross-validation on the training "
        "users)",
    )
    demo.add_argument("--plots", metavar="DIR", help="write scores, map and history PNGs here")
    demo.set_defaults(func=_demo.demo)


#: The options of ``ubp embed`` besides the shared ones.
_EMBED_OPTIONS: dict[str, dict] = {
    "--relevant": {
        "action": "store_true",
        "help": "for a RecSys 2025 folder: only the relevant clients",
    },
    "--max-users": {"type": _positive_int, "help": "embed at most this many users (quick runs)"},
    "--buckets": {
        "type": _positive_int,
        "metavar": "N",
        "help": "read and embed EVENTS in N buckets of users (memory: about one bucket) into "
        "the folder --out, one parquet part per bucket; a rerun resumes",
    },
}


def _add_fit_embed(parsers: dict[str, argparse.ArgumentParser]) -> None:
    fit = parsers["fit"]
    fit.add_argument("events", metavar="EVENTS", help="event log to fit on")
    fit.add_argument(
        "--out",
        required=True,
        help="where to save the model (.joblib; .skops: the skops format, safe to load)",
    )
    fit.set_defaults(func=_commands.fit_command)

    embed = parsers["embed"]
    embed.add_argument("model", metavar="MODEL", help="a model file written by 'ubp fit'")
    embed.add_argument("events", metavar="EVENTS", help="event log to embed")
    embed.add_argument("--out", required=True, help="embeddings.parquet, .npy or .csv")
    for flag, options in _EMBED_OPTIONS.items():
        embed.add_argument(flag, **options)
    embed.set_defaults(func=_commands.embed_command)


def _add_recsys(parsers: dict[str, argparse.ArgumentParser]) -> None:
    recsys = parsers["recsys2025"]
    recsys.add_argument("data_dir", metavar="DATA_DIR", help="the challenge's data folder")
    recsys.add_argument("--out", required=True, help="submission folder to write")
    recsys.add_argument(
        "--buckets",
        type=_positive_int,
        metavar="N",
        help="embed the relevant clients in N buckets of users, read one at a time (the "
        "memory of about one bucket besides the fit's)",
    )
    recsys.set_defaults(func=_commands.recsys_command, before=None)


def _add_task_options(evaluate: argparse.ArgumentParser) -> None:
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


def _add_evaluate(parsers: dict[str, argparse.ArgumentParser]) -> None:
    evaluate = parsers["evaluate"]
    evaluate.add_argument(
        "embeddings",
        metavar="EMBEDDINGS",
        help="embeddings by user: .parquet, .csv, .npy (+ NAME.ids.npy), a folder of "
        "parquet files or a submission folder",
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
    evaluate.add_argument(
        "--C",
        type=_C_value,
        default=None,
        help="for --protocol fast: inverse L2 strength, a number or auto (chosen per task "
        "by inner cross-validation on the training users); default 0.01",
    )
    _add_task_options(evaluate)
    evaluate.add_argument(
        "--all-users",
        action="store_true",
        help="for a RecSys 2025 folder: score every embedded user, not only relevant clients",
    )
    evaluate.add_argument(
        "--baselines", action="store_true", help="also score random vectors and baseline counts"
    )
    evaluate.add_argument("--out", help="also write the table to this .csv file")
    evaluate.set_defaults(func=_commands.evaluate_command)


def build_parser() -> argparse.ArgumentParser:
    """The ``ubp`` argument parser (its subcommands are documented in ``ubp --help``)."""
    groups = {
        "common": _common_options(),
        "reading": _reading_options(),
        "model": _model_options(),
        "chunking": _chunk_options(),
    }
    parser = argparse.ArgumentParser(
        prog="ubp",
        description="Universal Behavioral Profiles: one vector per user from event logs.",
        epilog="EVENTS is a RecSys Challenge 2025 folder, an event frame (parquet, one row "
        "per user with list columns) or a long table (parquet or CSV, one row per event "
        "with user-id and timestamp columns).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parsers = {
        name: sub.add_parser(
            name, parents=[groups[g] for g in names], help=summary, description=description
        )
        for name, (names, summary, description) in _COMMANDS.items()
    }
    _add_demo(parsers)
    _add_fit_embed(parsers)
    _add_recsys(parsers)
    _add_evaluate(parsers)
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
        0 on success; 2 for an error in what was given (a bad path, file or value,
        reported in one line on standard error as ``ubp: error: ...``; bad arguments
        exit with status 2 too, through ``SystemExit`` from argparse); 1 when out of
        memory; 130 when interrupted. Any other exception is a bug: it propagates with
        its traceback.
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
    except (UserError, OSError) as exc:
        if args.debug:
            raise
        message = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
        hint = "" if isinstance(exc, UserError) else " (run with --debug for the traceback)"
        print(f"ubp: error: {message}{hint}", file=sys.stderr)
        return USER_ERROR_STATUS
