"""GRUSequenceAutoencoder: tokenisation, training, inference, persistence, bad input.

The contract and sklearn's full ``check_estimator`` run in ``tests/test_common.py``.
"""

import io
import os
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import torch
from sklearn.base import clone
from skorch import NeuralNet
from skorch.callbacks import Callback

from sklearn_ubp import EventView, GRUSequenceAutoencoder, group_events
from sklearn_ubp._sequences import (
    BOS,
    EOS,
    N_SPECIAL,
    OOV,
    PAD,
    event_sequences,
    fit_vocabulary,
    length_batches,
    padding_waste,
)
from sklearn_ubp._torch import LaneDropout, ReconstructionLoss, adaptive_cutoffs
from sklearn_ubp.datasets import make_events

ROOT = Path(__file__).resolve().parents[1]
#: Small and quick settings; the behaviour tested does not depend on the size.
TINY = {"hidden_size": 8, "embedding_dim": 8, "max_epochs": 2, "random_state": 0}


@pytest.fixture(scope="module")
def events():
    return make_events(n_users=800, random_state=5).events


@pytest.fixture(scope="module")
def fitted(events):
    return GRUSequenceAutoencoder(**TINY).fit(events)


def small_log() -> pd.DataFrame:
    """Two users; user 1 has 4 events (one null sku), user 2 none after filtering."""
    log = pd.DataFrame(
        {
            "client_id": [1, 1, 1, 1, 2],
            "timestamp": pd.to_datetime(
                [
                    "2022-01-01 00:00",
                    "2022-01-09 00:00",
                    "2022-01-10 12:00",
                    "2022-01-11 00:00",
                    "2022-01-11 00:00",
                ]
            ),
            "event_type": ["page_visit", "add_to_cart", "product_buy", "product_buy", "page_visit"],
            "sku": [None, 7, 7, 9, None],
            "amount": [np.nan, 2.5, 2.5, 10.0, np.nan],
        }
    )
    return group_events(log)


# ------------------------------------------------------------------ tokenisation


def test_tokens_by_hand():
    frame = small_log()
    view = EventView(frame)
    ref = int(view.times().max())
    day = fit_vocabulary(view, "day", reference_us=ref, max_vocabulary=10, n_bins=4)
    sku = fit_vocabulary(view, "sku", reference_us=ref, max_vocabulary=1, n_bins=4)
    etype = fit_vocabulary(view, "event_type", reference_us=ref, max_vocabulary=10, n_bins=4)
    assert day.size == N_SPECIAL + 11  # days 0..10 before the last event
    assert sku.values.tolist() == [7]  # the most frequent sku only; 9 is out of vocabulary
    seqs = event_sequences(view, [day, sku, etype], max_length=3, reference_us=ref)
    assert seqs.lengths.tolist() == [5, 3]  # BOS + last 3 events + EOS; BOS + 1 + EOS
    user1 = seqs.tokens[: seqs.offsets[1]]
    assert user1[0].tolist() == [BOS] * 3 and user1[-1].tolist() == [EOS] * 3
    # the first event (10 days old) was cut; then 2, 0 (12 hours) and 0 days old
    assert user1[1:4, 0].tolist() == [N_SPECIAL + 2, N_SPECIAL + 0, N_SPECIAL + 0]
    assert user1[1:4, 1].tolist() == [N_SPECIAL + 0, N_SPECIAL + 0, OOV]
    user2 = seqs.tokens[seqs.offsets[1] :]
    assert user2[1, 1] == PAD  # a page visit has no sku
    labels = list(etype.values)
    assert user2[1, 2] == N_SPECIAL + labels.index("page_visit")
    # event types by frequency: product_buy and page_visit (2 each, ties by name) first
    assert labels == ["page_visit", "product_buy", "add_to_cart"]


def test_numeric_fields_are_bucketed():
    frame = small_log()
    gru = GRUSequenceAutoencoder(fields=("amount",), n_bins=2, **TINY).fit(frame)
    vocab = gru.vocabularies_[0]
    assert vocab.kind == "numeric" and vocab.values.tolist() == [2.5]
    seqs = gru._sequences(EventView(frame))
    ids = seqs.tokens[1 : seqs.offsets[1] - 1, 0].tolist()
    assert ids == [PAD, N_SPECIAL + 1, N_SPECIAL + 1, N_SPECIAL + 1]


