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
           "metric_direction", "output_word", "task_named", "all_losses", "all_monitors"]


class TaskError(ValueError):
    """Labels fit no task; the message says what was found and what each task needs."""


def task_named(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise TaskError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}") from None


def output_word(task_name: str) -> str:
    """What a task's outputs are called ("classes", "labels", "targets"); "classes" for no task."""
    return TASKS[task_name].output_word if task_name in TASKS else "classes"


def looks_like_classes(y: np.ndarray) -> bool:
    """Whole numbers 0..K-1 (or 1..K): they start at 0 or 1, no label lies far above the rest and
    most of the range is present. Counts and measurements (diabetes progression 25..346) do not."""
    return why_not_classes(y) is None


def why_not_classes(y: np.ndarray) -> str | None:
    """None when the labels can be class numbers, else what about them says they are not."""
    y = np.asarray(y).reshape(-1)
    if not y.size or not whole_labels(y):
        return "labels that are not whole numbers are not classes 0..K-1"
    present = np.unique(y)
    if present.size < 2:
        return None  # one class: the classifier's own check says so, in its words
    largest, next_largest = int(present[-1]), int(present[-2])
    if largest - next_largest > max(present.size, FAR_LABEL_GAP):
        return (f"label {largest} is far outside the others ({int(present[0])} to {next_largest}), so these "
                f"are not classes 0..K-1: they would make {largest + 1} classes, "
                f"{largest + 1 - present.size} of them never seen")
    if not 0 <= int(present[0]) <= 1 or largest >= 100_000 or present.size * 2 <= largest:
        return (f"integer labels from {int(present[0])} to {largest} with {present.size} distinct values "
                "are not classes 0..K-1")
    return None


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
    raise TaskError(f"{why_not_classes(y)}; number the classes from 0, "
                    "or choose the regression task if they are counts")


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
