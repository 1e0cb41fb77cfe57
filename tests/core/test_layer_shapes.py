"""The registry's shapes and parameter counts (kerastui.core.preview, no framework) equal Keras's
own, for every registered layer type with several parameter sets, for every preset, and for the
layers that cannot fit: Keras builds all the cases in one child process (JAX backend: the
quickest import), the registry answers them here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kerastui.core.layers import LAYERS, LayerSpec
from kerastui.core.presets import PRESETS, preset_layers, presets_for
from kerastui.core.preview import ModelBuildError, RegistryPreviewer, registry_preview


def L(kind: str, **params) -> LayerSpec:  # noqa: E743 - short, for the tables below
    return LayerSpec(kind, params)


IMAGE, RGB, SIGNAL, FLAT = (8, 8, 1), (12, 10, 3), (20, 3), (13,)
# (input shape, layers): each layer type as the last of a few, so it sees a realistic input.
LAYER_CASES: list[tuple[tuple[int, ...], tuple[LayerSpec, ...]]] = [
    (FLAT, (L("Dense", units=7),)),
    (IMAGE, (L("Dense", units=5, activation="softmax"),)),  # Dense on the last axis of an image
    (IMAGE, (L("Conv2D"),)),
    (RGB, (L("Conv2D", filters=4, kernel_size=5, strides=2),)),
    (RGB, (L("Conv2D", filters=6, kernel_size=3, strides=3, padding="same"),)),
    (RGB, (L("Conv2D", filters=2, kernel_size=10, padding="valid"),)),
    (IMAGE, (L("MaxPooling2D"),)),
    (RGB, (L("MaxPooling2D", pool_size=3),)),
    (RGB, (L("AveragePooling2D", pool_size=4),)),
    (IMAGE, (L("Flatten"),)),
    (SIGNAL, (L("Flatten"), L("Dropout", rate=0.1))),
    (IMAGE, (L("BatchNormalization"),)),
    (FLAT, (L("Dense", units=9), L("BatchNormalization"))),
    (SIGNAL, (L("LayerNormalization"),)),
    (FLAT, (L("LayerNormalization", epsilon=0.01),)),
    (RGB, (L("GlobalAveragePooling2D"),)),
    (RGB, (L("Rescaling"),)),
    (FLAT, (L("Rescaling", scale=0.5, offset=0.0),)),
    (RGB, (L("Resizing", height=6, width=7),)),
    (RGB, (L("Resizing", height=20, width=5, interpolation="nearest", crop_to_aspect_ratio=True),)),
    (RGB, (L("RandomFlip"),)),
    (IMAGE, (L("RandomFlip", mode="horizontal_and_vertical"),)),
    (RGB, (L("RandomRotation", factor=0.3, fill_mode="nearest"),)),
    (RGB, (L("RandomZoom", height_factor=0.2, width_factor=0.3),)),
    (IMAGE, (L("RandomTranslation", height_factor=0.1, width_factor=0.2),)),
    (RGB, (L("RandomContrast"),)),
    (IMAGE, (L("RandomContrast", factor=0.5, value_range="0,255"),)),
    (SIGNAL, (L("Conv1D"),)),
    (SIGNAL, (L("Conv1D", filters=5, kernel_size=4, strides=3, padding="same"),)),
    (SIGNAL, (L("Conv1D", filters=2, kernel_size=3, dilation_rate=4, padding="causal"),)),
    (SIGNAL, (L("Conv1D", filters=3, kernel_size=20),)),
    (SIGNAL, (L("MaxPooling1D"),)),
    (SIGNAL, (L("MaxPooling1D", pool_size=3, padding="same"),)),
    (SIGNAL, (L("AveragePooling1D", pool_size=6),)),
    (SIGNAL, (L("GlobalAveragePooling1D"),)),
    (SIGNAL, (L("GlobalMaxPooling1D"),)),
    ((30,), (L("Embedding", input_dim=50, output_dim=8),)),
    ((7,), (L("Embedding", input_dim=1000, output_dim=3), L("Flatten"))),
    (SIGNAL, (L("LSTM", units=6),)),
    (SIGNAL, (L("LSTM", units=4, return_sequences=True, dropout=0.2),)),
    (SIGNAL, (L("GRU", units=5),)),
    (SIGNAL, (L("GRU", units=3, return_sequences=True),)),
    (SIGNAL, (L("Bidirectional", units=4),)),
    (SIGNAL, (L("Bidirectional", layer="GRU", units=3, return_sequences=True, merge_mode="sum"),)),
    (SIGNAL, (L("Bidirectional", layer="LSTM", units=2, merge_mode="ave"),)),
    (FLAT, (L("Reshape", target_shape="13,1"),)),
    (IMAGE, (L("Reshape", target_shape="-1,4"),)),
    (FLAT, (L("Dense", units=12), L("Reshape", target_shape="2,3,2"))),
    (SIGNAL, (L("SpatialDropout1D"),)),
    (SIGNAL, (L("SpatialDropout1D", rate=0.5), L("Conv1D", filters=4))),
    (SIGNAL, (L("ResidualBlock", filters=3),)),  # channels 3 -> 3: no projection
    (SIGNAL, (L("ResidualBlock", filters=8, kernel_size=5, strides=2),)),
    (RGB, (L("ResidualBlock", dims=2, filters=3),)),
    (RGB, (L("ResidualBlock", dims=2, filters=4, kernel_size=3, strides=3, activation="gelu"),)),
]

# Layers that cannot take what reaches them: both sides refuse, at the same layer.
FAILING_CASES: list[tuple[tuple[int, ...], tuple[LayerSpec, ...], int]] = [
    (FLAT, (L("Conv2D"),), 0),  # an image layer on flat input
    (IMAGE, (L("Flatten"), L("MaxPooling2D")), 1),
    ((3, 3, 1), (L("Dense", units=4), L("Conv2D", kernel_size=5)), 1),  # a kernel larger than the image
    ((3, 3, 1), (L("MaxPooling2D", pool_size=4),), 0),
    (SIGNAL, (L("Conv1D", kernel_size=25),), 0),
    (SIGNAL, (L("MaxPooling1D", pool_size=21),), 0),
    (FLAT, (L("Reshape", target_shape="5,3"),), 0),
    (FLAT, (L("LSTM"),), 0),
]

PRESET_DATA = [((8, 8, 1), 0), ((32, 32, 3), 0), ((200, 2), 0), ((40,), 500), ((13,), 0)]


def preset_cases() -> list[tuple[tuple[int, ...], tuple[LayerSpec, ...]]]:
    cases = []
    for shape, vocabulary in PRESET_DATA:
        for name in presets_for(shape, vocabulary):
            task = "regression" if name == "regression_mlp" else "multiclass"
            cases.append((shape, preset_layers(name, shape, 10, task, vocabulary_size=vocabulary)))
    return cases


PRESET_CASES = preset_cases()
ALL_CASES = [(shape, layers) for shape, layers in LAYER_CASES + PRESET_CASES] + [
    (shape, layers) for shape, layers, _ in FAILING_CASES]

# Builds each case with Keras (kerastui.core.build: the model the trainer builds) and prints, per
# case, every layer's (output shape, all weights, trainable weights), or the failing layer.
KERAS_CHILD = r"""
import json, math, sys
from kerastui.core.build import ModelBuildError, _functional_model
from kerastui.core.backend import import_keras
from kerastui.core.layers import LayerSpec
keras = import_keras()
size = lambda weights: sum(math.prod(int(d) for d in w.shape) for w in weights)
answers = []
for case in json.load(sys.stdin):
    layers = tuple(LayerSpec(kind, params) for kind, params in case["layers"])
    try:
        model, built = _functional_model(keras, layers, tuple(case["shape"]))
    except ModelBuildError as error:
        answers.append({"error": error.layer_index})
        continue
    answers.append({"layers": [[list(layer.output.shape), size(layer.weights), size(layer.trainable_weights)]
                               for layer in built],
                    "total": int(model.count_params()), "trainable": size(model.trainable_weights)})
