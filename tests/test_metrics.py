"""Tests of the RecSys Challenge 2025 metrics (AUROC, Diversity, Novelty, task score)."""

import math

import numpy as np
import pytest
from scipy.special import expit
from sklearn.metrics import roc_auc_score

from sklearn_ubp.evaluation._metrics import auroc, diversity, novelty, task_score

# ---------------------------------------------------------------------------- AUROC


def test_auroc_binary_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=500)
    score = np.round(rng.normal(size=500) + 0.8 * y, 1)  # rounding creates many ties
    assert auroc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)


def test_auroc_multilabel_macro_matches_sklearn_over_columns_with_both_classes():
    rng = np.random.default_rng(1)
    y = (rng.random((300, 6)) < [0.05, 0.2, 0.5, 0.7, 0.3, 0.1]).astype(np.int8)
    y[:, 1] = 0  # only negatives: no AUROC, must be skipped
    y[:, 4] = 1  # only positives: skipped too
    score = rng.normal(size=(300, 6)) + y * np.array([0.5, 0.0, 1.0, 2.0, 0.0, 0.1])
    kept = [0, 2, 3, 5]
    expected = np.mean([roc_auc_score(y[:, j], score[:, j]) for j in kept])
    assert auroc(y, score) == pytest.approx(expected, abs=1e-12)
    # Where every column has both classes it is sklearn's macro average.
    full = y[:, kept]
    assert auroc(full, score[:, kept]) == pytest.approx(
        roc_auc_score(full, score[:, kept], average="macro"), abs=1e-12
    )


def test_auroc_same_for_logits_and_probabilities():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, size=(100, 3))
    logits = rng.normal(size=(100, 3)) * 5
    assert auroc(y, logits) == pytest.approx(auroc(y, expit(logits)), abs=1e-12)


def test_auroc_worked_example():
    # positives score 0.35 and 0.8, negatives 0.1 and 0.4: of the 4 (pos, neg) pairs,
    # (0.35, 0.4) is the only one ranked wrongly -> 3/4. A tie would count 1/2.
    assert auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert auroc([0, 0, 1, 1], [0.1, 0.35, 0.35, 0.8]) == pytest.approx(3.5 / 4)


@pytest.mark.parametrize(
    ("y", "s", "match"),
    [
        ([1, 1, 1], [0.1, 0.2, 0.3], "single class"),
        ([[0, 1], [0, 1]], [[0.1, 0.2], [0.3, 0.4]], "no column of y_true contains both"),
        ([0, 1, 1], [0.1, 0.2], "shapes differ"),
        ([0, 2, 1], [0.1, 0.2, 0.3], "only 0/1 labels"),
        ([0, 1, 1], [0.1, np.nan, 0.3], "non-finite"),
        (np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), "1-D or 2-D"),
    ],
)
def test_auroc_errors(y, s, match):
    with pytest.raises(ValueError, match=match):
        auroc(y, s)


# ------------------------------------------------------------------------ Diversity


@pytest.mark.parametrize("k", [2, 7, 100])
def test_diversity_uniform_is_one(k):
    p = np.full((5, k), 0.3)
    assert diversity(p) == pytest.approx(1.0, abs=1e-12)


def test_diversity_one_hot_is_zero():
    p = np.eye(4)[[0, 3, 2]] * 0.9  # each user: a single non-zero probability
    assert diversity(p) == 0.0


def test_diversity_worked_example():
    p = np.array([[0.6, 0.2, 0.2, 0.0], [0.8, 0.8, 0.0, 0.0]])
    # user 1: sum 1.0, q = (0.6, 0.2, 0.2, 0)
    #   H = -(0.6 log2 0.6 + 2 * 0.2 log2 0.2) = 0.442179 + 0.928771 = 1.370951 bits
    #   normalised by log2(4) = 2 bits -> 0.685475
    # user 2: sum 1.6, q = (0.5, 0.5, 0, 0) -> H = 1 bit -> 0.5
    # mean: (0.685475 + 0.5) / 2 = 0.592738
    h1 = -(0.6 * math.log2(0.6) + 2 * 0.2 * math.log2(0.2)) / 2
    assert h1 == pytest.approx(0.685475, abs=1e-6)
    assert diversity(p) == pytest.approx((h1 + 0.5) / 2, abs=1e-12)
    assert diversity(p) == pytest.approx(0.592738, abs=1e-6)


def test_diversity_is_scale_free_and_all_zero_row_counts_as_uniform():
    rng = np.random.default_rng(3)
    p = rng.random((20, 10))
    assert diversity(p / 3) == pytest.approx(diversity(p), abs=1e-12)  # L1 normalised
    assert diversity(np.zeros((2, 5))) == 1.0


