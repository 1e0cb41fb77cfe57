"""One of K classes (K > 2): the digits lesson. Softmax over K units, a cross-entropy, accuracy."""

from __future__ import annotations

from typing import Any

import numpy as np

from kerastui.core.tasks.base import LossRule, Task, as_probabilities, whole_labels


class Multiclass(Task):
    name = "multiclass"
    title = "multi-class (one of K)"
    scored_by = "accuracy, top-k accuracy, one-vs-rest ROC AUC, per-class precision/recall/F1"
    losses = (
        LossRule("sparse_categorical_crossentropy", "integer labels as they are", ("from_logits",)),
        LossRule("categorical_crossentropy", "labels one-hot encoded for the loss", ("from_logits",)),
    )
    activations = ("softmax",)
    default_activation = "softmax"
    chart_metric = "accuracy"
    headline = "test_accuracy"
    weights_classes = True

    def activation_advice(self, activation: str) -> str:
        if activation == "sigmoid":
            return ("sigmoid scores each class on its own; one of K classes needs softmax on the last layer "
                    "(or the multilabel task, if a sample can have several labels)")
        return f"a multiclass task's last layer needs softmax (or linear with from_logits), not {activation}"

    def compile_metrics(self, keras: Any, outputs: int, from_logits: bool) -> list[Any]:
        return ["accuracy"]

    def targets(self, y: np.ndarray, loss: str, outputs: int) -> np.ndarray:
        labels = np.asarray(y).astype(np.int64).reshape(-1)
        if loss == "categorical_crossentropy":
            return np.eye(outputs, dtype=np.float32)[labels]
        return labels

    def scores(self, outputs: np.ndarray, from_logits: bool) -> np.ndarray:
        return as_probabilities(outputs)

    def label_problem(self, y: np.ndarray) -> str | None:
        y = np.asarray(y)
        if y.ndim != 1:
            return f"one of K classes needs one label per sample, shape (N,), not {y.shape}"
        if not whole_labels(y):
            return "class labels must be whole numbers 0..K-1; these are fractional (a regression target?)"
        if y.size and y.min() < 0:
            return f"class labels must be 0..K-1, found {int(y.min())}"
        return None


MULTICLASS = Multiclass()
