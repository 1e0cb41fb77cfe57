"""`kerastui evaluate` prints each task's figures: the printout from made-up evaluations, and one
real binary run (the embedded breast cancer set) re-evaluated through the command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from kerastui.cli.evaluate import print_summary, summary_line
from kerastui.core.evaluation import binary, multiclass, multilabel, regression


def printed(evaluation, capsys, width: int = 120) -> str:
    import os

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        print_summary(evaluation, Path("runs/r"))
    finally:
        if old is None:
            os.environ.pop("COLUMNS")
        else:
            os.environ["COLUMNS"] = old
    return capsys.readouterr().out


def noisy_binary(n: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    return y, 1 / (1 + np.exp(-(rng.normal(size=n) + 2 * y - 1)))


def test_binary_printout_has_aucs_both_rate_tables_and_the_confusion(capsys):
    e = binary.evaluate(*noisy_binary(), ("benign", "malignant"), 0.3)
    out = printed(e, capsys)
    assert f"ROC AUC {e.roc_auc:.4f}" in out and f"PR AUC (average precision) {e.average_precision:.4f}" in out
    row = e.tpr_at_fpr[2]
    assert re.search(rf"0\.05\s*│\s*{row.tpr:.4f}\s*│\s*{row.threshold:.4f}", out)
    assert re.search(rf"0\.95\s*│\s*{e.fpr_at_tpr[1].fpr:.4f}", out)
    (tn, fp), (fn, tp) = e.confusion
    assert f"{tn} (TN)" in out and f"{fp} (FP)" in out and f"{fn} (FN)" in out and f"{tp} (TP)" in out
    assert f"{fp} false positives" in out and "wrote runs/r/evaluation.json" in out
    narrow = printed(e, capsys, width=70)  # the tables one below the other, nothing cut
    assert "threshold" in narrow and "…" not in narrow


def test_binary_printout_of_one_class_says_why_auc_is_undefined(capsys):
    out = printed(binary.evaluate(np.zeros(6, int), np.linspace(0, 1, 6), ("benign", "malignant"), 0.3), capsys)
    assert "ROC AUC undefined" in out
    assert "AUC is undefined: the test split has only negatives (0 positives among 6)" in out


def test_multilabel_printout_has_a_row_per_label_and_macro_micro_f1(capsys):
    rng = np.random.default_rng(1)
    y = (rng.random((80, 3)) < 0.4).astype(int)
    e = multilabel.evaluate(y, np.clip(y * 0.5 + rng.random((80, 3)) * 0.6, 0, 1), ("brest", "cadiz", "dover"), 0.4)
    out = printed(e, capsys)
    assert f"macro F1 {e.macro_f1:.4f}" in out and f"micro F1 {e.micro_f1:.4f}" in out
    for r in e.per_label:
        assert re.search(rf"{r.name}\s*│\s*0\.5\s*│\s*{r.tpr:.3f}\s*│\s*{r.fpr:.3f}\s*│\s*{r.precision:.3f}\s*│\s*{r.f1:.3f}", out)


def test_regression_printout_has_mae_rmse_r2_per_target_and_the_worst(capsys):
    rng = np.random.default_rng(2)
    y = rng.normal(size=(40, 3))
    e = regression.evaluate(y, y + rng.normal(size=(40, 3)) * 0.2, ("Weight", "Waist", "Pulse"), 0.1)
    out = printed(e, capsys)
    assert f"MAE {e.mae:.4f}  RMSE {e.rmse:.4f}  R² {e.r2:.4f}" in out
    for r in e.per_target:
        assert re.search(rf"{r.name}\s*│\s*{r.mae:.4f}\s*│\s*{r.rmse:.4f}\s*│\s*{r.r2:.4f}", out)
    assert f"#{e.worst(1)[0]} " in out


def test_multiclass_printout_keeps_accuracy_and_adds_top_k_and_auc(capsys):
    rng = np.random.default_rng(3)
    p = rng.random((50, 4))
    e = multiclass.evaluate(rng.integers(0, 4, 50), p / p.sum(axis=1, keepdims=True), ("a", "b", "c", "d"), 0.2)
    out = printed(e, capsys)
    assert out.count(f"test accuracy {e.test_accuracy:.4f}") == 1
    assert f"top-3 accuracy {e.top_k_accuracy:.4f}" in out and f"ROC AUC {e.roc_auc:.4f}" in out
    assert summary_line(e).startswith(f"test accuracy {e.test_accuracy:.4f}  top-3 accuracy")


@pytest.mark.slow
def test_kerastui_evaluate_reevaluates_a_binary_run_on_its_task(tmp_path, capsys):
    from kerastui.cli import main
    from kerastui.core.data import experiment_dataset
    from kerastui.core.layers import LayerSpec
    from kerastui.core.pipeline import run_experiment
    from kerastui.core.spec import Experiment, FitSettings, fit_to_task

    base = Experiment(dataset="breast_cancer", layers=(LayerSpec("Dense", {"units": 8}), LayerSpec("Dense", {"units": 1})),
                      fit=FitSettings(epochs=2, batch_size=32))
    data = experiment_dataset(base)
    experiment = fit_to_task(base, data.num_classes, data.task)
    outcome = run_experiment(experiment, data, runs_root=tmp_path)
    assert outcome.status == "finished", outcome.reason
    saved = json.loads((outcome.run_dir / "evaluation.json").read_text())
    assert saved["task"] == "binary" and saved["roc_auc"] is not None
    (outcome.run_dir / "evaluation.json").unlink()

    assert main(["evaluate", str(outcome.run_dir)]) == 0
    out = capsys.readouterr().out
    again = json.loads((outcome.run_dir / "evaluation.json").read_text())
    assert again["task"] == "binary" and again["roc_auc"] == pytest.approx(saved["roc_auc"], abs=1e-6)
    assert again["confusion"] == saved["confusion"] and sum(map(sum, again["confusion"])) == len(data.y_test)
    assert f"ROC AUC {again['roc_auc']:.4f}" in out and "(TP)" in out and "malignant" in out
