"""Each layer type's parameter counts as plain arithmetic on its parameters and input shape, the
numbers Keras's `model.summary()` shows, so the live summary needs no framework in the UI process.

Every function takes (param, input shape without the batch) and returns (trainable,
non-trainable) weights; the registry (kerastui.core.layers) names one per layer type.
tests/core/test_layer_shapes.py holds every one equal to Keras's own count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Counts = tuple[int, int]  # (trainable, non-trainable)
_Param = Callable[[str], Any]


def no_weights(param: _Param, shape: tuple[int, ...]) -> Counts:
    """Pooling, reshaping, dropout, preprocessing and augmentation layers learn nothing."""
    return 0, 0


def dense_counts(param: _Param, shape: tuple[int, ...]) -> Counts:
    units = param("units")
    return shape[-1] * units + units, 0  # a kernel over the last axis, and a bias


def conv_counts(kernel_dims: int) -> Callable[[_Param, tuple[int, ...]], Counts]:
    """A 1-D or 2-D convolution: one kernel_size (per spatial axis) x channels window per filter, and a bias."""

    def counts(param: _Param, shape: tuple[int, ...]) -> Counts:
        filters = param("filters")
        return param("kernel_size") ** kernel_dims * shape[-1] * filters + filters, 0

    return counts


def batch_norm_counts(param: _Param, shape: tuple[int, ...]) -> Counts:
    channels = shape[-1]
    return 2 * channels, 2 * channels  # gamma and beta learn; the moving mean and variance do not


def layer_norm_counts(param: _Param, shape: tuple[int, ...]) -> Counts:
    return 2 * shape[-1], 0  # gamma and beta


def embedding_counts(param: _Param, shape: tuple[int, ...]) -> Counts:
    return param("input_dim") * param("output_dim"), 0


def _recurrent_weights(layer: str, units: int, channels: int) -> int:
    # Each gate: a kernel on the input, a recurrent kernel on the state, and a bias. Keras's
    # GRU defaults to reset_after=True, which keeps a second bias for the recurrent part.
    gates, biases = {"LSTM": (4, 1), "GRU": (3, 2), "SimpleRNN": (1, 1)}[layer]
    return gates * (units * (channels + units) + biases * units)


def recurrent_counts(layer: str) -> Callable[[_Param, tuple[int, ...]], Counts]:
    def counts(param: _Param, shape: tuple[int, ...]) -> Counts:
        return _recurrent_weights(layer, param("units"), shape[-1]), 0

    return counts


def bidirectional_counts(param: _Param, shape: tuple[int, ...]) -> Counts:
    return 2 * _recurrent_weights(param("layer"), param("units"), shape[-1]), 0  # forwards and backwards


def residual_block_counts(param: _Param, shape: tuple[int, ...]) -> Counts:
    """kerastui.core.layers' ResidualBlock: two bias-free convolutions, each followed by a batch
    normalisation, and a 1x1 projection (with its own normalisation) when the strides or the
    channels change."""
    filters, window, channels = param("filters"), param("kernel_size") ** param("dims"), shape[-1]
    trainable = window * channels * filters + window * filters * filters + 2 * (2 * filters)
    non_trainable = 2 * (2 * filters)
    if param("strides") != 1 or channels != filters:
        trainable += channels * filters + 2 * filters
        non_trainable += 2 * filters
    return trainable, non_trainable