@pytest.mark.slow
def test_presets_adapt_to_the_columns(events):
    purchases = pd.DataFrame(
        {
            "user": [1, 1, 2, 3, 3, 3],
            "timestamp": pd.to_datetime(
                ["2022-01-01", "2022-02-01", "2022-01-05", "2022-01-02", "2022-01-03", "2022-03-01"]
            ),
            "amount": [9.5, 20.0, 3.0, 4.0, 4.5, 120.0],
            "quantity": [1, 2, 1, 1, 1, 5],
        }
    )
    frame = group_events(purchases, user="user")
    gru = GRUSequenceAutoencoder(**TINY).fit(frame)
    assert gru.fields_ == ["week", "amount", "quantity"]
    assert [v.kind for v in gru.vocabularies_] == ["week", "numeric", "categorical"]
    out = gru.transform(frame)
    assert out.shape == (3, 8) and np.isfinite(out).all()
    day = GRUSequenceAutoencoder(fields="day_event_type", **TINY).fit(events)
    assert day.fields_ == ["day", "event_type"]
    assert GRUSequenceAutoencoder(fields="day_event_type", **TINY).fit(frame).fields_ == ["day"]


@pytest.mark.slow
def test_length_batches_keep_padding_small():
    # heavy-tailed lengths (median 4 tokens, up to 128); the tail batch dominates the
    # waste with few users, so this needs a realistic number of them
    lengths = (
        np.minimum(EventView(make_events(n_users=20_000, random_state=0).events).lengths, 126) + 2
    )
    sorted_waste = padding_waste(lengths, length_batches(lengths, 64))
    shuffled = length_batches(lengths, 64, np.random.default_rng(0))
    random_batches = np.array_split(np.random.default_rng(0).permutation(len(lengths)), 300)
    assert sorted_waste < 0.05 and padding_waste(lengths, random_batches) > 0.5
    assert padding_waste(lengths, shuffled) < 0.05
    assert np.array_equal(np.sort(np.concatenate(shuffled)), np.arange(len(lengths)))


# ------------------------------------------------------------------ the estimator


@pytest.mark.slow
def test_fit_transform_equals_transform_and_rows_follow_users(events, fitted):
    out = fitted.transform(events)
    assert out.dtype == np.float32 and out.shape == (len(events), 8)
    np.testing.assert_array_equal(clone(fitted).fit_transform(events), out)
    rows = np.random.default_rng(1).permutation(len(events))[:50]
    np.testing.assert_allclose(fitted.transform(events.iloc[rows]), out[rows], atol=1e-6)


@pytest.mark.parametrize("size", ["tiny", pytest.param("default", marks=pytest.mark.slow)])
def test_rows_do_not_depend_on_the_other_users_at_all(events, fitted, size):
    """Bit for bit: batches hold one length and at least 16 rows, the PCA is per row."""
    if size == "default":  # the default widths (other CPU kernels); training is moot
        fitted = GRUSequenceAutoencoder(max_epochs=1, random_state=0).fit(events.iloc[:100])
    reduced = GRUSequenceAutoencoder(**{**TINY, "n_components": 4}).fit(events.iloc[:100])
    rng = np.random.default_rng(2)
    for gru in (fitted, reduced):
        out = gru.transform(events)
        order = rng.permutation(len(events))
        np.testing.assert_array_equal(gru.transform(events.iloc[order]), out[order])
        for n in (1, 2, 3, 5, 17, 200):
            rows = rng.permutation(len(events))[:n]
            np.testing.assert_array_equal(gru.transform(events.iloc[rows]), out[rows])


@pytest.mark.slow
def test_deterministic_and_seed_matters(events, fitted):
    again = GRUSequenceAutoencoder(**TINY).fit(events)
    np.testing.assert_array_equal(again.transform(events), fitted.transform(events))
    other = GRUSequenceAutoencoder(**{**TINY, "random_state": 1}).fit(events)
    assert not np.allclose(other.transform(events), fitted.transform(events))


def test_torch_global_random_state_untouched(events):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    GRUSequenceAutoencoder(**TINY).fit(events.iloc[:100])
    assert torch.equal(torch.rand(3), expected)


def test_joblib_round_trip(events, fitted):
    buf = io.BytesIO()
    joblib.dump(fitted, buf)
    buf.seek(0)
    loaded = joblib.load(buf)
    np.testing.assert_array_equal(loaded.transform(events), fitted.transform(events))
    assert next(loaded.module_.parameters()).device.type == "cpu"


