"""A binary classifier's scores against a moving threshold, fast enough to follow a key press.

`ThresholdSweep(y_true, scores)` sorts each class's scores once; then the counts at any threshold
are two binary searches (O(log N)), and so are the thresholds that give a wanted FPR or TPR. The
curves for drawing come from scikit-learn's roc_curve and precision_recall_curve, decimated.

The rule everywhere (as scikit-learn's roc_curve): a sample is called positive when its score is
>= the threshold. Precision, recall and F1 follow scikit-learn's zero_division=0 (0 where the
denominator is 0); TPR and FPR are None where the test split has no positives or no negatives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kerastui.core.evaluation.common import check_binary_labels, check_finite, check_rows

# Tolerance on rate targets: 0.05 of 1000 negatives is 50 false positives, not 49 by rounding.
RATE_EPSILON = 1e-9


@dataclass(frozen=True)
class Counts:
    """The 2x2 confusion at one threshold and the rates read from it."""

    threshold: float
    tp: int
    fp: int
    tn: int
    fn: int
    precision: float
    recall: float
    f1: float
    tpr: float | None  # None: no positives in the test split
    fpr: float | None  # None: no negatives in the test split
    accuracy: float

    @property
    def confusion(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """[[tn, fp], [fn, tp]]: rows are the true class (negative, positive), as scikit-learn's."""
        return (self.tn, self.fp), (self.fn, self.tp)


def counts_from(threshold: float, tp: int, fp: int, positives: int, negatives: int) -> Counts:
    fn, tn = positives - tp, negatives - fp
    total = positives + negatives
    return Counts(
        threshold=float(threshold),
        tp=int(tp), fp=int(fp), tn=int(tn), fn=int(fn),
        precision=tp / (tp + fp) if tp + fp else 0.0,
        recall=tp / positives if positives else 0.0,
        f1=2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0,
        tpr=tp / positives if positives else None,
        fpr=fp / negatives if negatives else None,
        accuracy=(tp + tn) / total if total else 0.0,
    )


@dataclass(frozen=True)
class Curve:
    """Points of a curve for drawing: x, y and the threshold of each point (ROC: x = FPR, y = TPR;
    PR: x = recall, y = precision)."""

    x: np.ndarray
    y: np.ndarray
    thresholds: np.ndarray

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True)
class Histogram:
    """Score counts per class over shared bins (edges has one more entry than each count array)."""

    edges: np.ndarray
    negatives: np.ndarray
    positives: np.ndarray


def decimate(x: np.ndarray, y: np.ndarray, max_points: int) -> np.ndarray:
    """Indices of at most max_points points spread evenly along the curve's path length
    (|dx| + |dy|), first and last kept: a staircase of 100,000 steps keeps its shape on a screen
    of 60 columns, and a steep start (the low-FPR end of a ROC curve) keeps its points."""
    n = len(x)
    if n <= max_points:
        return np.arange(n)
    if max_points < 2:
        raise ValueError(f"max_points {max_points}: a curve needs at least 2 points")
    steps = np.abs(np.diff(x)) + np.abs(np.diff(y))
    along = np.concatenate(([0.0], np.cumsum(steps)))
    if along[-1] <= 0:
        return np.array([0, n - 1])
    wanted = np.linspace(0.0, along[-1], max_points)
    picked = np.searchsorted(along, wanted, side="left").clip(0, n - 1)
    picked[0], picked[-1] = 0, n - 1
    return np.unique(picked)


