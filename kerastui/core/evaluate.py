"""Evaluation of a trained classifier: loss/accuracy, confusion matrix, per-class report, mistakes.

`evaluation_from_predictions` is pure numpy + scikit-learn (no Keras), so UI tests and saved runs
can build real Evaluations from stored or made-up probabilities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np



@dataclass(frozen=True)
class ClassReport:
    name: str
    precision: float
    recall: float
    f1: float
    support: int  # test samples whose true class is this one


@dataclass(frozen=True)
class Misclassified:
    index: int  # position in the test set
    true: int
    predicted: int
    confidence: float  # probability the model gave to its (wrong) prediction


@dataclass(frozen=True)
class Evaluation:
    test_loss: float
    test_accuracy: float
    class_names: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows = true class, columns = predicted class
    per_class: tuple[ClassReport, ...]
    misclassified: tuple[Misclassified, ...]  # most confident mistakes first
    predictions: tuple[int, ...]  # predicted class per test sample

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe plain data (a NaN/inf loss becomes null, since JSON has no NaN)."""
        return {
            "test_loss": _json_float(self.test_loss),
            "test_accuracy": _json_float(self.test_accuracy),
            "class_names": list(self.class_names),
            "confusion": [list(row) for row in self.confusion],
            "per_class": [
                {"name": r.name, "precision": r.precision, "recall": r.recall, "f1": r.f1, "support": r.support}
                for r in self.per_class
            ],
            "misclassified": [
                {"index": m.index, "true": m.true, "predicted": m.predicted, "confidence": m.confidence}
                for m in self.misclassified
            ],
            "predictions": list(self.predictions),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        """Inverse of to_dict; raises ValueError naming what is missing or malformed."""
        try:
            return cls(
                test_loss=_from_json_float(data["test_loss"]),
                test_accuracy=_from_json_float(data["test_accuracy"]),
                class_names=tuple(str(name) for name in data["class_names"]),
                confusion=tuple(tuple(int(v) for v in row) for row in data["confusion"]),
                per_class=tuple(
                    ClassReport(str(r["name"]), float(r["precision"]), float(r["recall"]), float(r["f1"]), int(r["support"]))
                    for r in data["per_class"]
                ),
                misclassified=tuple(
                    Misclassified(int(m["index"]), int(m["true"]), int(m["predicted"]), float(m["confidence"]))
                    for m in data["misclassified"]
                ),
                predictions=tuple(int(p) for p in data["predictions"]),
            )
        except KeyError as missing:
            raise ValueError(f"evaluation data lacks {missing.args[0]!r}") from None
        except (TypeError, ValueError) as error:
            raise ValueError(f"malformed evaluation data: {error}") from None


def _json_float(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _from_json_float(value: Any) -> float:
    return math.nan if value is None else float(value)


def as_probabilities(outputs: np.ndarray) -> np.ndarray:
    """Model outputs as per-row probabilities; logits (a last layer without softmax) get a softmax."""
    outputs = np.asarray(outputs, dtype=np.float64)
    looks_like_probabilities = (
        np.all(outputs >= 0) and np.all(outputs <= 1) and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3)
    )
    if looks_like_probabilities or not np.all(np.isfinite(outputs)):
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def evaluation_from_predictions(
    y_true: np.ndarray,
    probabilities: np.ndarray,
    class_names: Sequence[str],
    test_loss: float,
    test_accuracy: float,
) -> Evaluation:
    """Confusion matrix, per-class precision/recall/F1 (scikit-learn) and mistakes, from probabilities."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    y_true = np.asarray(y_true).astype(np.int64).reshape(-1)
    probabilities = as_probabilities(probabilities)
    n = len(class_names)
    if probabilities.ndim != 2 or probabilities.shape != (len(y_true), n):
        raise ValueError(
            f"probabilities have shape {probabilities.shape}; expected ({len(y_true)}, {n}) "
            "(one row per test sample, one column per class)"
        )
    predicted = probabilities.argmax(axis=1)
    labels = list(range(n))  # every class gets a row/column, even one absent from this test set
    confusion = confusion_matrix(y_true, predicted, labels=labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, predicted, labels=labels, zero_division=0
    )
    per_class = tuple(
        ClassReport(str(name), float(p), float(r), float(f), int(s))
        for name, p, r, f, s in zip(class_names, precision, recall, f1, support)
    )
    wrong = np.flatnonzero(predicted != y_true)
    confidence = probabilities[wrong, predicted[wrong]]
    # Most confident mistakes first; ties keep test-set order so the listing is stable.
    order = np.lexsort((wrong, -confidence))
    misclassified = tuple(
        Misclassified(int(wrong[i]), int(y_true[wrong[i]]), int(predicted[wrong[i]]), float(confidence[i])) for i in order
    )
    return Evaluation(
        test_loss=float(test_loss),
        test_accuracy=float(test_accuracy),
        class_names=tuple(str(name) for name in class_names),
        confusion=tuple(tuple(int(v) for v in row) for row in confusion),
        per_class=per_class,
        misclassified=misclassified,
        predictions=tuple(int(p) for p in predicted),
    )


def model_loss_name(model: Any) -> str:
    """The compiled loss's name ('categorical_crossentropy', ...), also for a reloaded model."""
    loss = getattr(model, "loss", None)
    name = loss if isinstance(loss, str) else getattr(loss, "name", "") or ""
    return str(name)


def model_from_logits(model: Any) -> bool:
    """Whether the compiled loss takes raw scores (its from_logits), also for a reloaded model."""
    loss = getattr(model, "loss", None)
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    return bool(config.get("from_logits", False))


def evaluate_model(model: Any, dataset: Any, batch_size: int = 256) -> Any:
    """Evaluate a compiled Keras model on the dataset's test split, scored as its task is
    (kerastui.core.evaluation.<task>): an Evaluation for multiclass, the task's own otherwise."""
    from kerastui.core.tasks import evaluate_with, task_named

    task = task_named(getattr(dataset, "task", "multiclass"))
    outputs_count = len(dataset.class_names)
    targets = task.targets(dataset.y_test, model_loss_name(model), outputs_count)
    scores = model.evaluate(dataset.x_test, targets, batch_size=batch_size, verbose=0, return_dict=True)
    outputs = np.asarray(model.predict(dataset.x_test, batch_size=batch_size, verbose=0))
    return evaluate_with(task, np.asarray(dataset.y_test), task.scores(outputs, model_from_logits(model)),
                         tuple(dataset.class_names), float(scores.get("loss", math.nan)))
