"""One of K classes scored: accuracy, confusion matrix, per-class report, most confident mistakes."""

from __future__ import annotations

import numpy as np

from kerastui.core.evaluate import Evaluation, evaluation_from_predictions


def evaluate(y_true: np.ndarray, scores: np.ndarray, names: tuple[str, ...], test_loss: float) -> Evaluation:
    y = np.asarray(y_true).astype(np.int64).reshape(-1)
    accuracy = float(np.mean(np.asarray(scores).argmax(axis=1) == y)) if len(y) else float("nan")
    return evaluation_from_predictions(y, scores, names, test_loss, accuracy)
