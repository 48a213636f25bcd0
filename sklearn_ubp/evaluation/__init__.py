"""Downstream evaluation: the RecSys Challenge 2025 split, future-window tasks for any log,
metrics, baselines and protocols (the challenge's, and a cross-validated linear probe)."""

from ._baselines import official_baseline, oracle_embeddings, oracle_scores, random_embeddings
from ._future import FUTURE_TASK_NAMES, make_future_tasks
from ._metrics import auroc, diversity, novelty, task_score
from ._protocol import evaluate
from ._rfm import rfm_features
from ._submission import validate_submission, write_submission
from ._tasks import TASK_NAMES, make_tasks

__all__ = [
    "FUTURE_TASK_NAMES",
    "TASK_NAMES",
    "auroc",
    "diversity",
    "evaluate",
    "make_future_tasks",
    "make_tasks",
    "novelty",
    "official_baseline",
    "oracle_embeddings",
    "oracle_scores",
    "random_embeddings",
    "rfm_features",
    "task_score",
    "validate_submission",
    "write_submission",
]
