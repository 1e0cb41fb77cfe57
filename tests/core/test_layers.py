"""The layer registry: each layer type is described once (kerastui.core.layers) and everything
else reads it: validation, the shape check, labels, the runs table's names, the Keras build,
the layer editor. LayerNormalization was added by adding its entry there, and nothing else."""

from __future__ import annotations

import pytest

from kerastui.core.layers import LAYERS, SEQUENCE_LAYERS, SPATIAL_LAYERS, LayerSpec, parse_target_shape, shape_problems
from kerastui.core.tasks import TASKS
from kerastui.core.tasks.output import output_mismatch
from kerastui.core.runs import architecture_summary
from kerastui.core.spec import Experiment, loads


def test_every_layer_type_names_a_keras_class_and_its_arguments():
    keras = pytest.importorskip("keras")
    import inspect

    def accepted(cls):
        return inspect.signature(cls.__init__).parameters

    for name, layer_type in LAYERS.items():
        if layer_type.builder is not None:
            continue  # built its own way (below, and in test_sequence_layers)
        for param in layer_type.params:
            assert param in accepted(getattr(keras.layers, name)), f"{name} has no Keras argument {param!r}"
    # Bidirectional's own arguments, and those of the LSTM or GRU it wraps.
    for param in set(LAYERS["Bidirectional"].params) - {"layer", "merge_mode"}:
        assert param in accepted(keras.layers.LSTM) and param in accepted(keras.layers.GRU), param
    assert "merge_mode" in accepted(keras.layers.Bidirectional)
    assert {"target_shape"} == set(LAYERS["Reshape"].params) and "target_shape" in accepted(keras.layers.Reshape)
    assert {layer.name for layer in LAYERS.values() if layer.builder is not None} == {
        "Bidirectional", "Reshape", "ResidualBlock", "RandomContrast"}


def test_every_default_is_allowed_by_its_own_rule():
    for name, layer_type in LAYERS.items():
        for param, rule in layer_type.params.items():
            assert rule.problem(rule.default) is None, (name, param)


def test_image_and_sequence_layers_are_marked_so():
    assert set(SPATIAL_LAYERS) == {"Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "Resizing",
                                   "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast"}
    assert set(SEQUENCE_LAYERS) == {"Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D",
                                    "GlobalMaxPooling1D", "LSTM", "GRU", "Bidirectional", "SpatialDropout1D"}
    assert all(LAYERS[name].needs_image for name in SPATIAL_LAYERS) and not LAYERS["Conv1D"].needs_image
    assert [name for name, layer in LAYERS.items() if layer.needs_integers] == ["Embedding"]


def test_a_sequence_layer_on_flat_data_says_what_it_needs_and_what_to_do():
    (problem,) = shape_problems((LayerSpec("LSTM"),), (100,))
    assert problem.field == "layers[0].type" and problem.value == "LSTM"
    assert problem.message.startswith("needs sequence input (steps, channels), but receives shape (100,)")
    assert "Embedding" in problem.message and '"100,1"' in problem.message
    (problem,) = shape_problems((LayerSpec("Flatten"), LayerSpec("GlobalAveragePooling1D")), (8, 8, 1))
    assert problem.field == "layers[1].type" and "receives shape (64,)" in problem.message
    # Image layers on a sequence, and sequence layers on an image, name the layer for that data.
    (problem,) = shape_problems((LayerSpec("Conv2D"),), (200, 2))
    assert "needs image input (height, width, channels), but receives shape (200, 2); use Conv1D" in problem.message
    (problem,) = shape_problems((LayerSpec("MaxPooling1D"),), (8, 8, 1))
    assert problem.message.endswith("use MaxPooling2D for this data")


def test_bool_parameters_take_true_or_false_only():
    rule = LAYERS["LSTM"].params["return_sequences"]
    assert rule.problem(True) is None and rule.problem(False) is None
    assert rule.problem(1) == rule.problem("true") == "must be true or false"
    assert [str(p) for p in LayerSpec("LSTM", {"return_sequences": "yes"}).problems(1)] == [
        "layers[1].return_sequences = 'yes': must be true or false"]
    # An int is not a bool either way round.
    assert LAYERS["Dense"].params["units"].problem(True) == "must be a whole number"


