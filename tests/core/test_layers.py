"""The layer registry: each layer type is described once (kerastui.core.layers) and everything
else reads it: validation, the shape check, labels, the runs table's names, the Keras build,
the layer editor. LayerNormalization was added by adding its entry there, and nothing else."""

from __future__ import annotations

import pytest

from kerastui.core.layers import LAYERS, SPATIAL_LAYERS, LayerSpec, shape_problems
from kerastui.core.tasks import TASKS
from kerastui.core.tasks.output import output_mismatch
from kerastui.core.runs import architecture_summary
from kerastui.core.spec import Experiment, loads


def test_every_layer_type_names_a_keras_class_and_its_arguments():
    keras = pytest.importorskip("keras")
    import inspect

    for name, layer_type in LAYERS.items():
        cls = getattr(keras.layers, name)
        accepted = inspect.signature(cls.__init__).parameters
        for param in layer_type.params:
            assert param in accepted, f"{name} has no Keras argument {param!r}"


def test_every_default_is_allowed_by_its_own_rule():
    for name, layer_type in LAYERS.items():
        for param, rule in layer_type.params.items():
            assert rule.problem(rule.default) is None, (name, param)


def test_image_layers_are_marked_so():
    assert set(SPATIAL_LAYERS) == {"Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D"}


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
