"""sklearn_ubp.plotting: what each plot draws is what it was given."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sklearn_ubp.plotting import (  # noqa: E402
    plot_embedding_map,
    plot_scores,
    plot_training_history,
)

ROOT = Path(__file__).resolve().parents[1]
HISTORY = [
    {"epoch": 1, "train_loss": 3.0, "valid_loss": 3.2, "dur": 1.0},
    {"epoch": 2, "train_loss": 2.5, "valid_loss": 2.6, "dur": 1.0},
    {"epoch": 3, "train_loss": 2.1, "valid_loss": 2.4, "dur": 1.0},
    {"epoch": 4, "train_loss": 1.9, "valid_loss": 2.5, "dur": 1.0},
]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


class _Fitted:
    def __init__(self, history):
        self.history_ = history


class _Union:
    """Stands for a fitted UniversalProfile: members in ``transformers_``."""

    def __init__(self, members):
        self.transformers_ = members


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


# --------------------------------------------------------------------------- history


@pytest.mark.parametrize(
    "source",
    [HISTORY, pd.DataFrame(HISTORY), _Fitted(HISTORY), _Union([("counts", object()), ("gru", _Fitted(HISTORY))])],
    ids=["list", "frame", "estimator", "profile"],
)  # fmt: skip
def test_training_history_lines_are_the_losses(source):
    ax = plot_training_history(source)
    lines = _lines(ax)
    assert list(lines) == ["train loss", "valid loss", "best epoch"]
    np.testing.assert_array_equal(lines["train loss"].get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(lines["train loss"].get_ydata(), [3.0, 2.5, 2.1, 1.9])
    np.testing.assert_array_equal(lines["valid loss"].get_ydata(), [3.2, 2.6, 2.4, 2.5])
    assert lines["best epoch"].get_xdata()[0] == 3  # lowest validation loss
    assert ax.get_xlabel() == "epoch"


def test_training_history_without_validation_and_epochs():
    fig, ax = plt.subplots()
    out = plot_training_history([{"train_loss": 1.0}, {"train_loss": 0.5}], ax=ax)
    assert out is ax
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2])
    np.testing.assert_array_equal(line.get_ydata(), [1.0, 0.5])


def test_training_history_of_a_real_autoencoder():
    sklearn_ubp = pytest.importorskip("sklearn_ubp")
    if not hasattr(sklearn_ubp, "GRUSequenceAutoencoder"):
        pytest.skip("GRUSequenceAutoencoder is not in this build yet")
    from sklearn_ubp.datasets import make_events

    events = make_events(n_users=200, random_state=0).events
    gru = sklearn_ubp.GRUSequenceAutoencoder(
        hidden_size=8, embedding_dim=4, max_epochs=2, random_state=0
    ).fit(events)
    lines = _lines(plot_training_history(gru))
    np.testing.assert_allclose(
        lines["train loss"].get_ydata(), [h["train_loss"] for h in gru.history_]
    )


def test_training_history_errors():
    with pytest.raises(TypeError, match="has no history_"):
        plot_training_history(object())
    with pytest.raises(ValueError, match="'train_loss'"):
        plot_training_history([{"loss": 1.0}])


# --------------------------------------------------------------------------- embedding map


def test_embedding_map_one_collection_per_class():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    y = np.where(X[:, 0] > 0.5, "churned", "active")
    ax = plot_embedding_map(X, y, label="status")
    sizes = {c.get_label(): len(c.get_offsets()) for c in ax.collections}
    assert sizes == {"active": int((y == "active").sum()), "churned": int((y == "churned").sum())}
    assert ax.get_legend().get_title().get_text() == "status"
    # PCA: the first coordinate has the largest variance.
    xy = np.vstack([c.get_offsets() for c in ax.collections])
    assert xy[:, 0].var() >= xy[:, 1].var()


def test_embedding_map_continuous_target_gets_a_colorbar():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 4))
    y = pd.Series(rng.normal(size=100), name="lifetime value")
    ax = plot_embedding_map(pd.DataFrame(X), y)
    assert len(ax.collections) == 1 and len(ax.collections[0].get_offsets()) == 100
    assert len(ax.figure.axes) == 2  # the colour bar
    assert ax.figure.axes[1].get_ylabel() == "lifetime value"


def test_embedding_map_tsne_and_sampling():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 55))
    y = rng.integers(0, 3, 60)
    ax = plot_embedding_map(X, y, method="tsne", max_points=40)
    assert sum(len(c.get_offsets()) for c in ax.collections) == 40
    assert ax.get_xlabel() == "t-SNE 1"


def test_embedding_map_errors():
    X = np.zeros((10, 3))
    with pytest.raises(ValueError, match="one value per user"):
        plot_embedding_map(X, np.zeros(9))
    with pytest.raises(ValueError, match="method must be"):
        plot_embedding_map(X, np.zeros(10), method="umap")
    with pytest.raises(ValueError, match="NaN"):
        plot_embedding_map(np.full((10, 3), np.nan), np.zeros(10))


# --------------------------------------------------------------------------- scores


def _demo_table():
    tasks = ["churn", "propensity_category", "conversion", "total"]
    return pd.DataFrame(
        {
            "random": [0.50, 0.55, 0.52, 1.57],
            "baseline counts": [0.78, 0.74, 0.89, 2.41],
            "UniversalProfile": [0.81, 0.76, 0.90, 2.47],
        },
        index=pd.Index(tasks, name="task"),
    )


def test_scores_one_bar_per_member_and_task():
    table = _demo_table()
    ax = plot_scores(table)
    assert len(ax.patches) == 3 * 3  # members x tasks, total left out
    assert len(ax.containers) == 3
    for container, member in zip(ax.containers, table.columns, strict=True):
        heights = [bar.get_height() for bar in container]
        np.testing.assert_allclose(heights, table[member].iloc[:3])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(table.index[:3])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[2] == "UniversalProfile (total 2.470)"


def test_scores_include_total_and_task_order():
    ax = plot_scores(_demo_table(), include_total=True)
    assert len(ax.patches) == 3 * 4
    ax = plot_scores(_demo_table(), tasks=["conversion", "churn"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["conversion", "churn"]
    np.testing.assert_allclose([b.get_height() for b in ax.containers[0]], [0.52, 0.50])
    with pytest.raises(ValueError, match="not in the table"):
        plot_scores(_demo_table(), tasks=["ltv"])


def _evaluate_table(churn, conversion):
    rows = [
        ("churn", "auroc", churn),
        ("churn", "score", churn),
        ("conversion", "auroc", conversion),
        ("conversion", "score", conversion),
        ("total", "score", churn + conversion),
    ]
    return pd.DataFrame(rows, columns=["task", "metric", "value"])


def test_scores_from_evaluate_tables():
    ax = plot_scores(_evaluate_table(0.7, 0.8))
    assert len(ax.patches) == 2
    np.testing.assert_allclose([b.get_height() for b in ax.patches], [0.7, 0.8])
    ax = plot_scores({"a": _evaluate_table(0.7, 0.8), "b": _evaluate_table(0.6, 0.9)})
    assert len(ax.patches) == 4
    np.testing.assert_allclose([b.get_height() for b in ax.containers[1]], [0.6, 0.9])
    with pytest.raises(TypeError, match="must be a DataFrame"):
        plot_scores([1, 2])


# --------------------------------------------------------------------------- optional dependency


@pytest.mark.slow
def test_import_does_not_load_matplotlib():
    code = "import sys, sklearn_ubp.plotting; print('matplotlib' in sys.modules)"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "False"


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"sklearn-ubp\[plots\]"):
        plot_scores(_demo_table())
