"""Evaluation: numbers equal scikit-learn's, mistakes ordered by confidence, JSON round trip."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score, top_k_accuracy_score

from kerastui.core.evaluate import (
    Evaluation,
    Misclassified,
    as_probabilities,
    evaluate_model,
    evaluation_from_predictions,
)

from kerastui.core.evaluation import EVALUATION_TYPES, evaluation_from_dict
from kerastui.core.evaluation import multiclass

NAMES = ("cat", "dog", "bird", "fish")


def random_probabilities(n: int, classes: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, classes)) * 2
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def test_numbers_equal_scikit_learns_on_the_same_predictions():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 3, size=200)  # class 3 ("fish") never occurs: still gets a row
    probabilities = random_probabilities(200, 4, seed=2)
    evaluation = evaluation_from_predictions(y_true, probabilities, NAMES, 0.7, 0.31)

    predicted = probabilities.argmax(axis=1)
    assert evaluation.predictions == tuple(predicted)
    expected = confusion_matrix(y_true, predicted, labels=range(4))
    assert np.array_equal(np.array(evaluation.confusion), expected)
    precision, recall, f1, support = precision_recall_fscore_support(y_true, predicted, labels=range(4), zero_division=0)
    assert [r.name for r in evaluation.per_class] == list(NAMES)
    assert np.allclose([r.precision for r in evaluation.per_class], precision)
    assert np.allclose([r.recall for r in evaluation.per_class], recall)
    assert np.allclose([r.f1 for r in evaluation.per_class], f1)
    assert [r.support for r in evaluation.per_class] == list(support)
    assert evaluation.per_class[3].support == 0 and evaluation.per_class[3].recall == 0.0
    assert (evaluation.test_loss, evaluation.test_accuracy) == (0.7, 0.31)


def test_misclassified_lists_every_mistake_most_confident_first():
    y_true = np.array([0, 1, 2, 0, 1, 2])
    probabilities = np.array(
        [
            [0.9, 0.05, 0.05],  # right
            [0.6, 0.3, 0.1],  # wrong: 0 at 0.6
            [0.1, 0.85, 0.05],  # wrong: 1 at 0.85
            [0.2, 0.2, 0.6],  # wrong: 2 at 0.6 (tie with index 1: test order decides)
            [0.1, 0.8, 0.1],  # right
            [0.5, 0.1, 0.4],  # wrong: 0 at 0.5
        ]
    )
    evaluation = evaluation_from_predictions(y_true, probabilities, ("a", "b", "c"), 1.0, 2 / 6)
    assert evaluation.misclassified == (
        Misclassified(2, 2, 1, pytest.approx(0.85)),
        Misclassified(1, 1, 0, pytest.approx(0.6)),
        Misclassified(3, 0, 2, pytest.approx(0.6)),
        Misclassified(5, 2, 0, pytest.approx(0.5)),
    )


def test_to_dict_is_json_and_round_trips_even_with_a_nan_loss():
    y_true = np.array([0, 1, 2, 3, 0, 1])
    evaluation = evaluation_from_predictions(y_true, random_probabilities(6, 4), NAMES, math.nan, 0.5)
    text = json.dumps(evaluation.to_dict(), allow_nan=False)  # strict JSON: would raise on NaN
    back = Evaluation.from_dict(json.loads(text))
    assert math.isnan(back.test_loss)
    assert replace(back, test_loss=0.0) == replace(evaluation, test_loss=0.0)
    finite = replace(evaluation, test_loss=0.25)
    assert Evaluation.from_dict(json.loads(json.dumps(finite.to_dict()))) == finite


def test_from_dict_names_what_is_missing():
    data = evaluation_from_predictions(np.array([0, 1]), np.eye(2), ("x", "y"), 0.1, 1.0).to_dict()
    del data["confusion"]
    with pytest.raises(ValueError, match="confusion"):
        Evaluation.from_dict(data)


def test_logits_are_turned_into_probabilities_and_probabilities_are_kept():
    probabilities = random_probabilities(5, 3)
    assert np.array_equal(as_probabilities(probabilities), probabilities)
    logits = np.array([[2.0, -1.0, 0.5]])
    converted = as_probabilities(logits)
    assert converted.sum() == pytest.approx(1.0) and converted.argmax() == 0


def test_wrong_probability_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"expected \(3, 4\)"):
        evaluation_from_predictions(np.array([0, 1, 2]), np.ones((3, 2)) / 2, NAMES, 0.0, 0.0)


def test_top_k_and_one_vs_rest_auc_equal_scikit_learns():
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 7, size=400)
    probabilities = random_probabilities(400, 7, seed=4)
    probabilities[np.arange(400), y_true] += 0.3  # some signal
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    names = tuple("abcdefg")
    evaluation = multiclass.evaluate(y_true, probabilities, names, 0.5)
    assert evaluation.top_k == 5
    assert evaluation.top_k_accuracy == pytest.approx(top_k_accuracy_score(y_true, probabilities, k=5))
    assert evaluation.roc_auc == pytest.approx(roc_auc_score(y_true, probabilities, multi_class="ovr"))
    for c, report in enumerate(evaluation.per_class):
        assert report.roc_auc == pytest.approx(roc_auc_score(y_true == c, probabilities[:, c]))
    assert evaluation.test_accuracy == pytest.approx(np.mean(probabilities.argmax(axis=1) == y_true))
    assert evaluation.headline == ("test_accuracy", evaluation.test_accuracy)
    assert [name for name, _ in evaluation.summary_metrics()] == ["test_accuracy", "top_k_accuracy", "roc_auc"]
    assert evaluation.metric_label("top_k_accuracy") == "top-5 accuracy" and evaluation.sample_count == 400


def test_top_k_with_few_classes_is_top_k_minus_one():
    y_true = np.array([0, 1, 2, 2, 1, 0])
    probabilities = np.array([[0.5, 0.3, 0.2], [0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4], [0.1, 0.1, 0.8]])
    evaluation = multiclass.evaluate(y_true, probabilities, ("a", "b", "c"), 0.1)
    # k = 2: the true class is among the two most probable in rows 0, 1, 2, 3, 4; not in row 5.
    assert evaluation.top_k == 2 and evaluation.top_k_accuracy == pytest.approx(5 / 6)
    two = multiclass.evaluate(np.array([0, 1, 1, 0]), np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.4, 0.6]]), ("x", "y"), 0.1)
    assert two.top_k == 1 and two.top_k_accuracy == pytest.approx(0.5) == two.test_accuracy
    assert two.roc_auc == pytest.approx(roc_auc_score([0, 1, 1, 0], [0.2, 0.7, 0.4, 0.6]))


def test_auc_is_undefined_when_a_class_is_absent_and_says_which():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 3, size=60)  # "fish" (3) never occurs
    evaluation = multiclass.evaluate(y_true, random_probabilities(60, 4), NAMES, 0.2)
    assert evaluation.roc_auc is None
    assert evaluation.roc_auc_undefined == "ROC AUC is undefined: class has no test samples: 'fish'"
    assert evaluation.per_class[3].roc_auc is None and evaluation.per_class[0].roc_auc is not None
    data = json.loads(json.dumps(evaluation.to_dict(), allow_nan=False))
    assert data["roc_auc"] is None and data["task"] == "multiclass"
    assert data["top_k_accuracy"] == {"k": 3, "value": pytest.approx(evaluation.top_k_accuracy)}


def test_nan_scores_are_refused_naming_how_many():
    probabilities = random_probabilities(5, 3)
    probabilities[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"1 of 15 test scores are NaN or infinite \(the first at sample 1, column 2\)"):
        multiclass.evaluate(np.array([0, 1, 2, 0, 1]), probabilities, ("a", "b", "c"), 0.1)


def test_old_files_without_task_or_top_k_read_as_multiclass():
    evaluation = evaluation_from_predictions(np.array([0, 1, 1]), np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), ("a", "b"), 0.3, 2 / 3)
    data = evaluation.to_dict()
    for key in ("task", "top_k_accuracy", "roc_auc", "roc_auc_undefined"):
        del data[key]
    for row in data["per_class"]:
        del row["roc_auc"]
    old = evaluation_from_dict(data)
    assert isinstance(old, Evaluation) and old.task == "multiclass"
    assert old.top_k_accuracy is None and old.roc_auc is None and old.test_accuracy == pytest.approx(2 / 3)
    assert evaluation_from_dict(evaluation.to_dict()) == evaluation


def test_evaluation_from_dict_dispatches_and_names_bad_input():
    assert set(EVALUATION_TYPES) == {"multiclass", "binary", "multilabel", "regression"}
    assert all(cls.task == task for task, cls in EVALUATION_TYPES.items())
    with pytest.raises(ValueError, match="unknown evaluation task 'ranking'"):
        evaluation_from_dict({"task": "ranking"})
    with pytest.raises(ValueError, match="not a JSON object"):
        evaluation_from_dict([1, 2])
    with pytest.raises(ValueError, match="lacks 'roc_auc'"):
        evaluation_from_dict({"task": "binary", "test_loss": 0.1, "class_names": ["a", "b"], "positives": 1,
                              "negatives": 1, "confusion": [[1, 0], [0, 1]]})


def _tiny_keras_model(task_name: str, inputs: int, outputs: int, from_logits: bool = False):
    from kerastui.core.backend import import_keras
    from kerastui.core.tasks import task_named

    keras = import_keras()
    task = task_named(task_name)
    activation = "linear" if from_logits else task.default_activation
    model = keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(task.units(outputs), activation=activation)])
    loss = task.default_loss()
    loss_object = keras.losses.BinaryCrossentropy(from_logits=True) if from_logits else loss
    model.compile(optimizer="adam", loss=loss_object, metrics=task.compile_metrics(keras, outputs, from_logits))
    return keras, task, model


def _tabular(task: str, y_train: np.ndarray, y_test: np.ndarray, names: tuple[str, ...]):
    from kerastui.core.datasets.base import TABULAR, Dataset

    rng = np.random.default_rng(0)
    return Dataset(name=f"tiny-{task}", x_train=rng.normal(size=(len(y_train), 5)).astype(np.float32), y_train=y_train,
                   x_test=rng.normal(size=(len(y_test), 5)).astype(np.float32), y_test=y_test, class_names=names,
                   input_shape=(5,), kind=TABULAR, source="test", task=task)


@pytest.mark.slow
@pytest.mark.parametrize("task_name", ["multiclass", "binary", "multilabel", "regression"])
def test_evaluate_model_scores_each_task_with_a_real_keras_model(task_name):
    rng = np.random.default_rng(2)
    y = {
        "multiclass": rng.integers(0, 3, size=90),
        "binary": np.array([0, 1, 1] * 30),
        "multilabel": (rng.random((90, 3)) < 0.4).astype(np.int64),
        "regression": rng.normal(size=(90, 2)).astype(np.float32),
    }[task_name]
    names = {"multiclass": ("a", "b", "c"), "binary": ("no", "yes"), "multilabel": ("x", "y", "z"),
             "regression": ("height", "weight")}[task_name]
    data = _tabular(task_name, y[:60], y[60:], names)
    _, task, model = _tiny_keras_model(task_name, 5, len(names), from_logits=task_name == "binary")
    model.fit(data.x_train, task.targets(data.y_train, task.default_loss(), len(names)), epochs=1, verbose=0)

    evaluation = evaluate_model(model, data, batch_size=16)
    assert evaluation.task == task_name and isinstance(evaluation, EVALUATION_TYPES[task_name])
    assert evaluation.sample_count == 30
    kerases = model.evaluate(data.x_test, task.targets(data.y_test, task.default_loss(), len(names)), verbose=0,
                             return_dict=True)
    assert evaluation.test_loss == pytest.approx(kerases["loss"], rel=1e-5)
    outputs = model.predict(data.x_test, verbose=0)
    if task_name == "multiclass":
        assert evaluation.predictions == tuple(outputs.argmax(axis=1))
        assert evaluation.roc_auc == pytest.approx(roc_auc_score(data.y_test, outputs, multi_class="ovr"), abs=1e-5)
    elif task_name == "binary":  # from_logits: the evaluation squashes the raw scores
        scores = 1 / (1 + np.exp(-outputs[:, 0].astype(np.float64)))
        assert evaluation.roc_auc == pytest.approx(roc_auc_score(data.y_test, scores), abs=1e-4)
        assert evaluation.confusion == tuple(map(tuple, confusion_matrix(data.y_test, scores >= 0.5, labels=[0, 1])))
    elif task_name == "multilabel":
        predicted = outputs >= 0.5
        assert [r.tp for r in evaluation.per_label] == [int(np.sum(predicted[:, i] & (data.y_test[:, i] == 1))) for i in range(3)]
    else:
        assert evaluation.mae == pytest.approx(float(np.mean(np.abs(outputs - data.y_test))), rel=1e-5)
        assert evaluation.mae == pytest.approx(kerases["mae"], rel=1e-4)
        assert [r.name for r in evaluation.per_target] == ["height", "weight"]
    json.dumps(evaluation.to_dict(), allow_nan=False)
    assert evaluation_from_dict(json.loads(json.dumps(evaluation.to_dict()))).to_dict() == evaluation.to_dict()


@pytest.mark.slow
def test_evaluate_model_uses_kerases_loss_and_its_predictions():
    from kerastui.core.build import build_model
    from kerastui.core.data import load_dataset
    from kerastui.core.spec import preset_experiment

    digits = load_dataset("digits")
    data = replace(digits, x_train=digits.x_train[:300], y_train=digits.y_train[:300])
    experiment = preset_experiment("mlp", "digits", data.input_shape, data.num_classes)
    model = build_model(experiment, data.input_shape)
    model.fit(data.x_train, data.y_train, epochs=2, batch_size=32, verbose=0)

    evaluation = evaluate_model(model, data, batch_size=64)
    scores = model.evaluate(data.x_test, data.y_test, verbose=0, return_dict=True)
    predicted = model.predict(data.x_test, verbose=0).argmax(axis=1)
    assert evaluation.test_loss == pytest.approx(scores["loss"], rel=1e-5)
    assert evaluation.test_accuracy == pytest.approx(scores["accuracy"], abs=1e-6)
    assert evaluation.predictions == tuple(predicted)
    assert evaluation.test_accuracy == pytest.approx(np.mean(predicted == data.y_test), abs=1e-6)
    assert len(evaluation.misclassified) == int(np.sum(predicted != data.y_test))
    assert sum(map(sum, evaluation.confusion)) == len(data.y_test)
    assert evaluation.class_names == data.class_names


@pytest.mark.slow
def test_categorical_crossentropy_trains_and_evaluates_on_integer_labels(tmp_path):
    """The loss choice offered in the UI works with kerastui's integer labels (one-hot for Keras)."""
    from kerastui.core.backend import import_keras
    from kerastui.core.data import load_dataset
    from kerastui.core.pipeline import run_experiment
    from kerastui.core.spec import CompileSettings, Experiment, FitSettings

    digits = load_dataset("digits")
    experiment = replace(
        Experiment(), compile=CompileSettings(loss="categorical_crossentropy"), fit=FitSettings(epochs=2)
    )
    outcome = run_experiment(experiment, digits, runs_root=tmp_path)
    assert outcome.status == "finished", outcome.reason
    predicted = np.array(outcome.evaluation.predictions)
    assert outcome.evaluation.test_accuracy == pytest.approx(np.mean(predicted == digits.y_test), abs=1e-6)

    reloaded = import_keras().saving.load_model(outcome.run_dir / "model.keras")
    assert evaluate_model(reloaded, digits).test_loss == pytest.approx(outcome.evaluation.test_loss, rel=1e-5)
