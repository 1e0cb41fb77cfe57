"""Runs of every task read back with their task's metrics: the evaluation of the task, the best
validation value in the metric's direction, the headline test metric; `kerastui runs` shows them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from kerastui.cli import main
from kerastui.core.events import EpochEnded, TrainingFinished, TrainingStarted
from kerastui.core.runs import RunWriter, list_runs, load_run
from kerastui.core.spec import Experiment, fit_to_task
from kerastui.core.tasks import TASKS, evaluate_with


def _run(root, name: str, task: str, val_metric: str, values: list[float]) -> None:
    rng = np.random.default_rng(len(name))
    outputs = 2 if task == "binary" else 1
    experiment = fit_to_task(replace(Experiment(), name=name, task=task), outputs, task)
    writer = RunWriter.create(experiment, root=root, name=name)
    writer(TrainingStarted(epochs=len(values), steps_per_epoch=1, train_samples=8, validation_samples=2, batch_size=8))
    for epoch, value in enumerate(values):
        writer(EpochEnded(epoch=epoch, epochs=len(values), metrics={"loss": 1.0, val_metric: value}, seconds=0.1))
    writer(TrainingFinished(epochs_done=len(values)))
    if task == "binary":
        y = np.array([0, 1] * 20)
        evaluation = evaluate_with(TASKS["binary"], y, np.clip(y * 0.6 + rng.random(40) * 0.4, 0, 1), ("no", "yes"), 0.3)
    else:
        y = rng.normal(size=(40, 1))
        evaluation = evaluate_with(TASKS["regression"], y, y + rng.normal(0, 0.3, size=y.shape), ("price",), 0.1)
    writer.save_evaluation(evaluation)
    writer.close()


def test_each_run_reads_back_as_its_task_with_its_metrics_in_their_direction(tmp_path):
    _run(tmp_path, "signals", "binary", "val_auc", [0.7, 0.9, 0.8])
    _run(tmp_path, "houses", "regression", "val_mae", [3.0, 1.5, 2.0])
    records = {r.experiment.name: r for r in list_runs(tmp_path)}
    binary, regression = records["signals"], records["houses"]
    assert binary.evaluation.task == "binary" and regression.evaluation.task == "regression"
    assert binary.best_val_metric == ("val_auc", 0.9)  # the highest AUC
    assert regression.best_val_metric == ("val_mae", 1.5)  # the lowest MAE
    assert regression.best_val_rank > -2.0 and binary.best_val_rank == 0.9
    assert binary.headline == ("ROC AUC", binary.evaluation.roc_auc)
    assert regression.headline == ("R²", regression.evaluation.r2) and regression.test_accuracy is None
    assert load_run(regression.path).headline_text.startswith("R² ")


def test_kerastui_runs_names_each_runs_metrics(tmp_path, capsys):
    _run(tmp_path, "signals", "binary", "val_auc", [0.7, 0.9])
    _run(tmp_path, "houses", "regression", "val_mae", [3.0, 1.5])
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "AUC 0.9" in out and "MAE 1.5" in out and "R² " in out  # mixed tasks: each cell says its metric


def test_runs_of_one_task_name_the_metric_once_in_the_header(tmp_path, capsys):
    _run(tmp_path, "houses", "regression", "val_mae", [3.0, 1.5])
    _run(tmp_path, "houses2", "regression", "val_mae", [2.5, 2.0])
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "best val MAE" in out and "test R²" in out and "MAE 1.5" not in out


def test_compare_charts_the_runs_task_metric(tmp_path):
    from kerastui.tui.screens.compare import task_metric

    _run(tmp_path, "houses", "regression", "val_mae", [3.0, 1.5])
    _run(tmp_path, "houses2", "regression", "val_mae", [2.5, 2.0])
    regressions = list_runs(tmp_path)
    assert task_metric(regressions) == "mae"
    _run(tmp_path, "signals", "binary", "val_auc", [0.7, 0.9])
    assert task_metric(list_runs(tmp_path)) == "accuracy"  # mixed tasks share no metric but loss


def test_watch_ends_with_the_tasks_own_metrics(tmp_path, capsys):
    _run(tmp_path, "houses", "regression", "val_mae", [3.0, 1.5])
    (record,) = list_runs(tmp_path)
    assert main(["watch", str(record.path), "--plain"]) == 0
    out = capsys.readouterr().out
    evaluation = record.evaluation
    assert f"R² {evaluation.r2:.4f}" in out and f"MAE {evaluation.mae:.4f}" in out
    assert "test accuracy" not in out
