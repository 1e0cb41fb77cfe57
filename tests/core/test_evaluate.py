"""Evaluation: numbers equal scikit-learn's, mistakes ordered by confidence, JSON round trip."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from kerastui.core.evaluate import (
    Evaluation,
    Misclassified,
    as_probabilities,
    evaluate_model,
    evaluation_from_predictions,
)

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
