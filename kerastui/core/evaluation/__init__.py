"""Each task's evaluation of test scores, one module per task (kerastui.core.tasks names them):
kerastui.core.evaluate.Evaluation (multiclass), binary.BinaryEvaluation, multilabel.MultilabelEvaluation,
regression.RegressionEvaluation. Each has `task`, `test_loss`, `headline`, `metric(name)`,
`summary_metrics()`, `metric_label(name)`, `sample_count`, `to_dict()` and `from_dict()`.

`evaluation_from_dict` reads any of them back from evaluation.json. Nothing is imported here
until it is asked for: kerastui.core.evaluate imports evaluation.common, and the multiclass module
imports kerastui.core.evaluate.
"""

from __future__ import annotations

from typing import Any

from kerastui.core.evaluation.common import METRIC_LABELS, TaskEvaluation, metric_label

__all__ = ["EVALUATION_TYPES", "METRIC_LABELS", "TaskEvaluation", "evaluation_from_dict", "evaluation_type",
           "metric_label"]


def evaluation_type(task: str) -> type:
    """The evaluation class of a task; ValueError naming the tasks for an unknown one."""
    types = _types()
    if task not in types:
        raise ValueError(f"unknown evaluation task {task!r}; expected one of {', '.join(types)}")
    return types[task]


def evaluation_from_dict(data: Any) -> Any:
    """The evaluation saved as `data` (evaluation.json), of its task; files written before tasks
    existed have no "task" key and are multiclass. ValueError naming what is missing or wrong."""
    if not isinstance(data, dict):
        raise ValueError(f"evaluation data is not a JSON object (got {type(data).__name__})")
    return evaluation_type(str(data.get("task", "multiclass"))).from_dict(data)


def _types() -> dict[str, type]:
    from kerastui.core.evaluate import Evaluation
    from kerastui.core.evaluation.binary import BinaryEvaluation
    from kerastui.core.evaluation.multilabel import MultilabelEvaluation
    from kerastui.core.evaluation.regression import RegressionEvaluation

    return {cls.task: cls for cls in (Evaluation, BinaryEvaluation, MultilabelEvaluation, RegressionEvaluation)}


def __getattr__(name: str) -> Any:
    # EVALUATION_TYPES ({task: class}) is made on first use (PEP 562), keeping this import cheap.
    if name == "EVALUATION_TYPES":
        return _types()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