class ThresholdSweep:
    """Counts and rates of binary scores at any threshold, after one sort."""

    def __init__(self, y_true: np.ndarray, scores: np.ndarray) -> None:
        y = check_binary_labels(np.asarray(y_true).reshape(-1))
        s = np.asarray(scores, dtype=np.float64).reshape(-1)
        check_rows("scores", s, len(y))
        check_finite(s, "test scores")
        self.y_true = y
        self.scores = s
        self._positive = np.sort(s[y == 1])
        self._negative = np.sort(s[y == 0])
        self._distinct = np.unique(s)
        self.positives = len(self._positive)
        self.negatives = len(self._negative)

    def __len__(self) -> int:
        return len(self.scores)

    @property
    def above_all(self) -> float:
        """A threshold above every score: nothing is called positive (roc_curve's first point,
        which scikit-learn gives as inf)."""
        top = float(self._distinct[-1]) if len(self._distinct) else 1.0
        return float(np.nextafter(top, math.inf))

    def tp_fp(self, threshold: float) -> tuple[int, int]:
        t = float(threshold)
        tp = self.positives - int(np.searchsorted(self._positive, t, side="left"))
        fp = self.negatives - int(np.searchsorted(self._negative, t, side="left"))
        return tp, fp

    def at(self, threshold: float) -> Counts:
        """The confusion and rates when scores >= threshold are called positive."""
        tp, fp = self.tp_fp(threshold)
        return counts_from(threshold, tp, fp, self.positives, self.negatives)

    def threshold_for_fpr(self, fpr: float) -> float | None:
        """The lowest threshold whose FPR is at most `fpr`: the ROC point with the largest TPR
        among those with FPR <= fpr (no interpolation, so the threshold gives exactly the counts
        it reports). None when there are no negatives (FPR is undefined)."""
        if not self.negatives:
            return None
        allowed = math.floor(float(fpr) * self.negatives * (1 + RATE_EPSILON) + RATE_EPSILON)
        if allowed >= self.negatives:
            return float(self._distinct[0])  # every sample called positive
        if allowed < 0:
            return self.above_all
        # The (allowed+1)-th highest negative must fall below the threshold: take the next score up.
        limit = self._negative[self.negatives - 1 - allowed]
        above = int(np.searchsorted(self._distinct, limit, side="right"))
        return float(self._distinct[above]) if above < len(self._distinct) else self.above_all

    def threshold_for_tpr(self, tpr: float) -> float | None:
        """The highest threshold whose TPR is at least `tpr`: the ROC point with the smallest FPR
        among those with TPR >= tpr. None when there are no positives (TPR is undefined)."""
        if not self.positives:
            return None
        needed = math.ceil(float(tpr) * self.positives * (1 - RATE_EPSILON) - RATE_EPSILON)
        if needed <= 0:
            return self.above_all
        needed = min(needed, self.positives)
        return float(self._positive[self.positives - needed])

    def at_fpr(self, fpr: float) -> Counts | None:
        threshold = self.threshold_for_fpr(fpr)
        return None if threshold is None else self.at(threshold)

    def at_tpr(self, tpr: float) -> Counts | None:
        threshold = self.threshold_for_tpr(tpr)
        return None if threshold is None else self.at(threshold)

    # ---- drawing -------------------------------------------------------------------------------

    def roc_points(self, max_points: int = 400) -> Curve:
        """The ROC curve (scikit-learn's roc_curve), at most max_points points along its path.
        Empty when the split has one class (the curve is undefined)."""
        if not (self.positives and self.negatives):
            return _empty_curve()
        from sklearn.metrics import roc_curve

        fpr, tpr, thresholds = roc_curve(self.y_true, self.scores)
        thresholds = np.where(np.isinf(thresholds), self.above_all, thresholds)
        keep = decimate(fpr, tpr, max_points)
        return Curve(fpr[keep], tpr[keep], thresholds[keep])

    def pr_points(self, max_points: int = 400) -> Curve:
        """The precision-recall curve (scikit-learn's precision_recall_curve): x recall, y precision,
        decimated. The last point (recall 0, precision 1) has no threshold: it gets above_all."""
        if not self.positives:
            return _empty_curve()
        from sklearn.metrics import precision_recall_curve

        precision, recall, thresholds = precision_recall_curve(self.y_true, self.scores)
        thresholds = np.append(thresholds, self.above_all)
        keep = decimate(recall, precision, max_points)
        return Curve(recall[keep], precision[keep], thresholds[keep])

    def score_histogram(self, bins: int = 20) -> Histogram:
        """Counts of each class's scores over `bins` shared bins, [0, 1] for probabilities."""
        if bins < 1:
            raise ValueError(f"bins {bins}: must be at least 1")
        low, high = (float(self.scores.min()), float(self.scores.max())) if len(self.scores) else (0.0, 1.0)
        if low >= 0.0 and high <= 1.0:
            low, high = 0.0, 1.0
        elif low == high:
            low, high = low - 0.5, high + 0.5
        edges = np.linspace(low, high, bins + 1)
        negatives, _ = np.histogram(self._negative, bins=edges)
        positives, _ = np.histogram(self._positive, bins=edges)
        return Histogram(edges, negatives, positives)


def _empty_curve() -> Curve:
    empty = np.zeros(0)
    return Curve(empty, empty, empty)
