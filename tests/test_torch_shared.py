"""sklearn_ubp._torch: the pieces any sequence member trains and infers with."""

import numpy as np
import pytest
import torch
from skorch.callbacks import EpochScoring

from sklearn_ubp._sequences import numeric_sequences
from sklearn_ubp._torch import (
    MIN_INFERENCE_ROWS,
    OWN_CALLBACKS,
    LengthBatches,
    ModelSpec,
    ReconstructionLoss,
    SequenceAutoencoder,
    SequenceDataset,
    TrainingConfig,
    TrainingDivergedError,
    check_callbacks,
    check_loss,
    encode_sequences,
    exact_batches,
    holdout_split,
    inference_device,
    train_net,
    training_device,
)


def numeric_model(hidden_size: int = 4) -> ModelSpec:
    params = {
        "vocab_sizes": [],
        "reconstruct": [0],
        "numeric": True,
        "embedding_dim": 4,
        "combine": "sum",
        "hidden_size": hidden_size,
        "n_layers": 1,
        "dropout": 0.0,
    }
    return ModelSpec(
        SequenceAutoencoder, params, ReconstructionLoss, {"reconstruct": [0], "numeric": True}
    )


def test_holdout_split_keeps_user_order_and_all_users():
    seqs = numeric_sequences(np.arange(40, dtype=float).reshape(10, 4))
    train, valid = holdout_split(seqs, 0.3, seed=0)
    assert (len(train), len(valid)) == (7, 3)
    firsts = sorted(np.concatenate([s.tokens[s.offsets[:-1] + 1, 0] for s in (train, valid)]))
    assert firsts == sorted(seqs.tokens[seqs.offsets[:-1] + 1, 0])
    assert holdout_split(seqs, 0.0, seed=0) == (seqs, None)
    assert holdout_split(seqs, 0.99, seed=0) == (seqs, None)  # no user left to train on


def test_length_batches_cover_every_user_once():
    seqs = numeric_sequences(np.ones((9, 3)))
    batches = LengthBatches(SequenceDataset(seqs), 4, shuffle=True, rng=np.random.default_rng(0))
    seen = np.concatenate([b for b in batches.batches])
    assert sorted(seen) == list(range(9)) and len(batches) == 3
    (X, y), *_ = list(batches)
    assert y is None and set(X) == {"tokens", "lengths"}


def test_devices():
    assert training_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device"):
        training_device("tpu")
    if not torch.cuda.is_available():
        assert inference_device("cuda") == torch.device("cpu")


def test_check_callbacks():
    scoring = EpochScoring("neg_mean_squared_error")
    assert check_callbacks(None) == []
    assert check_callbacks((scoring, ("mine", EpochScoring))) == [scoring, ("mine", EpochScoring)]
    for name in OWN_CALLBACKS:
        with pytest.raises(ValueError, match=f"callbacks\\[0\\] is named '{name}'"):
            check_callbacks([(name, scoring)])
    with pytest.raises(ValueError, match="callbacks must be None or a list"):
        check_callbacks(scoring)


def test_train_net_is_seeded_and_ends_on_the_cpu():
    seqs = numeric_sequences(np.random.default_rng(0).normal(size=(60, 5)))
    config = TrainingConfig(
        lr=1e-2, max_epochs=2, batch_size=16, validation_fraction=0.2, patience=2
    )
    runs = [train_net(numeric_model(), seqs, config, device=torch.device("cpu"), seed=3)]
    runs.append(train_net(numeric_model(), seqs, config, device=torch.device("cpu"), seed=3))
    assert [h["epoch"] for h in runs[0].history] == [1, 2]
    assert runs[0].history[0]["train_loss"] == runs[1].history[0]["train_loss"]
    net = runs[0].net
    assert net.device == "cpu" and not net.module_.training and not net.optimizer_.state
    a, b = (encode_sequences(r.net.module_, seqs, "cpu", 4) for r in runs)
    assert a.dtype == np.float32 and a.shape == (60, 4)
    np.testing.assert_array_equal(a, b)


def test_check_loss_rule():
    kw = {"epoch": 2, "batch": "training batch 3", "lr": 0.1}
    check_loss(999.0, 0.001, **kw)  # the floor: 1000 x max(first, 1)
    check_loss(2e4, 20.0, **kw)
    with pytest.raises(TrainingDivergedError, match="epoch 2, training batch 3: the loss 1001"):
        check_loss(1001.0, 0.5, **kw)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(FloatingPointError, match="is not finite.*lr=0.1"):
            check_loss(bad, 1.0, **kw)


def test_exact_batches_have_enough_rows():
    lengths = np.r_[np.full(50, 3), np.arange(4, 30), [40, 40, 41]]
    batches = exact_batches(np.random.default_rng(0).permutation(lengths))
    assert sorted(np.concatenate(batches)) == list(range(len(lengths)))
    assert all(len(b) >= MIN_INFERENCE_ROWS for b in batches[:-1])
    assert len(batches[-1]) < MIN_INFERENCE_ROWS  # the longest users: filled at encoding
    assert exact_batches(np.full(20, 5))[0].size == 20 and exact_batches(np.array([])) == []
