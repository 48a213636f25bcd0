"""Tests of ``evaluate(..., protocol="probe")``: the cross-validated linear probe."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch

from sklearn_ubp.evaluation import _probe, evaluate
from sklearn_ubp.evaluation._probe import fit_logistic, predict_logistic, probe_folds

N = 600


def _task(name, kind, y, popularity=None):
    return Bunch(
        name=name,
        kind=kind,
        mask=np.ones(len(y), dtype=bool),
        y_train=y,
        y_test=y,
        targets=None,
        popularity=popularity,
    )


def _tasks(*tasks, n=N):
    return Bunch(
        X=pd.DataFrame(index=pd.Index(np.arange(n) + 10, name="client_id")),
        tasks={t.name: t for t in tasks},
        default_protocol="probe",
    )


@pytest.fixture
def signal():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(N, 3)).astype(np.float32)
    active = (z[:, 0] + 0.7 * rng.normal(size=N) > 0).astype(np.int8)
    count = np.floor(np.exp(z[:, 1] + 0.5 * rng.normal(size=N))).astype(np.float64)
    multi = (z @ rng.normal(size=(3, 4)) + rng.normal(size=(N, 4)) > 0.5).astype(np.int8)
    return z, _tasks(
        _task("active", "binary", active),
        _task("n_future", "count", count),
        _task("categories", "multilabel", multi),
    )


def test_fit_logistic_matches_scikit_learn():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 5))
    y = (X[:, 0] - X[:, 2] + rng.normal(size=300) > 0).astype(float)
    for C in (0.01, 1.0):
        theta = fit_logistic(X, y[:, None], C, max_iter=500, tol=1e-9)
        ref = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X, y)
        np.testing.assert_allclose(theta[:5], ref.coef_[0], atol=1e-3)
        np.testing.assert_allclose(theta[5], ref.intercept_[0], atol=1e-3)
        np.testing.assert_allclose(
            predict_logistic(theta, X)[:, 0], ref.predict_proba(X)[:, 1], atol=1e-4
        )


def test_probe_table_has_fold_means_and_stds(signal):
    z, tasks = signal
    table = evaluate(z, tasks)  # default protocol of future-window tasks: the probe
    assert table.attrs["protocol"] == "probe"
    assert list(table.columns) == ["task", "metric", "value", "std"]
    assert table[["task", "metric"]].values.tolist() == [
        ["active", "auroc"],
        ["active", "score"],
        ["n_future", "spearman"],
        ["n_future", "score"],
        ["categories", "auroc"],
        ["categories", "score"],
        ["mean", "score"],
    ]
    v = table.set_index(["task", "metric"])
    assert v.loc[("active", "auroc"), "value"] > 0.75
    assert v.loc[("n_future", "spearman"), "value"] > 0.5
    assert v.loc[("categories", "auroc"), "value"] > 0.7
    assert (table["std"] > 0).all()
    scores = v.xs("score", level="metric")["value"]
    assert scores["mean"] == pytest.approx(scores.drop("mean").mean())


def test_probe_folds_and_stds_are_those_of_a_plain_cross_validation(signal):
    """Refit each fold with scikit-learn at the chosen C: the same AUROC mean and std."""
    z, tasks = signal
    table = evaluate(z, _tasks(tasks.tasks["active"]), protocol="probe", random_state=3)
    strengths = table.attrs["l2_strength"]["active"]
    y = tasks.tasks["active"].y_train
    aucs = []
    for (train, test), strength in zip(probe_folds(N, 5, 3), strengths, strict=True):
        scaler = StandardScaler().fit(z[train])
        model = LogisticRegression(C=1 / strength, tol=1e-8, max_iter=5000)
        model.fit(scaler.transform(z[train]), y[train])
        aucs.append(roc_auc_score(y[test], model.decision_function(scaler.transform(z[test]))))
    row = table.set_index(["task", "metric"]).loc[("active", "auroc")]
    assert row["value"] == pytest.approx(np.mean(aucs), abs=2e-3)
    assert row["std"] == pytest.approx(np.std(aucs), abs=2e-3)
    # fold by fold, in the order of probe_folds (what a paired comparison needs)
    folds = table.attrs["fold_scores"]
    assert folds["active"] == pytest.approx(aucs, abs=2e-3)
    assert np.mean(folds["mean"]) == pytest.approx(table["value"].iloc[-1])


@pytest.mark.slow
def test_probe_chooses_a_stronger_penalty_for_noise_than_for_signal(signal):
    z, tasks = signal
    rng = np.random.default_rng(5)
    noise = rng.normal(size=(N, 40)).astype(np.float32)
    for name in ("active", "n_future", "categories"):
        one = _tasks(tasks.tasks[name])
        on_signal = evaluate(np.hstack([z, noise[:, :2]]), one).attrs["l2_strength"][name]
        on_noise = evaluate(noise, one).attrs["l2_strength"][name]
        assert min(on_noise) > max(on_signal), name


def test_probe_never_uses_the_scored_users_for_its_choice(signal):
    """Relabel the users scored in fold 0: fold 0's choice stays, its score moves."""
    z, tasks = signal
    y = tasks.tasks["active"].y_train.copy()
    _, test = probe_folds(N, 5, 0)[0]
    flipped = y.copy()
    flipped[test] = 1 - flipped[test]
    base = evaluate(z, _tasks(_task("active", "binary", y)))
    changed = evaluate(z, _tasks(_task("active", "binary", flipped)))
    assert changed.attrs["l2_strength"]["active"][0] == base.attrs["l2_strength"]["active"][0]
    auc = lambda t: t.set_index(["task", "metric"]).loc[("active", "auroc"), "value"]  # noqa: E731
    assert auc(changed) < auc(base) - 0.1


