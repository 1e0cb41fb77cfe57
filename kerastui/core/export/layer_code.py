"""Each layer type as the Keras code a person writes for it: `layers.Dense(units=128, activation="relu")`.

The registry (kerastui.core.layers) names each parameter by its Keras argument name and holds
kerastui's defaults; what Keras itself defaults to is below, so the code leaves out what Keras
would do anyway and writes every other argument by its keyword. A test holds these defaults equal
to the Keras classes' own signatures (REQUIRED: Keras has no default, so it is always written).

The few types that are not one Keras class taking their parameters as they are (Bidirectional,
Reshape's and RandomContrast's text, the residual block) say here how they are written.
"""

from __future__ import annotations

from typing import Any

from kerastui.core.layers import LAYERS, LayerSpec, parse_target_shape, parse_value_range

REQUIRED = object()  # Keras has no default: always written

# Keras's own defaults for the arguments kerastui's registry passes (per class).
KERAS_DEFAULTS: dict[str, dict[str, Any]] = {
    "Dense": {"units": REQUIRED, "activation": None},
    "Conv2D": {"filters": REQUIRED, "kernel_size": REQUIRED, "strides": 1, "padding": "valid", "activation": None},
    "MaxPooling2D": {"pool_size": 2},
    "AveragePooling2D": {"pool_size": REQUIRED},
    "Flatten": {},
    "Dropout": {"rate": REQUIRED},
    "BatchNormalization": {},
    "LayerNormalization": {"epsilon": 0.001},
    "GlobalAveragePooling2D": {},
    "Rescaling": {"scale": REQUIRED, "offset": 0.0},
    "Resizing": {"height": REQUIRED, "width": REQUIRED, "interpolation": "bilinear", "crop_to_aspect_ratio": False},
    "RandomFlip": {"mode": "horizontal_and_vertical"},
    "RandomRotation": {"factor": REQUIRED, "fill_mode": "reflect"},
    "RandomZoom": {"height_factor": REQUIRED, "width_factor": None, "fill_mode": "reflect"},
    "RandomTranslation": {"height_factor": REQUIRED, "width_factor": REQUIRED, "fill_mode": "reflect"},
    "RandomContrast": {"factor": REQUIRED, "value_range": (0, 255)},
    "Conv1D": {"filters": REQUIRED, "kernel_size": REQUIRED, "strides": 1, "padding": "valid", "activation": None,
               "dilation_rate": 1},
    "MaxPooling1D": {"pool_size": 2, "padding": "valid"},
    "AveragePooling1D": {"pool_size": REQUIRED, "padding": "valid"},
    "GlobalAveragePooling1D": {},
    "GlobalMaxPooling1D": {},
    "Embedding": {"input_dim": REQUIRED, "output_dim": REQUIRED},
    "LSTM": {"units": REQUIRED, "activation": "tanh", "return_sequences": False, "dropout": 0.0},
    "GRU": {"units": REQUIRED, "activation": "tanh", "return_sequences": False, "dropout": 0.0},
    "Bidirectional": {"merge_mode": "concat"},
    "Reshape": {"target_shape": REQUIRED},
    "SpatialDropout1D": {"rate": REQUIRED},
}
# "linear" is what Keras's None activation does.
_SAME_AS_NONE = {"activation": "linear"}

# The residual block as a function of its own, written once into the code that uses one: the same
# layers in the same order as kerastui.core.layers builds it, as a nested model, so that a
# submission loads the run's weights into it unchanged.
RESIDUAL_BLOCK_CODE = '''\
def residual_block(input_shape, filters, kernel_size=3, strides=1, activation="relu", dims=1):
    """Two convolutions with batch normalisation, added to a skip connection (a 1-D or 2-D block)."""
    conv = layers.Conv1D if dims == 1 else layers.Conv2D
    inputs = keras.Input(shape=input_shape)
    x = conv(filters, kernel_size, strides=strides, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation(activation)(x)
    x = conv(filters, kernel_size, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    skip = inputs
    if strides != 1 or input_shape[-1] != filters:
        # The skip must match the main path's steps and channels to be added to it.
        skip = conv(filters, 1, strides=strides, padding="same", use_bias=False)(inputs)
        skip = layers.BatchNormalization()(skip)
    x = layers.Add()([x, skip])
    x = layers.Activation(activation)(x)
    return keras.Model(inputs, x)
'''
# The function's own defaults, so a call leaves them out too.
_RESIDUAL_DEFAULTS = {"kernel_size": 3, "strides": 1, "activation": "relu", "dims": 1}