def test_a_gpu_model_transforms_on_the_cpu(events, fitted):
    # A model fitted with device="cuda" keeps its module on the CPU; on a machine
    # without CUDA, transform runs there.
    moved = clone(fitted)
    moved.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    moved.set_params(device="cuda")
    out = moved.transform(events)
    np.testing.assert_allclose(out, fitted.transform(events), atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fit_on_cuda_then_cpu(events):
    gru = GRUSequenceAutoencoder(**{**TINY, "device": "cuda"}).fit(events)
    buf = io.BytesIO()
    joblib.dump(gru, buf)
    buf.seek(0)
    cpu = joblib.load(buf).set_params(device="cpu")
    np.testing.assert_allclose(cpu.transform(events), gru.transform(events), atol=1e-4)


def test_empty_histories_and_unseen_values(fitted, events):
    empty = events.iloc[:0]
    assert fitted.transform(empty).shape == (0, 8)
    none = make_events(n_users=50, random_state=11).events
    lengths = EventView(none).lengths
    assert (lengths == 0).sum() >= 2
    out = fitted.transform(none)  # other users, unseen skus and urls
    assert np.isfinite(out).all()
    zero = np.flatnonzero(lengths == 0)
    np.testing.assert_array_equal(out[zero], np.repeat(out[zero[:1]], len(zero), axis=0))
    assert np.abs(out[lengths > 0] - out[zero[0]]).max() > 1e-3


@pytest.mark.slow
def test_learns_a_pattern_the_majority_cannot():
    """Event types alternate buy/visit; the decoder must learn it from the latent."""
    rng = np.random.default_rng(0)
    n_users, n_events = 300, 12
    first = rng.integers(0, 2, n_users)
    kinds = np.array(["page_visit", "product_buy"])
    log = pd.DataFrame(
        {
            "client_id": np.repeat(np.arange(n_users), n_events),
            "timestamp": pd.Timestamp("2022-01-01")
            + pd.to_timedelta(np.tile(np.arange(n_events), n_users), unit="h"),
            "event_type": kinds[
                (np.repeat(first, n_events) + np.tile(np.arange(n_events), n_users)) % 2
            ],
        }
    )
    frame = group_events(log)
    gru = GRUSequenceAutoencoder(
        fields=("event_type",),
        hidden_size=16,
        embedding_dim=8,
        max_epochs=30,
        lr=0.01,
        validation_fraction=0.0,
        random_state=0,
    ).fit(frame)
    acc = gru.reconstruction_accuracy(frame)["event_type"]
    base = gru.majority_accuracy(frame)["event_type"]
    assert base == pytest.approx(0.5, abs=0.05)
    assert acc > 0.95
    losses = [h["train_loss"] for h in gru.history_]
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.slow
def test_early_stopping_restores_the_best_weights(events):
    slow = {**TINY, "lr": 1e-5, "patience": 1, "max_epochs": 6}
    gru = GRUSequenceAutoencoder(**slow).fit(events)
    # the loss barely moves: no epoch improves by the threshold, so it stops at 2
    assert len(gru.history_) == 2 and gru.best_epoch_ == 1
    one = GRUSequenceAutoencoder(**{**slow, "max_epochs": 1}).fit(events)
    np.testing.assert_array_equal(gru.transform(events), one.transform(events))
    two = GRUSequenceAutoencoder(**{**slow, "max_epochs": 2, "validation_fraction": 0.0})
    # without a validation split, the second epoch's weights are kept: they differ
    assert not np.array_equal(two.fit(events).transform(events), one.transform(events))


@pytest.mark.slow
def test_variants(events):
    concat = GRUSequenceAutoencoder(
        fields="day_event_type", combine="concat", n_layers=2, **TINY
    ).fit(events)
    assert concat.module_.embeddings[0].embedding_dim == 8
    assert concat.module_.encoder.layers[1].input_size == 8
    reduced = GRUSequenceAutoencoder(n_components=3, **TINY).fit(events)
    out = reduced.transform(events)
    assert out.shape == (len(events), 3) and reduced.pca_.n_components_ == 3
    assert list(reduced.get_feature_names_out()) == ["gru_0", "gru_1", "gru_2"]
    only_type = GRUSequenceAutoencoder(reconstruct=["event_type"], **TINY).fit(events)
    assert len(only_type.module_.heads) == 1
    assert set(only_type.reconstruction_accuracy(events)) == {"event_type"}


def test_adaptive_softmax_cutoffs():
    assert adaptive_cutoffs(128, 1004) == [32, 128, 512]
    assert adaptive_cutoffs(128, 300) == [32, 128]  # a boundary leaves ids above it
    assert adaptive_cutoffs(4, 1004) == [32, 128]  # tail widths 4 // 2, 4 // 4 >= 1
    assert adaptive_cutoffs(1, 1004) == []  # no room: a full head


@pytest.mark.slow
def test_adaptive_softmax_heads_and_their_loss(events, fitted):
    kinds = {v.name: (v.kind, v.size) for v in fitted.vocabularies_}
    heads = dict(zip(fitted.reconstruct_, fitted.module_.heads, strict=True))
    big = {f for f, (kind, size) in kinds.items() if kind == "categorical" and size > 256}
    assert big and big != set(heads)  # the log has both kinds of field
    for f, head in heads.items():
        assert isinstance(head, torch.nn.AdaptiveLogSoftmaxWithLoss) == (f in big), f
    full = GRUSequenceAutoencoder(softmax="full", **TINY).fit(events)
    assert all(isinstance(h, torch.nn.Linear) for h in full.module_.heads)
    assert not np.array_equal(full.transform(events), fitted.transform(events))

    # every field's output is the exact log-probability of each of its targets (a
    # full softmax, or the adaptive head's factorised one), whether its head ran on
    # all decoder rows (week, event type, url) or on its gathered rows (sku,
    # category, price), and predictions are the most likely ids
    seqs = fitted._sequences(EventView(events))
    tokens, lengths = (torch.from_numpy(a) for a in seqs.padded(np.arange(200)))
    module = fitted.module_
    with torch.no_grad():
        pairs = module(tokens, lengths)
        preds = module.predict(tokens, lengths)
        out, targets = module._decode(tokens, lengths)
        dense, sparse = module._groups(targets)
    assert dense and sparse  # both paths are exercised
    for k, (f, head) in enumerate(heads.items()):
        j = fitted.fields_.index(f)
        keep = targets[:, j] != 0
        t = targets[keep, j].long()
        assert t.numel() > 0
        if f in big:
            log_p = head.log_prob(out[keep])
        else:
            log_p = torch.log_softmax(head(out[keep]), dim=1)
        torch.testing.assert_close(pairs[k][1], t)
        torch.testing.assert_close(pairs[k][0], log_p[torch.arange(len(t)), t])
        torch.testing.assert_close(preds[k][0], log_p.argmax(1))
        torch.testing.assert_close(preds[k][1], t)
        loss = ReconstructionLoss(reconstruct=[j], numeric=False).per_field([pairs[k]])[0]
        torch.testing.assert_close(loss, torch.nn.functional.nll_loss(log_p, t))


def test_cheap_dropout():
    drop = LaneDropout(0.25)
    x = torch.ones(400, 50, 8)
    torch.manual_seed(0)
    y = drop(x)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.75) < 0.01  # drops about p of the elements
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 4 / 3))  # scaled by 1/(1-p)
    assert abs(y.mean().item() - 1.0) < 0.02  # the expectation is kept
    torch.manual_seed(0)
    torch.testing.assert_close(drop(x), y)  # seeded by torch's generator
    assert not torch.equal(drop(x), y)  # a new mask each call
    assert torch.equal(drop.eval()(x), x)  # identity in eval mode
    assert torch.equal(LaneDropout(0.0).train()(x), x)
    assert torch.equal(LaneDropout(1 - 1e-9).train()(x), torch.zeros_like(x))
    g = torch.ones(7, 3, requires_grad=True)  # odd sizes: a partial last random word
    LaneDropout(0.5).train()(g).sum().backward()
    assert set(g.grad.unique().tolist()) <= {0.0, 2.0}


