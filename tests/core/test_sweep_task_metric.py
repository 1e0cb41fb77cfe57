"""A sweep's objective is the task's metric, ranked in that metric's direction."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kerastui.core.spec import Experiment, fit_to_task
from kerastui.core.sweep import Sweep, sweep_from_table


def of_task(task: str) -> Experiment:
    return fit_to_task(replace(Experiment(), task=task), 2 if task == "binary" else 3, task)


TABLE = {"method": "grid", "parameters": {"compile.learning_rate": [0.01, 0.001]}}


@pytest.mark.parametrize(("objective", "direction"), [
    ("val_mae", "min"), ("val_rmse", "min"), ("val_loss", "min"), ("loss", "min"),
    ("val_auc", "max"), ("val_accuracy", "max"), ("accuracy", "max"),
])
def test_each_metric_is_ranked_in_its_own_direction(objective, direction):
    sweep = Sweep((), objectives=(objective,))
    assert sweep.direction == direction
    assert sweep.best([0.3, 0.1, 0.2]) == (0.1 if direction == "min" else 0.3)


def test_goal_still_overrides_the_direction():
    assert Sweep((), objectives=("val_mae",), goals=("max",)).direction == "max"


@pytest.mark.parametrize(("task", "objective"), [
    ("regression", "val_mae"), ("binary", "val_auc"), ("multilabel", "val_auc"), ("multiclass", "val_accuracy"),
])
def test_without_an_objective_the_sweep_optimises_the_tasks_metric(task, objective):
    sweep, problems = sweep_from_table(dict(TABLE), of_task(task))
    assert not problems
    assert sweep.objective == objective


def test_an_objective_the_task_does_not_log_is_refused_with_what_it_logs():
    _, problems = sweep_from_table({**TABLE, "objective": "val_auc"}, of_task("regression"))
    (problem,) = [p for p in problems if p.field == "sweep.objective"]
    assert "regression" in problem.message and "val_mae" in problem.message


def test_an_unknown_objective_is_refused_naming_every_metric():
    # A file's task is not known before it loads: every metric training logs is named.
    on_a_file = replace(Experiment(), task="", dataset="my_data.npz")
    _, problems = sweep_from_table({**TABLE, "objective": "val_acc"}, on_a_file)
    (problem,) = [p for p in problems if p.field == "sweep.objective"]
    assert "val_accuracy" in problem.message and "val_mae" in problem.message
    _, problems = sweep_from_table({**TABLE, "objective": "val_acc"}, Experiment())  # digits: multiclass
    (problem,) = [p for p in problems if p.field == "sweep.objective"]
    assert "multiclass" in problem.message and "val_accuracy" in problem.message and "val_mae" not in problem.message


# ---- a regression sweep on disk: trials written from events, no training ------------------------


def _regression_sweep(tmp_path, maes: list[list[float]]):
    """A grid sweep of a regression experiment whose trials, asked from its study, logged these
    val_mae per epoch (finished, each with a regression evaluation)."""
    import numpy as np
    from sweep_trials import asked_trials

    from kerastui.core.runs import RunWriter
    from kerastui.core.sweep_runs import create_sweep_dir
    from kerastui.core.tasks import TASKS, evaluate_with

    base = replace(of_task("regression"), dataset="diabetes")
    sweep, problems = sweep_from_table({"method": "grid", "parameters": {"compile.learning_rate": [0.1, 0.01, 0.001]}}, base)
    assert not problems
    sweep_dir = create_sweep_dir(base, sweep, tmp_path / "runs")
    runs = asked_trials(sweep_dir, maes, metric="val_mae")
    rng = np.random.default_rng(0)
    for run_dir, values in zip(runs, maes):
        y = rng.normal(size=(30, 1))
        RunWriter(run_dir).save_evaluation(evaluate_with(TASKS["regression"], y, y + rng.normal(0, values[-1] / 4, y.shape),
                                                         ("target",), 0.5))
    return sweep_dir, sweep, runs


def test_a_regression_sweeps_leaderboard_puts_the_lowest_mae_first(tmp_path, capsys):
    from kerastui.cli import main
    from kerastui.core.runs import list_runs
    from kerastui.core.sweep_runs import SweepRecord, group_sweeps, leaderboard

    sweep_dir, sweep, _ = _regression_sweep(tmp_path, [[3.0, 2.0], [2.5, 1.0, 1.2], [4.0, 3.5]])
    assert sweep.objective == "val_mae" and sweep.direction == "min"
    _, rows = leaderboard(sweep_dir)
    assert [row.objective for row in rows] == [1.0, 2.0, 3.5]  # the best of each trial is its lowest
    assert main(["sweep", "--show", str(sweep_dir)]) == 0
    out = capsys.readouterr().out
    assert "leaderboard by best val_mae (min)" in out
    first = next(line for line in out.splitlines() if line.startswith("1 "))
    assert "1.0000" in first and "R² " in first  # the test column: the task's headline, not accuracy
    assert "best val_mae 1 (trial 1)" in out  # the study agrees: lowest first
    (record,) = [r for r in group_sweeps(list_runs(tmp_path / "runs")) if isinstance(r, SweepRecord)]
    assert record.best_val_metric == ("val_mae", 1.0) and record.headline[0] == "R²"
    assert record.task == "regression" and record.test_accuracy is None
    assert main(["runs", "--runs-dir", str(tmp_path / "runs")]) == 0
    assert "1.0000" in capsys.readouterr().out


def test_without_a_task_the_built_in_datas_task_decides_the_objective():
    diabetes = replace(Experiment(), task="", dataset="diabetes")  # "": the data's task, regression
    sweep, problems = sweep_from_table(dict(TABLE), diabetes)
    assert not problems and sweep.objective == "val_mae" and sweep.direction == "min"
    _, problems = sweep_from_table({**TABLE, "objective": "val_accuracy"}, diabetes)
    assert any(p.field == "sweep.objective" and "val_mae" in p.message for p in problems)
    # Trials over several data sets may differ in task: any metric training logs is accepted.
    varied = {"method": "grid", "parameters": {"dataset": ["diabetes", "digits"]}, "objective": "val_accuracy"}
    _, problems = sweep_from_table(varied, diabetes)
    assert not [p for p in problems if p.field == "sweep.objective"]
