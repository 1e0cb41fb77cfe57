"""Each task trains through the one Trainer with its own loss, metrics, targets and weights, and its
evaluation follows (tiny random data: the point is the wiring, not the accuracy)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from kerastui.core.datasets.base import TABULAR, Dataset
from kerastui.core.events import EpochEnded, TrainingFailed
from kerastui.core.layers import LayerSpec
from kerastui.core.spec import Experiment, FitSettings, fit_to_task
from kerastui.core.train import Trainer

pytestmark = pytest.mark.slow  # trains tiny real models


def _data(task: str, y_train: np.ndarray, y_test: np.ndarray, names: tuple[str, ...]) -> Dataset:
    rng = np.random.default_rng(0)
    return Dataset(name=f"random-{task}", x_train=rng.normal(size=(len(y_train), 6)).astype(np.float32), y_train=y_train,
                   x_test=rng.normal(size=(len(y_test), 6)).astype(np.float32), y_test=y_test, class_names=names,
                   input_shape=(6,), kind=TABULAR, source="test", task=task)


def _experiment(data: Dataset, **changes) -> Experiment:
    layers = (LayerSpec("Dense", {"units": 8}), LayerSpec("Dense", {"units": 1}))
    base = Experiment(dataset=data.name, layers=layers, fit=FitSettings(epochs=2, batch_size=16, validation_split=0.25))
    return replace(fit_to_task(base, data.num_classes, data.task), **changes)


def _train(experiment: Experiment, data: Dataset):
    events = []
    trainer = Trainer(experiment, data, listeners=[events.append])
    result = trainer.run()
    return result, events


def test_binary_trains_with_auc_and_balanced_weights_and_is_scored_by_roc():
    rng = np.random.default_rng(1)
    data = _data("binary", (rng.random(80) < 0.2).astype(np.int64), np.array([0, 1] * 10), ("noise", "signal"))
    experiment = _experiment(data)
    experiment = replace(experiment, fit=replace(experiment.fit, class_weight="balanced", monitor="val_auc",
                                                 early_stopping_patience=3))
    result, events = _train(experiment, data)
    assert result.status == "finished", result.reason
    epoch = next(e for e in events if isinstance(e, EpochEnded))
    assert {"auc", "val_auc", "accuracy"} <= set(epoch.metrics)
    from kerastui.core.evaluate import evaluate_model

    evaluation = evaluate_model(result.model, data)
    assert evaluation.task == "binary"
    assert 0.0 <= evaluation.roc_auc <= 1.0


def test_focal_loss_with_logits_trains():
    data = _data("binary", np.array([0, 1] * 40), np.array([0, 1] * 10), ("no", "yes"))
    experiment = _experiment(data)
    experiment = replace(experiment, compile=replace(experiment.compile, loss="binary_focal_crossentropy", from_logits=True),
                         layers=(*experiment.layers[:-1], experiment.layers[-1].with_params(activation="linear")))
    result, _ = _train(experiment, data)
    assert result.status == "finished", result.reason


def test_multilabel_trains_with_a_sigmoid_per_label():
    rng = np.random.default_rng(2)
    y = (rng.random((80, 3)) < 0.4).astype(np.int64)
    data = _data("multilabel", y, (rng.random((20, 3)) < 0.4).astype(np.int64), ("a", "b", "c"))
    experiment = _experiment(data)
    assert experiment.layers[-1].params == {"units": 3, "activation": "sigmoid"}
    result, events = _train(experiment, data)
    assert result.status == "finished", result.reason
    assert "auc" in next(e for e in events if isinstance(e, EpochEnded)).metrics


def test_regression_trains_with_huber_and_reports_mae():
    rng = np.random.default_rng(3)
    data = _data("regression", rng.normal(size=(80, 2)).astype(np.float32) * 10, rng.normal(size=(20, 2)).astype(np.float32),
                 ("height", "weight"))
    experiment = _experiment(data)
    experiment = replace(experiment, compile=replace(experiment.compile, loss="huber", huber_delta=2.0),
                         fit=replace(experiment.fit, monitor="val_mae", early_stopping_patience=1))
    result, events = _train(experiment, data)
    assert result.status == "finished", result.reason
    assert {"mae", "val_mae", "rmse"} <= set(next(e for e in events if isinstance(e, EpochEnded)).metrics)


def test_nan_targets_fail_before_training_naming_the_sample():
    y = np.arange(80, dtype=np.float32)
    y[17] = np.nan
    data = _data("regression", y, np.arange(20, dtype=np.float32), ("target",))
    result, events = _train(_experiment(data), data)
    assert result.status == "failed"
    (failed,) = [e for e in events if isinstance(e, TrainingFailed)]
    assert "1 NaN or infinite value" in failed.reason and "sample 17" in failed.reason


def test_regression_targets_in_large_units_are_learnt_in_standard_units():
    """House prices in dollars: the fixed last layer scales standard units to the targets' own, so
    a few epochs fit a linear relation that raw MSE on 1e5-sized targets would barely start on."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 6)).astype(np.float32)
    y = (3e5 + 1e5 * x[:, 0]).astype(np.float32)
    data = replace(_data("regression", y[:240], y[240:], ("price",)), x_train=x[:240], x_test=x[240:])
    experiment = _experiment(data)
    experiment = replace(experiment, layers=(LayerSpec("Dense", {"units": 1, "activation": "linear"}),),
                         compile=replace(experiment.compile, learning_rate=0.05),
                         fit=replace(experiment.fit, epochs=15))
    result, _ = _train(experiment, data)
    assert result.status == "finished", result.reason
    from kerastui.core.evaluate import evaluate_model

    evaluation = evaluate_model(result.model, data)
    assert evaluation.r2 > 0.8
    assert result.model.get_layer("target_units") is not None