@pytest.mark.slow
def test_reconstruction_beats_majority_after_training(events):
    gru = GRUSequenceAutoencoder(
        fields="day_event_type",
        hidden_size=32,
        max_epochs=10,
        batch_size=32,
        lr=0.005,
        random_state=0,
    ).fit(events)
    acc, base = gru.reconstruction_accuracy(events), gru.majority_accuracy(events)
    assert acc["day"] > base["day"] + 0.05


def test_verbose_prints_epochs(events, capsys):
    GRUSequenceAutoencoder(**{**TINY, "verbose": True}).fit(events.iloc[:200])
    out = capsys.readouterr()
    assert "train_loss" in out.out and "valid_loss" in out.out


# ------------------------------------------------------------------ skorch: net_, callbacks


class EpochRecorder(Callback):
    """Records the epochs it sees (module level, so that a net holding it pickles)."""

    def initialize(self):
        self.epochs = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs.append(net.history[-1, "epoch"])


def test_net_is_kept_on_the_cpu_with_the_history(fitted):
    net = fitted.net_
    assert isinstance(net, NeuralNet)
    assert net.module_ is fitted.module_
    assert net.device == "cpu" and not net.optimizer_.state
    keys = ("epoch", "train_loss", "valid_loss", "dur")
    assert [tuple(row[k] for k in keys) for row in net.history] == [
        tuple(h[k] for k in keys) for h in fitted.history_
    ]
    assert dict(net.callbacks_)["early_stopping"].best_epoch_ == fitted.best_epoch_


