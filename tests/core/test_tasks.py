"""The task registry: inference from labels, the output rule, losses, class weights, targets."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from kerastui.core import spec
from kerastui.core.layers import LayerSpec
from kerastui.core.spec import CompileSettings, Experiment, FitSettings, fit_to_task
from kerastui.core.tasks import TASKS, TaskError, infer_task, metric_direction
from kerastui.core.tasks.targets import class_weights, target_problem


@pytest.mark.parametrize(
    ("labels", "task"),
    [
        (np.array([0, 1, 1, 0]), "binary"),
        (np.array([0, 1, 2, 1]), "multiclass"),
        (np.array([0.0, 1.0, 1.0]), "binary"),  # whole-number floats are still class numbers
        (np.array([[0, 1, 1], [1, 0, 0]]), "multilabel"),
        (np.array([0.5, 2.25, 3.0]), "regression"),
        (np.array([25.0, 346.0, 150.0, 75.0]), "regression"),  # diabetes-like counts, not classes
        (np.random.default_rng(0).normal(size=(5, 3)), "regression"),
    ],
)
def test_the_task_is_inferred_from_the_labels(labels, task):
    assert infer_task(labels) == task


@pytest.mark.parametrize(
    ("labels", "words"),
    [
        (np.array(["a", "b"]), "fit no task"),
        (np.zeros((2, 2, 2)), "shape"),
        (np.array([0, 1, 5000]), "not classes 0..K-1"),
    ],
)
def test_labels_that_fit_no_task_are_explained(labels, words):
    with pytest.raises(TaskError, match=words):
        infer_task(labels)


def _mlp(units: int, activation: str) -> tuple[LayerSpec, ...]:
    return (LayerSpec("Flatten"), LayerSpec("Dense", {"units": 16}), LayerSpec("Dense", {"units": units, "activation": activation}))


def test_softmax_on_a_multilabel_task_is_refused_and_sigmoid_suggested():
    experiment = Experiment(task="multilabel", layers=_mlp(12, "softmax"), compile=CompileSettings(loss="binary_crossentropy"))
    (problem,) = experiment.problems((30,), 12)
    assert problem.field == "layers[2].activation"
    assert "sigmoid" in problem.message and "compete" in problem.message


def test_ten_units_for_three_targets_is_refused_with_what_fits():
    experiment = Experiment(task="regression", layers=_mlp(10, "linear"), compile=CompileSettings(loss="mse"))
    (problem,) = experiment.problems((3,), 3)
    assert problem.field == "layers[2].units"
    assert "3 targets" in problem.message and "Dense with 3 units" in problem.message


def test_a_binary_task_wants_one_sigmoid_unit():
    experiment = Experiment(task="binary", layers=_mlp(2, "softmax"), compile=CompileSettings(loss="binary_crossentropy"))
    messages = {p.field: p.message for p in experiment.problems((30,), 2)}
    assert "1 unit" in messages["layers[2].units"]
    assert "softmax over one unit" in messages["layers[2].activation"]


def test_from_logits_wants_a_linear_last_layer():
    experiment = Experiment(task="binary", layers=_mlp(1, "sigmoid"),
                            compile=CompileSettings(loss="binary_crossentropy", from_logits=True))
    (problem,) = experiment.problems((30,), 2)
    assert "linear" in problem.message
    assert replace(experiment, layers=_mlp(1, "linear")).problems((30,), 2) == []


def test_the_loss_must_be_one_the_task_allows():
    experiment = Experiment(task="regression", layers=_mlp(1, "linear"))
    (problem,) = experiment.problems((3,), 1)
    assert problem.field == "compile.loss"
    assert "mse, mae, huber" in problem.message and "multiclass loss" in problem.message


def test_the_data_task_applies_when_the_experiment_names_none():
    experiment = Experiment(layers=_mlp(1, "sigmoid"), compile=CompileSettings(loss="binary_crossentropy"),
                            fit=FitSettings(monitor="val_auc", early_stopping_patience=2))
    assert experiment.problems((30,), 2, "binary") == []
    assert {p.field for p in experiment.problems((30,), 2, "multiclass")} >= {"compile.loss", "fit.monitor"}


def test_without_task_or_data_any_task_s_loss_and_monitor_is_accepted():
    experiment = Experiment(compile=CompileSettings(loss="huber"), fit=FitSettings(monitor="val_mae"))
    assert experiment.problems() == []


def test_class_weights_are_checked_against_the_task_and_the_classes():
    base = Experiment(task="binary", layers=_mlp(1, "sigmoid"), compile=CompileSettings(loss="binary_crossentropy"))
    assert replace(base, fit=FitSettings(class_weight="balanced")).problems((30,), 2) == []
    assert replace(base, fit=FitSettings(class_weight=(1.0, 20.0))).problems((30,), 2) == []
    (wrong_count,) = replace(base, fit=FitSettings(class_weight=(1.0, 2.0, 3.0))).problems((30,), 2)
    assert "3 weights" in wrong_count.message
    (negative,) = replace(base, fit=FitSettings(class_weight=(1.0, -2.0))).problems((30,), 2)
    assert "greater than 0" in negative.message
    regression = Experiment(task="regression", layers=_mlp(1, "linear"), compile=CompileSettings(loss="mse"),
                            fit=FitSettings(class_weight="balanced"))
    (problem,) = regression.problems((3,), 1)
    assert problem.field == "fit.class_weight"


def test_balanced_class_weights_are_scikit_learn_s():
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.array([0] * 90 + [1] * 10)
    weights = class_weights("balanced", labels, TASKS["binary"])
    expected = compute_class_weight("balanced", classes=np.array([0, 1]), y=labels)
    assert weights == pytest.approx({0: expected[0], 1: expected[1]})
    assert weights[1] == pytest.approx(5.0)
    assert class_weights((1, 20), labels, TASKS["binary"]) == {0: 1.0, 1: 20.0}
    assert class_weights("", labels, TASKS["binary"]) is None


def test_targets_outside_a_loss_range_and_non_finite_targets_are_named():
    binary = TASKS["binary"]
    assert "0 or 1" in target_problem(binary, "binary_crossentropy", np.array([0, 1, 2]), "y_train")
    nan = target_problem(TASKS["regression"], "mse", np.array([[1.0, 2.0], [np.nan, 1.0], [np.inf, 0.0]]), "y_train")
    assert "2 NaN or infinite values" in nan and "sample 1, column 0" in nan


def test_fit_to_task_makes_the_last_layer_loss_and_monitor_follow():
    experiment = replace(Experiment(), fit=FitSettings(monitor="val_accuracy"))
    binary = fit_to_task(experiment, 2, "binary")
    assert binary.layers[-1].params == {"units": 1, "activation": "sigmoid"}
    assert binary.compile.loss == "binary_crossentropy"
    assert binary.fit.monitor == "val_accuracy"  # binary reports accuracy too
    regression = fit_to_task(replace(experiment, task="regression"), 3, "multiclass")
    assert regression.layers[-1].params == {"units": 3, "activation": "linear"}
    assert regression.compile.loss == "mse" and regression.fit.monitor == "val_loss"


def test_the_task_and_loss_options_round_trip_through_toml():
    experiment = Experiment(task="binary", layers=_mlp(1, "linear"),
                            compile=CompileSettings(loss="binary_focal_crossentropy", from_logits=True, focal_gamma=3.0),
                            fit=FitSettings(class_weight=(1.0, 9.5)))
    again = spec.loads(spec.dumps(experiment))
    assert again == experiment


def test_a_task_in_toml_without_a_loss_takes_the_task_s_default_and_old_metrics_keys_load():
    experiment = spec.loads('task = "regression"\n[compile]\nmetrics = ["accuracy"]\n')
    assert experiment.compile.loss == "mse"


def test_metric_directions():
    assert metric_direction("val_auc") == "max" and metric_direction("val_mae") == "min"
    assert metric_direction("accuracy") == "max" and metric_direction("loss") == "min"
