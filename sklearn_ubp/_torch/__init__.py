"""Torch code shared by the sequence members (the GRU autoencoder, and any later one).

- :mod:`._modules`: lane dropout, stacked GRU, the sequence autoencoder and its loss;
- :mod:`._batching`: ragged sequences as a dataset and length-bucketed batches;
- :mod:`._device`: torch devices from :func:`sklearn_ubp._device.check_device`;
- :mod:`._training`: training parameters, seeding, hold-out split, epoch history;
- :mod:`._net`: the skorch net and its callbacks (imports skorch, so not re-exported);
- :mod:`._inference`: batched encoding without gradients.
"""

from ._batching import LengthBatches, SequenceDataset
from ._device import inference_device, training_device
from ._inference import (
    INFERENCE_BATCH,
    INFERENCE_TOKENS,
    MIN_INFERENCE_ROWS,
    encode_sequences,
    exact_batches,
    inference_batches,
    pca_project,
    reconstruction_counts,
)
from ._modules import (
    ADAPTIVE_CUTOFFS,
    ADAPTIVE_MIN_IDS,
    LaneDropout,
    ReconstructionLoss,
    SequenceAutoencoder,
    StackedGRU,
    adaptive_cutoffs,
)
from ._training import (
    EXPLOSION_FACTOR,
    GRADIENT_CLIP,
    OWN_CALLBACKS,
    TRAINING_CONSTRAINTS,
    ModelSpec,
    TrainedNet,
    TrainingConfig,
    TrainingDivergedError,
    check_callbacks,
    check_loss,
    epoch_history,
    fused_adam_available,
    holdout_split,
    train_net,
)

__all__ = [
    "ADAPTIVE_CUTOFFS",
    "ADAPTIVE_MIN_IDS",
    "EXPLOSION_FACTOR",
    "GRADIENT_CLIP",
    "INFERENCE_BATCH",
    "INFERENCE_TOKENS",
    "MIN_INFERENCE_ROWS",
    "OWN_CALLBACKS",
    "TRAINING_CONSTRAINTS",
    "LaneDropout",
    "LengthBatches",
    "ModelSpec",
    "ReconstructionLoss",
    "SequenceAutoencoder",
    "SequenceDataset",
    "StackedGRU",
    "TrainedNet",
    "TrainingConfig",
    "TrainingDivergedError",
    "adaptive_cutoffs",
    "check_callbacks",
    "check_loss",
    "encode_sequences",
    "epoch_history",
    "exact_batches",
    "fused_adam_available",
    "holdout_split",
    "inference_batches",
    "inference_device",
    "pca_project",
    "reconstruction_counts",
    "train_net",
    "training_device",
]
