"""Every layer type kerastui can build, each described once: its parameters (types, ranges,
defaults), its shape rule, its one-line description, how the editor and the runs table name it,
and how Keras builds it.

Names are Keras class names and parameters are Keras argument names, so Keras builds a layer as
`getattr(keras.layers, type)(**params)`; the few that are not one Keras class with those
arguments (Bidirectional, Reshape's and RandomContrast's text, the residual block) say how they
are built. Adding a layer type is adding one `LayerType` to `LAYERS` (and its tests): the spec's
validation, the shape check, the layer editor, the runs table and the model builder all read it
from here.
Nothing here imports Keras (the build functions are handed the module).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from kerastui.core import layer_shapes
from kerastui.core.problems import Problem

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "elu", "gelu", "selu", "swish", "linear")
PADDINGS = ("valid", "same")
# How the augmentation layers fill what a rotation, zoom or shift uncovers, and the ways
# RandomFlip mirrors (Keras's choices).
FILL_MODES = ("reflect", "wrap", "constant", "nearest")
FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")

Shape = tuple[int, ...]
Param = Callable[[str], Any]  # a layer's parameter by name (its value, or the type's default)


@dataclass(frozen=True)
class ParamRule:
    """What one layer parameter accepts: its type, default and allowed range or choices."""

    kind: type
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    exclusive_maximum: bool = False
    exclusive_minimum: bool = False
    # A further rule for values of the right kind (a Reshape's "200,2" text): why not, or None.
    check: Callable[[Any], str | None] | None = None

    def problem(self, value: Any) -> str | None:
        """Return why `value` is not allowed, or None when it is."""
        if self.kind is bool:
            return None if isinstance(value, bool) else "must be true or false"
        if self.kind is int and (not isinstance(value, int) or isinstance(value, bool)):
            return "must be a whole number"
        if self.kind is float and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return "must be a number"
        if self.kind is float and not math.isfinite(value):
            return "must be a finite number"
        if self.kind is str and not isinstance(value, str):
            return "must be text"
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}"
        if self.minimum is not None:
            if self.exclusive_minimum and value <= self.minimum:
                return f"must be greater than {self.minimum:g}"
            if not self.exclusive_minimum and value < self.minimum:
                return f"must be at least {self.minimum:g}"
        if self.maximum is not None:
            if self.exclusive_maximum and value >= self.maximum:
                return f"must be less than {self.maximum:g}"
            if not self.exclusive_maximum and value > self.maximum:
                return f"must be at most {self.maximum:g}"
        if self.check is not None:
            return self.check(value)
        return None

    def from_text(self, text: str) -> tuple[Any, str | None]:
        """(value, None) when typed `text` is acceptable, else (None, why not): for a form field."""
        raw = text.strip()
        value: Any = raw
        if self.kind is int:
            try:
                value = int(raw)
            except ValueError:
                return None, "must be a whole number"
        elif self.kind is float:
            try:
                value = float(raw)
            except ValueError:
                return None, "must be a number"
        elif self.kind is bool:
            value = _BOOL_WORDS.get(raw.lower())
            if value is None:
                return None, "must be true or false"
        problem = self.problem(value)
        return (None, problem) if problem else (value, None)

    def to_text(self, value: Any) -> str:
        """`value` as a form field shows it (and from_text reads it back)."""
        if self.kind is bool:
            return "true" if value else "false"
        if self.kind is float and isinstance(value, (int, float)):
            return f"{value:g}"
        return str(value)


_BOOL_WORDS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False, "1": True, "0": False}


class FrozenParams(dict):
    """A layer's parameters: a dict to read (and to serialise, as TOML and JSON), that refuses
    every change and can be hashed."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a layer's parameters do not change: use LayerSpec.with_params(...) for a new layer")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]
    __ior__ = _refuse  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))

    def __reduce__(self) -> tuple:  # copied and pickled whole, never item by item
        return (FrozenParams, (dict(self),))


class ShapeMismatch(Exception):
    """A layer cannot take the shape that reaches it: which parameter, its value, and why."""

    def __init__(self, param: str, value: Any, message: str):
        super().__init__(message)
        self.param, self.value, self.message = param, value, message


def same_shape(param: Param, shape: Shape) -> Shape:
    return shape


# Builds a layer type that is not one Keras class taking its parameters as they are:
# (keras module, param, layer name, incoming shape without the batch or None) -> the Keras layer.
Builder = Callable[[Any, Param, str, "Shape | None"], Any]

# What each input rank is, in the words of the "needs ... input" message.
RANK_NAMES = {
    1: "word indices (steps,)",
    2: "sequence input (steps, channels)",
    3: "image input (height, width, channels)",
}


