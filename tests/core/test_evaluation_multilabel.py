"""Multi-label evaluation: per-label counts, rates, F1 and AUC equal scikit-learn's, macro and micro
F1 too, each label at its own threshold (with_thresholds agreeing with scikit-learn), mistakes
most confident first, a label without positives has no AUC, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, multilabel_confusion_matrix, precision_recall_fscore_support, roc_auc_score

from kerastui.core.evaluation import common, evaluation_from_dict
from kerastui.core.evaluation.multilabel import MultilabelEvaluation, evaluate

NAMES = ("brest", "cadiz", "dover")


def noisy(n: int, labels: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random((n, labels)) < 0.3).astype(np.int64)
    return y, 1 / (1 + np.exp(-(rng.normal(size=(n, labels)) + 1.8 * y - 0.8)))


def check_against_sklearn(e: MultilabelEvaluation, y: np.ndarray, s: np.ndarray, thresholds) -> None:
    predicted = (s >= np.asarray(thresholds)).astype(int)
    confusion = multilabel_confusion_matrix(y, predicted)
    precision, recall, f1, support = precision_recall_fscore_support(y, predicted, average=None, zero_division=0)
    for i, r in enumerate(e.per_label):
        (tn, fp), (fn, tp) = confusion[i]
        assert (r.tn, r.fp, r.fn, r.tp) == (tn, fp, fn, tp)
        assert r.tpr == pytest.approx(recall[i]) and r.fpr == pytest.approx(fp / (fp + tn))
        assert r.precision == pytest.approx(precision[i]) and r.f1 == pytest.approx(f1[i])
        assert r.support == support[i] and r.threshold == thresholds[i]
    assert e.macro_f1 == pytest.approx(f1_score(y, predicted, average="macro", zero_division=0))
    assert e.micro_f1 == pytest.approx(f1_score(y, predicted, average="micro", zero_division=0))


def test_numbers_equal_scikit_learns():
    y, s = noisy(600, seed=1)
    e = evaluate(y, s, NAMES, 0.5)
    check_against_sklearn(e, y, e.scores, [0.5] * 3)
    for i, r in enumerate(e.per_label):
        assert r.name == NAMES[i] and r.roc_auc == pytest.approx(roc_auc_score(y[:, i], e.scores[:, i]))
    assert e.headline == ("macro_f1", pytest.approx(e.macro_f1))
    assert e.metric("micro_f1") == e.micro_f1 and e.metric("cadiz.f1") == e.per_label[1].f1
    assert e.sample_count == 600 and e.thresholds == (0.5, 0.5, 0.5)
    # Keras's BinaryAccuracy for several labels: every (sample, label) call counts once.
    assert e.test_accuracy == pytest.approx(accuracy_score(y.ravel(), (e.scores >= 0.5).ravel()))


def test_a_small_case_worked_out_by_hand():
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    s = np.array([[0.9, 0.2], [0.6, 0.4], [0.3, 0.8], [0.1, 0.7]])
    e = evaluate(y, s, ("a", "b"), 0.1)
    a, b = e.per_label
    # a: called 0.9 and 0.6 -> tp 1 (row 0), fp 1 (row 1), fn 1 (row 2), tn 1.
    assert (a.tp, a.fp, a.fn, a.tn) == (1, 1, 1, 1) and a.f1 == 0.5 and a.fpr == 0.5
    # b: called 0.8, 0.7 -> tp 1 (row 2), fp 1 (row 3), fn 1 (row 1).
    assert (b.tp, b.fp, b.fn, b.tn) == (1, 1, 1, 1)
    assert e.macro_f1 == 0.5 and e.micro_f1 == 0.5
    # Wrong calls: (1, a) at 0.6, (2, a) at 1 - 0.3, (1, b) at 1 - 0.4, (3, b) at 0.7.
    assert e.mistakes("a").tolist() == [2, 1]
    assert e.mistakes("b").tolist() == [3, 1]
    assert e.mistakes().tolist() == [2, 3, 1]  # each sample by its most confident wrong call (ties: 2 before 3)
    moved = e.with_threshold("a", 0.25)
    assert (moved.per_label[0].tp, moved.per_label[0].fn) == (2, 0) and moved.mistakes("a").tolist() == [1]


def test_with_thresholds_agrees_with_scikit_learn_and_a_fresh_evaluation():
    y, s = noisy(800, seed=2)
    e = evaluate(y, s, NAMES, 0.5)
    thresholds = [0.3, 0.5, 0.72]
    moved = e.with_thresholds(thresholds)
    check_against_sklearn(moved, y, e.scores, thresholds)
    fresh = evaluate(y, e.scores, NAMES, 0.5, thresholds=thresholds)
    assert moved.to_dict() == fresh.to_dict()
    assert moved.sweeps is e.sweeps and e.thresholds == (0.5, 0.5, 0.5)
    with pytest.raises(ValueError, match="2 thresholds for 3 labels"):
        e.with_thresholds([0.5, 0.5])


def test_a_label_without_positives_has_no_auc_and_says_why():
    y, s = noisy(50, seed=3)
    y[:, 2] = 0
    e = evaluate(y, s, NAMES, 0.5)
    assert e.per_label[2].roc_auc is None and e.per_label[2].tpr is None
    assert e.per_label[2].auc_undefined == "AUC is undefined: the test split has only negatives (0 positives among 50)"
    assert e.per_label[0].roc_auc is not None
    assert e.metric("macro_roc_auc") is None
    json.dumps(e.to_dict(), allow_nan=False)


def test_bad_input_is_named():
    y, s = noisy(10, seed=4)
    s[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"1 of 30 test scores are NaN or infinite \(the first at sample 3, column 1\)"):
        evaluate(y, s, NAMES, 0.1)
    with pytest.raises(ValueError, match=r"expected \(10, 3\)"):
        evaluate(y, s[:, :2], NAMES, 0.1)
    y[0, 0] = 2
    with pytest.raises(ValueError, match="0 or 1; found 2"):
        evaluate(y, np.zeros((10, 3)), NAMES, 0.1)


def test_json_round_trip_and_large_sets_without_scores(monkeypatch):
    y, s = noisy(40, seed=5)
    e = evaluate(y, s, NAMES, 0.2).with_thresholds([0.4, 0.5, 0.6])
    data = json.loads(json.dumps(e.to_dict(), allow_nan=False))
    assert data["task"] == "multilabel" and {"per_label", "macro_f1", "micro_f1"} <= set(data)
    assert {"tpr", "fpr", "f1", "roc_auc"} <= set(data["per_label"][0])
    back = evaluation_from_dict(data)
    assert isinstance(back, MultilabelEvaluation) and back.to_dict() == e.to_dict()
    assert back.with_thresholds([0.5] * 3).to_dict() == evaluate(y, s, NAMES, 0.2).to_dict()
    del data["per_label"]
    with pytest.raises(ValueError, match="per_label"):
        MultilabelEvaluation.from_dict(data)
    monkeypatch.setattr(common, "MAX_STORED_VALUES", 10)
    small = MultilabelEvaluation.from_dict(e.to_dict())
    assert small.scores is None and small.macro_f1 == e.macro_f1
    with pytest.raises(ValueError, match="saved without its 40 x 3 scores"):
        small.with_threshold(0, 0.3)
