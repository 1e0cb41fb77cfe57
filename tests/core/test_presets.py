"""Presets adapt their input and output to the data, and say clearly when they cannot."""

from __future__ import annotations

import pytest

from kerastui.core.presets import PresetError, preset_layers
from kerastui.core.spec import fit_to_task, preset_experiment


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