@dataclass(frozen=True)
class LayerType:
    """One layer type, all there is to know about it."""

    name: str  # the Keras class name (or kerastui's, for a composite such as ResidualBlock)
    description: str  # one line, for the editor's type picker and help
    params: dict[str, ParamRule] = field(default_factory=dict)
    label: Callable[[Param], str] | None = None  # e.g. 'Dense 128 relu' (default: the name)
    short: Callable[[Param], str] | None = None  # e.g. 'Dense128', for one-line architectures
    # The rank of the input it takes, batch left out (3: an image, 2: a sequence, 1: word
    # indices), or None for any; a rank that depends on a parameter is checked by output_shape.
    input_rank: int | None = None
    needs_integers: bool = False  # reads integers (word indices), not measured values
    output_shape: Callable[[Param, Shape], Shape] = same_shape  # raises ShapeMismatch
    # (trainable, non-trainable) weights for an input of a shape output_shape accepts
    # (kerastui.core.layer_shapes): the summary's counts, with no framework imported.
    param_count: Callable[[Param, Shape], tuple[int, int]] = layer_shapes.no_weights
    builder: Builder | None = None  # None: getattr(keras.layers, name)(**params)

    @property
    def needs_image(self) -> bool:
        return self.input_rank == 3

    def describe(self, param: Param) -> str:
        return self.label(param) if self.label is not None else self.name

    def abbreviation(self, param: Param) -> str:
        return self.short(param) if self.short is not None else self.name

    def rank_problem(self, shape: Shape) -> str | None:
        """Why an input of `shape` has the wrong rank for this layer, with what to do; None if it fits."""
        if self.input_rank is None or len(shape) == self.input_rank:
            return None
        return (f"needs {RANK_NAMES[self.input_rank]}, but receives shape {tuple(shape)}"
                + _rank_advice(self.name, self.input_rank, shape))

    def build(self, keras_module: Any, param: Param, name: str, input_shape: Shape | None = None) -> Any:
        """The Keras layer: every parameter (defaults filled in) by its Keras argument name.
        `input_shape` (batch left out) is what reaches it: a composite builds its inner model for it."""
        if self.builder is not None:
            return self.builder(keras_module, param, name, None if input_shape is None else tuple(input_shape))
        return getattr(keras_module.layers, self.name)(**{p: param(p) for p in self.params}, name=name)


def _rank_advice(name: str, rank: int, shape: Shape) -> str:
    """What to do when a layer gets the wrong rank: the sibling layer for that rank, or a Reshape."""
    sibling = {2: name.replace("2D", "1D"), 3: name.replace("1D", "2D")}.get(len(shape), name)
    if sibling != name and sibling in LAYERS:
        return f"; use {sibling} for this data"
    if rank == 2 and len(shape) == 1:
        return (f"; put an Embedding first for word indices, or Reshape with target_shape "
                f"\"{shape[0]},1\" for a signal of one channel")
    if rank == 2 and len(shape) == 3:
        return f"; Reshape it to (steps, channels) first, e.g. target_shape \"{shape[0]},{shape[1] * shape[2]}\""
    if rank == 1:
        return "; Embedding comes first, on data of word indices (such as imdb)"
    return ""


# ---- shape rules ----------------------------------------------------------------------------