@pytest.mark.slow
def test_callbacks_are_called_after_the_own_ones(events):
    recorder = EpochRecorder()
    gru = GRUSequenceAutoencoder(**TINY, callbacks=[recorder]).fit(events.iloc[:200])
    assert recorder.epochs == [1, 2]
    names = [name for name, _ in gru.net_.callbacks_]
    assert names.index("EpochRecorder") > names.index("early_stopping")
    assert dict(gru.net_.callbacks_)["EpochRecorder"] is recorder
    # a callback that only watches leaves the training as it was
    plain = GRUSequenceAutoencoder(**TINY).fit(events.iloc[:200])
    np.testing.assert_array_equal(gru.transform(events), plain.transform(events))


@pytest.mark.parametrize(
    "callbacks, match",
    [
        ("progress", "callbacks"),
        ([print], r"callbacks\[0\] must be a skorch Callback"),
        ([EpochRecorder(), ("log", 3)], r"callbacks\[1\] must be a skorch Callback"),
        ([("clip", EpochRecorder())], r"callbacks\[0\] is named 'clip'"),
        ([("train_loss", EpochRecorder)], "named 'train_loss'"),
    ],
)
def test_bad_callbacks(events, callbacks, match):
    with pytest.raises(ValueError, match=match):
        GRUSequenceAutoencoder(**TINY, callbacks=callbacks).fit(events.iloc[:50])


def test_pickled_model_keeps_one_module_and_its_net(events):
    gru = GRUSequenceAutoencoder(**TINY, callbacks=[EpochRecorder()]).fit(events.iloc[:300])
    buf = io.BytesIO()
    joblib.dump(gru, buf)
    buf.seek(0)
    loaded = joblib.load(buf)
    np.testing.assert_array_equal(loaded.transform(events), gru.transform(events))
    assert loaded.module_ is loaded.net_.module_
    assert not loaded.module_.training
    assert list(loaded.net_.history[:, "train_loss"]) == list(gru.net_.history[:, "train_loss"])
    assert dict(loaded.net_.callbacks_)["EpochRecorder"].epochs == [1, 2]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_model_fitted_on_cuda_loads_where_there_is_none(events, tmp_path):
    import subprocess
    import sys

    gru = GRUSequenceAutoencoder(**{**TINY, "device": "cuda"}).fit(events)
    joblib.dump(gru, tmp_path / "gru.joblib")
    np.save(tmp_path / "emb.npy", gru.transform(events))
    events.to_pickle(tmp_path / "events.pkl")
    code = (
        "import warnings, sys, joblib, numpy as np, pandas as pd, torch\n"
        "warnings.simplefilter('error')\n"
        "assert not torch.cuda.is_available()\n"
        f"gru = joblib.load({str(tmp_path / 'gru.joblib')!r})\n"
        "assert all(p.device.type == 'cpu' for p in gru.net_.module_.parameters())\n"
        f"out = gru.transform(pd.read_pickle({str(tmp_path / 'events.pkl')!r}))\n"
        f"np.testing.assert_allclose(out, np.load({str(tmp_path / 'emb.npy')!r}), atol=1e-4)\n"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "params, match",
    [
        ({"fields": ("sku", "colour")}, "no column 'colour'"),
        ({"fields": ()}, "at least one field"),
        ({"fields": ("sku", "sku")}, "duplicate"),
        ({"reconstruct": ["url"], "fields": ("sku",)}, "reconstruct"),
        ({"fields": "weekly"}, "fields"),
        ({"hidden_size": 0}, "hidden_size"),
        ({"dropout": 1.0}, "dropout"),
        ({"softmax": "sampled"}, "softmax"),
        ({"device": "tpu0"}, "device"),
        ({"n_components": 9}, "n_components"),
    ],
)
def test_bad_parameters(events, params, match):
    with pytest.raises(ValueError, match=match):
        GRUSequenceAutoencoder(**{**TINY, **params}).fit(events.iloc[:50])


