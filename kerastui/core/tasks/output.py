"""The build check's rule for the output: the last layer gives what the task needs (one value
per class, label or target, or one score for a binary task) through an activation that fits.

The one wording of this rule, used by the spec's check before Keras and by the Keras preview.
"""

from __future__ import annotations

from kerastui.core.layers import LayerSpec, Shape, output_shape_of
from kerastui.core.problems import Problem
from kerastui.core.tasks.base import Task


def output_mismatch(shape: Shape, outputs: int, task: Task) -> str | None:
    """Why a model whose output per sample is `shape` does not fit `task` on data with `outputs`
    classes, labels or targets; None when it fits."""
    want = task.units(outputs)
    if len(shape) != 1:
        return (f"the model outputs shape {tuple(shape)} per sample but a {task.name} task needs ({want},): "
                "add Flatten or a global pooling layer before the last Dense layer")
    if shape[0] != want:
        return task.units_advice(shape[0], outputs)
    return None


def output_problems(layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...], outputs: int, task: Task,
                    from_logits: bool = False) -> list[Problem]:
    """The last layer's shape and activation against the task; found before a run directory is
    made or a job submitted, where otherwise training would fail (or train nonsense) later."""
    shape = output_shape_of(layers, input_shape)
    if shape is None or not layers:
        return []
    where = f"layers[{len(layers) - 1}]"
    last = layers[-1]
    found = []
    message = output_mismatch(shape, outputs, task)
    if message is not None:
        if len(shape) == 1 and "units" in last.params_allowed():
            found.append(Problem(f"{where}.units", last.param("units"), message))
        else:
            found.append(Problem(f"{where}.type", last.type, message))
    if "activation" in last.params_allowed():
        why = task.activation_problem(last.param("activation"), from_logits)
        if why is not None:
            found.append(Problem(f"{where}.activation", last.param("activation"), why))
    return found
