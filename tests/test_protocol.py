"""Tests of ``evaluate``: the fast and the official downstream protocols."""

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import Bunch

from sklearn_ubp.evaluation._metrics import task_score
from sklearn_ubp.evaluation._protocol import evaluate

N_USERS, N_DIMS, N_TARGETS = 600, 8, 6


def make_synthetic(n=N_USERS, d=N_DIMS, k=N_TARGETS, seed=0):
    """Tasks whose labels (both windows) are noisy functions of a latent ``z``.

    Returns ``(z, tasks)``; ``z`` is an embedding that contains the label signal.
    """
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, d)).astype(np.float32)
    w = rng.normal(size=(d, k))
    offset = np.linspace(0.5, 2.0, k)  # targets from common to rare

    def window():
        churn = (z[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(np.int8)
        multi = (z @ w + rng.normal(size=(n, k)) > offset).astype(np.int8)
        return churn, multi

    (c1, m1), (c2, m2) = window(), window()
    active = rng.random(n) < 0.7
    tasks = {
        "churn": Bunch(
            name="churn",
            kind="binary",
            mask=active,
            y_train=c1,
            y_test=c2,
            targets=None,
            popularity=None,
        ),
        "propensity_sku": Bunch(
            name="propensity_sku",
            kind="multilabel",
            mask=np.ones(n, dtype=bool),
            y_train=m1,
            y_test=m2,
            targets=np.arange(100, 100 + k),
            popularity=m1.sum(axis=0) / m1.sum(),
        ),
    }
    index = pd.Index(np.arange(n) * 3 + 1000, name="client_id")
    return z, Bunch(X=pd.DataFrame(index=index), tasks=tasks)


EXPECTED_ROWS = [
    ("churn", "auroc"),
    ("churn", "score"),
    ("propensity_sku", "auroc"),
    ("propensity_sku", "diversity"),
    ("propensity_sku", "novelty"),
    ("propensity_sku", "score"),
    ("total", "score"),
]

# A tiny official network; small batches give it enough steps to learn in 3 epochs.
TINY = {"hidden_size": 8, "batch_size": 16}


@pytest.fixture
def one_torch_thread():
    """Tiny networks run faster (and steadier on a busy machine) on one thread."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(before)


def values(table):
    return {(t, m): v for t, m, v in table[["task", "metric", "value"]].itertuples(index=False)}


def check_table(table):
    assert list(table.columns) == ["task", "metric", "value"]
    assert list(zip(table["task"], table["metric"], strict=True)) == EXPECTED_ROWS
    assert table["value"].dtype == np.float64
    assert np.isfinite(table["value"]).all()
    v = values(table)
    assert v["churn", "score"] == v["churn", "auroc"]
    assert v["propensity_sku", "score"] == pytest.approx(
        task_score(
            "multilabel",
            v["propensity_sku", "auroc"],
            v["propensity_sku", "diversity"],
            v["propensity_sku", "novelty"],
        )
    )
    assert v["total", "score"] == pytest.approx(v["churn", "score"] + v["propensity_sku", "score"])
    for metric in ("auroc", "diversity", "novelty"):
        assert 0.0 <= v["propensity_sku", metric] <= 1.0


# ----------------------------------------------------------------------------- fast


def test_fast_signal_beats_random():
    # Training and test users are the same (only the window differs), so even random
    # embeddings leak a little window-1 signal; many users per dimension keep it small.
    z, tasks = make_synthetic(n=2000)
    good = evaluate(z, tasks, protocol="fast")
    check_table(good)
    g = values(good)
    assert g["churn", "auroc"] > 0.8
    assert g["propensity_sku", "auroc"] > 0.75
    noise = np.random.default_rng(42).normal(size=z.shape)
    bad = values(evaluate(noise, tasks, protocol="fast"))
    assert abs(bad["churn", "auroc"] - 0.5) < 0.1
    assert abs(bad["propensity_sku", "auroc"] - 0.5) < 0.1
    assert g["total", "score"] > bad["total", "score"] + 0.4


def test_fast_is_deterministic_and_accepts_aligned_dataframe():
    z, tasks = make_synthetic()
    first = evaluate(z, tasks, random_state=3)
    assert first["value"].tolist() == evaluate(z, tasks, random_state=3)["value"].tolist()
    # A DataFrame indexed by user id, shuffled and with extra users, is reindexed.
    index = tasks.X.index
    frame = pd.DataFrame(z, index=index)
    extra = pd.DataFrame(np.zeros((3, z.shape[1])), index=pd.Index([1, 2, 3]))
    shuffled = pd.concat([frame, extra]).sample(frac=1.0, random_state=0)
    from_frame = evaluate(shuffled, tasks, random_state=3)
    np.testing.assert_allclose(from_frame["value"], first["value"], rtol=1e-10)


def test_fast_auto_C_chooses_the_penalty_on_training_users():
    # A wide embedding (the signal plus many noise columns) on few users: a weak fixed
    # penalty overfits, and "auto" (the probe's inner choice) lands near the best
    # fixed C of the grid, without seeing the scored users.
    z, tasks = make_synthetic(n=600)
    noise = np.random.default_rng(1).normal(size=(len(z), 300)).astype(np.float32)
    wide = np.hstack([z, noise])
    totals = {
        C: values(evaluate(wide, tasks, protocol="fast", C=C))["total", "score"]
        for C in (1e-3, 1e-2, 1e-1, 1.0)
    }
    auto = evaluate(wide, tasks, protocol="fast", C="auto", random_state=0)
    check_table(auto)
    total = values(auto)["total", "score"]
    assert total > totals[1.0] + 0.03
    assert total > max(totals.values()) - 0.03
    again = evaluate(wide, tasks, protocol="fast", C="auto", random_state=0)
    assert again["value"].tolist() == auto["value"].tolist()


def test_mask_restricts_users_inside_evaluate():
    z, tasks = make_synthetic()
    churn = tasks.tasks["churn"]
    keep = churn.mask
    only_active = Bunch(
        X=tasks.X.loc[keep],
        tasks={
            "churn": Bunch(
                name="churn",
                kind="binary",
                mask=np.ones(keep.sum(), dtype=bool),
                y_train=churn.y_train[keep],
                y_test=churn.y_test[keep],
                targets=None,
                popularity=None,
            )
        },
    )
    full = Bunch(X=tasks.X, tasks={"churn": churn})
    a = values(evaluate(z, full))
    b = values(evaluate(z[keep], only_active))
    assert a["churn", "auroc"] == pytest.approx(b["churn", "auroc"], abs=1e-12)
    # Labels of users outside the mask are ignored: scrambling them changes nothing.
    scrambled = Bunch(**churn)
    scrambled.y_test = churn.y_test.copy()
    scrambled.y_test[~keep] = 1 - scrambled.y_test[~keep]
    c = values(evaluate(z, Bunch(X=tasks.X, tasks={"churn": scrambled})))
    assert c["churn", "auroc"] == a["churn", "auroc"]


def test_fast_single_class_training_targets_do_not_crash():
    z, tasks = make_synthetic()
    multi = tasks.tasks["propensity_sku"]
    multi.y_train = multi.y_train.copy()
    multi.y_train[:, 0] = 0  # never bought in window 1
    multi.y_train[:, 1] = 1  # bought by everyone in window 1
    churn = tasks.tasks["churn"]
    churn.y_train = np.ones_like(churn.y_train)  # everybody churned in window 1
    table = evaluate(z, tasks)
    check_table(table)
    v = values(table)
    assert v["churn", "auroc"] == 0.5  # a constant prediction
    # Only one target left with both classes in window 1: the binary fallback path.
    multi.y_train[:, 2:-1] = 0
    check_table(evaluate(z, tasks))


# ------------------------------------------------------------------------- official


@pytest.mark.slow
def test_official_tiny_runs_on_cpu_and_is_deterministic(one_torch_thread):
    torch = one_torch_thread
    z, tasks = make_synthetic()
    torch.manual_seed(123)
    expected_draw = torch.rand(3)
    torch.manual_seed(123)
    first = evaluate(z, tasks, protocol="official", device="cpu", random_state=7, **TINY)
    assert torch.equal(torch.rand(3), expected_draw)  # the global RNG state is untouched
    check_table(first)
    assert first.attrs["protocol"] == "official"
    again = evaluate(z, tasks, protocol="official", random_state=7, **TINY)
    assert first["value"].tolist() == again["value"].tolist()
    other = evaluate(z, tasks, protocol="official", random_state=8, **TINY)
    assert first["value"].tolist() != other["value"].tolist()
    assert values(first)["churn", "auroc"] > 0.7  # it learns the signal


@pytest.mark.slow
def test_official_reports_the_best_epoch(one_torch_thread):
    z, tasks = make_synthetic()
    table = evaluate(z, tasks, protocol="official", n_epochs=3, **TINY)
    history = pd.DataFrame(table.attrs["history"])
    assert sorted(history["epoch"].unique()) == [1, 2, 3]
    v = values(table)
    for task in ("churn", "propensity_sku"):
        h = history[history["task"] == task]
        scores = h[h["metric"] == "score"].set_index("epoch")["value"]
        best = int(scores.idxmax())
        assert table.attrs["best_epoch"][task] == best
        assert v[task, "score"] == scores.max()
        best_rows = h[h["epoch"] == best].set_index("metric")["value"]
        for metric, value in best_rows.items():
            assert v[task, metric] == value  # every metric comes from that epoch
    # Epoch 1 of a 3-epoch run is a 1-epoch run (same init, same order), so best-of-3
    # can only be better or equal.
    one = evaluate(z, tasks, protocol="official", n_epochs=1, **TINY)
    first_epoch = history[history["epoch"] == 1]
    for task, metric, value in first_epoch[["task", "metric", "value"]].itertuples(index=False):
        assert values(one)[task, metric] == pytest.approx(value, abs=1e-12)
        if metric == "score":
            assert v[task, "score"] >= value


def test_official_on_cuda_when_available():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    z, tasks = make_synthetic()
    check_table(evaluate(z, tasks, protocol="official", device="cuda", **TINY))


# --------------------------------------------------------------------------- errors


def test_cuda_unavailable_is_a_clear_error():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    z, tasks = make_synthetic()
    with pytest.raises(ValueError, match="CUDA is not available"):
        evaluate(z, tasks, protocol="official", device="cuda", **TINY)


def _drop(tasks, name, field, value):
    tasks.tasks[name][field] = value
    return tasks


@pytest.mark.parametrize(
    ("mutate", "kwargs", "error", "match"),
    [
        (lambda z, t: (z[:-1], t), {}, ValueError, "599 rows but tasks.X has 600 users"),
        (lambda z, t: (z[:, 0], t), {}, ValueError, "must be 2-D"),
        (
            lambda z, t: (np.where(np.arange(z.size).reshape(z.shape) % 100 == 0, np.nan, z), t),
            {},
            ValueError,
            "48 non-finite value",
        ),
        (lambda z, t: (np.full(z.shape, 1e300), t), {}, ValueError, "non-finite.*float32"),
        (lambda z, t: (z.astype(str), t), {}, ValueError, "numeric"),
        (lambda z, t: (z, t), {"protocol": "exact"}, ValueError, "unknown protocol 'exact'"),
        (
            lambda z, t: (z, t),
            {"hiden_size": 8},
            TypeError,
            r"unknown option\(s\) \['hiden_size'\]",
        ),
        (
            lambda z, t: (z, t),
            {"protocol": "official", "hidden_size": 0},
            ValueError,
            "hidden_size must be a positive integer",
        ),
        (lambda z, t: (z, t), {"C": -1.0}, ValueError, "C must be a positive number"),
        (lambda z, t: (z, t), {"C": "best"}, ValueError, "positive number or 'auto'"),
        (lambda z, t: (z, t), {"device": "tpu"}, ValueError, "device must be 'cpu' or 'cuda'"),
        (
            lambda z, t: (z, t),
            {"random_state": None},
            ValueError,
            "random_state must be an integer",
        ),
        (
            lambda z, t: (z, _drop(t, "churn", "mask", t.tasks["churn"].mask.astype(int))),
            {},
            ValueError,
            "task 'churn': mask must be a boolean array",
        ),
        (
            lambda z, t: (z, _drop(t, "churn", "mask", np.zeros(600, dtype=bool))),
            {},
            ValueError,
            "task 'churn': mask selects no users",
        ),
        (
            lambda z, t: (z, _drop(t, "churn", "kind", "regression")),
            {},
            ValueError,
            "task 'churn': unknown kind 'regression'",
        ),
        (
            lambda z, t: (z, _drop(t, "churn", "y_test", np.ones(600, dtype=np.int8))),
            {},
            ValueError,
            "task 'churn': y_test has a single class",
        ),
        (
            lambda z, t: (z, _drop(t, "churn", "y_train", np.full(600, 2, dtype=np.int8))),
            {},
            ValueError,
            "task 'churn': y_train must hold only 0/1 labels",
        ),
        (
            lambda z, t: (z, _drop(t, "propensity_sku", "y_test", np.zeros((600, 6), np.int8))),
            {},
            ValueError,
            "task 'propensity_sku': no column of y_test has both classes",
        ),
        (
            lambda z, t: (z, _drop(t, "propensity_sku", "y_test", np.zeros((600, 5), np.int8))),
            {},
            ValueError,
            r"task 'propensity_sku': y_test must have shape \(600, 6\)",
        ),
        (
            lambda z, t: (z, _drop(t, "propensity_sku", "popularity", np.ones(5))),
            {},
            ValueError,
            r"popularity must have shape \(6,\)",
        ),
        (
            lambda z, t: (z, Bunch(X=np.zeros(3), tasks=t.tasks)),
            {},
            ValueError,
            "tasks.X must be a pandas DataFrame",
        ),
        (lambda z, t: (z, Bunch(X=t.X, tasks={})), {}, ValueError, "non-empty dict"),
    ],
)
def test_bad_inputs_raise_clear_errors(mutate, kwargs, error, match):
    z, tasks = make_synthetic()
    z, tasks = mutate(z, tasks)
    with pytest.raises(error, match=match):
        evaluate(z, tasks, **kwargs)


def test_dataframe_embeddings_with_missing_or_duplicated_users():
    z, tasks = make_synthetic()
    frame = pd.DataFrame(z, index=tasks.X.index)
    with pytest.raises(
        ValueError, match=r"lacks 2 of the 600 users of tasks.X, e.g. \[1000, 1003\]"
    ):
        evaluate(frame.iloc[2:], tasks)
    duplicated = pd.concat([frame, frame.iloc[:1]])
    with pytest.raises(ValueError, match=r"1 duplicated user id\(s\).*1000"):
        evaluate(duplicated, tasks)


def test_fast_holdout_stops_memorising_users():
    # Labels persist from window 1 to window 2 per user but have nothing to do with the
    # embedding. Scored on the training users, an identifying embedding "predicts" them;
    # scored on held-out users (the default) it cannot.
    rng = np.random.default_rng(0)
    n = 400
    emb = rng.normal(size=(n, 300)).astype(np.float32)
    label = (rng.random(n) < 0.5).astype(np.int8)
    task = Bunch(
        name="churn",
        kind="binary",
        mask=np.ones(n, dtype=bool),
        y_train=label,
        y_test=label,
        targets=None,
        popularity=None,
    )
    tasks = Bunch(X=pd.DataFrame(index=pd.RangeIndex(n)), tasks={"churn": task})
    same = values(evaluate(emb, tasks, holdout=None, C=100.0))["churn", "auroc"]
    held = values(evaluate(emb, tasks, C=100.0))["churn", "auroc"]
    assert same > 0.95
    assert abs(held - 0.5) < 0.12


def test_multilabel_task_without_popularity_is_scored_by_auroc_alone():
    z, tasks = make_synthetic()
    with_pop = evaluate(z, tasks, protocol="fast").set_index(["task", "metric"])["value"]
    tasks.tasks["propensity_sku"].popularity = None
    table = evaluate(z, tasks, protocol="fast")
    v = table.set_index(["task", "metric"])["value"]
    rows = table[table["task"] == "propensity_sku"]["metric"].tolist()
    assert rows == ["auroc", "score"]
    assert v["propensity_sku", "score"] == v["propensity_sku", "auroc"]
    assert v["propensity_sku", "auroc"] == with_pop["propensity_sku", "auroc"]
