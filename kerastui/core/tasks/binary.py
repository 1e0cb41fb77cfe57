"""Signal or noise, cancer or not: one sigmoid unit, a binary cross-entropy, scored by ROC and PR."""

from __future__ import annotations

from typing import Any

import numpy as np

from kerastui.core.tasks.base import LossRule, Task, as_probability, whole_labels


class Binary(Task):
    name = "binary"
    title = "binary (positive or not)"
    scored_by = "ROC AUC, PR AUC (average precision), TPR at fixed FPR, FPR at fixed TPR, a movable threshold"
    losses = (
        LossRule("binary_crossentropy", "negative log-likelihood of a Bernoulli", ("from_logits",), (0.0, 1.0)),
        LossRule("binary_focal_crossentropy", "down-weights easy samples, for rare positives",
                 ("from_logits", "focal_gamma", "focal_alpha"), (0.0, 1.0)),
    )
    activations = ("sigmoid",)
    default_activation = "sigmoid"
    chart_metric = "auc"
    headline = "roc_auc"
    weights_classes = True

    def units(self, outputs: int) -> int:
        return 1

    def activation_advice(self, activation: str) -> str:
        if activation == "softmax":
            return "softmax over one unit is always 1: a binary task's last layer needs sigmoid (one unit)"
        return f"a binary task's last layer needs one sigmoid unit (or linear with from_logits), not {activation}"

    def units_advice(self, units: int, outputs: int) -> str:
        return (f"the model outputs {units} values but a binary task needs 1 (the positive class's score): "
                "make the last layer Dense with 1 unit and sigmoid")

    def metric_names(self) -> tuple[str, ...]:
        return ("auc", "accuracy")

    def compile_metrics(self, keras: Any, outputs: int, from_logits: bool) -> list[Any]:
        return [
            keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0 if from_logits else 0.5),
            keras.metrics.AUC(name="auc", from_logits=from_logits),
        ]

    def targets(self, y: np.ndarray, loss: str, outputs: int) -> np.ndarray:
        return np.asarray(y, dtype=np.float32).reshape(-1, 1)

    def scores(self, outputs: np.ndarray, from_logits: bool) -> np.ndarray:
        return as_probability(np.asarray(outputs).reshape(len(outputs), -1)[:, -1], from_logits)

    def label_problem(self, y: np.ndarray) -> str | None:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            return f"a binary task needs one label per sample, shape (N,), not {y.shape}"
        if not whole_labels(y) or not np.isin(y, (0, 1)).all():
            values = np.unique(y[np.isfinite(y)] if y.dtype.kind == "f" else y)[:5]
            return f"binary labels must be 0 or 1; found {', '.join(f'{v:g}' for v in values)}"
        return None


BINARY = Binary()
