"""Every layer type kerastui can build, each described once: its parameters (types, ranges,
defaults), its shape rule, its one-line description, how the editor and the runs table name it,
and how Keras builds it.

Names are Keras class names and parameters are Keras argument names, so Keras builds a layer as
`getattr(keras.layers, type)(**params)`. Adding a layer type is adding one `LayerType` to
`LAYERS` (and its tests): the spec's validation, the shape check, the layer editor, the runs
table and the model builder all read it from here. Nothing here imports Keras.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from kerastui.core.problems import Problem

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "elu", "gelu", "selu", "swish", "linear")
PADDINGS = ("valid", "same")

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

    def problem(self, value: Any) -> str | None:
        """Return why `value` is not allowed, or None when it is."""
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
        return None


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


@dataclass(frozen=True)
class LayerType:
    """One layer type, all there is to know about it."""

    name: str  # the Keras class name
    description: str  # one line, for the editor's type picker and help
    params: dict[str, ParamRule] = field(default_factory=dict)
    label: Callable[[Param], str] | None = None  # e.g. 'Dense 128 relu' (default: the name)
    short: Callable[[Param], str] | None = None  # e.g. 'Dense128', for one-line architectures
    needs_image: bool = False  # takes (height, width, channels) only
    output_shape: Callable[[Param, Shape], Shape] = same_shape  # raises ShapeMismatch

    def describe(self, param: Param) -> str:
        return self.label(param) if self.label is not None else self.name

    def abbreviation(self, param: Param) -> str:
        return self.short(param) if self.short is not None else self.name

    def build(self, keras_module: Any, param: Param, name: str) -> Any:
        """The Keras layer: every parameter (defaults filled in) by its Keras argument name."""
        return getattr(keras_module.layers, self.name)(**{p: param(p) for p in self.params}, name=name)


# ---- shape rules ----------------------------------------------------------------------------


def _window_out(size: int, kernel: int, stride: int, padding: str) -> int:
    if padding == "same":
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


def _conv2d_label(param: Param) -> str:
    k = param("kernel_size")
    text = f"Conv2D {param('filters')} {k}x{k} {param('activation')}"
    if param("padding") == "same":
        text += " same"
    if param("strides") != 1:
        text += f" /{param('strides')}"
    return text


def _pooling(name: str, short: str, what: str) -> LayerType:
    return LayerType(
        name, f"{what} over each window, shrinking height and width",
        {"pool_size": ParamRule(int, 2, minimum=1, maximum=1_000)},
        label=lambda p: f"{name} {p('pool_size')}x{p('pool_size')}",
        short=lambda p: f"{short}{p('pool_size')}",
        needs_image=True,
        output_shape=_pool_shape,
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
            needs_image=True,
            output_shape=_conv2d_shape,
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
        LayerType("BatchNormalization", "normalises each feature over the batch", short=lambda p: "BN"),
        LayerType(
            "LayerNormalization", "normalises each sample's features on their own (no batch statistics)",
            {"epsilon": ParamRule(float, 0.001, minimum=0.0, maximum=1.0, exclusive_minimum=True)},
            label=lambda p: f"LayerNormalization eps {p('epsilon'):g}",
            short=lambda p: "LN",
        ),
        LayerType("GlobalAveragePooling2D", "the mean of each channel over the whole image",
                  short=lambda p: "GAP", needs_image=True, output_shape=lambda p, shape: (shape[2],)),
    )
}

# Layers that need an image-shaped input (height, width, channels).
SPATIAL_LAYERS = tuple(name for name, layer in LAYERS.items() if layer.needs_image)


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
    """Follow height/width through the layers and report where a window no longer fits.

    A cheap early check for the editor; the Keras-computed preview in `build` stays the authority.
    """
    problems, _ = _follow_shapes(layers, input_shape)
    return problems


def output_shape_of(layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    problems, shape = _follow_shapes(layers, input_shape)
    return None if problems else shape


def _follow_shapes(layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...]) -> tuple[list[Problem], tuple[int, ...]]:
    shape = tuple(input_shape)
    for index, layer in enumerate(layers):
        where = f"layers[{index}]"
        layer_type = LAYERS.get(layer.type)
        if layer_type is None:
            return [], shape
        if layer_type.needs_image and len(shape) != 3:
            return [Problem(f"{where}.type", layer.type, f"needs image input (height, width, channels), but receives shape {shape}")], shape
        try:
            shape = tuple(layer_type.output_shape(layer.param, shape))
        except ShapeMismatch as mismatch:
            return [Problem(f"{where}.{mismatch.param}", mismatch.value, mismatch.message)], shape
    return [], shape