class TrainingStarts(Callback):
    """Records whether training started."""

    started = False

    def on_train_begin(self, net, **kwargs):
        type(self).started = True


def test_parameters_are_checked_before_any_training(events):
    with pytest.raises(ValueError, match="n_components=9 must be at most"):
        GRUSequenceAutoencoder(**{**TINY, "n_components": 9, "callbacks": [TrainingStarts()]}).fit(
            events.iloc[:50]
        )
    assert not TrainingStarts.started


def test_a_diverging_training_stops_naming_the_loss(events):
    with pytest.raises(FloatingPointError, match=r"epoch 1, training batch \d+: the loss") as e:
        GRUSequenceAutoencoder(**{**TINY, "lr": 1e6}).fit(events.iloc[:300])
    assert "learning rate too high (lr=1e+06" in str(e.value) and "scale" in str(e.value)


def test_array_values_that_overflow_are_refused_before_training():
    X = np.full((30, 4), 1e300) * np.arange(4)
    with pytest.raises(ValueError, match="field 'value'.*overflows float64"):
        GRUSequenceAutoencoder(**{**TINY, "callbacks": [TrainingStarts()]}).fit(X)
    assert not TrainingStarts.started
    large = GRUSequenceAutoencoder(**TINY).fit(X * 1e-290)  # large but finite
    assert np.isfinite(large.transform(X * 1e-290)).all()


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_cuda_is_a_clear_error(events):
    with pytest.raises(ValueError, match="CUDA is not available"):
        GRUSequenceAutoencoder(**{**TINY, "device": "cuda"}).fit(events.iloc[:50])


def test_wrong_kind_at_transform(fitted, events):
    with pytest.raises(ValueError, match="fitted on an event frame"):
        fitted.transform(np.zeros((3, 4)))
    # an array is an event frame (column_id and value events): its tokens are scored too
    on_array = GRUSequenceAutoencoder(**TINY).fit(np.ones((20, 4)))
    assert on_array.fields_ == ["week", "column_id", "value"]
    assert set(on_array.reconstruction_accuracy(np.ones((2, 4)))) == set(on_array.fields_)
    with pytest.raises(ValueError, match="fitted on a 2-D numeric array"):
        on_array.transform(events.iloc[:5])


def test_untokenisable_column():
    frame = small_log()
    frame["when"] = pd.Series(
        [frame["timestamp"].iloc[0], frame["timestamp"].iloc[1]],
        index=frame.index,
        dtype=pd.ArrowDtype(pa.list_(pa.timestamp("us"))),
    )
    with pytest.raises(ValueError, match="'when'.*cannot be tokenised"):
        GRUSequenceAutoencoder(fields=("when",), **TINY).fit(frame)


# ------------------------------------------------------------------ 2-D arrays


@pytest.mark.slow
def test_array_sequences_are_reconstructed():
    """Rows are noisy sine waves of random phase: predictable from the latent."""
    rng = np.random.default_rng(0)
    phase = rng.uniform(0, 2 * np.pi, 400)
    X = np.sin(phase[:, None] + np.arange(12)[None, :] * 0.6) + 0.05 * rng.normal(size=(400, 12))
    # the array's events, read by their values (32 quantile buckets)
    gru = GRUSequenceAutoencoder(
        fields=("value",), hidden_size=16, embedding_dim=8, max_epochs=40, lr=0.01, random_state=0
    ).fit(X)
    losses = [h["train_loss"] for h in gru.history_]
    # a cross-entropy over noisy buckets: far from 0 even when the phase is known
    assert losses[-1] < 0.6 * losses[0]
    emb = gru.transform(X)
    # the latent encodes the phase: a linear read-out of (sin, cos) from it works
    from sklearn.linear_model import LinearRegression

    target = np.c_[np.sin(phase + 11 * 0.6), np.cos(phase + 11 * 0.6)]
    assert LinearRegression().fit(emb, target).score(emb, target) > 0.8


