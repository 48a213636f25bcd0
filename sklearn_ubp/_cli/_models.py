"""The models of the commands: building, fitting, embedding, loading, scoring."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np
import pandas as pd

from ._common import DEFAULT_CHUNK_SIZE, Timer, UserError, log, progress


def available_models() -> dict[str, str]:
    """Model names accepted by ``--model`` and the estimator each one builds (the
    registry, :data:`sklearn_ubp._registry.ESTIMATORS`)."""
    from .._registry import ESTIMATORS

    return {name: spec.class_name for name, spec in ESTIMATORS.items()}


def default_model() -> str:
    return next(iter(available_models()))


def set_matching(model: Any, name: str, value: Any) -> list[str]:
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
    from .._registry import make_estimator

    name = args.model or default_model()
    models = available_models()
    if name not in models:
        raise UserError(f"--model {name!r}: choose from {', '.join(models)}.")
    model = make_estimator(name)
    set_matching(model, "random_state", args.seed)
    set_matching(model, "device", getattr(args, "device", "cpu"))
    epochs = getattr(args, "epochs", None)
    if epochs is not None:
        set_matching(model, "max_epochs", epochs)
    if not getattr(args, "quiet", False):
        # The profile reports each member's fit; the members' own progress bars (the
        # GRU's epochs) only on a terminal or with --progress.
        if "verbose" in model.get_params(deep=False):
            model.set_params(verbose=True)
        if getattr(args, "progress", False) or sys.stderr.isatty():
            set_matching(model, "verbose", True)
    return model


def fit(model: Any, frame: pd.DataFrame, args: argparse.Namespace) -> Any:
    """Fit ``model`` on ``frame``; a ValueError (bad events) is a user error."""
    timer = Timer()
    log(args, f"fitting {type(model).__name__} on {len(frame):,} users ...")
    try:
        model.fit(frame)
    except ValueError as exc:
        raise UserError(f"cannot fit {type(model).__name__} on these events: {exc}") from exc
    log(args, f"fitted {type(model).__name__} ({timer})")
    set_matching(model, "verbose", False)  # a quiet model to save and to transform with
    return model


def feature_names(model: Any, n: int) -> list[str]:
    """The model's output names, or ``dim_0 ...`` when it has none (or not ``n``)."""
    try:
        names = [str(c) for c in model.get_feature_names_out()]
    except (AttributeError, ValueError, TypeError):
        names = []
    if len(names) != n or len(set(names)) != n:
        names = [f"dim_{i}" for i in range(n)]
    return names


def transform(model: Any, frame: pd.DataFrame) -> np.ndarray:
    """``model.transform(frame)`` as float32; a ValueError (bad events) is a user error."""
    try:
        out = model.transform(frame)
    except ValueError as exc:
        raise UserError(f"cannot embed these events with {type(model).__name__}: {exc}") from exc
    return np.asarray(out, dtype=np.float32)


def embed_frame(
    model: Any,
    frame: pd.DataFrame,
    args: argparse.Namespace,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    quiet: bool = False,
) -> pd.DataFrame:
    """Transform ``frame`` in chunks of users (a progress bar) into a DataFrame by user."""
    if chunk_size < 1:
        raise UserError(f"--chunk-size must be at least 1; got {chunk_size}.")
    starts = range(0, max(len(frame), 1), chunk_size)
    timer = Timer()
    parts = [
        transform(model, frame.iloc[start : start + chunk_size])
        for start in progress(starts, total=len(starts), desc="embedding", args=args)
    ]
    values = np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)
    index = frame.index.copy()
    index.name = index.name or "client_id"
    out = pd.DataFrame(values, index=index, columns=feature_names(model, values.shape[1]))
    if not quiet:
        log(args, f"embedded {len(frame):,} users into {values.shape[1]} dimensions ({timer})")
    return out


def score_table(scores: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Tasks x members table of the ``score`` rows of :func:`~sklearn_ubp.evaluation.evaluate`."""
    return pd.DataFrame(
        {
            name: table[table["metric"] == "score"].set_index("task")["value"]
            for name, table in scores.items()
        }
    )


def score(
    name: str,
    embeddings: Any,
    tasks: Any,
    args: argparse.Namespace,
    scores: dict[str, pd.DataFrame],
) -> None:
    """Evaluate ``embeddings`` on ``tasks`` into ``scores[name]``."""
    from ..evaluation import evaluate
    from ..evaluation._protocol import resolve_protocol

    protocol = resolve_protocol(tasks, getattr(args, "protocol", None))
    options = {}
    if getattr(args, "C", None) is not None:
        if protocol != "fast":
            raise UserError(f"--C applies to the fast protocol only; this run uses {protocol!r}.")
        options["C"] = args.C
    timer = Timer()
    try:
        scores[name] = evaluate(
            embeddings,
            tasks,
            protocol=protocol,
            device=getattr(args, "device", "cpu"),
            random_state=args.seed,
            **options,
        )
    except ValueError as exc:
        raise UserError(
            f"cannot score {name}: {exc} (too few users, or too few purchases in the "
            "target windows, for this task?)"
        ) from exc
    log(args, f"  scored {name} in {timer}")


def members(model: Any) -> list[tuple[str, Any]]:
    """The fitted ``(name, member)`` pairs of a UniversalProfile or FeatureUnion."""
    pairs = getattr(model, "transformers_", None) or getattr(model, "transformer_list", None)
    return [(n, m) for n, m in pairs or [] if not isinstance(m, str)]


def member_blocks(model: Any, embeddings: np.ndarray) -> dict[str, np.ndarray]:
    """Column blocks of a UniversalProfile's output, one per member (``output_indices_``)."""
    indices = getattr(model, "output_indices_", {})
    blocks = {name: embeddings[:, cols] for name, cols in indices.items()}
    blocks = {name: block for name, block in blocks.items() if block.shape[1]}
    return blocks if len(blocks) >= 2 else {}
