"""Targets on their way to Keras: checked against the task and the loss, and class weights.

A bad value found here is named (how many, the first sample and column) before a batch is run:
otherwise Keras reports only a NaN loss, or trains on nonsense without a word.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerastui.core.tasks.base import Task


def non_finite_problem(values: np.ndarray, what: str) -> str | None:
    """'y_train has 3 NaN or infinite values; the first at sample 17, column 2', or None."""
    values = np.asarray(values)
    if values.dtype.kind not in "fc":
        return None
    bad = ~np.isfinite(values)
    count = int(bad.sum())
    if not count:
        return None
    first = np.argwhere(bad)[0]
    where = f"sample {int(first[0])}" + (f", column {int(first[1])}" if len(first) > 1 else "")
    return f"{what} has {count} NaN or infinite value{'s' if count != 1 else ''}; the first at {where}"


def target_problem(task: Task, loss: str, y: np.ndarray, what: str) -> str | None:
    """Why `y` cannot train `task` with `loss` (None when it can)."""
    problem = non_finite_problem(y, what)
    if problem is not None:
        return problem
    why = task.label_problem(y)
    if why is not None:
        return f"{what}: {why}"
    if task.name == "regression" and np.asarray(y).size:
        problem = squared_overflow_problem(np.asarray(y, dtype=np.float64), what)
        if problem is not None:
            return problem
    rule = task.loss_rule(loss)
    if rule is not None and rule.target_range is not None:
        low, high = rule.target_range
        values = np.asarray(y, dtype=np.float64)
        outside = (values < low) | (values > high)
        if outside.any():
            first = int(np.argwhere(outside)[0][0])
            return (f"{what}: {loss} needs targets in [{low:g}, {high:g}]; {int(outside.sum())} are outside "
                    f"(the first at sample {first}: {values.reshape(len(values), -1)[first].tolist()})")
    return None


# Squared errors past this overflow float32 (3.4e38): a loss of inf from the first batch.
LARGEST_SQUARED_ERROR = 1e36


def squared_overflow_problem(values: np.ndarray, what: str) -> str | None:
    """Why targets this far apart cannot be trained on in float32 (None when they can): the mse
    loss and the RMSE metric square the errors, infinite from the first batch, and Keras would only
    say so as a NaN loss (or predictions that are infinite)."""
    spread = np.abs(values - values.mean(axis=0))
    largest = float(spread.max())
    if largest ** 2 <= LARGEST_SQUARED_ERROR:
        return None
    first = int(np.argwhere(spread == largest)[0][0])
    scale = 10 ** max(0, int(np.floor(np.log10(largest))) - 3)
    return (f"{what}: targets {largest:.3g} from their mean (sample {first}) make squared errors (mse, RMSE) "
            f"past float32's largest number (3.4e38); rescale the targets (divide them by {scale:.0e}, say)")


def checked_targets(task: Task, loss: str, y: np.ndarray, outputs: int, what: str) -> np.ndarray:
    """The targets as the task's loss wants them; ValueError naming the first bad value."""
    problem = target_problem(task, loss, y, what)
    if problem is not None:
        raise ValueError(problem)
    return task.targets(y, loss, outputs)


def experiment_target_problems(experiment: Any, data: Any) -> list[str]:
    """Why the experiment's loss cannot take the data's targets, each split checked (the train
    split is checked again as it is fed to Keras; the test split only here): empty when it can."""
    task = experiment.task_for(data.task)
    found = []
    for what, y in (("y_train", data.y_train), ("y_test", data.y_test)):
        problem = target_problem(task, experiment.compile.loss, y, what)
        if problem is not None:
            found.append(f"{data.name}: {problem}")
    return found


def class_weights(setting: Any, y_train: np.ndarray, task: Task) -> dict[int, float] | None:
    """Keras's class_weight: None, 'balanced' computed by scikit-learn from the training labels,
    or the weights given (one per class)."""
    if setting in ("", None) or not task.weights_classes:
        return None
    labels = np.asarray(y_train).astype(np.int64).reshape(-1)
    if setting == "balanced":
        from sklearn.utils.class_weight import compute_class_weight

        present = np.unique(labels)
        weights = compute_class_weight("balanced", classes=present, y=labels)
        return {int(c): float(w) for c, w in zip(present, weights)}
    return {index: float(weight) for index, weight in enumerate(setting)}
