"""The residual block: one row in the editor and the preview, built with Keras's functional API
as a nested Model (two convolutions with batch normalisation, a skip, a projection when the
channels or steps change), trained and saved in model.keras like any other layer."""

from __future__ import annotations

import numpy as np
import pytest

from kerastui.core.build import ModelBuildError, build_model, keras_layer, preview_model
from kerastui.core.layers import LayerSpec
from kerastui.core.spec import Experiment, FitSettings

pytestmark = pytest.mark.slow  # imports Keras

L = LayerSpec


def _inner_types(block) -> list[str]:
    return [type(layer).__name__ for layer in block.layers]


def test_a_block_is_one_nested_model_with_a_projection_only_when_the_skip_needs_one():
    from kerastui.core.backend import import_keras

    keras = import_keras()
    same = keras_layer(keras, L("ResidualBlock", {"filters": 8}), 2, input_shape=(10, 8))
    assert isinstance(same, keras.Model) and same.name == "residual_block_2"
    assert _inner_types(same).count("Conv1D") == 2 and _inner_types(same).count("BatchNormalization") == 2
    assert "Add" in _inner_types(same)
    # More channels, or fewer steps: a 1x1 convolution (and its normalisation) brings the skip along.
    for spec, shape in ((L("ResidualBlock", {"filters": 16}), (10, 8)),
                        (L("ResidualBlock", {"filters": 8, "strides": 2}), (10, 8))):
        block = keras_layer(keras, spec, 0, input_shape=shape)
        assert _inner_types(block).count("Conv1D") == 3 and _inner_types(block).count("BatchNormalization") == 3
        projection = block.get_layer("residual_block_0_projection")
        assert projection.kernel_size == (1,) and projection.strides == (spec.param("strides"),)
    two_d = keras_layer(keras, L("ResidualBlock", {"dims": 2, "filters": 4}), 0, input_shape=(6, 6, 4))
    assert _inner_types(two_d).count("Conv2D") == 2
    with pytest.raises(ValueError, match="input_shape"):
        keras_layer(keras, L("ResidualBlock"), 0)


def test_the_preview_shows_a_block_as_one_row_with_its_parameters():
    layers = (L("Conv1D", {"filters": 8, "padding": "same"}), L("ResidualBlock", {"filters": 8}),
              L("ResidualBlock", {"filters": 16, "strides": 2}), L("GlobalAveragePooling1D"),
              L("Dense", {"units": 2, "activation": "softmax"}))
    preview = preview_model(layers, (20, 3))
    assert [row.description for row in preview.layers] == [
        "Conv1D 8 k3 relu same", "ResidualBlock 1D 8 k3 relu", "ResidualBlock 1D 16 k3 relu /2",
        "GlobalAveragePooling1D", "Dense 2 softmax"]
    assert [row.output_shape for row in preview.layers] == [(None, 20, 8), (None, 20, 8), (None, 10, 16), (None, 16), (None, 2)]
    # Two 3-wide convolutions without bias, each normalised (4 numbers a channel, 2 of them trained);
    # the second block also projects its 8 channels to 16.
    assert preview.layers[1].params == 2 * (8 * 8 * 3) + 2 * 4 * 8
    assert preview.layers[2].params == 8 * 16 * 3 + 16 * 16 * 3 + 8 * 16 + 3 * 4 * 16
    assert preview.non_trainable_params == 2 * (2 * 8) + 2 * (3 * 16)
    assert preview.total_params == sum(row.params for row in preview.layers)


def test_a_block_of_the_wrong_dims_is_a_build_error_at_its_row():
    with pytest.raises(ModelBuildError) as caught:
        preview_model((L("Dense", {"units": 4}), L("ResidualBlock", {"dims": 1})), (8, 8, 1))
    assert caught.value.layer_index == 1
    assert str(caught.value).startswith("layer 1 (ResidualBlock 1D 64 k3 relu) cannot take input (None, 8, 8, 4): ")
    assert "set dims to 2" in str(caught.value)


def test_a_model_with_blocks_trains_and_survives_saving_without_custom_objects(tmp_path):
    from kerastui.core.backend import import_keras

    keras = import_keras()
    experiment = Experiment(
        layers=(L("ResidualBlock", {"filters": 4, "strides": 2}), L("ResidualBlock", {"filters": 4}),
                L("GlobalAveragePooling1D"), L("Dense", {"units": 2, "activation": "softmax"})),
        fit=FitSettings(epochs=1, batch_size=8, validation_split=0.0),
    )
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 12, 2)).astype(np.float32), rng.integers(0, 2, 16)
    model = build_model(experiment, (12, 2), 2)
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # it learned something
    path = tmp_path / "model.keras"
    model.save(path)
    from kerastui.core.model_file import load_model_file

    loaded = load_model_file(path, keras)  # keras.saving.load_model, no custom_objects
    assert [layer.name for layer in loaded.layers][1:3] == ["residual_block_0", "residual_block_1"]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
