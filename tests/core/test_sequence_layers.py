"""Layers for sequences and signals (issue 17): each one's shape rule follows the steps through it,
names the layer and the sizes where it no longer fits, and agrees with the shape Keras builds."""

from __future__ import annotations

import pytest

from kerastui.core.layers import (
    LAYERS,
    LayerSpec,
    integer_input_problems,
    output_shape_of,
    shape_problems,
    vocabulary_problem,
)

L = LayerSpec
NEW_TYPES = ("Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D",
             "Embedding", "LSTM", "GRU", "Bidirectional", "Reshape", "SpatialDropout1D", "ResidualBlock")


# ---- the pure shape check: where a layer no longer fits -------------------------------------------

# (layers, input shape, the failing field, words the message must hold)
DOES_NOT_FIT = {
    "Conv1D kernel longer than the sequence": (
        (L("Conv1D", {"kernel_size": 9}),), (4, 2), "layers[0].kernel_size",
        ["kernel 9", "sequence of 4 steps", "at most 4", "padding 'same'"]),
    "Conv1D after a pool shrank the sequence": (
        (L("Conv1D", {"kernel_size": 3}), L("MaxPooling1D", {"pool_size": 4}), L("Conv1D", {"kernel_size": 3})),
        (10, 1), "layers[2].kernel_size", ["kernel 3", "sequence of 2 steps"]),
    "Conv1D dilated past the sequence": (
        (L("Conv1D", {"kernel_size": 3, "dilation_rate": 4}),), (8, 1), "layers[0].kernel_size",
        ["spanning 9 steps", "dilation_rate 4", "8 steps"]),
    "Conv1D strides with dilation": (
        (L("Conv1D", {"strides": 2, "dilation_rate": 2}),), (50, 1), "layers[0].dilation_rate",
        ["strides 2", "dilation_rate 2", "set one of them to 1"]),
    "MaxPooling1D pool longer than the sequence": (
        (L("MaxPooling1D", {"pool_size": 8}),), (4, 3), "layers[0].pool_size",
        ["pool 8", "sequence of 4 steps", "padding 'same'"]),
    "AveragePooling1D after a strided Conv1D": (
        (L("Conv1D", {"strides": 4, "padding": "same"}), L("AveragePooling1D", {"pool_size": 5})), (16, 2),
        "layers[1].pool_size", ["pool 5", "sequence of 4 steps"]),
    "GlobalAveragePooling1D on flat data": (
        (L("GlobalAveragePooling1D"),), (100,), "layers[0].type",
        ["needs sequence input (steps, channels), but receives shape (100,)"]),
    "GlobalMaxPooling1D on an image": (
        (L("GlobalMaxPooling1D"),), (8, 8, 1), "layers[0].type",
        ["needs sequence input (steps, channels), but receives shape (8, 8, 1)"]),
    "Embedding on a signal": (
        (L("Embedding"),), (200, 2), "layers[0].type", ["needs word indices (steps,), but receives shape (200, 2)"]),
    "LSTM on a 1-D input": (
        (L("LSTM"),), (100,), "layers[0].type",
        ["needs sequence input (steps, channels), but receives shape (100,)", "Embedding", '"100,1"']),
    "GRU after an LSTM that returns no sequence": (
        (L("Embedding", {"input_dim": 50}), L("LSTM", {"units": 16}), L("GRU")), (20,), "layers[2].type",
        ["needs sequence input", "receives shape (16,)"]),
    "Bidirectional on an image": (
        (L("Bidirectional"),), (8, 8, 1), "layers[0].type",
        ["needs sequence input", "(8, 8, 1)", 'target_shape "8,8"']),
    "Reshape to sizes that hold other values": (
        (L("Reshape", {"target_shape": "200,3"}),), (200, 2), "layers[0].target_shape",
        ["holds 600 values", "(200, 2) holds 400", "multiply to 400"]),
    "Reshape with -1 that does not divide": (
        (L("Flatten"), L("Reshape", {"target_shape": "-1,3"})), (10, 2), "layers[1].target_shape",
        ["(20,) holds 20 values", "multiple of 3"]),
    "SpatialDropout1D on flat data": (
        (L("SpatialDropout1D"),), (13,), "layers[0].type", ["needs sequence input", "(13,)"]),
    "1-D ResidualBlock on an image": (
        (L("ResidualBlock", {"dims": 1}),), (8, 8, 1), "layers[0].dims",
        ["1-D ResidualBlock needs sequence input", "(8, 8, 1)", "set dims to 2"]),
    "2-D ResidualBlock on a signal": (
        (L("ResidualBlock", {"dims": 2}),), (200, 2), "layers[0].dims", ["needs image input", "set dims to 1"]),
}