class LayerCodeError(ValueError):
    """A layer kerastui cannot write as Keras code (an unknown type)."""


def literal(value: Any) -> str:
    """A value as Python source: strings in double quotes, floats as short as they read."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (tuple, list)):
        items = ", ".join(literal(v) for v in value)
        if isinstance(value, tuple):
            return f"({items},)" if len(value) == 1 else f"({items})"
        return f"[{items}]"
    return repr(value)


def _is_default(type_name: str, name: str, value: Any) -> bool:
    default = KERAS_DEFAULTS.get(type_name, {}).get(name, REQUIRED)
    if default is REQUIRED:
        return False
    if default is None:
        return value is None or value == _SAME_AS_NONE.get(name)
    if isinstance(default, tuple) and isinstance(value, tuple):
        return tuple(float(v) for v in default) == tuple(float(v) for v in value)
    return type(value) is type(default) and value == default or (
        isinstance(value, (int, float)) and not isinstance(value, bool) and isinstance(default, (int, float))
        and not isinstance(default, bool) and float(value) == float(default))


def keyword_arguments(type_name: str, values: dict[str, Any]) -> str:
    """`units=128, activation="relu"`: one keyword per argument, Keras's defaults left out."""
    return ", ".join(f"{name}={literal(value)}" for name, value in values.items()
                     if not _is_default(type_name, name, value))


def keras_values(spec: LayerSpec) -> dict[str, Any]:
    """The layer's arguments as Keras takes them (text parameters read into tuples)."""
    layer_type = LAYERS.get(spec.type)
    if layer_type is None:
        raise LayerCodeError(f"unknown layer type {spec.type!r}")
    values = {name: spec.param(name) for name in layer_type.params}
    if spec.type == "Reshape":
        values["target_shape"] = parse_target_shape(values["target_shape"])
    if spec.type == "RandomContrast":
        values["value_range"] = parse_value_range(values["value_range"])
    return values


def keras_code(spec: LayerSpec) -> str:
    """The Keras expression for one layer (a Sequential list item, or a call on `x` in a
    functional model): `layers.Conv2D(filters=32, kernel_size=3, activation="relu")`. A residual
    block is `residual_block(x.shape[1:], filters=64, strides=2)`, the function RESIDUAL_BLOCK_CODE
    defines."""
    values = keras_values(spec)
    if spec.type == "ResidualBlock":
        given = [f"{name}={literal(value)}" for name, value in values.items()
                 if _RESIDUAL_DEFAULTS.get(name, REQUIRED) != value]
        return f"residual_block(x.shape[1:], {', '.join(given)})"
    if spec.type == "Bidirectional":
        inner = {name: values[name] for name in ("units", "activation", "return_sequences", "dropout")}
        wrapped = f"layers.{values['layer']}({keyword_arguments(values['layer'], inner)})"
        merge = keyword_arguments("Bidirectional", {"merge_mode": values["merge_mode"]})
        return f"layers.Bidirectional({wrapped}{', ' + merge if merge else ''})"
    return f"layers.{spec.type}({keyword_arguments(spec.type, values)})"


def needs_functional(layers: tuple[LayerSpec, ...]) -> bool:
    """A residual block needs the shape that reaches it, so the model is written functionally."""
    return any(layer.type == "ResidualBlock" for layer in layers)
