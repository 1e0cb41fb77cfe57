"""Presets adapt their input and output to the data, and say clearly when they cannot."""

from __future__ import annotations

import numpy as np
import pytest

from kerastui.core.layers import shape_problems
from kerastui.core.presets import PRESET_DESCRIPTIONS, PRESETS, PresetError, preset_layers, presets_for
from kerastui.core.spec import Experiment, FitSettings, fit_to_task, preset_experiment


def test_mlp_matches_the_classic_architecture():
    layers = preset_layers("mlp", (28, 28, 1), 10)
    assert [layer.describe() for layer in layers] == ["Flatten", "Dense 128 relu", "Dense 64 relu", "Dense 10 softmax"]


@pytest.mark.parametrize("shape,padding", [((28, 28, 1), "valid"), ((32, 32, 3), "valid"), ((8, 8, 1), "same")])
def test_cnn_keeps_small_images_from_shrinking_to_nothing(shape, padding):
    layers = preset_layers("cnn", shape, 10)
    assert [layer.type for layer in layers] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense",
    ]
    assert {layer.param("padding") for layer in layers if layer.type == "Conv2D"} == {padding}
    assert preset_experiment("cnn", "x", shape, 10).problems(shape) == []


def test_output_layer_has_one_unit_per_class():
    assert preset_layers("mlp", (4,), 3)[-1].param("units") == 3
    assert preset_layers("cnn", (32, 32, 3), 7)[-1].param("units") == 7


def test_cnn_on_tabular_data_says_why():
    with pytest.raises(PresetError, match="tabular"):
        preset_layers("cnn", (13,), 3)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(PresetError, match="mlp, cnn"):
        preset_layers("resnet", (8, 8, 1), 10)


def test_fit_to_task_changes_only_the_last_dense():
    experiment = preset_experiment("mlp", "digits", (8, 8, 1), 10)
    adapted = fit_to_task(experiment, 3, "multiclass")
    assert adapted.layers[-1].param("units") == 3
    assert adapted.layers[:-1] == experiment.layers[:-1]


# Each new preset on the data it is meant for: (input shape, outputs, task, vocabulary size).
INTENDED = {
    "resnet1d": ((200, 2), 2, "binary", 0),  # two detectors' strain series
    "text_lstm": ((40,), 2, "binary", 100),  # IMDB-shaped word indices
    "regression_mlp": ((10,), 3, "regression", 0),  # three targets
    "rgb_cnn": ((32, 32, 3), 10, "multiclass", 0),  # CIFAR-10
}
# ... and data each must refuse, with words the message must hold.
REFUSED = [
    ("resnet1d", (28, 28, 1), 0, ["needs signals (steps, channels)", "images with input shape (28, 28, 1)",
                                  "use the mlp, cnn, regression_mlp or rgb_cnn preset"]),
    ("resnet1d", (13,), 0, ["needs signals", "tabular", "use the mlp or regression_mlp preset"]),
    ("text_lstm", (40,), 0, ["needs word indices (steps,) and their vocabulary size", "not word indices"]),
    ("text_lstm", (200, 2), 5000, ["needs word indices", "sequences (steps, channels) with input shape (200, 2)"]),
    ("rgb_cnn", (13,), 0, ["needs image data (height, width, channels)", "tabular"]),
    ("rgb_cnn", (200, 2), 0, ["needs image data", "use the mlp, resnet1d or regression_mlp preset"]),
    ("rgb_cnn", (2, 2, 3), 0, ["does not fit input shape (2, 2, 3)", "pool 2x2 is larger than its input 1x1"]),
]


def test_every_preset_is_described_and_listed():
    assert set(PRESET_DESCRIPTIONS) == set(PRESETS) == {"mlp", "cnn", *INTENDED}


@pytest.mark.parametrize("name", INTENDED)
def test_a_new_preset_fits_the_data_it_is_meant_for(name):
    shape, outputs, task, vocabulary = INTENDED[name]
    layers = preset_layers(name, shape, outputs, task, vocabulary_size=vocabulary)
    assert shape_problems(layers, shape) == []
    experiment = fit_to_task(Experiment(name=name, layers=layers, task=task), outputs, task)
    assert experiment.layers == layers  # its output already fits the task
    assert experiment.problems(shape, outputs, task) == []
    assert name in presets_for(shape, vocabulary)


@pytest.mark.parametrize("name,shape,vocabulary,words", REFUSED, ids=[f"{n} on {s}" for n, s, _, _ in REFUSED])
def test_a_new_preset_refuses_data_it_does_not_fit(name, shape, vocabulary, words):
    with pytest.raises(PresetError) as caught:
        preset_layers(name, shape, 2, "binary", vocabulary_size=vocabulary)
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))
    assert name not in presets_for(shape, vocabulary)


def test_the_new_presets_are_the_architectures_they_describe():
    resnet = preset_layers("resnet1d", (200, 2), 2, "binary")
    assert [layer.describe() for layer in resnet] == [
        "Conv1D 32 k7 relu same", "ResidualBlock 1D 32 k3 relu", "ResidualBlock 1D 64 k3 relu /2",
        "ResidualBlock 1D 128 k3 relu /2", "GlobalAveragePooling1D", "Dropout 0.3", "Dense 1 sigmoid"]
    text = preset_layers("text_lstm", (200,), 2, "binary", vocabulary_size=20_000)
    assert [layer.describe() for layer in text] == [
        "Embedding 20000 words -> 64", "LSTM 64 tanh", "Dropout 0.3", "Dense 1 sigmoid"]
    assert [layer.describe() for layer in preset_layers("regression_mlp", (10,), 1, "regression")] == [
        "Flatten", "Dense 64 relu", "Dense 64 relu", "Dense 1 linear"]
    assert [layer.type for layer in preset_layers("rgb_cnn", (32, 32, 3), 10)] == [
        "Conv2D", "BatchNormalization", "MaxPooling2D", "Conv2D", "BatchNormalization", "MaxPooling2D",
        "GlobalAveragePooling2D", "Dropout", "Dense"]


def _random_data(name: str, rng: np.random.Generator, samples: int = 8):
    shape, outputs, task, vocabulary = INTENDED[name]
    if vocabulary:
        x = rng.integers(0, vocabulary, size=(samples, *shape))
    else:
        x = rng.normal(size=(samples, *shape)).astype(np.float32)
    if task == "regression":
        y = rng.normal(size=(samples, outputs)).astype(np.float32)
    else:
        y = np.arange(samples) % outputs
    return x, y


@pytest.mark.slow
@pytest.mark.parametrize("name", INTENDED)
def test_a_new_preset_trains_as_it_is(name):
    from kerastui.core.build import build_model

    shape, outputs, task, vocabulary = INTENDED[name]
    layers = preset_layers(name, shape, outputs, task, vocabulary_size=vocabulary)
    experiment = fit_to_task(Experiment(name=name, layers=layers, task=task,
                                        fit=FitSettings(epochs=1, batch_size=4, validation_split=0.0)), outputs, task)
    model = build_model(experiment, shape, outputs, task)
    x, y = _random_data(name, np.random.default_rng(0))
    before = model.get_weights()
    history = model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.predict(x[:2], verbose=0).shape == (2, 1 if task == "binary" else outputs)
