"""Several yes/no labels per sample (12 stations flooded or not): per label TPR, FPR, precision,
F1 and ROC AUC, each at the label's own threshold, and macro and micro F1 over the labels.

The evaluation's numbers come from scikit-learn: per-label counts from multilabel_confusion_matrix,
each label's AUC from roc_auc_score; per-label precision, TPR, FPR, F1 and the macro and micro F1
are read from those counts by f1_score's own formulas (zero_division=0), in one place
(macro_micro_f1) that with_thresholds uses too. Calling f1_score twice more would recount the
(N, L) matrix twice: a third of the time on 100,000 x 12. The tests check every one against
precision_recall_fscore_support and f1_score. `with_thresholds` (the screen moving one label's
threshold) recounts through each label's ThresholdSweep in O(L log N).

A sample's label is called positive when its score is >= that label's threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Sequence

import numpy as np

from kerastui.core.evaluation.binary import DEFAULT_THRESHOLD, undefined_reason
from kerastui.core.evaluation.common import (
    NamedMetrics,
    check_binary_labels,
    check_finite,
    from_json_float,
    json_array,
    json_float,
    names_or_default,
    optional_float,
    order_by,
    readonly,
    required,
    round_scores,
    storable,
)
from kerastui.core.evaluation.threshold import Counts, ThresholdSweep, counts_from


@dataclass(frozen=True)
class LabelReport:
    name: str
    threshold: float
    tp: int
    fp: int
    tn: int
    fn: int
    tpr: float | None  # recall; None when the label has no positives in the test split
    fpr: float | None  # None when every test sample has the label
    precision: float  # 0 where nothing is called positive (scikit-learn's zero_division=0)
    f1: float
    roc_auc: float | None  # None (and auc_undefined says why) when the label has one class here
    support: int  # test samples with the label
    auc_undefined: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "threshold": self.threshold, "tp": self.tp, "fp": self.fp, "tn": self.tn,
                "fn": self.fn, "tpr": json_float(self.tpr), "fpr": json_float(self.fpr),
                "precision": json_float(self.precision), "f1": json_float(self.f1),
                "roc_auc": json_float(self.roc_auc), "support": self.support, "auc_undefined": self.auc_undefined}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelReport:
        get = lambda key: required(data, key, "a per_label row")  # noqa: E731
        return cls(str(get("name")), float(get("threshold")), int(get("tp")), int(get("fp")), int(get("tn")),
                   int(get("fn")), optional_float(get("tpr")), optional_float(get("fpr")),
                   from_json_float(get("precision")), from_json_float(get("f1")), optional_float(get("roc_auc")),
                   int(get("support")), str(data.get("auc_undefined", "")))

    @property
    def counts(self) -> Counts:
        return counts_from(self.threshold, self.tp, self.fp, self.tp + self.fn, self.fp + self.tn)


def _report(name: str, c: Counts, roc_auc: float | None, auc_undefined: str) -> LabelReport:
    return LabelReport(name, c.threshold, c.tp, c.fp, c.tn, c.fn, c.tpr, c.fpr, c.precision, c.f1, roc_auc,
                       c.tp + c.fn, auc_undefined)


def macro_micro_f1(reports: Sequence[LabelReport]) -> tuple[float, float]:
    """scikit-learn's f1_score average='macro' and 'micro' (zero_division=0), from the counts."""
    if not reports:
        return math.nan, math.nan
    macro = float(np.mean([r.f1 for r in reports]))
    tp, fp, fn = (sum(getattr(r, k) for r in reports) for k in ("tp", "fp", "fn"))
    micro = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0
    return macro, micro


