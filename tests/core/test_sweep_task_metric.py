"""A sweep's objective is the task's metric, ranked in that metric's direction."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kerastui.core.spec import Experiment, fit_to_task
from kerastui.core.sweep import Sweep, sweep_from_table

def of_task(task: str) -> Experiment:
    return fit_to_task(replace(Experiment(), task=task), 2 if task == "binary" else 3, task)


TABLE = {"parameters": {"compile.learning_rate": [0.01, 0.001]}}


@pytest.mark.parametrize(("objective", "direction"), [
    ("val_mae", "min"), ("val_rmse", "min"), ("val_loss", "min"), ("loss", "min"),
    ("val_auc", "max"), ("val_accuracy", "max"), ("accuracy", "max"),
])
def test_each_metric_is_ranked_in_its_own_direction(objective, direction):
    sweep = Sweep((), objective=objective)
    assert sweep.direction == direction
    assert sweep.best([0.3, 0.1, 0.2]) == (0.1 if direction == "min" else 0.3)


def test_goal_still_overrides_the_direction():
    assert Sweep((), objective="val_mae", goal="max").direction == "max"


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
    _, problems = sweep_from_table({**TABLE, "objective": "val_acc"}, Experiment())
    (problem,) = [p for p in problems if p.field == "sweep.objective"]
    assert "val_accuracy" in problem.message and "val_mae" in problem.message