print(json.dumps(answers))
"""


@pytest.fixture(scope="module")
def keras_answers() -> list[dict]:
    pytest.importorskip("jax")
    cases = [{"shape": list(shape), "layers": [[spec.type, dict(spec.params)] for spec in layers]}
             for shape, layers in ALL_CASES]
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", KERAS_CHILD], input=json.dumps(cases), env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_registered_layer_type_is_checked():
    checked = {spec.type for _, layers in LAYER_CASES for spec in layers}
    assert checked == set(LAYERS)
    assert {spec.type for _, layers in PRESET_CASES for spec in layers} <= set(LAYERS)
    presets_checked = {layers for _, layers in PRESET_CASES}
    assert len(presets_checked) >= len(PRESETS)


@pytest.mark.xdist_group("keras_layer_shapes")
def test_shapes_and_counts_equal_keras_for_every_layer_type_and_preset(keras_answers):
    mismatches = []
    for (shape, layers), answer in zip(LAYER_CASES + PRESET_CASES, keras_answers):
        preview = registry_preview(layers, shape)
        assert "error" not in answer, f"Keras refused {layers} on {shape} at layer {answer['error']}"
        ours = [[list(layer.output_shape), layer.params, layer.trainable_params] for layer in preview.layers]
        if ours != answer["layers"] or (preview.total_params, preview.trainable_params) != (
                answer["total"], answer["trainable"]):
            mismatches.append(f"{shape} {[spec.describe() for spec in layers]}: registry {ours} "
                              f"({preview.total_params}, {preview.trainable_params}), Keras {answer}")
    assert not mismatches, "\n".join(mismatches)
    # Presets for every kind of data were among them (images, colour, signals, words, tables).
    assert len(PRESET_CASES) >= len(PRESETS) + 2


@pytest.mark.xdist_group("keras_layer_shapes")
def test_a_layer_that_cannot_fit_fails_at_the_same_index_as_in_keras(keras_answers):
    answers = keras_answers[len(LAYER_CASES) + len(PRESET_CASES):]
    for (shape, layers, index), answer in zip(FAILING_CASES, answers):
        assert answer == {"error": index}, (shape, layers)
        with pytest.raises(ModelBuildError) as raised:
            registry_preview(layers, shape)
        assert raised.value.layer_index == index
        assert raised.value.message.startswith(f"layer {index} ({layers[index].describe()}) cannot take input (None, ")


def test_the_registry_previewer_words_errors_as_the_keras_one_did():
    previewer = RegistryPreviewer()
    result = previewer.preview((L("Conv2D"),), (64,), 10)
    assert result.preview is None and result.layer_index == 0
    assert result.problem == ("layer 0 (Conv2D 32 3x3 relu) cannot take input (None, 64): needs image input "
                              "(height, width, channels), but receives shape (64,)")
    result = previewer.preview((L("Flatten"), L("Dense", units=3, activation="softmax")), (8, 8, 1), 10)
    assert result.preview is not None and result.preview.output_shape == (None, 3)
    assert result.preview.total_params == 64 * 3 + 3 and "10" in (result.problem or "")
    assert previewer.preview((), (8, 8, 1), 10).problem.startswith("the model has no layers")
    bad = previewer.preview((L("Dense", units=0),), (4,), 10)
    assert bad.layer_index == 0 and "units" in bad.problem


def test_batch_normalisation_keeps_its_moving_statistics_apart():
    preview = registry_preview((L("Flatten"), L("BatchNormalization"), L("Dense", units=2)), (4, 4, 1))
    assert [layer.params for layer in preview.layers] == [0, 64, 34]
    assert (preview.total_params, preview.trainable_params, preview.non_trainable_params) == (98, 66, 32)