# ------------------------------------------------------------------ checkpoints

#: Training stopped early (patience 1) after a few epochs: resuming must restore
#: early stopping's state too.
CHECKPOINTED = {**TINY, "max_epochs": 5, "max_length": 16, "lr": 0.05, "patience": 1}


class Crash(Callback):
    """Raises in the 2nd training batch of epoch ``epoch``; or SIGKILLs its process
    there when the environment variable ``UBP_TEST_SIGKILL`` is set."""

    def __init__(self, epoch=3):
        self.epoch = epoch

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) == self.epoch and len(net.history[-1]["batches"]) == 2:
            if os.environ.get("UBP_TEST_SIGKILL"):
                import signal

                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError("crash")


class Epochs(Callback):
    """Counts the epochs run."""

    def initialize(self):
        self.n_ = 0
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.n_ += 1


@pytest.mark.slow
def test_checkpoint_resumes_a_crashed_training(events, tmp_path):
    data = events.iloc[:300]
    plain = GRUSequenceAutoencoder(**CHECKPOINTED).fit(data)
    with pytest.raises(RuntimeError, match="crash"):
        GRUSequenceAutoencoder(**CHECKPOINTED, checkpoint=tmp_path, callbacks=[Crash()]).fit(data)
    assert (tmp_path / "latest").read_text().startswith("epoch-0002-")
    epochs = Epochs()
    resumed = GRUSequenceAutoencoder(**CHECKPOINTED, checkpoint=tmp_path, callbacks=[epochs])
    resumed.fit(data)
    assert epochs.n_ == len(plain.history_) - 2  # the epochs left only
    assert resumed.best_epoch_ == plain.best_epoch_ < len(plain.history_)  # stopped early
    for a, b in zip(resumed.history_, plain.history_, strict=True):
        assert (a["train_loss"], a["valid_loss"]) == (b["train_loss"], b["valid_loss"])
    np.testing.assert_array_equal(resumed.transform(data), plain.transform(data))
    # a finished training: a later fit loads it and trains no epoch
    again = GRUSequenceAutoencoder(**CHECKPOINTED, checkpoint=str(tmp_path), callbacks=[epochs])
    np.testing.assert_array_equal(again.fit_transform(data), plain.transform(data))
    assert epochs.n_ == 0 and len(list(tmp_path.glob("epoch-*"))) == 1
    with pytest.raises(ValueError, match="checkpoint of another training"):
        GRUSequenceAutoencoder(**{**CHECKPOINTED, "lr": 0.01}, checkpoint=tmp_path).fit(data)
    with pytest.raises(ValueError, match="checkpoint must be a folder"):
        GRUSequenceAutoencoder(**CHECKPOINTED, checkpoint=tmp_path / "latest").fit(data)


@pytest.mark.slow
def test_checkpoint_resumes_a_training_killed_by_sigkill(events, tmp_path):
    import subprocess
    import sys

    data = events.iloc[:300]
    data.to_pickle(tmp_path / "events.pkl")
    folder = tmp_path / "checkpoints"
    # the killed run must round like this process: same torch thread count
    code = (
        "import pandas as pd\n"
        f"import torch; torch.set_num_threads({torch.get_num_threads()})\n"
        "from test_gru import CHECKPOINTED, Crash\n"
        "from sklearn_ubp import GRUSequenceAutoencoder\n"
        f"data = pd.read_pickle({str(tmp_path / 'events.pkl')!r})\n"
        f"GRUSequenceAutoencoder(**CHECKPOINTED, checkpoint={str(folder)!r}, "
        "callbacks=[Crash(epoch=3)]).fit(data)\n"
    )
    env = {**os.environ, "UBP_TEST_SIGKILL": "1", "OMP_NUM_THREADS": str(torch.get_num_threads())}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests"), env.get("PYTHONPATH", "")])
    killed = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT)
    assert killed.returncode == -9  # SIGKILL, mid-epoch 3
    assert (folder / "latest").read_text().startswith("epoch-0002-")
    resumed = GRUSequenceAutoencoder(**CHECKPOINTED, checkpoint=folder).fit(data)
    plain = GRUSequenceAutoencoder(**CHECKPOINTED).fit(data)
    np.testing.assert_array_equal(resumed.transform(data), plain.transform(data))
    assert [h["train_loss"] for h in resumed.history_] == [h["train_loss"] for h in plain.history_]
