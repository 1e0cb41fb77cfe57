"""Model builder: Keras-computed preview, layer-pinned build errors, seeded compiled models."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from kerastui.core.build import (
    ModelBuildError,
    build_model,
    output_problem,
    plain_keras_message,
    preview_model,
)
from kerastui.core.presets import _cnn, preset_layers
from kerastui.core.spec import CompileSettings, Experiment, LayerSpec, SpecError, fit_to_task, preset_experiment

pytestmark = pytest.mark.slow  # imports Keras


def test_classic_mlp_on_mnist_shape_has_the_famous_parameter_count():
    preview = preview_model(preset_layers("mlp", (28, 28, 1), 10), (28, 28, 1))
    assert preview.total_params == 109_386
    assert preview.trainable_params == 109_386
    assert [layer.params for layer in preview.layers] == [0, 100_480, 8_256, 650]
    assert [layer.output_shape for layer in preview.layers] == [(None, 784), (None, 128), (None, 64), (None, 10)]
    assert [layer.description for layer in preview.layers] == ["Flatten", "Dense 128 relu", "Dense 64 relu", "Dense 10 softmax"]


def test_preview_counts_are_the_ones_keras_reports_for_the_built_model():
    experiment = preset_experiment("cnn", "digits", (8, 8, 1), 10)
    preview = preview_model(experiment.layers, (8, 8, 1))
    model = build_model(experiment, (8, 8, 1))
    assert preview.total_params == model.count_params()
    keras_layers = [layer for layer in model.layers if layer.name != "input"]
    assert [layer.params for layer in preview.layers] == [layer.count_params() for layer in keras_layers]
    assert [layer.output_shape for layer in preview.layers] == [tuple(layer.output.shape) for layer in keras_layers]
    assert preview.output_shape == (None, 10)


def test_batch_normalization_moving_statistics_are_not_trainable():
    layers = (
        LayerSpec("Conv2D", {"filters": 4, "kernel_size": 3}),
        LayerSpec("BatchNormalization"),
        LayerSpec("GlobalAveragePooling2D"),
        LayerSpec("Dropout", {"rate": 0.25}),
        LayerSpec("Dense", {"units": 3, "activation": "softmax"}),
    )
    preview = preview_model(layers, (8, 8, 1))
    # BatchNormalization over 4 channels: gamma, beta trainable; moving mean/variance not.
    assert preview.layers[1].params == 16
    assert preview.non_trainable_params == 8
    assert preview.layers[2].output_shape == (None, 4)


def test_average_pooling_halves_the_image():
    layers = (LayerSpec("AveragePooling2D", {"pool_size": 2}), LayerSpec("Flatten"))
    preview = preview_model(layers, (8, 8, 3))
    assert [layer.output_shape for layer in preview.layers] == [(None, 4, 4, 3), (None, 48)]


def test_pool_on_a_one_pixel_image_names_the_layer_and_the_incoming_shape():
    # 'valid' CNN on 8x8: 6x6 -> 3x3 -> 1x1 -> the second pool has nothing to pool.
    with pytest.raises(ModelBuildError) as caught:
        preview_model(_cnn("valid"), (8, 8, 1))
    error = caught.value
    assert error.layer_index == 3
    assert str(error).startswith("layer 3 (MaxPooling2D 2x2) cannot take input (None, 1, 1, 64): ")
    assert "pool 2x2 is larger than its input 1x1" in str(error)
    assert "zero or negative" in error.keras_message  # Keras's own complaint is kept


def test_image_layer_on_flat_data_names_both_shapes():
    with pytest.raises(ModelBuildError) as caught:
        preview_model((LayerSpec("Dense", {"units": 8}), LayerSpec("Conv2D")), (64,))
    message = str(caught.value)
    assert caught.value.layer_index == 1
    assert "layer 1 (Conv2D 32 3x3 relu) cannot take input (None, 8)" in message
    assert "ndim=4" in message and "found ndim=2" in message


def test_unknown_layer_type_and_bad_parameter_are_reported_before_keras():
    with pytest.raises(ModelBuildError) as caught:
        preview_model((LayerSpec("Flatten"), LayerSpec("Wobble")), (8, 8, 1))
    assert caught.value.layer_index == 1 and "unknown layer type" in str(caught.value)
    with pytest.raises(ModelBuildError) as caught:
        preview_model((LayerSpec("Dense", {"units": 0}),), (4,))
    assert caught.value.layer_index == 0 and "units" in str(caught.value)
    with pytest.raises(ModelBuildError, match="no layers"):
        preview_model((), (4,))


def test_plain_keras_message_drops_colour_codes_and_argument_dumps():
    raw = ValueError(
        "Exception encountered when calling MaxPooling2D.call().\n\n"
        "\x1b[1mComputed output size would be zero or negative. Received: `inputs.shape=[None 1 1 64]`.\x1b[0m\n\n"
        "Arguments received by MaxPooling2D.call():\n  • args=('<KerasTensor ...>',)"
    )
    assert plain_keras_message(raw) == "Computed output size would be zero or negative."


def test_output_problem_explains_a_mismatch_with_the_classes():
    assert output_problem((None, 10), 10) is None
    assert "10 classes" in output_problem((None, 3), 10)
    assert "Flatten" in output_problem((None, 8, 8, 10), 10)


def test_build_model_compiles_with_the_experiment_settings():
    experiment = replace(
        preset_experiment("mlp", "iris", (4,), 3),
        compile=CompileSettings(optimizer="sgd", learning_rate=0.05),
    )
    model = build_model(experiment, (4,))
    assert type(model.optimizer).__name__ == "SGD"
    assert float(np.asarray(model.optimizer.learning_rate)) == pytest.approx(0.05)
    from kerastui.core.evaluate import model_loss_name
    assert model_loss_name(model) == "sparse_categorical_crossentropy"
    assert model.output_shape == (None, 3)
    assert model.count_params() == 4 * 128 + 128 + 128 * 64 + 64 + 64 * 3 + 3


def test_same_seed_gives_the_same_initial_weights_and_another_seed_does_not():
    experiment = preset_experiment("mlp", "iris", (4,), 3)
    first = build_model(experiment, (4,)).get_weights()
    second = build_model(experiment, (4,)).get_weights()
    other = build_model(replace(experiment, seed=experiment.seed + 1), (4,)).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not np.array_equal(first[0], other[0])


def test_invalid_settings_raise_spec_error_and_bad_layers_model_build_error():
    bad = replace(preset_experiment("mlp", "iris", (4,), 3), compile=CompileSettings(optimizer="magic"))
    with pytest.raises(SpecError, match="compile.optimizer"):
        build_model(bad, (4,))
    with pytest.raises(ModelBuildError) as caught:
        build_model(Experiment(layers=(LayerSpec("GlobalAveragePooling2D"),)), (4,))
    assert caught.value.layer_index == 0 and "(None, 4)" in str(caught.value)


def test_a_composite_row_is_one_preview_row_with_the_counts_of_the_built_model():
    experiment = fit_to_task(Experiment(name="resnet1d", layers=preset_layers("resnet1d", (64, 2), 2, "binary"),
                                        task="binary"), 2, "binary")
    preview = preview_model(experiment.layers, (64, 2))
    model = build_model(experiment, (64, 2), 2, "binary")
    keras_layers = [layer for layer in model.layers if layer.name != "input"]
    assert len(preview.layers) == len(experiment.layers) == len(keras_layers)  # a block is one row
    assert [row.name for row in preview.layers][1:4] == ["residual_block_1", "residual_block_2", "residual_block_3"]
    assert [row.params for row in preview.layers] == [layer.count_params() for layer in keras_layers]
    assert [row.output_shape for row in preview.layers][:5] == [(None, 64, 32), (None, 64, 32), (None, 32, 64),
                                                                  (None, 16, 128), (None, 128)]
    assert preview.total_params == model.count_params() and preview.output_shape == (None, 1)
