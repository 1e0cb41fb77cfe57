"""ThresholdSweep: counts at a threshold equal scikit-learn's, the thresholds for a wanted FPR/TPR
are the ROC points worked out by hand and scikit-learn's, and the drawn curves keep their ends."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_curve,
)

from kerastui.core.evaluation.threshold import ThresholdSweep, decimate

# Six negatives, four positives; worked out by hand in the tests below.
Y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
S = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 0.35, 0.7, 0.9, 0.95])


def noisy(n: int, seed: int = 0, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    s = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.5 * y)))
    return y, (np.round(s, 2) if ties else s)


def test_counts_at_a_threshold_worked_out_by_hand():
    c = ThresholdSweep(Y, S).at(0.5)
    # Called positive (score >= 0.5): negatives 0.6, 0.8; positives 0.7, 0.9, 0.95.
    assert c.confusion == ((4, 2), (1, 3))
    assert (c.precision, c.recall, c.tpr) == (pytest.approx(3 / 5), 0.75, 0.75)
    assert c.fpr == pytest.approx(2 / 6) and c.f1 == pytest.approx(6 / 9) and c.accuracy == pytest.approx(0.7)
    # A score equal to the threshold is called positive, as roc_curve counts it.
    assert ThresholdSweep(Y, S).at(0.35).confusion == ((3, 3), (0, 4))


@pytest.mark.parametrize("ties", [False, True])
def test_counts_equal_scikit_learns_at_many_thresholds(ties):
    y, s = noisy(500, seed=3, ties=ties)
    sweep = ThresholdSweep(y, s)
    for t in [-1.0, 0.0, 0.2, 0.31, 0.5, 0.5 + 1e-12, 0.77, float(s[7]), 1.0, 2.0]:
        predicted = (s >= t).astype(int)
        c = sweep.at(t)
        assert np.array_equal(np.array(c.confusion), confusion_matrix(y, predicted, labels=[0, 1])), t
        assert c.precision == pytest.approx(precision_score(y, predicted, zero_division=0))
        assert c.recall == pytest.approx(recall_score(y, predicted, zero_division=0))
        assert c.f1 == pytest.approx(f1_score(y, predicted, zero_division=0))
        assert c.accuracy == pytest.approx(accuracy_score(y, predicted))


def test_threshold_for_fpr_and_tpr_worked_out_by_hand():
    sweep = ThresholdSweep(Y, S)
    # FPR <= 0.1 allows no false positive: above the top negative (0.8) the next score is 0.9.
    assert sweep.threshold_for_fpr(0.1) == 0.9 and sweep.at(0.9).tpr == 0.5
    # FPR <= 0.2 allows one (0.8): the threshold goes down to 0.7, just above the next negative.
    assert sweep.threshold_for_fpr(0.2) == 0.7 and sweep.at(0.7).tpr == 0.75
    assert sweep.threshold_for_fpr(0.5) == 0.35 and sweep.at(0.35).fpr == 0.5
    assert sweep.threshold_for_fpr(1.0) == 0.1  # everything positive
    # TPR >= 0.9 needs all four positives: down to the lowest, 0.35, where FPR is 3/6.
    assert sweep.threshold_for_tpr(0.9) == 0.35 and sweep.at(0.35).fpr == 0.5
    assert sweep.threshold_for_tpr(0.75) == 0.7 and sweep.at(0.7).fpr == pytest.approx(1 / 6)
    assert sweep.at(sweep.threshold_for_tpr(0.0)).tp == 0  # above every score


@pytest.mark.parametrize("ties", [False, True])
def test_thresholds_for_rates_are_scikit_learns_roc_points(ties):
    y, s = noisy(2000, seed=5, ties=ties)
    sweep = ThresholdSweep(y, s)
    fpr, tpr, thresholds = roc_curve(y, s, drop_intermediate=False)
    for target in (0.001, 0.01, 0.05, 0.1, 0.3):
        best = tpr[fpr <= target].max()  # the highest TPR scikit-learn reaches within the FPR
        c = sweep.at_fpr(target)
        assert c.fpr <= target and c.tpr == pytest.approx(best)
    for target in (0.5, 0.9, 0.95, 0.99):
        best = fpr[tpr >= target].min()
        c = sweep.at_tpr(target)
        assert c.tpr >= target and c.fpr == pytest.approx(best)


def test_one_class_has_no_rate_it_lacks():
    only_negatives = ThresholdSweep(np.zeros(5, int), np.linspace(0, 1, 5))
    assert only_negatives.at(0.5).tpr is None and only_negatives.at(0.5).fpr == pytest.approx(3 / 5)  # 0.5, 0.75, 1
    assert only_negatives.threshold_for_tpr(0.9) is None
    assert len(only_negatives.roc_points()) == 0 and len(only_negatives.pr_points()) == 0
    only_positives = ThresholdSweep(np.ones(5, int), np.linspace(0, 1, 5))
    assert only_positives.at(0.5).fpr is None and only_positives.threshold_for_fpr(0.1) is None


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"1 of 3 test scores are NaN"):
        ThresholdSweep(np.array([0, 1, 1]), np.array([0.1, np.nan, 0.9]))
    with pytest.raises(ValueError, match="0 or 1; found 2"):
        ThresholdSweep(np.array([0, 2]), np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="3 rows but there are 2"):
        ThresholdSweep(np.array([0, 1]), np.array([0.1, 0.2, 0.3]))


def test_roc_and_pr_points_are_scikit_learns_decimated_with_their_ends():
    y, s = noisy(100_000, seed=1)
    sweep = ThresholdSweep(y, s)
    full_fpr, full_tpr, _ = roc_curve(y, s)
    roc = sweep.roc_points(200)
    assert len(roc) <= 200 and len(full_fpr) > 1000
    assert (roc.x[0], roc.y[0], roc.x[-1], roc.y[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(roc.x) >= 0) and np.all(np.diff(roc.y) >= 0)
    # Every drawn point is one of scikit-learn's, and its threshold gives it.
    i = len(roc) // 2
    assert sweep.at(roc.thresholds[i]).fpr == pytest.approx(roc.x[i])
    assert sweep.at(roc.thresholds[i]).tpr == pytest.approx(roc.y[i])
    # The curve's shape is kept: between drawn points scikit-learn's curve moves little.
    step = np.abs(np.diff(roc.x)) + np.abs(np.diff(roc.y))
    assert step.max() < 4 * 2 / 200
    precision, recall, _ = precision_recall_curve(y, s)
    pr = sweep.pr_points(150)
    assert len(pr) <= 150 and pr.x[0] == recall[0] and pr.x[-1] == 0.0 and pr.y[-1] == 1.0


def test_score_histogram_counts_each_class():
    h = ThresholdSweep(Y, S).score_histogram(5)
    assert np.allclose(h.edges, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert h.negatives.tolist() == [1, 2, 2, 0, 1] and h.positives.tolist() == [0, 1, 0, 1, 2]
    assert h.negatives.sum() == 6 and h.positives.sum() == 4


def test_decimate_keeps_short_curves_whole():
    x = np.array([0.0, 0.5, 1.0])
    assert decimate(x, x, 10).tolist() == [0, 1, 2]
