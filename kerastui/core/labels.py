"""Targets in the form the chosen loss expects.

kerastui's datasets carry integer class labels. `sparse_categorical_crossentropy` takes them as
they are; `categorical_crossentropy` wants one-hot rows, so they are encoded for fit and evaluate.
"""

from __future__ import annotations

import numpy as np


def targets_for_loss(labels: np.ndarray, num_classes: int, loss: str) -> np.ndarray:
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    if loss == "categorical_crossentropy":
        return np.eye(num_classes, dtype=np.float32)[labels]
    return labels