def test_diversity_and_novelty_match_official_torch_formulas():
    """Re-implement the organizers' torch formulas (from logits) and compare."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(64, 30)) * 2
    popularity = rng.random(30) ** 3
    t = torch.sigmoid(torch.tensor(logits))
    q = t / t.sum(dim=-1, keepdim=True)
    official_div = (-(q * torch.log2(q + 1e-9)).sum() / (64 * math.log2(30))).item()
    k = 10
    pop = torch.tensor(popularity / np.sort(popularity)[-k:].sum())
    values, indices = torch.topk(t, k, dim=1)
    official_nov = ((1 - (values * pop[indices]).sum() / 64) ** 100).item()
    p = expit(logits)
    assert diversity(p) == pytest.approx(official_div, abs=1e-7)
    assert novelty(p, popularity) == pytest.approx(official_nov, rel=1e-9)


@pytest.mark.parametrize(
    ("p", "match"),
    [
        ([[0.5, 1.5]], r"probabilities in \[0, 1\].*sigmoid"),  # logits, not probabilities
        ([[-2.0, 0.5]], "probabilities"),
        ([0.2, 0.3], "2-D"),
        ([[0.2], [0.3]], "at least 2 target columns"),
        ([[0.2, np.nan]], "non-finite"),
        (np.zeros((0, 3)), "no rows"),
    ],
)
def test_diversity_errors(p, match):
    with pytest.raises(ValueError, match=match):
        diversity(p)


# -------------------------------------------------------------------------- Novelty


def test_novelty_worked_example_k_equals_K():
    # K = 4 -> k = min(10, 4) = 4; popularity [4, 3, 2, 1] / (4+3+2+1) = [.4, .3, .2, .1]
    # user 1: 0.9*0.4 + 0.5*0.3 + 0.1*0.2 + 0.0*0.1 = 0.36 + 0.15 + 0.02 = 0.53
    # user 2: 0.0*0.4 + 0.2*0.3 + 0.4*0.2 + 0.8*0.1 = 0.06 + 0.08 + 0.08 = 0.22
    # P = (0.53 + 0.22) / 2 = 0.375 ; Novelty = (1 - 0.375) ** 100 = 0.625 ** 100
    p = [[0.9, 0.5, 0.1, 0.0], [0.0, 0.2, 0.4, 0.8]]
    assert novelty(p, [4, 3, 2, 1]) == pytest.approx(0.625**100, rel=1e-9)


def test_novelty_worked_example_top_10_of_12():
    # K = 12 -> k = 10. p_j = 0.05 (j + 1): the top 10 are j = 2..11.
    # popularity_j = 12 - j; the 10 largest are 12..3, summing to 75.
    # sum over j = 2..11 of p_j * popularity_j:
    #   0.15*10 + 0.20*9 + 0.25*8 + 0.30*7 + 0.35*6 + 0.40*5 + 0.45*4 + 0.50*3 + 0.55*2
    #   + 0.60*1 = 1.5 + 1.8 + 2.0 + 2.1 + 2.1 + 2.0 + 1.8 + 1.5 + 1.1 + 0.6 = 16.5
    # P = 16.5 / 75 = 0.22 ; Novelty = 0.78 ** 100
    p = 0.05 * (np.arange(12) + 1.0)
    popularity = 12 - np.arange(12)
    assert novelty(p[None, :], popularity) == pytest.approx(0.78**100, rel=1e-9)


def test_novelty_popular_predictions_score_lower_than_unpopular():
    rng = np.random.default_rng(5)
    popularity = np.sort(rng.random(50))[::-1] ** 4  # target 0 is the most popular
    base = rng.random((30, 50)) * 0.05
    on_popular, on_unpopular = base.copy(), base.copy()
    on_popular[:, :10] = 0.9
    on_unpopular[:, -10:] = 0.9
    assert novelty(on_popular, popularity) < novelty(on_unpopular, popularity)
    assert novelty(on_unpopular, popularity) > 0.5


def test_novelty_ties_break_towards_lower_index():
    # K = 11 -> k = 10: the ten tied 0.5's at j = 0..9 are taken, not j = 10.
    p = np.full((1, 11), 0.5)
    popularity = np.r_[np.ones(10), 100.0]
    # normalised by the 10 largest: 100 + 9 * 1 = 109 -> P = 0.5 * 10 / 109
    assert novelty(p, popularity) == pytest.approx((1 - 5 / 109) ** 100, rel=1e-9)


@pytest.mark.parametrize(
    ("p", "popularity", "match"),
    [
        ([[0.1, 0.2]], [1, 2, 3], r"popularity must have shape \(2,\)"),
        ([[0.1, 0.2]], [1, -2], "non-negative"),
        ([[0.1, 0.2]], [0, 0], "all zero"),
        ([[0.1, 3.0]], [1, 2], "probabilities"),
    ],
)
def test_novelty_errors(p, popularity, match):
    with pytest.raises(ValueError, match=match):
        novelty(p, popularity)


# ----------------------------------------------------------------------- task score


def test_task_score():
    assert task_score("binary", 0.71) == 0.71
    assert task_score("churn", 0.71, diversity=0.2, novelty=0.3) == 0.71  # ignored
    # 0.8 * 0.8 + 0.1 * 0.5 + 0.1 * 0.9 = 0.64 + 0.05 + 0.09 = 0.78
    assert task_score("multilabel", 0.8, 0.5, 0.9) == pytest.approx(0.78)
    assert task_score("propensity", 0.8, 0.5, 0.9) == pytest.approx(0.78)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("regression", 0.5), "unknown task kind"),
        (("multilabel", 0.5), "diversity is required"),
        (("multilabel", 0.5, 0.3), "novelty is required"),
        (("binary", float("nan")), "auroc must be finite"),
    ],
)
def test_task_score_errors(args, match):
    with pytest.raises(ValueError, match=match):
        task_score(*args)
