"""Signal or noise, cancer or not: ROC AUC, PR AUC (average precision), TPR at fixed FPRs, FPR at
fixed TPRs, and the confusion at a threshold the screen can move (kerastui.core.evaluation.threshold).

Every number here comes from scikit-learn (roc_auc_score, average_precision_score, roc_curve,
confusion_matrix, precision_recall_fscore_support) on the scores as kept: rounded once
(common.round_scores) so that an evaluation read back from evaluation.json moves its threshold on
the very scores its numbers came from.

"TPR at FPR x" is the ROC point with the largest TPR among those with FPR <= x, and its threshold;
"FPR at TPR y" the point with the smallest FPR among those with TPR >= y. Neither interpolates: the
threshold reported gives exactly the rates reported (`actual_fpr` / `actual_tpr` say what it gives
where the test set cannot hit the target exactly, e.g. FPR 0.001 with 300 negatives).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Sequence

import numpy as np

from kerastui.core.evaluation.common import (
    NamedMetrics,
    check_binary_labels,
    check_finite,
    check_rows,
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
from kerastui.core.evaluation.threshold import Counts, ThresholdSweep

TPR_AT_FPR_TARGETS = (0.001, 0.01, 0.05, 0.1)
FPR_AT_TPR_TARGETS = (0.9, 0.95, 0.99)
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class TprAtFpr:
    fpr: float  # the FPR asked for
    tpr: float | None  # None: undefined (the test split has one class)
    threshold: float | None
    actual_fpr: float | None  # what that threshold gives (<= fpr)

    def to_dict(self) -> dict[str, Any]:
        return {"fpr": self.fpr, "tpr": json_float(self.tpr), "threshold": json_float(self.threshold),
                "actual_fpr": json_float(self.actual_fpr)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TprAtFpr:
        return cls(float(required(data, "fpr", "a tpr_at_fpr row")), optional_float(data.get("tpr")),
                   optional_float(data.get("threshold")), optional_float(data.get("actual_fpr")))


@dataclass(frozen=True)
class FprAtTpr:
    tpr: float  # the TPR asked for
    fpr: float | None
    threshold: float | None
    actual_tpr: float | None  # what that threshold gives (>= tpr)

    def to_dict(self) -> dict[str, Any]:
        return {"tpr": self.tpr, "fpr": json_float(self.fpr), "threshold": json_float(self.threshold),
                "actual_tpr": json_float(self.actual_tpr)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FprAtTpr:
        return cls(float(required(data, "tpr", "an fpr_at_tpr row")), optional_float(data.get("fpr")),
                   optional_float(data.get("threshold")), optional_float(data.get("actual_tpr")))


@dataclass(frozen=True, eq=False)
class BinaryEvaluation(NamedMetrics):
    test_loss: float
    class_names: tuple[str, str]  # (negative, positive)
    positives: int
    negatives: int
    roc_auc: float | None
    average_precision: float | None
    undefined_reason: str  # why the AUCs are None ("" when they are defined)
    tpr_at_fpr: tuple[TprAtFpr, ...]
    fpr_at_tpr: tuple[FprAtTpr, ...]
    threshold: float
    confusion: tuple[tuple[int, int], tuple[int, int]]  # [[tn, fp], [fn, tp]] at threshold
    precision: float
    recall: float
    f1: float
    tpr: float | None
    fpr: float | None
    accuracy: float
    # Per test sample; None when the evaluation was saved without them (over MAX_STORED_VALUES).
    y_true: np.ndarray | None = None
    scores: np.ndarray | None = None

    task = "binary"
    _summary_names = ("roc_auc", "average_precision", "tpr_at_fpr_0.05", "fpr_at_tpr_0.95", "f1")

    # ---- the named metrics ---------------------------------------------------------------------

    @property
    def sample_count(self) -> int:
        return self.positives + self.negatives

    @property
    def output_names(self) -> tuple[str, ...]:
        return self.class_names

    def _metrics(self) -> dict[str, float | None]:
        metrics: dict[str, float | None] = {
            "roc_auc": self.roc_auc,
            "average_precision": self.average_precision,
            "threshold": self.threshold,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "tpr": self.tpr,
            "fpr": self.fpr,
            "accuracy": self.accuracy,
            "test_accuracy": self.accuracy,  # at the threshold: what the runs table's accuracy shows
            "test_loss": self.test_loss,
        }
        for row in self.tpr_at_fpr:
            metrics[f"tpr_at_fpr_{row.fpr:g}"] = row.tpr
        for row in self.fpr_at_tpr:
            metrics[f"fpr_at_tpr_{row.tpr:g}"] = row.fpr
        return metrics

    @property
    def test_accuracy(self) -> float:
        """Accuracy at the threshold (what Keras's BinaryAccuracy reports, but scores >= it count)."""
        return self.accuracy

    @property
    def counts(self) -> Counts:
        """The stored confusion at the stored threshold, as a Counts."""
        (tn, fp), (fn, tp) = self.confusion
        return Counts(self.threshold, tp, fp, tn, fn, self.precision, self.recall, self.f1, self.tpr, self.fpr,
                      self.accuracy)

    # ---- the threshold -------------------------------------------------------------------------

    @property
    def has_scores(self) -> bool:
        return self.y_true is not None and self.scores is not None

    @cached_property
    def sweep(self) -> ThresholdSweep:
        """The scores prepared for moving the threshold (sorted once, on first use)."""
        self._need_scores("move the threshold")
        return ThresholdSweep(self.y_true, self.scores)

    def at(self, threshold: float) -> Counts:
        return self.sweep.at(threshold)

    def with_threshold(self, threshold: float) -> BinaryEvaluation:
        """This evaluation with the confusion and rates at another threshold (the sweep is shared)."""
        c = self.sweep.at(threshold)
        moved = replace(self, threshold=float(threshold), confusion=c.confusion, precision=c.precision,
                        recall=c.recall, f1=c.f1, tpr=c.tpr, fpr=c.fpr, accuracy=c.accuracy)
        moved.__dict__["sweep"] = self.sweep
        return moved

    def false_positives(self, threshold: float | None = None) -> np.ndarray:
        """Indices of negatives called positive at threshold (default the evaluation's), the
        highest score (the most wrong) first."""
        y, s, t = self._arrays(threshold)
        wrong = np.flatnonzero((y == 0) & (s >= t))
        return order_by(s[wrong], wrong, descending=True)

    def false_negatives(self, threshold: float | None = None) -> np.ndarray:
        """Indices of positives called negative at threshold, the lowest score first."""
        y, s, t = self._arrays(threshold)
        wrong = np.flatnonzero((y == 1) & (s < t))
        return order_by(s[wrong], wrong, descending=False)

    def _arrays(self, threshold: float | None) -> tuple[np.ndarray, np.ndarray, float]:
        self._need_scores("list the mistakes")
        return self.y_true, self.scores, self.threshold if threshold is None else float(threshold)

    def _need_scores(self, what: str) -> None:
        if not self.has_scores:
            raise ValueError(
                f"this evaluation was saved without its {self.sample_count} scores (too many to keep in "
                f"evaluation.json), so it cannot {what}; evaluate the model in the app to do so"
            )

    # ---- JSON ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        keep = self.has_scores and storable(self.scores)
        return {
            "task": self.task,
            "test_loss": json_float(self.test_loss),
            "class_names": list(self.class_names),
            "positives": self.positives,
            "negatives": self.negatives,
            "roc_auc": json_float(self.roc_auc),
            "average_precision": json_float(self.average_precision),
            "undefined_reason": self.undefined_reason,
            "tpr_at_fpr": [row.to_dict() for row in self.tpr_at_fpr],
            "fpr_at_tpr": [row.to_dict() for row in self.fpr_at_tpr],
            "threshold": self.threshold,
            "confusion": [list(row) for row in self.confusion],
            "precision": json_float(self.precision),
            "recall": json_float(self.recall),
            "f1": json_float(self.f1),
            "tpr": json_float(self.tpr),
            "fpr": json_float(self.fpr),
            "accuracy": json_float(self.accuracy),
            "y_true": json_array(self.y_true) if keep else None,
            "scores": json_array(self.scores) if keep else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BinaryEvaluation:
        """Inverse of to_dict; raises ValueError naming what is missing or malformed."""
        get = lambda key: required(data, key, "binary evaluation data")  # noqa: E731
        try:
            confusion = tuple(tuple(int(v) for v in row) for row in get("confusion"))
            if len(confusion) != 2 or any(len(row) != 2 for row in confusion):
                raise ValueError("confusion must be [[tn, fp], [fn, tp]]")
            y_true, scores = data.get("y_true"), data.get("scores")
            if (y_true is None) != (scores is None):
                raise ValueError("y_true and scores must be saved together")
            if y_true is not None:
                y_true = readonly(np.asarray(y_true, dtype=np.int64).reshape(-1))
                scores = readonly(np.asarray(scores, dtype=np.float64).reshape(-1))
                check_rows("scores", scores, len(y_true))
            return cls(
                test_loss=from_json_float(get("test_loss")),
                class_names=tuple(str(n) for n in get("class_names")),  # type: ignore[arg-type]
                positives=int(get("positives")),
                negatives=int(get("negatives")),
                roc_auc=optional_float(get("roc_auc")),
                average_precision=optional_float(get("average_precision")),
                undefined_reason=str(data.get("undefined_reason", "")),
                tpr_at_fpr=tuple(TprAtFpr.from_dict(row) for row in get("tpr_at_fpr")),
                fpr_at_tpr=tuple(FprAtTpr.from_dict(row) for row in get("fpr_at_tpr")),
                threshold=float(get("threshold")),
                confusion=confusion,  # type: ignore[arg-type]
                precision=from_json_float(get("precision")),
                recall=from_json_float(get("recall")),
                f1=from_json_float(get("f1")),
                tpr=optional_float(get("tpr")),
                fpr=optional_float(get("fpr")),
                accuracy=from_json_float(get("accuracy")),
                y_true=y_true,
                scores=scores,
            )
        except (TypeError, KeyError, AttributeError) as error:
            raise ValueError(f"malformed binary evaluation data: {error}") from None


def binary_scores(scores: np.ndarray, rows: int) -> np.ndarray:
    """One score per sample, (N,) or (N, 1); a ValueError for any other shape."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.ndim != 1:
        raise ValueError(f"binary scores have shape {s.shape}; expected ({rows},): one score (the positive "
                         "class's probability) per test sample")
    check_rows("scores", s, rows)
    return s


def undefined_reason(positives: int, negatives: int) -> str:
    total = positives + negatives
    if not total:
        return "AUC is undefined: the test split is empty"
    if not positives:
        return f"AUC is undefined: the test split has only negatives (0 positives among {total})"
    if not negatives:
        return f"AUC is undefined: the test split has only positives (0 negatives among {total})"
    return ""


def evaluate(y_true: np.ndarray, scores: np.ndarray, names: Sequence[str], test_loss: float,
             threshold: float = DEFAULT_THRESHOLD) -> BinaryEvaluation:
    """Score a binary classifier's test scores (probabilities of the positive class)."""
    from sklearn.metrics import (
        average_precision_score,
        confusion_matrix,
        precision_recall_fscore_support,
        roc_auc_score,
        roc_curve,
    )

    y = check_binary_labels(np.asarray(y_true).reshape(-1))
    s = binary_scores(scores, len(y))
    check_finite(s, "test scores")
    s = round_scores(s)
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    reason = undefined_reason(positives, negatives)

    roc_auc = average_precision = None
    tpr_rows = [TprAtFpr(x, None, None, None) for x in TPR_AT_FPR_TARGETS]
    fpr_rows = [FprAtTpr(x, None, None, None) for x in FPR_AT_TPR_TARGETS]
    if not reason:
        roc_auc = float(roc_auc_score(y, s))
        average_precision = float(average_precision_score(y, s))
        # Every point (drop_intermediate=False): the last one with FPR <= x is the highest TPR there.
        fpr, tpr, thresholds = roc_curve(y, s, drop_intermediate=False)
        above_all = float(np.nextafter(s.max(), math.inf))  # scikit-learn's inf first threshold
        thresholds = np.where(np.isinf(thresholds), above_all, thresholds)
        tpr_rows = []
        for target in TPR_AT_FPR_TARGETS:
            i = int(np.searchsorted(fpr, target * (1 + 1e-9), side="right")) - 1
            tpr_rows.append(TprAtFpr(target, float(tpr[i]), float(thresholds[i]), float(fpr[i])))
        fpr_rows = []
        for target in FPR_AT_TPR_TARGETS:
            i = int(np.searchsorted(tpr, target * (1 - 1e-9), side="left"))
            fpr_rows.append(FprAtTpr(target, float(fpr[i]), float(thresholds[i]), float(tpr[i])))

    predicted = (s >= threshold).astype(np.int64)
    (tn, fp), (fn, tp) = confusion_matrix(y, predicted, labels=[0, 1]).tolist()
    precision, recall, f1, _ = precision_recall_fscore_support(
        y, predicted, labels=[1], average=None, zero_division=0
    )
    return BinaryEvaluation(
        test_loss=float(test_loss),
        class_names=names_or_default(names, 2, "class ")[:2],  # type: ignore[arg-type]
        positives=positives,
        negatives=negatives,
        roc_auc=roc_auc,
        average_precision=average_precision,
        undefined_reason=reason,
        tpr_at_fpr=tuple(tpr_rows),
        fpr_at_tpr=tuple(fpr_rows),
        threshold=float(threshold),
        confusion=((tn, fp), (fn, tp)),
        precision=float(precision[0]),
        recall=float(recall[0]),
        f1=float(f1[0]),
        tpr=tp / positives if positives else None,
        fpr=fp / negatives if negatives else None,
        accuracy=(tp + tn) / len(y) if len(y) else math.nan,
        y_true=readonly(y),
        scores=readonly(s),
    )


__all__ = ["BinaryEvaluation", "TprAtFpr", "FprAtTpr", "TPR_AT_FPR_TARGETS", "FPR_AT_TPR_TARGETS",
           "DEFAULT_THRESHOLD", "evaluate"]