@pytest.mark.parametrize("case", DOES_NOT_FIT, ids=list(DOES_NOT_FIT))
def test_the_shape_check_names_the_layer_and_the_sizes_where_it_no_longer_fits(case):
    layers, shape, field, words = DOES_NOT_FIT[case]
    (problem,) = shape_problems(layers, shape)
    assert problem.field == field, problem
    for word in words:
        assert word in problem.message, (word, problem.message)
    assert output_shape_of(layers, shape) is None


def test_every_new_layer_type_has_a_case_where_it_no_longer_fits():
    failing = set()
    for layers, _, field, _ in DOES_NOT_FIT.values():
        failing.add(layers[int(field.split("[")[1].split("]")[0])].type)
    assert failing == set(NEW_TYPES)


def test_the_shape_check_follows_the_steps_through_a_signal_network():
    layers = (
        L("Conv1D", {"filters": 16, "kernel_size": 7, "padding": "same"}),
        L("ResidualBlock", {"filters": 32, "strides": 2}),
        L("MaxPooling1D", {"pool_size": 2}),
        L("Conv1D", {"filters": 8, "kernel_size": 5}),
        L("Bidirectional", {"units": 6, "return_sequences": True}),
        L("GlobalMaxPooling1D"),
    )
    assert shape_problems(layers, (200, 2)) == []
    # 200 -> 200 -> 100 -> 50 -> 46 -> (46, 12) -> (12,)
    assert output_shape_of(layers, (200, 2)) == (12,)
    assert output_shape_of(layers[:4], (200, 2)) == (46, 8)
    # On a shorter signal the valid Conv1D is where it stops fitting: 8 -> 4 -> 2 steps for a kernel of 5.
    (problem,) = shape_problems(layers, (8, 2))
    assert problem.field == "layers[3].kernel_size" and "sequence of 2 steps" in problem.message


# ---- integer inputs ---------------------------------------------------------------------------


def test_an_embedding_on_float_data_says_it_reads_word_numbers():
    layers = (L("Embedding", {"input_dim": 100}), L("LSTM"), L("Dense", {"units": 1, "activation": "sigmoid"}))
    assert integer_input_problems(layers, integer_inputs=True) == []
    (problem,) = integer_input_problems(layers, integer_inputs=False)
    assert problem.field == "layers[0].type"
    assert problem.message.startswith("Embedding reads word numbers (integers); this data holds float values: ")
    assert integer_input_problems((L("Dense"),), integer_inputs=False) == []  # no Embedding, no opinion


def test_an_embedding_after_a_computing_layer_reads_floats_whatever_the_data():
    (problem,) = integer_input_problems((L("Dense", {"units": 8}), L("Embedding")), integer_inputs=True)
    assert problem.field == "layers[1].type" and "layer 0 (Dense 8 relu) before it gives float values" in problem.message
    # A Reshape only moves the integers around: the Embedding still reads the data.
    assert integer_input_problems((L("Reshape", {"target_shape": "-1"}), L("Embedding")), integer_inputs=True) == []


def test_a_vocabulary_smaller_than_the_largest_word_number_is_reported_at_input_dim():
    layers = (L("Embedding", {"input_dim": 5000}), L("LSTM"))
    assert vocabulary_problem(layers, 4999) is None
    problem = vocabulary_problem(layers, 5000)
    assert problem.field == "layers[0].input_dim" and problem.value == 5000
    assert "go up to 5000" in problem.message and "at least 5001" in problem.message
    assert vocabulary_problem((L("Dense"),), 10**6) is None


# ---- the pure rule against Keras ----------------------------------------------------------------