def test_probe_on_the_challenge_tasks_reports_their_metrics():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(N, 4))
    m1 = (z[:, :3] + rng.normal(size=(N, 3)) > 0.8).astype(np.int8)
    m2 = (z[:, :3] + rng.normal(size=(N, 3)) > 0.8).astype(np.int8)
    task = Bunch(
        name="propensity_sku",
        kind="multilabel",
        mask=np.ones(N, dtype=bool),
        y_train=m1,
        y_test=m2,
        targets=None,
        popularity=m1.mean(axis=0) / m1.mean(axis=0).sum(),
    )
    tasks = Bunch(X=pd.DataFrame(index=np.arange(N)), tasks={"propensity_sku": task})
    table = evaluate(z, tasks, protocol="probe", n_splits=3)
    assert table["metric"].tolist()[:4] == ["auroc", "diversity", "novelty", "score"]
    assert len(table.attrs["l2_strength"]["propensity_sku"]) == 3
    assert evaluate(z, tasks).attrs["protocol"] == "fast"  # the challenge tasks' default


def test_count_targets_are_ridge_on_log1p_scored_by_spearman(signal):
    z, tasks = signal
    one = _tasks(tasks.tasks["n_future"])
    table = evaluate(z, one, protocol="probe")
    y = tasks.tasks["n_future"].y_train
    # The best linear predictor of log1p(y) ranks users by z[:, 1]: the Spearman of that.
    ceiling = spearmanr(z[:, 1], y).statistic
    value = table.set_index(["task", "metric"]).loc[("n_future", "spearman"), "value"]
    assert ceiling - 0.05 < value <= ceiling + 0.02
    with pytest.raises(ValueError, match="only protocol='probe' scores"):
        evaluate(z, one, protocol="fast")


@pytest.mark.parametrize(
    "options, match",
    [
        ({"n_splits": 1}, "n_splits must be an integer >= 2"),
        ({"Cs": []}, "Cs must be a non-empty sequence of positive numbers"),
        ({"alphas": [1.0, -1.0]}, "alphas must be a non-empty sequence of positive numbers"),
        ({"C": 1.0}, r"unknown option\(s\) \['C'\] for protocol='probe'"),
    ],
)
def test_probe_options_are_checked(signal, options, match):
    z, tasks = signal
    error = TypeError if "C" in options else ValueError
    with pytest.raises(error, match=match):
        evaluate(z, tasks, protocol="probe", **options)


def test_count_targets_are_checked(signal):
    z, tasks = signal
    bad = tasks.tasks["n_future"].y_train.copy()
    bad[3] = -1.0
    with pytest.raises(ValueError, match="task 'n_future': y_train must hold finite non-neg"):
        evaluate(z, _tasks(_task("n_future", "count", bad)))
    with pytest.raises(ValueError, match="Spearman is undefined"):
        evaluate(z, _tasks(_task("n_future", "count", np.zeros(N))))


@pytest.mark.slow
def test_spearman_breaks_tied_predictions_at_random_in_expectation():
    from sklearn_ubp.evaluation._probe import spearman

    rng = np.random.default_rng(0)
    y = np.where(rng.random(400) < 0.8, 0.0, rng.poisson(3.0, 400) + 1.0)  # zero-inflated
    pred = y + rng.normal(size=400)
    assert spearman(y, pred) == pytest.approx(spearmanr(y, pred).statistic)  # no ties
    tied = np.where(rng.random(400) < 0.7, 0.0, pred)  # most predictions tied at 0
    broken = [spearmanr(y, tied + 1e-9 * rng.permutation(400)).statistic for _ in range(2000)]
    assert spearman(y, tied) == pytest.approx(np.mean(broken), abs=2e-3)
    assert spearman(y, tied) < spearmanr(y, tied).statistic - 0.05  # plain rho rewards ties
    assert spearman(y, np.zeros(400)) == 0.0


def test_verbose_reports_each_task_with_its_fold_std(signal, capsys):
    z, tasks = signal
    table = evaluate(z, tasks, verbose=True, n_splits=3)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["active", "n_future", "categories"]
    v = table.set_index(["task", "metric"])
    auc, std = v.loc[("active", "auroc"), ["value", "std"]]
    assert f"auroc={auc:.4f}+-{std:.4f}" in lines[0] and "(probe, 600 users, 3 folds)" in lines[0]


def test_choose_C_on_fewer_inner_folds_fits_fewer_models(signal, monkeypatch):
    z, tasks = signal
    Y = np.asarray(tasks.tasks["categories"].y_train, dtype=np.float64)
    opts = _probe.check_probe_options(dict(_probe.PROBE_OPTIONS))
    fits = []
    real = _probe.fit_logistic
    monkeypatch.setattr(_probe, "fit_logistic", lambda *a, **k: fits.append(a[2]) or real(*a, **k))
    X = StandardScaler().fit_transform(z).astype(np.float32)
    C_all, _ = _probe.choose_C(X, Y, opts, random_state=0)
    assert len(fits) == opts["inner_splits"] * len(opts["Cs"])
    fits.clear()
    C_one, theta = _probe.choose_C(X, Y, opts, random_state=0, max_folds=1)
    assert fits == list(opts["Cs"])  # one inner fold: each C once, strongest penalty first
    assert C_one in opts["Cs"] and C_all in opts["Cs"]
    assert theta.shape == (z.shape[1] * Y.shape[1] + Y.shape[1],)
    # On a clean three-column signal neither choice lands on the strongest penalty.
    assert min(C_one, C_all) > opts["Cs"][0]
