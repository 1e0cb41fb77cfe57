"""Several yes/no labels per sample (12 stations flooded or not): a sigmoid unit per label, scored
per label by TPR, FPR, F1 and ROC AUC."""

from __future__ import annotations

from typing import Any

import numpy as np

from kerastui.core.tasks.base import LossRule, Task, as_probability, whole_labels


class Multilabel(Task):
    name = "multilabel"
    title = "multi-label (several yes/no labels)"
    scored_by = "per label TPR, FPR, F1 and ROC AUC (each at its own threshold); macro and micro F1"
    losses = (
        LossRule("binary_crossentropy", "a Bernoulli negative log-likelihood per label", ("from_logits",), (0.0, 1.0)),
        LossRule("binary_focal_crossentropy", "down-weights easy labels, for rare positives",
                 ("from_logits", "focal_gamma", "focal_alpha"), (0.0, 1.0)),
    )
    activations = ("sigmoid",)
    default_activation = "sigmoid"
    output_word = "labels"
    chart_metric = "auc"
    headline = "macro_f1"

    def activation_advice(self, activation: str) -> str:
        if activation == "softmax":
            return ("softmax makes the labels compete (their scores sum to 1); a multilabel task scores each "
                    "label on its own: use sigmoid on the last layer")
        return f"a multilabel task's last layer needs sigmoid (or linear with from_logits), not {activation}"

    def metric_names(self) -> tuple[str, ...]:
        return ("auc", "accuracy")

    def compile_metrics(self, keras: Any, outputs: int, from_logits: bool) -> list[Any]:
        return [
            keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0 if from_logits else 0.5),
            keras.metrics.AUC(name="auc", multi_label=True, num_labels=outputs, from_logits=from_logits),
        ]

    def targets(self, y: np.ndarray, loss: str, outputs: int) -> np.ndarray:
        return np.asarray(y, dtype=np.float32)

    def scores(self, outputs: np.ndarray, from_logits: bool) -> np.ndarray:
        return as_probability(outputs, from_logits)

    def label_problem(self, y: np.ndarray) -> str | None:
        y = np.asarray(y)
        if y.ndim != 2 or y.shape[1] < 2:
            return f"a multilabel task needs a 0/1 matrix, one column per label, shape (N, L); got {y.shape}"
        if not whole_labels(y) or not np.isin(y, (0, 1)).all():
            return "multilabel targets must be 0 or 1 in every column"
        return None


MULTILABEL = Multilabel()
