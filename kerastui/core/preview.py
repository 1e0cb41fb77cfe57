"""The build screen's model summary from the layer registry alone: each layer's output shape and
parameter counts, the totals, and why the layers do not fit together, with no framework imported.

Every layer type kerastui builds knows its own shape rule and counts (kerastui.core.layers,
kerastui.core.layer_shapes), so the UI process never needs Keras (~800 MB with TensorFlow) to
show them; tests/core/test_layer_shapes.py holds them equal to Keras's. The Keras-built preview
(kerastui.core.build.preview_model) gives the same ModelPreview in a process that has Keras.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kerastui.core.backend import configured_backend
from kerastui.core.layers import LAYERS, LayerSpec, ShapeMismatch, layer_output_shape


class ModelBuildError(ValueError):
    """The layers cannot be put together; names the layer (0-based index) and the shapes involved."""

    def __init__(self, message: str, layer_index: int | None = None, keras_message: str = ""):
        super().__init__(message)
        self.message = message
        self.layer_index = layer_index
        self.keras_message = keras_message


@dataclass(frozen=True)
class LayerPreview:
    index: int  # 0-based position in the experiment's layers
    name: str  # Keras layer name, e.g. "dense_1"
    description: str  # human label, e.g. "Dense 128 relu"
    output_shape: tuple  # batch dimension is None
    params: int
    trainable_params: int | None = None  # None: not known apart (every weight counted in params)


@dataclass(frozen=True)
class ModelPreview:
    input_shape: tuple
    layers: tuple[LayerPreview, ...]
    total_params: int
    trainable_params: int

    @property
    def output_shape(self) -> tuple:
        return self.layers[-1].output_shape if self.layers else (None, *self.input_shape)

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params


@dataclass(frozen=True)
class PreviewResult:
    """The verdict on layers for some data: the preview, or why it failed (and at which layer)."""

    preview: ModelPreview | None
    problem: str | None  # the build error, or the output layer not fitting the classes
    layer_index: int | None = None  # the failing layer, when one is named


def layer_name(spec: LayerSpec, index: int) -> str:
    """The stable name Keras builds layer `index` with (dense_3, not dense_17 after many previews)."""
    return f"{re.sub(r'(?<=[a-z])(?=[A-Z])', '_', spec.type).lower()}_{index}"


def format_shape(shape: tuple) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def check_specs(layers: tuple[LayerSpec, ...]) -> None:
    """Bad types or parameters would reach Keras as confusing errors; report them in our words first."""
    if not layers:
        raise ModelBuildError("the model has no layers; add at least one (e.g. Dense 10 softmax)")
    for index, layer in enumerate(layers):
        found = layer.problems(index)
        if found:
            raise ModelBuildError(f"layer {index} ({layer.describe()}): " + "; ".join(map(str, found)), index)


def cannot_take(spec: LayerSpec, index: int, incoming: tuple, reason: str, keras_message: str = "") -> ModelBuildError:
    """The error for layer `index` refusing its input (`incoming`, batch first)."""
    return ModelBuildError(f"layer {index} ({spec.describe()}) cannot take input {format_shape(incoming)}: {reason}",
                           index, keras_message)


def registry_preview(layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...]) -> ModelPreview:
    """Per-layer output shapes and parameter counts from the registry; ModelBuildError at the
    first layer that cannot take what reaches it."""
    layers = tuple(layers)
    check_specs(layers)
    shape = tuple(input_shape)
    previews = []
    total = trainable = 0
    for index, spec in enumerate(layers):
        incoming = (None, *shape)
        try:
            output = layer_output_shape(spec, shape)
        except ShapeMismatch as mismatch:
            raise cannot_take(spec, index, incoming, mismatch.message) from None
        if any(d <= 0 for d in output):
            raise cannot_take(spec, index, incoming, f"its output shape {format_shape((None, *output))} is empty")
        learned, fixed = LAYERS[spec.type].param_count(spec.param, shape)
        previews.append(LayerPreview(index, layer_name(spec, index), spec.describe(), (None, *output),
                                     learned + fixed, learned))
        total, trainable, shape = total + learned + fixed, trainable + learned, output
    return ModelPreview(tuple(input_shape), tuple(previews), total, trainable)


def output_problem(output_shape: tuple, num_classes: int, task: Any = None) -> str | None:
    """Why a model whose output shape (batch first) does not fit `task` on data with
    `num_classes` classes, labels or targets, or None: the spec's own rule
    (kerastui.core.tasks.output.output_mismatch). The task defaults to multiclass."""
    from kerastui.core.tasks import TASKS
    from kerastui.core.tasks.output import output_mismatch

    return output_mismatch(tuple(output_shape)[1:], num_classes, task or TASKS["multiclass"])


class RegistryPreviewer:
    """The app's default previewer: the summary from the registry, at once and without Keras."""

    def load(self) -> str:
        """Nothing to import; the Keras backend runs would use (for the backend notices)."""
        return configured_backend()

    def preview(self, layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...], num_classes: int,
                task: Any = None) -> PreviewResult:
        try:
            preview = registry_preview(layers, input_shape)
        except ModelBuildError as error:
            return PreviewResult(None, error.message, error.layer_index)
        return PreviewResult(preview, output_problem(preview.output_shape, num_classes, task))
