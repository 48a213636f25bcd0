"""Downstream evaluation: the RecSys Challenge 2025 split, targets, metrics and protocols."""

from ._baselines import official_baseline, oracle_embeddings, oracle_scores, random_embeddings
from ._metrics import auroc, diversity, novelty, task_score
from ._protocol import evaluate
from ._submission import validate_submission, write_submission
from ._tasks import TASK_NAMES, make_tasks

__all__ = [
    "TASK_NAMES",
    "auroc",
    "diversity",
    "evaluate",
    "make_tasks",
    "novelty",
    "official_baseline",
    "oracle_embeddings",
    "oracle_scores",
    "random_embeddings",
    "task_score",
    "validate_submission",
    "write_submission",
]
