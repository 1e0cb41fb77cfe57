"""Evaluation of a trained classifier: loss/accuracy, top-k accuracy, one-vs-rest ROC AUC,
confusion matrix, per-class report, mistakes; and `evaluate_model`, which scores any task's model
(kerastui.core.evaluation.<task>).

`evaluation_from_predictions` is pure numpy + scikit-learn (no Keras), so UI tests and saved runs
can build real Evaluations from stored or made-up probabilities. The (N, K) probabilities are not
kept (100,000 x 10 would be megabytes of JSON): top-k and ROC AUC are computed from them once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from kerastui.core.evaluation.common import NamedMetrics, check_finite, from_json_float, json_float, optional_float
from kerastui.core.tasks.base import as_probabilities

# Top-k accuracy's k: 5, or K-1 for fewer classes (top-K is always 1).
TOP_K = 5


@dataclass(frozen=True)
class ClassReport:
    name: str
    precision: float
    recall: float
    f1: float
    support: int  # test samples whose true class is this one
    roc_auc: float | None = None  # this class against the rest; None when absent from the test set


@dataclass(frozen=True)
class Misclassified:
    index: int  # position in the test set
    true: int
    predicted: int
    confidence: float  # probability the model gave to its (wrong) prediction


@dataclass(frozen=True)
class Evaluation(NamedMetrics):
    test_loss: float
    test_accuracy: float
    class_names: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows = true class, columns = predicted class
    per_class: tuple[ClassReport, ...]
    misclassified: tuple[Misclassified, ...]  # most confident mistakes first
    predictions: tuple[int, ...]  # predicted class per test sample
    # Whether the true class is among the top_k most probable (scikit-learn's top_k_accuracy_score);
    # None for files written before it was computed.
    top_k: int = 0
    top_k_accuracy: float | None = None
    # Macro one-vs-rest ROC AUC (scikit-learn's roc_auc_score multi_class="ovr"); None, with
    # roc_auc_undefined saying why, when a class has no test samples.
    roc_auc: float | None = None
    roc_auc_undefined: str = ""

    task = "multiclass"
    _summary_names = ("test_accuracy", "top_k_accuracy", "roc_auc")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def output_names(self) -> tuple[str, ...]:
        return self.class_names

    @property
    def undefined_reason(self) -> str:
        return self.roc_auc_undefined

    @property
    def sample_count(self) -> int:
        return len(self.predictions)

    def _metrics(self) -> dict[str, float | None]:
        metrics: dict[str, float | None] = {"test_accuracy": self.test_accuracy, "accuracy": self.test_accuracy,
                                            "top_k_accuracy": self.top_k_accuracy, "roc_auc": self.roc_auc,
                                            "test_loss": self.test_loss}
        if self.per_class:
            metrics["macro_f1"] = float(np.mean([r.f1 for r in self.per_class]))
        return metrics

    def metric_label(self, name: str) -> str:
        if name == "top_k_accuracy" and self.top_k:
            return f"top-{self.top_k} accuracy"
        return super().metric_label(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe plain data (a NaN/inf loss becomes null, since JSON has no NaN)."""
        return {
            "task": self.task,
            "test_loss": json_float(self.test_loss),
            "test_accuracy": json_float(self.test_accuracy),
            "top_k_accuracy": {"k": self.top_k, "value": json_float(self.top_k_accuracy)},
            "roc_auc": json_float(self.roc_auc),
            "roc_auc_undefined": self.roc_auc_undefined,
            "class_names": list(self.class_names),
            "confusion": [list(row) for row in self.confusion],
            "per_class": [
                {"name": r.name, "precision": r.precision, "recall": r.recall, "f1": r.f1, "support": r.support,
                 "roc_auc": json_float(r.roc_auc)}
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
        """Inverse of to_dict; raises ValueError naming what is missing or malformed. Files from
        before top-k and ROC AUC (and "task") read with those None."""
        try:
            top_k = data.get("top_k_accuracy") or {}
            return cls(
                test_loss=from_json_float(data["test_loss"]),
                test_accuracy=from_json_float(data["test_accuracy"]),
                class_names=tuple(str(name) for name in data["class_names"]),
                confusion=tuple(tuple(int(v) for v in row) for row in data["confusion"]),
                per_class=tuple(
                    ClassReport(str(r["name"]), float(r["precision"]), float(r["recall"]), float(r["f1"]),
                                int(r["support"]), optional_float(r.get("roc_auc")))
                    for r in data["per_class"]
                ),
                misclassified=tuple(
                    Misclassified(int(m["index"]), int(m["true"]), int(m["predicted"]), float(m["confidence"]))
                    for m in data["misclassified"]
                ),
                predictions=tuple(int(p) for p in data["predictions"]),
                top_k=int(top_k.get("k", 0)),
                top_k_accuracy=optional_float(top_k.get("value")),
                roc_auc=optional_float(data.get("roc_auc")),
                roc_auc_undefined=str(data.get("roc_auc_undefined", "")),
            )
        except KeyError as missing:
            raise ValueError(f"evaluation data lacks {missing.args[0]!r}") from None
        except (TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"malformed evaluation data: {error}") from None


def evaluation_from_predictions(
    y_true: np.ndarray,
    probabilities: np.ndarray,
    class_names: Sequence[str],
    test_loss: float,
    test_accuracy: float,
) -> Evaluation:
    """Confusion matrix, per-class precision/recall/F1, top-k accuracy and one-vs-rest ROC AUC
    (scikit-learn) and mistakes, from probabilities (or logits, given a softmax)."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    y_true = np.asarray(y_true).astype(np.int64).reshape(-1)
    check_finite(probabilities, "test scores")
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
    top_k, top_k_accuracy = top_k_of(y_true, probabilities)
    roc_auc, class_aucs, roc_auc_undefined = one_vs_rest_auc(y_true, probabilities, class_names)
    per_class = tuple(
        ClassReport(str(name), float(p), float(r), float(f), int(s), auc)
        for name, p, r, f, s, auc in zip(class_names, precision, recall, f1, support, class_aucs)
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
        top_k=top_k,
        top_k_accuracy=top_k_accuracy,
        roc_auc=roc_auc,
        roc_auc_undefined=roc_auc_undefined,
    )


def top_k_of(y_true: np.ndarray, probabilities: np.ndarray) -> tuple[int, float | None]:
    """(k, scikit-learn's top_k_accuracy_score) with k = min(TOP_K, K - 1)."""
    from sklearn.metrics import top_k_accuracy_score

    classes = probabilities.shape[1]
    k = min(TOP_K, classes - 1)
    if k < 1 or not len(y_true):
        return max(k, 0), None
    if classes == 2:  # scikit-learn takes two classes' scores as the positive one's (top-1: > 0.5)
        return k, float(top_k_accuracy_score(y_true, probabilities[:, 1], k=1, labels=[0, 1]))
    return k, float(top_k_accuracy_score(y_true, probabilities, k=k, labels=np.arange(classes)))


def one_vs_rest_auc(
    y_true: np.ndarray, probabilities: np.ndarray, class_names: Sequence[str]
) -> tuple[float | None, list[float | None], str]:
    """(macro AUC, each class's AUC against the rest, why the macro is undefined or "").

    scikit-learn's roc_auc_score(multi_class="ovr"), whose macro is the mean of the classes' AUCs;
    a class with no test samples has none, and then neither has the macro."""
    from sklearn.metrics import roc_auc_score

    classes = probabilities.shape[1]
    present = np.bincount(y_true[(y_true >= 0) & (y_true < classes)], minlength=classes) > 0
    aucs: list[float | None] = [None] * classes
    absent = [str(class_names[c]) for c in range(classes) if not present[c]]
    if present.all() and classes > 2:
        # Scores must sum to 1 for the multiclass call; renormalise float32 round-off away.
        p = probabilities / probabilities.sum(axis=1, keepdims=True)
        aucs = [float(a) for a in roc_auc_score(y_true, p, multi_class="ovr", average=None, labels=np.arange(classes))]
    elif present.sum() >= 2:  # two classes, or some absent: each present class against the rest
        for c in np.flatnonzero(present):
            aucs[c] = float(roc_auc_score(y_true == c, probabilities[:, c]))
    if absent:
        listed = ", ".join(repr(n) for n in absent[:3]) + (f" and {len(absent) - 3} more" if len(absent) > 3 else "")
        plural = "es have" if len(absent) > 1 else " has"
        return None, aucs, f"ROC AUC is undefined: class{plural} no test samples: {listed}"
    if classes < 2:
        return None, aucs, "ROC AUC is undefined: there is only one class"
    return float(np.mean(aucs)), aucs, ""


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


def model_data_mismatch(model: Any, dataset: Any, task: Any) -> str | None:
    """Why a saved model cannot be scored on this data (the data file, or the run's task, changed
    since it trained), in the data's words rather than Keras's; None when it fits."""
    from kerastui.core.build import output_problem

    shape = getattr(model, "input_shape", None)
    wanted = tuple(shape)[1:] if isinstance(shape, tuple) else ()  # a list: several inputs, not checked here
    given = tuple(int(d) for d in dataset.x_test.shape[1:])
    fits = len(wanted) == len(given) and all(w is None or w == g for w, g in zip(wanted, given))
    if wanted and not fits:
        return (f"the saved model takes samples of shape {tuple(wanted)} but {dataset.name}'s test samples have "
                f"shape {given}: the data changed since the run trained; evaluate with the data it trained on")
    output = getattr(model, "output_shape", None)
    if isinstance(output, tuple) and output:
        mismatch = output_problem(output, len(dataset.class_names), task)
        if mismatch:
            return (f"the saved model gives {tuple(output)[1:]} per sample, which does not fit {dataset.name} "
                    f"read as a {task.name} task ({len(dataset.class_names)} {task.output_word}): the data or the "
                    f"run's task changed since it trained")
    return None


def evaluate_model(model: Any, dataset: Any, batch_size: int = 256) -> Any:
    """Evaluate a compiled Keras model on the dataset's test split, scored as its task is
    (kerastui.core.evaluation.<task>): an Evaluation for multiclass, the task's own otherwise."""
    from kerastui.core.datasets.keyed_arrays import is_streamed
    from kerastui.core.tasks import evaluate_with, task_named

    task = task_named(dataset.task)
    outputs_count = len(dataset.class_names)
    problem = model_data_mismatch(model, dataset, task)
    if problem:
        raise ValueError(problem)
    targets = task.targets(dataset.y_test, model_loss_name(model), outputs_count)
    x_test, fit_options = dataset.x_test, {"batch_size": batch_size}
    if is_streamed(dataset):  # read from the file batch by batch, in order
        from kerastui.core.batches import streamed_batches

        everything = np.arange(len(x_test))
        x_test, fit_options = streamed_batches(x_test, None, everything, batch_size), {}
        scored = streamed_batches(dataset.x_test, targets, everything, batch_size)
        scores = model.evaluate(scored, verbose=0, return_dict=True)
    else:
        scores = model.evaluate(x_test, targets, batch_size=batch_size, verbose=0, return_dict=True)
    outputs = np.asarray(model.predict(x_test, verbose=0, **fit_options))
    return evaluate_with(task, np.asarray(dataset.y_test), task.scores(outputs, model_from_logits(model)),
                         tuple(dataset.class_names), float(scores.get("loss", math.nan)))