@dataclass(frozen=True, eq=False)
class MultilabelEvaluation(NamedMetrics):
    test_loss: float
    label_names: tuple[str, ...]
    samples: int
    per_label: tuple[LabelReport, ...]
    macro_f1: float
    micro_f1: float
    # (N, L); None when saved without them (N x L over MAX_STORED_VALUES).
    y_true: np.ndarray | None = None
    scores: np.ndarray | None = None

    task = "multilabel"
    _summary_names = ("macro_f1", "micro_f1", "macro_roc_auc")

    @property
    def sample_count(self) -> int:
        return self.samples

    @property
    def output_names(self) -> tuple[str, ...]:
        return self.label_names

    @property
    def undefined_reason(self) -> str:
        return ""  # each label says why its own AUC is undefined

    @property
    def thresholds(self) -> tuple[float, ...]:
        return tuple(r.threshold for r in self.per_label)

    @property
    def macro_roc_auc(self) -> float | None:
        """The mean of the labels' AUCs where every label has one (else None)."""
        aucs = [r.roc_auc for r in self.per_label]
        return float(np.mean(aucs)) if aucs and all(a is not None for a in aucs) else None

    @property
    def test_accuracy(self) -> float:
        """The share of (sample, label) calls that are right, as Keras's BinaryAccuracy counts it."""
        right = sum(r.tp + r.tn for r in self.per_label)
        calls = self.samples * len(self.per_label)
        return right / calls if calls else math.nan

    def _metrics(self) -> dict[str, float | None]:
        metrics: dict[str, float | None] = {"macro_f1": self.macro_f1, "micro_f1": self.micro_f1,
                                            "macro_roc_auc": self.macro_roc_auc, "test_loss": self.test_loss,
                                            "accuracy": self.test_accuracy, "test_accuracy": self.test_accuracy}
        for r in self.per_label:
            for key in ("f1", "tpr", "fpr", "precision", "roc_auc"):
                metrics[f"{r.name}.{key}"] = getattr(r, key)
        return metrics

    def metric_label(self, name: str) -> str:
        if name == "macro_roc_auc":
            return "mean ROC AUC"
        return super().metric_label(name)

    # ---- thresholds ----------------------------------------------------------------------------

    @property
    def has_scores(self) -> bool:
        return self.y_true is not None and self.scores is not None

    @cached_property
    def sweeps(self) -> tuple[ThresholdSweep, ...]:
        """One ThresholdSweep per label, made on first use and shared by with_thresholds' results."""
        self._need_scores("move a threshold")
        return tuple(ThresholdSweep(self.y_true[:, i], self.scores[:, i]) for i in range(len(self.label_names)))

    def with_thresholds(self, thresholds: Sequence[float]) -> MultilabelEvaluation:
        """This evaluation at other per-label thresholds (one per label), recounted in O(L log N)."""
        thresholds = [float(t) for t in thresholds]
        if len(thresholds) != len(self.label_names):
            raise ValueError(f"{len(thresholds)} thresholds for {len(self.label_names)} labels: give one per label")
        sweeps = self.sweeps
        reports = tuple(
            r if r.threshold == t else _report(r.name, sweeps[i].at(t), r.roc_auc, r.auc_undefined)
            for i, (r, t) in enumerate(zip(self.per_label, thresholds))
        )
        macro, micro = macro_micro_f1(reports)
        moved = replace(self, per_label=reports, macro_f1=macro, micro_f1=micro)
        moved.__dict__["sweeps"] = sweeps
        return moved

    def with_threshold(self, label: int | str, threshold: float) -> MultilabelEvaluation:
        """with_thresholds changing one label's (by index or name)."""
        index = self.label_index(label)
        thresholds = list(self.thresholds)
        thresholds[index] = float(threshold)
        return self.with_thresholds(thresholds)

    def label_index(self, label: int | str) -> int:
        if isinstance(label, str):
            if label not in self.label_names:
                raise ValueError(f"no label {label!r}; the labels are {', '.join(self.label_names)}")
            return self.label_names.index(label)
        if not 0 <= label < len(self.label_names):
            raise ValueError(f"label {label} out of range: there are {len(self.label_names)} labels")
        return int(label)

    def predicted(self) -> np.ndarray:
        """(N, L) 0/1: each label called at its threshold."""
        self._need_scores("call the labels")
        return (self.scores >= np.asarray(self.thresholds)).astype(np.int64)

    def mistakes(self, label: int | str | None = None) -> np.ndarray:
        """Indices of samples with a wrong label (that label only, if given), the most confident
        first: a wrong positive by its score, a wrong negative by 1 - score, a sample by its worst."""
        predicted = self.predicted()
        wrong = predicted != self.y_true
        confidence = np.where(predicted == 1, self.scores, 1.0 - self.scores)
        if label is not None:
            i = self.label_index(label)
            rows = np.flatnonzero(wrong[:, i])
            return order_by(confidence[rows, i], rows, descending=True)
        rows = np.flatnonzero(wrong.any(axis=1))
        worst = np.where(wrong[rows], confidence[rows], -np.inf).max(axis=1)
        return order_by(worst, rows, descending=True)

    def _need_scores(self, what: str) -> None:
        if not self.has_scores:
            raise ValueError(
                f"this evaluation was saved without its {self.samples} x {len(self.label_names)} scores "
                f"(too many to keep in evaluation.json), so it cannot {what}; evaluate the model in the app to do so"
            )

    # ---- JSON ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        keep = self.has_scores and storable(self.scores)
        return {
            "task": self.task,
            "test_loss": json_float(self.test_loss),
            "label_names": list(self.label_names),
            "samples": self.samples,
            "per_label": [r.to_dict() for r in self.per_label],
            "macro_f1": json_float(self.macro_f1),
            "micro_f1": json_float(self.micro_f1),
            "y_true": json_array(self.y_true) if keep else None,
            "scores": json_array(self.scores) if keep else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MultilabelEvaluation:
        get = lambda key: required(data, key, "multilabel evaluation data")  # noqa: E731
        try:
            names = tuple(str(n) for n in get("label_names"))
            y_true, scores = data.get("y_true"), data.get("scores")
            if (y_true is None) != (scores is None):
                raise ValueError("y_true and scores must be saved together")
            if y_true is not None:
                y_true = readonly(np.asarray(y_true, dtype=np.int64).reshape(-1, len(names)))
                scores = readonly(np.asarray(scores, dtype=np.float64).reshape(-1, len(names)))
                if y_true.shape != scores.shape:
                    raise ValueError(f"y_true {y_true.shape} and scores {scores.shape} differ in shape")
            per_label = tuple(LabelReport.from_dict(r) for r in get("per_label"))
            if len(per_label) != len(names):
                raise ValueError(f"{len(per_label)} per_label rows for {len(names)} labels")
            return cls(
                test_loss=from_json_float(get("test_loss")),
                label_names=names,
                samples=int(get("samples")),
                per_label=per_label,
                macro_f1=from_json_float(get("macro_f1")),
                micro_f1=from_json_float(get("micro_f1")),
                y_true=y_true,
                scores=scores,
            )
        except (TypeError, KeyError, AttributeError) as error:
            raise ValueError(f"malformed multilabel evaluation data: {error}") from None


def evaluate(y_true: np.ndarray, scores: np.ndarray, names: Sequence[str], test_loss: float,
             thresholds: Sequence[float] | float = DEFAULT_THRESHOLD) -> MultilabelEvaluation:
    """Score (N, L) sigmoid scores against (N, L) 0/1 labels, each label at its threshold."""
    from sklearn.metrics import multilabel_confusion_matrix, roc_auc_score

    y = np.asarray(y_true)
    s = np.asarray(scores, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(f"multilabel labels have shape {y.shape}; expected (N, L), one 0/1 column per label")
    if s.shape != y.shape:
        raise ValueError(f"scores have shape {s.shape}; expected {y.shape} (one score per sample and label)")
    y = check_binary_labels(y, "multilabel test labels")
    check_finite(s, "test scores")
    s = round_scores(s)
    n, labels = y.shape
    names = names_or_default(names, labels, "label ")
    cut = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (labels,)).copy()
    predicted = (s >= cut).astype(np.int64)

    confusion = multilabel_confusion_matrix(y, predicted)  # (L, 2, 2): [[tn, fp], [fn, tp]]
    reports = []
    for i in range(labels):
        (tn, fp), (fn, tp) = confusion[i].tolist()
        positives = tp + fn
        why = undefined_reason(positives, n - positives)
        auc = float(roc_auc_score(y[:, i], s[:, i])) if not why else None
        reports.append(_report(names[i], counts_from(cut[i], tp, fp, positives, n - positives), auc, why))
    macro, micro = macro_micro_f1(reports) if n else (math.nan, math.nan)
    return MultilabelEvaluation(
        test_loss=float(test_loss),
        label_names=names,
        samples=n,
        per_label=tuple(reports),
        macro_f1=macro,
        micro_f1=micro,
        y_true=readonly(y),
        scores=readonly(s),
    )


__all__ = ["LabelReport", "MultilabelEvaluation", "evaluate", "macro_micro_f1"]
