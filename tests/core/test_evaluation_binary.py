"""Binary evaluation: every number equal to scikit-learn's or worked out by hand, a split of one
class reported as undefined (never NaN in JSON), NaN scores refused by count, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)

from kerastui.core.evaluation import common, evaluation_from_dict
from kerastui.core.evaluation.binary import FPR_AT_TPR_TARGETS, TPR_AT_FPR_TARGETS, BinaryEvaluation, evaluate

Y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
S = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 0.35, 0.7, 0.9, 0.95])


def noisy(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.25).astype(np.int64)
    return y, 1 / (1 + np.exp(-(rng.normal(size=n) * 1.3 + 2.0 * y - 1)))


def test_a_toy_set_worked_out_by_hand():
    e = evaluate(Y, S, ("noise", "signal"), 0.3)
    # 20 of the 24 (positive, negative) pairs are ordered right.
    assert e.roc_auc == pytest.approx(20 / 24)
    assert e.confusion == ((4, 2), (1, 3)) and e.threshold == 0.5
    assert (e.precision, e.recall, e.f1) == (pytest.approx(0.6), 0.75, pytest.approx(2 / 3))
    assert e.tpr == 0.75 and e.fpr == pytest.approx(1 / 3) and e.accuracy == pytest.approx(0.7) == e.test_accuracy
    # With 6 negatives no FPR target below 1/6 allows a false positive: above 0.8, TPR 2/4 at 0.9.
    assert [(r.fpr, r.tpr, r.threshold, r.actual_fpr) for r in e.tpr_at_fpr] == [
        (x, 0.5, 0.9, 0.0) for x in TPR_AT_FPR_TARGETS
    ]
    # TPR >= 0.9 needs all four positives: the threshold falls to 0.35, where 3 of 6 negatives pass.
    assert [(r.tpr, r.fpr, r.threshold, r.actual_tpr) for r in e.fpr_at_tpr] == [
        (x, 0.5, 0.35, 1.0) for x in FPR_AT_TPR_TARGETS
    ]
    assert e.false_positives().tolist() == [5, 4]  # 0.8 before 0.6: the most wrong first
    assert e.false_negatives().tolist() == [6]
    assert e.false_positives(0.3).tolist() == [5, 4, 3, 2] and e.false_negatives(0.96).tolist() == [6, 7, 8, 9]
    assert e.headline == ("roc_auc", pytest.approx(20 / 24))
    assert e.metric("tpr_at_fpr_0.05") == 0.5 and e.metric("fpr_at_tpr_0.9") == 0.5
    assert e.sample_count == 10 and (e.positives, e.negatives) == (4, 6) and e.class_names == ("noise", "signal")


def test_numbers_equal_scikit_learns_on_noisy_scores():
    y, s = noisy(3000, seed=2)
    e = evaluate(y, s, ("n", "p"), 0.4, threshold=0.4)
    s = e.scores  # the evaluation is of its rounded scores
    assert np.max(np.abs(s - noisy(3000, seed=2)[1])) < 1e-6
    assert e.roc_auc == pytest.approx(roc_auc_score(y, s))
    assert e.average_precision == pytest.approx(average_precision_score(y, s))
    predicted = s >= 0.4
    assert np.array_equal(np.array(e.confusion), confusion_matrix(y, predicted))
    precision, recall, f1, _ = precision_recall_fscore_support(y, predicted, average="binary")
    assert (e.precision, e.recall, e.f1) == (pytest.approx(precision), pytest.approx(recall), pytest.approx(f1))
    fpr, tpr, _ = roc_curve(y, s)
    for row in e.tpr_at_fpr:
        assert row.tpr == pytest.approx(tpr[fpr <= row.fpr].max()) and row.actual_fpr <= row.fpr
        assert e.sweep.threshold_for_fpr(row.fpr) == row.threshold  # the screen's keys land on the table's rows
    for row in e.fpr_at_tpr:
        assert row.fpr == pytest.approx(fpr[tpr >= row.tpr].min()) and row.actual_tpr >= row.tpr
        assert e.sweep.threshold_for_tpr(row.tpr) == row.threshold
    assert e.sweep.at(0.4).confusion == e.confusion


def test_a_split_of_one_class_reports_auc_undefined_and_why():
    e = evaluate(np.zeros(7, int), np.linspace(0.1, 0.9, 7), ("benign", "malignant"), 0.2)
    assert e.roc_auc is None and e.average_precision is None
    assert e.undefined_reason == "AUC is undefined: the test split has only negatives (0 positives among 7)"
    assert all(r.tpr is None for r in e.tpr_at_fpr) and all(r.fpr is None for r in e.fpr_at_tpr)
    assert e.tpr is None and e.confusion == ((3, 4), (0, 0))
    text = json.dumps(e.to_dict(), allow_nan=False)  # strict JSON: no NaN anywhere
    assert json.loads(text)["roc_auc"] is None
    assert evaluation_from_dict(json.loads(text)).undefined_reason == e.undefined_reason
    assert e.headline == ("roc_auc", None)
    positives = evaluate(np.ones(3, int), np.array([0.2, 0.6, 0.9]), ("a", "b"), 0.2)
    assert positives.undefined_reason == "AUC is undefined: the test split has only positives (0 negatives among 3)"


def test_nan_scores_are_refused_naming_how_many():
    s = S.copy()
    s[[2, 5]] = np.nan
    with pytest.raises(ValueError, match=r"2 of 10 test scores are NaN or infinite \(the first at sample 2\)"):
        evaluate(Y, s, ("a", "b"), 0.1)


def test_scores_of_shape_n_by_1_are_read_and_other_shapes_refused():
    assert evaluate(Y, S.reshape(-1, 1), ("a", "b"), 0.1).confusion == ((4, 2), (1, 3))
    with pytest.raises(ValueError, match=r"expected \(10,\)"):
        evaluate(Y, np.stack([S, S], axis=1), ("a", "b"), 0.1)


def test_json_round_trip_keeps_numbers_and_scores_and_moves_the_same_threshold():
    y, s = noisy(400, seed=4)
    e = evaluate(y, s, ("n", "p"), float("nan"))
    data = json.loads(json.dumps(e.to_dict(), allow_nan=False))
    assert data["task"] == "binary" and data["test_loss"] is None
    assert set(data) >= {"roc_auc", "average_precision", "tpr_at_fpr", "fpr_at_tpr", "threshold", "confusion"}
    assert set(data["tpr_at_fpr"][0]) >= {"fpr", "tpr", "threshold"}
    back = evaluation_from_dict(data)
    assert isinstance(back, BinaryEvaluation) and back.to_dict() == e.to_dict()
    for t in (0.1, 0.33, 0.8):
        assert back.at(t) == e.at(t)
    assert back.with_threshold(0.8).confusion == e.at(0.8).confusion


def test_with_threshold_moves_the_confusion_and_keeps_the_aucs():
    e = evaluate(Y, S, ("a", "b"), 0.1)
    moved = e.with_threshold(0.35)
    assert moved.confusion == ((3, 3), (0, 4)) and moved.recall == 1.0 and moved.threshold == 0.35
    assert moved.roc_auc == e.roc_auc and moved.sweep is e.sweep
    assert e.confusion == ((4, 2), (1, 3))  # the original is unchanged


def test_from_dict_names_what_is_missing():
    data = evaluate(Y, S, ("a", "b"), 0.1).to_dict()
    del data["tpr_at_fpr"]
    with pytest.raises(ValueError, match="tpr_at_fpr"):
        BinaryEvaluation.from_dict(data)


def test_large_test_sets_are_saved_without_their_scores(monkeypatch):
    monkeypatch.setattr(common, "MAX_STORED_VALUES", 5)
    e = evaluate(Y, S, ("a", "b"), 0.1)
    data = e.to_dict()
    assert data["scores"] is None and data["y_true"] is None
    back = BinaryEvaluation.from_dict(data)
    assert back.roc_auc == e.roc_auc and back.sample_count == 10 and not back.has_scores
    with pytest.raises(ValueError, match="saved without its 10 scores"):
        back.at(0.5)


def test_saved_scores_are_short():
    rng = np.random.default_rng(0)
    e = evaluate(rng.integers(0, 2, 1000), rng.random(1000), ("a", "b"), 0.1)
    per_score = len(json.dumps(e.to_dict()["scores"])) / 1000
    assert per_score < 11  # 6 significant digits, not 17