def test_a_form_field_reads_and_shows_every_kind_of_parameter():
    rules = LAYERS["LSTM"].params
    assert rules["return_sequences"].from_text(" True ") == (True, None)
    assert rules["return_sequences"].from_text("no") == (False, None)
    assert rules["return_sequences"].from_text("maybe") == (None, "must be true or false")
    assert rules["return_sequences"].to_text(True) == "true"
    assert rules["units"].from_text("12") == (12, None) and rules["units"].from_text("1.5")[1] == "must be a whole number"
    assert rules["dropout"].from_text("1")[1] == "must be less than 1" and rules["dropout"].to_text(0.25) == "0.25"
    target = LAYERS["Reshape"].params["target_shape"]
    assert target.from_text(" 200,2 ") == ("200,2", None)
    value, why = target.from_text("200,x")
    assert value is None and "'x' is not a whole number" in why


@pytest.mark.parametrize("text,why", [
    ("", "sizes separated by commas"),
    ("8,,1", "sizes separated by commas"),
    ("8,0", "at least 1"),
    ("-1,-1", "only once"),
    ("-2,4", "at least 1"),
])
def test_reshape_target_text_is_checked_at_its_field(text, why):
    (problem,) = LayerSpec("Reshape", {"target_shape": text}).problems(3)
    assert problem.field == "layers[3].target_shape" and why in problem.message


def test_reshape_target_text_reads_as_keras_wants_it():
    assert parse_target_shape("200,2") == (200, 2)
    assert parse_target_shape("(8, 8, 1)") == (8, 8, 1)
    assert parse_target_shape("784,") == (784,)
    assert parse_target_shape("-1,1") == (-1, 1)


def test_layer_normalization_validates_describes_and_keeps_the_shape():
    layer = LayerSpec("LayerNormalization", {"epsilon": 1e-5})
    assert layer.problems(0) == [] and layer.describe() == "LayerNormalization eps 1e-05"
    assert [str(p) for p in LayerSpec("LayerNormalization", {"epsilon": 0.0}).problems(2)] == [
        "layers[2].epsilon = 0.0: must be greater than 0"]
    stack = (LayerSpec("Flatten"), LayerSpec("Dense", {"units": 16}), layer, LayerSpec("Dense", {"units": 3}))
    assert shape_problems(stack, (4,)) == []  # tabular data: it fits any kind
    assert architecture_summary(stack) == "Flatten Dense16 LN Dense3"


def test_layer_normalization_round_trips_through_toml_and_builds_with_keras():
    from kerastui.core.build import preview_model
    from kerastui.core.spec import dumps

    text = '''
name = "ln"
dataset = "iris"
[[layers]]
type = "Dense"
units = 16
[[layers]]
type = "LayerNormalization"
epsilon = 0.0001
[[layers]]
type = "Dense"
units = 3
activation = "softmax"
'''
    experiment = loads(text)
    assert loads(dumps(experiment)) == experiment and experiment.problems((4,), 3) == []
    preview = preview_model(experiment.layers, (4,))
    assert [p.description for p in preview.layers] == ["Dense 16 relu", "LayerNormalization eps 0.0001", "Dense 3 softmax"]
    assert preview.layers[1].params == 32  # a scale and an offset per feature
    assert preview.output_shape == (None, 3)


def test_the_output_rule_has_one_wording():
    multiclass = TASKS["multiclass"]
    assert output_mismatch((3,), 3, multiclass) is None
    assert "make the last layer Dense with 10 units" in output_mismatch((4,), 10, multiclass)
    assert "add Flatten or a global pooling layer" in output_mismatch((4, 4, 8), 10, multiclass)
    experiment = Experiment(layers=(LayerSpec("Flatten"), LayerSpec("Dense", {"units": 4, "activation": "softmax"})))
    (problem,) = experiment.problems((8, 8, 1), 10)
    assert problem.field == "layers[1].units" and problem.message == output_mismatch((4,), 10, multiclass)


def test_a_layer_is_immutable_through_and_through():
    import copy
    import pickle

    layer = LayerSpec("Dense", {"units": 8})
    with pytest.raises(TypeError, match="with_params"):
        layer.params["units"] = 9
    with pytest.raises(TypeError):
        layer.params.update(units=9)
    assert layer.param("units") == 8 and layer.with_params(units=9).param("units") == 9
    assert hash(layer) == hash(LayerSpec("Dense", {"units": 8})) and layer == LayerSpec("Dense", {"units": 8})
    assert copy.deepcopy(layer) == layer == pickle.loads(pickle.dumps(layer))


def test_the_layer_forms_reading_of_true_and_false_is_the_rules_own():
    from kerastui.tui.widgets.layer_editor import parse_param

    rule = LAYERS["LSTM"].params["return_sequences"]
    assert parse_param(rule, "true") == (True, None) and parse_param(rule, "False") == (False, None)
    assert parse_param(rule, "maybe") == (None, "must be true or false")
    assert rule.to_text(True) == "true"