# Every layer type on a few inputs: the shape kerastui predicts is the shape Keras builds.
KERAS_CASES = [
    (L("Dense", {"units": 5}), (7,)), (L("Dense", {"units": 4}), (6, 3)),
    (L("Conv2D", {"filters": 3}), (8, 8, 1)), (L("Conv2D", {"filters": 2, "strides": 2, "padding": "same"}), (9, 9, 2)),
    (L("MaxPooling2D"), (7, 7, 3)), (L("AveragePooling2D", {"pool_size": 3}), (9, 9, 1)),
    (L("Flatten"), (4, 4, 2)), (L("Dropout"), (5,)), (L("BatchNormalization"), (6, 2)),
    (L("LayerNormalization"), (6,)), (L("GlobalAveragePooling2D"), (5, 5, 3)),
    (L("Conv1D", {"filters": 4}), (10, 2)),
    (L("Conv1D", {"filters": 4, "strides": 2, "padding": "same"}), (11, 2)),
    (L("Conv1D", {"filters": 2, "kernel_size": 4, "padding": "causal"}), (6, 1)),
    (L("Conv1D", {"filters": 2, "dilation_rate": 2}), (10, 2)),
    (L("Conv1D", {"filters": 2, "kernel_size": 2, "strides": 3}), (10, 1)),
    (L("MaxPooling1D"), (9, 3)), (L("MaxPooling1D", {"pool_size": 4, "padding": "same"}), (9, 3)),
    (L("AveragePooling1D", {"pool_size": 3}), (10, 2)), (L("AveragePooling1D", {"pool_size": 3, "padding": "same"}), (10, 2)),
    (L("GlobalAveragePooling1D"), (10, 4)), (L("GlobalMaxPooling1D"), (10, 4)),
    (L("Embedding", {"input_dim": 20, "output_dim": 5}), (12,)),
    (L("LSTM", {"units": 4}), (6, 3)), (L("LSTM", {"units": 4, "return_sequences": True, "dropout": 0.1}), (6, 3)),
    (L("GRU", {"units": 3}), (6, 3)), (L("GRU", {"units": 3, "return_sequences": True}), (6, 3)),
    (L("Bidirectional", {"units": 4}), (6, 3)),
    (L("Bidirectional", {"layer": "GRU", "units": 4, "merge_mode": "sum", "return_sequences": True}), (6, 3)),
    (L("Bidirectional", {"units": 2, "merge_mode": "ave"}), (5, 2)),
    (L("Reshape", {"target_shape": "4,6"}), (24,)), (L("Reshape", {"target_shape": "-1,2"}), (6, 4)),
    (L("Reshape", {"target_shape": "2,-1,3"}), (12,)),
    (L("SpatialDropout1D", {"rate": 0.3}), (6, 3)),
    (L("ResidualBlock", {"filters": 8}), (10, 8)),
    (L("ResidualBlock", {"filters": 6, "strides": 2, "kernel_size": 5}), (11, 3)),
    (L("ResidualBlock", {"dims": 2, "filters": 4, "strides": 2}), (9, 9, 2)),
    (L("ResidualBlock", {"dims": 2, "filters": 2, "activation": "gelu"}), (5, 5, 2)),
]


def test_every_layer_type_is_checked_against_keras():
    from tests.core.test_preprocessing_layers import NEW_TYPES  # checked against Keras there

    assert {spec.type for spec, _ in KERAS_CASES} | set(NEW_TYPES) == set(LAYERS)


@pytest.mark.slow
@pytest.mark.parametrize("spec,shape", KERAS_CASES, ids=[f"{s.describe()} on {shape}" for s, shape in KERAS_CASES])
def test_the_pure_output_shape_is_the_one_keras_builds(spec, shape):
    from kerastui.core.build import preview_model

    assert shape_problems((spec,), shape) == []
    (row,) = preview_model((spec,), shape).layers
    assert row.output_shape == (None, *output_shape_of((spec,), shape))
    assert row.description == spec.describe()


@pytest.mark.slow
def test_bidirectional_wraps_the_recurrent_layer_it_names():
    from kerastui.core.backend import import_keras
    from kerastui.core.build import keras_layer

    keras = import_keras()
    layer = keras_layer(keras, L("Bidirectional", {"layer": "GRU", "units": 3, "merge_mode": "mul"}), 4)
    assert isinstance(layer, keras.layers.Bidirectional) and layer.name == "bidirectional_4"
    assert isinstance(layer.forward_layer, keras.layers.GRU) and layer.forward_layer.units == 3
    assert layer.merge_mode == "mul"
    lstm = keras_layer(keras, L("Bidirectional"), 0)
    assert isinstance(lstm.forward_layer, keras.layers.LSTM) and lstm.forward_layer.activation.__name__ == "tanh"


def test_true_false_and_text_parameters_round_trip_through_toml():
    from kerastui.core.spec import CompileSettings, Experiment, dumps, loads

    experiment = Experiment(name="signals", dataset="strain.npz", task="binary",
                            compile=CompileSettings(loss="binary_crossentropy"), layers=(
        L("Reshape", {"target_shape": "200,2"}),
        L("Conv1D", {"filters": 8, "padding": "causal", "dilation_rate": 2}),
        L("ResidualBlock", {"dims": 1, "filters": 16, "strides": 2}),
        L("Bidirectional", {"layer": "GRU", "units": 8, "return_sequences": True, "merge_mode": "ave"}),
        L("LSTM", {"units": 4, "return_sequences": False, "dropout": 0.1}),
        L("Dense", {"units": 1, "activation": "sigmoid"}),
    ))
    text = dumps(experiment)
    assert 'target_shape = "200,2"' in text and "return_sequences = true" in text
    assert loads(text) == experiment
    assert experiment.problems((400,), 2, "binary") == []
    bad = loads(text.replace('target_shape = "200,2"', 'target_shape = "200,3"'))
    (problem,) = bad.problems((400,), 2, "binary")
    assert problem.field == "layers[0].target_shape" and "holds 600 values" in problem.message
