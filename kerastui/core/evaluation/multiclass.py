"""One of K classes scored: accuracy, top-k accuracy, one-vs-rest ROC AUC, confusion matrix,
per-class report, most confident mistakes (the Evaluation itself lives in kerastui.core.evaluate)."""

from __future__ import annotations

import numpy as np

from kerastui.core.evaluate import Evaluation, evaluation_from_predictions
from kerastui.core.evaluation.common import check_finite

__all__ = ["Evaluation", "evaluate"]


def evaluate(y_true: np.ndarray, scores: np.ndarray, names: tuple[str, ...], test_loss: float) -> Evaluation:
    y = np.asarray(y_true).astype(np.int64).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape != (len(y), len(names)):
        raise ValueError(f"scores have shape {scores.shape}; expected ({len(y)}, {len(names)}) "
                         "(one row per test sample, one column per class)")
    check_finite(scores, "test scores")
    accuracy = float(np.mean(scores.argmax(axis=1) == y)) if len(y) else float("nan")
    return evaluation_from_predictions(y, scores, names, test_loss, accuracy)
