"""The tasks kerastui knows, each described once (kerastui.core.tasks.base says what a task knows).

`infer_task` names the task labels suggest when data loads; the user may change it (the data tab,
`task = "..."` in the TOML, `--task` on the CLI).
"""

from __future__ import annotations

import numpy as np

from kerastui.core.tasks.base import METRIC_DIRECTIONS, LossRule, Task, evaluate_with, metric_direction, whole_labels
from kerastui.core.tasks.binary import BINARY
from kerastui.core.tasks.multiclass import MULTICLASS
from kerastui.core.tasks.multilabel import MULTILABEL
from kerastui.core.tasks.regression import REGRESSION

TASKS: dict[str, Task] = {task.name: task for task in (MULTICLASS, BINARY, MULTILABEL, REGRESSION)}
TASK_NAMES = tuple(TASKS)
# A whole-number label this much (or the number of classes, if more) above the next one is not a
# class number: such targets are counts or measurements (diabetes progression 25..346).
FAR_LABEL_GAP = 10

__all__ = ["METRIC_DIRECTIONS", "TASKS", "TASK_NAMES", "LossRule", "Task", "evaluate_with", "infer_task",
           "metric_direction", "task_named", "all_losses", "all_monitors"]


class TaskError(ValueError):
    """Labels fit no task; the message says what was found and what each task needs."""


def task_named(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise TaskError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}") from None


def looks_like_classes(y: np.ndarray) -> bool:
    """Whole numbers 0..K-1 with no label far above the rest (those are counts, not classes)."""
    y = np.asarray(y).reshape(-1)
    if not y.size or not whole_labels(y) or y.min() < 0:
        return False
    present = np.unique(y)
    if present.size < 2:
        return True  # one class: the classifier's own check says so, in its words
    return int(present[-1]) - int(present[-2]) <= max(present.size, FAR_LABEL_GAP) and present[-1] < 100_000


def infer_task(y: np.ndarray) -> str:
    """The task labels suggest: 0..K-1 integers multiclass (binary when K is 2), a 0/1 matrix
    multilabel, anything else numeric regression. TaskError when they fit none."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.dtype.kind not in "iufb":
        raise TaskError(f"labels of type {y.dtype} fit no task: classes are whole numbers 0..K-1, "
                        "multi-label targets a 0/1 matrix, regression targets numbers")
    if y.ndim == 2:
        if whole_labels(y) and np.isin(y, (0, 1)).all():
            return "multilabel"
        return "regression"
    if y.ndim != 1:
        raise TaskError(f"labels of shape {y.shape} fit no task: one label per sample (N,), a label matrix "
                        "(N, L), or targets (N, T)")
    if looks_like_classes(y):
        return "binary" if int(np.max(y)) <= 1 else "multiclass"
    if y.dtype.kind == "f":
        return "regression"
    raise TaskError(
        f"integer labels from {int(y.min())} to {int(y.max())} with {np.unique(y).size} distinct values "
        "are not classes 0..K-1; number the classes from 0, or choose the regression task if they are counts"
    )


def all_losses() -> tuple[str, ...]:
    """Every loss some task allows, in registry order."""
    seen: dict[str, None] = {}
    for task in TASKS.values():
        seen.update(dict.fromkeys(task.loss_names()))
    return tuple(seen)


def all_monitors() -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for task in TASKS.values():
        seen.update(dict.fromkeys(task.monitors()))
    return tuple(seen)