def _window_out(size: int, kernel: int, stride: int, padding: str) -> int:
    if padding in ("same", "causal"):
        return -(-size // stride)
    return (size - kernel) // stride + 1


def _conv2d_shape(param: Param, shape: Shape) -> Shape:
    k, s, padding = param("kernel_size"), param("strides"), param("padding")
    if padding == "valid" and (k > shape[0] or k > shape[1]):
        raise ShapeMismatch("kernel_size", k, f"kernel {k}x{k} is larger than its input {shape[0]}x{shape[1]}; "
                                              "use a smaller kernel or padding 'same'")
    return _window_out(shape[0], k, s, padding), _window_out(shape[1], k, s, padding), param("filters")


def _pool_shape(param: Param, shape: Shape) -> Shape:
    p = param("pool_size")
    if p > shape[0] or p > shape[1]:
        raise ShapeMismatch("pool_size", p, f"pool {p}x{p} is larger than its input {shape[0]}x{shape[1]}")
    return shape[0] // p, shape[1] // p, shape[2]


def _conv1d_shape(param: Param, shape: Shape) -> Shape:
    k, s, d, padding = param("kernel_size"), param("strides"), param("dilation_rate"), param("padding")
    if s > 1 and d > 1:
        raise ShapeMismatch("dilation_rate", d, f"Keras cannot combine strides {s} with dilation_rate {d}; "
                                                "set one of them to 1")
    span = (k - 1) * d + 1  # the steps one window covers
    steps = shape[0]
    if padding == "valid" and span > steps:
        what = f"kernel {k}" + (f" (spanning {span} steps at dilation_rate {d})" if d > 1 else "")
        raise ShapeMismatch("kernel_size", k, f"{what} is longer than its input sequence of {steps} steps; "
                                              f"use a kernel of at most {steps} steps, or padding 'same'")
    return _window_out(steps, span, s, padding), param("filters")


def _pool1d_shape(param: Param, shape: Shape) -> Shape:
    p, padding = param("pool_size"), param("padding")
    if padding == "valid" and p > shape[0]:
        raise ShapeMismatch("pool_size", p, f"pool {p} is longer than its input sequence of {shape[0]} steps; "
                                            f"use a pool of at most {shape[0]}, or padding 'same'")
    return _window_out(shape[0], p, p, padding), shape[1]


def _recurrent_shape(units: int, param: Param, shape: Shape) -> Shape:
    return (shape[0], units) if param("return_sequences") else (units,)


def _bidirectional_units(param: Param) -> int:
    # concat puts the forward and backward outputs side by side; sum, mul and ave combine them.
    return param("units") * (2 if param("merge_mode") == "concat" else 1)


def parse_target_shape(text: str) -> tuple[int, ...]:
    """A Reshape's sizes from text such as "200,2" or "8,8,1" (-1 once: the rest); ValueError says why not."""
    raw = str(text).strip().strip("()[]")
    parts = [part.strip() for part in raw.split(",")]
    if parts and parts[-1] == "" and len(parts) > 1:  # "784," as Python writes a 1-tuple
        parts.pop()
    example = 'sizes separated by commas, such as "200,2" or "8,8,1"'
    if not raw or any(part == "" for part in parts):
        raise ValueError(f"must be {example}")
    sizes = []
    for part in parts:
        try:
            size = int(part)
        except ValueError:
            raise ValueError(f"{part!r} is not a whole number; write {example}") from None
        if size == 0 or size < -1:
            raise ValueError(f"each size must be at least 1 (or -1 once, for the rest); got {size}")
        sizes.append(size)
    if sizes.count(-1) > 1:
        raise ValueError("-1 (the rest) may appear only once")
    return tuple(sizes)


def _target_shape_problem(text: Any) -> str | None:
    try:
        parse_target_shape(text)
    except ValueError as error:
        return str(error)
    return None


def _reshape_shape(param: Param, shape: Shape) -> Shape:
    text = param("target_shape")
    try:
        target = parse_target_shape(text)
    except ValueError as error:
        raise ShapeMismatch("target_shape", text, str(error)) from None
    have = math.prod(shape)
    known = math.prod(size for size in target if size != -1)
    if -1 in target:
        if have % known:
            raise ShapeMismatch("target_shape", text, f"its input {tuple(shape)} holds {have} values, not a "
                                                      f"multiple of {known} (the product of the sizes besides -1); "
                                                      f"choose sizes whose product divides {have}")
        return tuple(have // known if size == -1 else size for size in target)
    if known != have:
        sizes = "x".join(str(size) for size in target)
        raise ShapeMismatch("target_shape", text, f"target shape {sizes} holds {known} values but its input "
                                                  f"{tuple(shape)} holds {have}; choose sizes that multiply to "
                                                  f"{have} (or -1 for one of them)")
    return target


def _residual_shape(param: Param, shape: Shape) -> Shape:
    dims, s = param("dims"), param("strides")
    if len(shape) != dims + 1:
        advice = (f"; set dims to {len(shape) - 1} for this data" if len(shape) in (2, 3)
                  else f"; Reshape it first (target_shape \"{shape[0]},1\" for a signal)" if len(shape) == 1 else "")
        raise ShapeMismatch("dims", dims, f"a {dims}-D ResidualBlock needs {RANK_NAMES[dims + 1]}, "
                                          f"but receives shape {tuple(shape)}{advice}")
    return (*(-(-size // s) for size in shape[:-1]), param("filters"))


def _resizing_shape(param: Param, shape: Shape) -> Shape:
    return param("height"), param("width"), shape[2]


def parse_value_range(text: str) -> tuple[float, float]:
    """RandomContrast's value range from text such as "0,1" or "0,255"; ValueError says why not."""
    parts = [part.strip() for part in str(text).strip().strip("()[]").split(",")]
    example = 'two numbers, the lowest and the highest value, such as "0,1" or "0,255"'
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"must be {example}")
    try:
        low, high = (float(part) for part in parts)
    except ValueError:
        raise ValueError(f"must be {example}") from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"must be finite; write {example}")
    if low >= high:
        raise ValueError(f"the lowest value ({low:g}) must be below the highest ({high:g})")
    return low, high


def _value_range_problem(text: Any) -> str | None:
    try:
        parse_value_range(text)
    except ValueError as error:
        return str(error)
    return None


def _nonzero_problem(value: float) -> str | None:
    return "must not be 0 (every value would become the offset)" if value == 0 else None


# ---- builders for what is not one Keras class with these arguments -----------------------------


def _build_bidirectional(keras_module: Any, param: Param, name: str, input_shape: Shape | None) -> Any:
    recurrent = getattr(keras_module.layers, param("layer"))(
        param("units"), activation=param("activation"), return_sequences=param("return_sequences"),
        dropout=param("dropout"), name=f"{name}_{param('layer').lower()}")
    return keras_module.layers.Bidirectional(recurrent, merge_mode=param("merge_mode"), name=name)


def _build_reshape(keras_module: Any, param: Param, name: str, input_shape: Shape | None) -> Any:
    return keras_module.layers.Reshape(parse_target_shape(param("target_shape")), name=name)


def _build_random_contrast(keras_module: Any, param: Param, name: str, input_shape: Shape | None) -> Any:
    # value_range is a pair for Keras; written as text ("0,1") like Reshape's sizes.
    return keras_module.layers.RandomContrast(
        factor=param("factor"), value_range=parse_value_range(param("value_range")), name=name)


def _build_residual_block(keras_module: Any, param: Param, name: str, input_shape: Shape | None) -> Any:
    """Two convolutions with batch normalisation and a skip connection, as one nested functional
    Model: one row in the preview (its parameter count and output shape), saved in model.keras
    from Keras's own layers, so loading needs no custom objects."""
    if input_shape is None:
        raise ValueError("a ResidualBlock is built for the shape that reaches it: pass input_shape")
    layers = keras_module.layers
    conv = layers.Conv1D if param("dims") == 1 else layers.Conv2D
    filters, kernel, strides, activation = param("filters"), param("kernel_size"), param("strides"), param("activation")
    inputs = keras_module.Input(shape=input_shape, name=f"{name}_input")
    # No bias before a batch normalisation: its offset does that job.
    x = conv(filters, kernel, strides=strides, padding="same", use_bias=False, name=f"{name}_conv1")(inputs)
    x = layers.BatchNormalization(name=f"{name}_bn1")(x)
    x = layers.Activation(activation, name=f"{name}_act1")(x)
    x = conv(filters, kernel, padding="same", use_bias=False, name=f"{name}_conv2")(x)
    x = layers.BatchNormalization(name=f"{name}_bn2")(x)
    skip = inputs
    if strides != 1 or input_shape[-1] != filters:
        # The skip must match the main path's steps and channels to be added to it.
        skip = conv(filters, 1, strides=strides, padding="same", use_bias=False, name=f"{name}_projection")(inputs)
        skip = layers.BatchNormalization(name=f"{name}_projection_bn")(skip)
    x = layers.Add(name=f"{name}_add")([x, skip])
    x = layers.Activation(activation, name=f"{name}_act2")(x)
    return keras_module.Model(inputs, x, name=name)


# ---- labels ------------------------------------------------------------------------------------


def _conv2d_label(param: Param) -> str:
    k = param("kernel_size")
    text = f"Conv2D {param('filters')} {k}x{k} {param('activation')}"
    if param("padding") == "same":
        text += " same"
    if param("strides") != 1:
        text += f" /{param('strides')}"
    return text


def _conv1d_label(param: Param) -> str:
    text = f"Conv1D {param('filters')} k{param('kernel_size')} {param('activation')}"
    if param("padding") != "valid":
        text += f" {param('padding')}"
    if param("strides") != 1:
        text += f" /{param('strides')}"
    if param("dilation_rate") != 1:
        text += f" d{param('dilation_rate')}"
    return text


def _recurrent_label(name: str, param: Param) -> str:
    text = f"{name} {param('units')} {param('activation')}"
    if param("return_sequences"):
        text += " seq"
    if param("dropout"):
        text += f" drop {param('dropout'):g}"
    return text


def _residual_label(param: Param) -> str:
    k = param("kernel_size")
    kernel = f"k{k}" if param("dims") == 1 else f"{k}x{k}"
    text = f"ResidualBlock {param('dims')}D {param('filters')} {kernel} {param('activation')}"
    if param("strides") != 1:
        text += f" /{param('strides')}"
    return text


def _resizing_label(param: Param) -> str:
    text = f"Resizing {param('height')}x{param('width')} {param('interpolation')}"
    return text + (" crop" if param("crop_to_aspect_ratio") else "")


def _rescaling_label(param: Param) -> str:
    text = f"Rescaling x{param('scale'):g}"
    return text + (f" {param('offset'):+g}" if param("offset") else "")


def _contrast_label(param: Param) -> str:
    text, value_range = f"RandomContrast {param('factor'):g}", param("value_range")
    if _value_range_problem(value_range) is None and parse_value_range(value_range) == (0.0, 1.0):
        return text
    return f"{text} range {value_range}"


def _fill_mode_label(text: str, param: Param) -> str:
    return text + (f" {param('fill_mode')}" if param("fill_mode") != "reflect" else "")


def _pooling(name: str, short: str, what: str) -> LayerType:
    return LayerType(
        name, f"{what} over each window, shrinking height and width",
        {"pool_size": ParamRule(int, 2, minimum=1, maximum=1_000)},
        label=lambda p: f"{name} {p('pool_size')}x{p('pool_size')}",
        short=lambda p: f"{short}{p('pool_size')}",
        input_rank=3,
        output_shape=_pool_shape,
    )


def _pooling1d(name: str, short: str, what: str) -> LayerType:
    return LayerType(
        name, f"{what} over each window of steps, shortening the sequence",
        {"pool_size": ParamRule(int, 2, minimum=1, maximum=100_000),
         "padding": ParamRule(str, "valid", choices=PADDINGS)},
        label=lambda p: f"{name} {p('pool_size')}" + (" same" if p("padding") == "same" else ""),
        short=lambda p: f"{short}{p('pool_size')}",
        input_rank=2,
        output_shape=_pool1d_shape,
    )


def _recurrent(name: str, description: str) -> LayerType:
    return LayerType(
        name, description,
        {"units": ParamRule(int, 64, minimum=1, maximum=100_000),
         "activation": ParamRule(str, "tanh", choices=ACTIVATIONS),
         "return_sequences": ParamRule(bool, False),
         "dropout": ParamRule(float, 0.0, minimum=0.0, maximum=1.0, exclusive_maximum=True)},
        label=lambda p: _recurrent_label(name, p),
        short=lambda p: f"{name}{p('units')}",
        input_rank=2,
        output_shape=lambda p, shape: _recurrent_shape(p("units"), p, shape),
        param_count=layer_shapes.recurrent_counts(name),
    )


LAYERS: dict[str, LayerType] = {
    layer.name: layer
    for layer in (
        LayerType(
            "Dense", "fully connected: every input to every unit",
            {"units": ParamRule(int, 64, minimum=1, maximum=1_000_000),
             "activation": ParamRule(str, "relu", choices=ACTIVATIONS)},
            label=lambda p: f"Dense {p('units')} {p('activation')}",
            short=lambda p: f"Dense{p('units')}",
            output_shape=lambda p, shape: (*shape[:-1], p("units")),
            param_count=layer_shapes.dense_counts,
        ),
        LayerType(
            "Conv2D", "2-D convolution: filters slid over the image",
            {"filters": ParamRule(int, 32, minimum=1, maximum=100_000),
             "kernel_size": ParamRule(int, 3, minimum=1, maximum=1_000),
             "strides": ParamRule(int, 1, minimum=1, maximum=1_000),
             "padding": ParamRule(str, "valid", choices=PADDINGS),
             "activation": ParamRule(str, "relu", choices=ACTIVATIONS)},
            label=_conv2d_label,
            short=lambda p: f"Conv{p('filters')}",
            input_rank=3,
            output_shape=_conv2d_shape,
            param_count=layer_shapes.conv_counts(2),
        ),
        _pooling("MaxPooling2D", "MaxPool", "the largest value"),
        _pooling("AveragePooling2D", "AvgPool", "the mean value"),
        LayerType("Flatten", "an image (or any shape) as one long vector",
                  output_shape=lambda p, shape: (math.prod(shape),)),
        LayerType(
            "Dropout", "zeroes a fraction of inputs while training, against overfitting",
            {"rate": ParamRule(float, 0.5, minimum=0.0, maximum=1.0, exclusive_maximum=True)},
            label=lambda p: f"Dropout {p('rate'):g}",
            short=lambda p: f"Drop{p('rate'):g}",
        ),
        LayerType("BatchNormalization", "normalises each feature over the batch", short=lambda p: "BN",
                  param_count=layer_shapes.batch_norm_counts),
        LayerType(
            "LayerNormalization", "normalises each sample's features on their own (no batch statistics)",
            {"epsilon": ParamRule(float, 0.001, minimum=0.0, maximum=1.0, exclusive_minimum=True)},
            label=lambda p: f"LayerNormalization eps {p('epsilon'):g}",
            short=lambda p: "LN",
            param_count=layer_shapes.layer_norm_counts,
        ),
        LayerType("GlobalAveragePooling2D", "the mean of each channel over the whole image",
                  short=lambda p: "GAP", input_rank=3, output_shape=lambda p, shape: (shape[2],)),
        # ---- images: preprocessing, and augmentation (Keras applies the Random* layers only while
        # training; evaluation and prediction see the images as they are) ----
        LayerType(
            "Rescaling", "multiplies every value by scale and adds offset, e.g. [0, 1] pixels to [-1, 1]",
            # kerastui's pixels arrive in [0, 1] already (Keras's 1/255 example would scale them twice).
            {"scale": ParamRule(float, 2.0, check=_nonzero_problem),
             "offset": ParamRule(float, -1.0)},
            label=_rescaling_label,
            short=lambda p: "Rescale",
        ),
        LayerType(
            "Resizing", "resizes the image to height x width (optionally cropped to keep its proportions)",
            {"height": ParamRule(int, 64, minimum=1, maximum=10_000),
             "width": ParamRule(int, 64, minimum=1, maximum=10_000),
             # The methods every Keras backend has (torch lacks lanczos, JAX area).
             "interpolation": ParamRule(str, "bilinear", choices=("bilinear", "nearest", "bicubic")),
             "crop_to_aspect_ratio": ParamRule(bool, False)},
            label=_resizing_label,
            short=lambda p: f"Resize{p('height')}x{p('width')}",
            input_rank=3,
            output_shape=_resizing_shape,
        ),
        LayerType(
            "RandomFlip", "mirrors each training image at random (left-right, up-down, or both)",
            {"mode": ParamRule(str, "horizontal", choices=FLIP_MODES)},
            label=lambda p: f"RandomFlip {p('mode')}",
            short=lambda p: {"horizontal": "FlipH", "vertical": "FlipV"}.get(p("mode"), "FlipHV"),
            input_rank=3,
        ),
        LayerType(
            "RandomRotation", "rotates each training image by a random angle, up to factor x 360 degrees",
            {"factor": ParamRule(float, 0.1, minimum=0.0, maximum=1.0),
             "fill_mode": ParamRule(str, "reflect", choices=FILL_MODES)},
            label=lambda p: _fill_mode_label(f"RandomRotation {p('factor'):g}", p),
            short=lambda p: f"Rot{p('factor'):g}",
            input_rank=3,
        ),
        LayerType(
            "RandomZoom", "zooms each training image in or out at random, by up to a factor of its size",
            # Both factors reach Keras, so height and width are zoomed independently (Keras keeps
            # the proportions only when width_factor is None, which a TOML value cannot be).
            {"height_factor": ParamRule(float, 0.1, minimum=0.0, maximum=1.0, exclusive_maximum=True),
             "width_factor": ParamRule(float, 0.1, minimum=0.0, maximum=1.0, exclusive_maximum=True),
             "fill_mode": ParamRule(str, "reflect", choices=FILL_MODES)},
            label=lambda p: _fill_mode_label(f"RandomZoom {p('height_factor'):g}x{p('width_factor'):g}", p),
            short=lambda p: f"Zoom{p('height_factor'):g}",
            input_rank=3,
        ),
        LayerType(
            "RandomTranslation", "shifts each training image at random, by up to a factor of its height and width",
            {"height_factor": ParamRule(float, 0.1, minimum=0.0, maximum=1.0),
             "width_factor": ParamRule(float, 0.1, minimum=0.0, maximum=1.0),
             "fill_mode": ParamRule(str, "reflect", choices=FILL_MODES)},
            label=lambda p: _fill_mode_label(f"RandomTranslation {p('height_factor'):g}x{p('width_factor'):g}", p),
            short=lambda p: f"Shift{p('height_factor'):g}",
            input_rank=3,
        ),
        LayerType(
            "RandomContrast", "scales each training image's contrast by a random 1 - factor to 1 + factor",
            # Keras clips the result to value_range; its default (0, 255) is not kerastui's [0, 1] pixels.
            {"factor": ParamRule(float, 0.2, minimum=0.0, maximum=1.0),
             "value_range": ParamRule(str, "0,1", check=_value_range_problem)},
            label=_contrast_label,
            short=lambda p: f"Contrast{p('factor'):g}",
            input_rank=3,
            builder=_build_random_contrast,
        ),
        # ---- sequences and signals: (steps, channels) ----
        LayerType(
            "Conv1D", "1-D convolution: filters slid along the sequence (a signal's steps)",
            {"filters": ParamRule(int, 32, minimum=1, maximum=100_000),
             "kernel_size": ParamRule(int, 3, minimum=1, maximum=100_000),
             "strides": ParamRule(int, 1, minimum=1, maximum=100_000),
             "padding": ParamRule(str, "valid", choices=(*PADDINGS, "causal")),
             "activation": ParamRule(str, "relu", choices=ACTIVATIONS),
             "dilation_rate": ParamRule(int, 1, minimum=1, maximum=100_000)},
            label=_conv1d_label,
            short=lambda p: f"Conv1D{p('filters')}",
            input_rank=2,
            output_shape=_conv1d_shape,
            param_count=layer_shapes.conv_counts(1),
        ),
        _pooling1d("MaxPooling1D", "MaxPool1D", "the largest value"),
        _pooling1d("AveragePooling1D", "AvgPool1D", "the mean value"),
        LayerType("GlobalAveragePooling1D", "the mean of each channel over the whole sequence",
                  short=lambda p: "GAP1D", input_rank=2, output_shape=lambda p, shape: (shape[1],)),
        LayerType("GlobalMaxPooling1D", "the largest value of each channel over the whole sequence",
                  short=lambda p: "GMP1D", input_rank=2, output_shape=lambda p, shape: (shape[1],)),
        LayerType(
            "Embedding", "word numbers (integers) to learned vectors: (steps,) -> (steps, output_dim)",
            {"input_dim": ParamRule(int, 10_000, minimum=2, maximum=10_000_000),  # the vocabulary size
             "output_dim": ParamRule(int, 64, minimum=1, maximum=100_000)},
            label=lambda p: f"Embedding {p('input_dim')} words -> {p('output_dim')}",
            short=lambda p: f"Emb{p('output_dim')}",
            input_rank=1,
            needs_integers=True,
            output_shape=lambda p, shape: (*shape, p("output_dim")),
            param_count=layer_shapes.embedding_counts,
        ),
        _recurrent("LSTM", "long short-term memory: reads the sequence step by step, remembering"),
        _recurrent("GRU", "gated recurrent unit: a lighter LSTM"),
        LayerType(
            "Bidirectional", "an LSTM or GRU read forwards and backwards, the two merged",
            {"layer": ParamRule(str, "LSTM", choices=("LSTM", "GRU")),
             "units": ParamRule(int, 64, minimum=1, maximum=100_000),
             "activation": ParamRule(str, "tanh", choices=ACTIVATIONS),
             "return_sequences": ParamRule(bool, False),
             "dropout": ParamRule(float, 0.0, minimum=0.0, maximum=1.0, exclusive_maximum=True),
             "merge_mode": ParamRule(str, "concat", choices=("concat", "sum", "mul", "ave"))},
            label=lambda p: f"Bidirectional {_recurrent_label(p('layer'), p)} {p('merge_mode')}",
            short=lambda p: f"Bi{p('layer')}{p('units')}",
            input_rank=2,
            output_shape=lambda p, shape: _recurrent_shape(_bidirectional_units(p), p, shape),
            param_count=layer_shapes.bidirectional_counts,
            builder=_build_bidirectional,
        ),
        LayerType(
            "Reshape", "the same values in another shape, e.g. 784 -> 28,28,1 or 400 -> 200,2",
            {"target_shape": ParamRule(str, "-1,1", check=_target_shape_problem)},
            label=lambda p: f"Reshape {p('target_shape')}",
            short=lambda p: "Reshape",
            output_shape=_reshape_shape,
            builder=_build_reshape,
        ),
        LayerType(
            "SpatialDropout1D", "zeroes whole channels of a sequence while training",
            {"rate": ParamRule(float, 0.2, minimum=0.0, maximum=1.0, exclusive_maximum=True)},
            label=lambda p: f"SpatialDropout1D {p('rate'):g}",
            short=lambda p: f"SDrop{p('rate'):g}",
            input_rank=2,
        ),
        LayerType(
            "ResidualBlock", "two convolutions with batch normalisation and a skip connection (1-D or 2-D)",
            {"dims": ParamRule(int, 1, minimum=1, maximum=2),
             "filters": ParamRule(int, 64, minimum=1, maximum=100_000),
             "kernel_size": ParamRule(int, 3, minimum=1, maximum=1_000),
             "strides": ParamRule(int, 1, minimum=1, maximum=1_000),
             "activation": ParamRule(str, "relu", choices=ACTIVATIONS)},
            label=_residual_label,
            short=lambda p: f"Res{p('dims')}D{p('filters')}",
            output_shape=_residual_shape,
            param_count=layer_shapes.residual_block_counts,
            builder=_build_residual_block,
        ),
    )
}

# Layers that need an image-shaped input (height, width, channels), and a sequence (steps, channels).
SPATIAL_LAYERS = tuple(name for name, layer in LAYERS.items() if layer.input_rank == 3)
SEQUENCE_LAYERS = tuple(name for name, layer in LAYERS.items() if layer.input_rank == 2)
# Layers an integer (a word number) passes through unchanged, so an Embedding after them still reads the data.
_KEEPS_INTEGERS = ("Reshape", "Flatten")


@dataclass(frozen=True)
class LayerSpec:
    """One layer: a Keras layer type and its parameters (missing parameters take defaults).

    Immutable through and through: its parameters are a FrozenParams, so an experiment shared by
    the app's screens and a running trainer cannot change under either (with_params makes a new one).
    """

    type: str
    params: FrozenParams = field(default_factory=lambda: FrozenParams())

    def __post_init__(self) -> None:
        if not isinstance(self.params, FrozenParams):
            object.__setattr__(self, "params", FrozenParams(self.params))

    def param(self, name: str) -> Any:
        """The parameter's value, or the type's default for it."""
        if name in self.params:
            return self.params[name]
        return LAYERS[self.type].params[name].default

    def with_params(self, **changes: Any) -> LayerSpec:
        return replace(self, params={**self.params, **changes})

    def params_allowed(self) -> tuple[str, ...]:
        """The parameter names this layer's type takes (none for an unknown type)."""
        layer_type = LAYERS.get(self.type)
        return tuple(layer_type.params) if layer_type is not None else ()

    def describe(self) -> str:
        """Short human label, e.g. 'Conv2D 32 3x3 relu' (kerastui.core.layers says how)."""
        layer_type = LAYERS.get(self.type)
        return layer_type.describe(self.param) if layer_type is not None else self.type

    def problems(self, index: int) -> list[Problem]:
        where = f"layers[{index}]"
        layer_type = LAYERS.get(self.type)
        if layer_type is None:
            return [Problem(f"{where}.type", self.type, f"unknown layer type; allowed: {', '.join(LAYERS)}")]
        rules = layer_type.params
        found = []
        for name, value in self.params.items():
            rule = rules.get(name)
            if rule is None:
                allowed = ", ".join(rules) or "no parameters"
                found.append(Problem(f"{where}.{name}", value, f"{self.type} takes {allowed}"))
            elif (why := rule.problem(value)) is not None:
                found.append(Problem(f"{where}.{name}", value, why))
        return found


def shape_problems(layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...]) -> list[Problem]:
    """Follow the sizes (height and width, or a sequence's steps) through the layers and report
    where a layer no longer fits: a window larger than what reaches it, an image or sequence layer
    on data of another rank, a Reshape whose sizes do not hold its input's values.

    The same rules give the build screen's summary (kerastui.core.preview); a test holds them
    equal to Keras's own.
    """
    problems, _ = _follow_shapes(layers, input_shape)
    return problems


def output_shape_of(layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    problems, shape = _follow_shapes(layers, input_shape)
    return None if problems else shape


def layer_output_shape(layer: LayerSpec, shape: tuple[int, ...]) -> tuple[int, ...]:
    """What one layer gives for `shape` (no batch axis), by its registered rules; ShapeMismatch
    (naming the parameter at fault, or "type" for input of the wrong rank) when it cannot take it.
    The one step both the problems check and the summary (kerastui.core.preview) walk with."""
    layer_type = LAYERS[layer.type]
    wrong_rank = layer_type.rank_problem(shape)
    if wrong_rank is not None:
        raise ShapeMismatch("type", layer.type, wrong_rank)
    return tuple(int(d) for d in layer_type.output_shape(layer.param, shape))


def _follow_shapes(layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...]) -> tuple[list[Problem], tuple[int, ...]]:
    shape = tuple(input_shape)
    for index, layer in enumerate(layers):
        if layer.type not in LAYERS:
            return [], shape  # an unknown type is reported by the spec check
        try:
            shape = layer_output_shape(layer, shape)
        except ShapeMismatch as mismatch:
            return [Problem(f"layers[{index}].{mismatch.param}", mismatch.value, mismatch.message)], shape
    return [], shape


# ---- integer inputs (word indices) ---------------------------------------------------------------


def _reading_data(layers: tuple[LayerSpec, ...], index: int) -> int | None:
    """None when layer `index` reads the data's own values; else the index of the layer before it
    that computes (its output is floats)."""
    return next((i for i in reversed(range(index)) if layers[i].type not in _KEEPS_INTEGERS), None)


def integer_input_problems(layers: tuple[LayerSpec, ...], integer_inputs: bool) -> list[Problem]:
    """Layers that read integers (Embedding's word numbers) but would be fed float values: by
    the data (`integer_inputs` False) or by a layer before them that computes."""
    found = []
    for index, layer in enumerate(layers):
        layer_type = LAYERS.get(layer.type)
        if layer_type is None or not layer_type.needs_integers:
            continue
        where = f"layers[{index}].type"
        before = _reading_data(layers, index)
        if before is not None:
            found.append(Problem(where, layer.type, (
                f"{layer.type} reads word numbers (integers), but layer {before} "
                f"({layers[before].describe()}) before it gives float values: put {layer.type} first")))
        elif not integer_inputs:
            found.append(Problem(where, layer.type, (
                f"{layer.type} reads word numbers (integers); this data holds float values: choose data "
                f"of word indices (such as imdb), or replace {layer.type} with layers for measured "
                "values (Dense, Conv1D)")))
    return found


def vocabulary_problem(layers: tuple[LayerSpec, ...], largest_index: int) -> Problem | None:
    """The Embedding reading the data, when its vocabulary (input_dim) does not reach the largest
    word number in the data: Keras would look up a row that is not there."""
    for index, layer in enumerate(layers):
        layer_type = LAYERS.get(layer.type)
        if layer_type is None or not layer_type.needs_integers or _reading_data(layers, index) is not None:
            continue
        size = layer.param("input_dim")
        if isinstance(size, int) and size <= largest_index:
            return Problem(f"layers[{index}].input_dim", size, (
                f"the data's word numbers go up to {largest_index}, so the vocabulary must hold "
                f"{largest_index + 1} words: set input_dim to at least {largest_index + 1}"))
        return None
    return None
