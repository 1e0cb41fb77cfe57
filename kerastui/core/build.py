"""Experiment -> Keras model, and a per-layer preview whose shapes and counts come from Keras itself
(the app's summary comes from the registry instead: kerastui.core.preview, no framework).

Keras is imported inside the functions (it costs seconds); this module imports cheaply.
"""

from __future__ import annotations

import math
import threading
import re
from typing import TYPE_CHECKING, Any

from kerastui.core.backend import import_keras
from kerastui.core.layers import LAYERS
from kerastui.core.optimizers import OPTIMIZER_TYPES, optimizer_arguments
from kerastui.core.preview import (  # noqa: F401  (the preview's types, importable from here as before)
    LayerPreview,
    ModelBuildError,
    ModelPreview,
    PreviewResult,
    cannot_take,
    check_specs,
    format_shape,
    layer_name,
    output_problem,
)
from kerastui.core.spec import Experiment, LayerSpec, Problem, SpecError, shape_problems

if TYPE_CHECKING:  # pragma: no cover - typing only
    import keras


# Each optimizer's Keras class, as the registry (kerastui.core.optimizers) names it.
OPTIMIZER_CLASSES = {name: optimizer.keras_class for name, optimizer in OPTIMIZER_TYPES.items()}


def keras_layer(keras_module: Any, spec: LayerSpec, index: int,
                input_shape: tuple[int, ...] | None = None) -> "keras.layers.Layer":
    """One Keras layer for `spec`, with a stable name so previews do not drift (dense_3, dense_17...).
    `input_shape` (batch left out) is what reaches it: a composite row (ResidualBlock) is a nested
    Model built for that shape, called as `layer(x)` like any other layer."""
    layer_type = LAYERS.get(spec.type)
    if layer_type is None:
        raise ModelBuildError(f"layer {index}: unknown layer type {spec.type!r}", index)
    return layer_type.build(keras_module, spec.param, name=layer_name(spec, index), input_shape=input_shape)


def _functional_model(keras_module: Any, layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...]):
    """Input + layers, one at a time, so a Keras complaint is pinned to the layer that raised it."""
    check_specs(layers)
    inputs = keras_module.Input(shape=tuple(input_shape), name="input")
    x = inputs
    built = []
    for index, spec in enumerate(layers):
        incoming = _shape(x.shape)
        try:
            # A composite builds its inner layers for `incoming` here, so its complaint is pinned too.
            layer = keras_layer(keras_module, spec, index, incoming[1:])
            x = layer(x)
        except Exception as error:  # Keras raises ValueError mostly, but backends vary
            raise _build_error(layers, input_shape, index, incoming, error) from error
        if any(d is not None and d <= 0 for d in _shape(x.shape)):
            # Some layers accept the call and produce an empty tensor; that is an error too.
            raise _build_error(layers, input_shape, index, incoming, ValueError(f"output shape {_shape(x.shape)} is empty"))
        built.append(layer)
    model = keras_module.Model(inputs, x, name="kerastui_model")
    return model, built


def _build_error(layers, input_shape, index: int, incoming: tuple, error: Exception) -> ModelBuildError:
    spec = layers[index]
    complaint = plain_keras_message(error)
    # The spec's own shape check words the common cases (window larger than the image, image layer
    # on flat data) better than Keras does; Keras's sentence stays as the authority after it.
    hint = next((p.message for p in shape_problems(tuple(layers), tuple(input_shape)) if p.field.startswith(f"layers[{index}]")), "")
    reason = f"{hint}. Keras: {complaint}" if hint else complaint
    return cannot_take(spec, index, incoming, reason, complaint)


# Paragraphs of Keras/TensorFlow errors that are scaffolding, not the complaint itself.
_NOISE = (
    "Exception encountered when calling",
    "Arguments received by",
    "Graph execution error",
    "Detected at node",
    'File "',
)


def plain_error_text(error: BaseException) -> str:
    """The sentence that says what went wrong, without colour codes, call dumps or graph tracebacks."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    kept = [p for p in paragraphs if not p.startswith(_NOISE)]
    sentence = (kept or paragraphs or [type(error).__name__])[0]
    sentence = re.sub(r"\s*\[\[\{\{node .*", "", sentence, flags=re.S)  # TensorFlow op locations
    sentence = re.sub(r"\s*\[Op:[^\]]*\]", "", sentence)
    return " ".join(sentence.split())


def plain_keras_message(error: BaseException) -> str:
    """Keras's complaint about a layer call, in one sentence (the shapes are shown separately)."""
    sentence = plain_error_text(error)
    # "... would be zero or negative. Received: `inputs.shape=[...]` ..." -> the shape is already in our message.
    sentence = re.split(r"\.\s+(?:Received[: ]|Full shape received)", sentence)[0]
    sentence = re.sub(r"Input 0 with name '[^']*' of layer '[^']*' is", "the input is", sentence)
    return sentence.rstrip(".") + "."


def _shape(shape: Any) -> tuple:
    return tuple(None if d is None else int(d) for d in shape)


def preview_model(layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...], backend: str | None = None) -> ModelPreview:
    """Per-layer output shapes and parameter counts, as Keras computes them (nothing is trained)."""
    keras_module = import_keras(backend)
    model, built = _functional_model(keras_module, tuple(layers), tuple(input_shape))
    previews = tuple(
        LayerPreview(
            index=index,
            name=layer.name,
            description=spec.describe(),
            output_shape=_shape(layer.output.shape),
            params=int(layer.count_params()),
            trainable_params=int(sum(math.prod(_shape(w.shape)) for w in layer.trainable_weights)),
        )
        for index, (spec, layer) in enumerate(zip(layers, built))
    )
    trainable = sum(math.prod(_shape(w.shape)) for w in model.trainable_weights)
    return ModelPreview(tuple(input_shape), previews, int(model.count_params()), int(trainable))


def make_loss(keras_module: Any, settings: Any) -> Any:
    """The compiled loss with its options (from_logits, focal gamma and alpha, Huber's delta)."""
    name = settings.loss
    losses = keras_module.losses
    if name == "sparse_categorical_crossentropy":
        return losses.SparseCategoricalCrossentropy(from_logits=settings.from_logits)
    if name == "categorical_crossentropy":
        return losses.CategoricalCrossentropy(from_logits=settings.from_logits)
    if name == "binary_crossentropy":
        return losses.BinaryCrossentropy(from_logits=settings.from_logits)
    if name == "binary_focal_crossentropy":
        return losses.BinaryFocalCrossentropy(
            from_logits=settings.from_logits, gamma=float(settings.focal_gamma), alpha=float(settings.focal_alpha),
            apply_class_balancing=True)
    if name == "huber":
        return losses.Huber(delta=float(settings.huber_delta))
    if name == "mse":
        return losses.MeanSquaredError()
    if name == "mae":
        return losses.MeanAbsoluteError()
    raise SpecError([Problem("compile.loss", name, "unknown loss")])


def build_model(experiment: Experiment, input_shape: tuple[int, ...], outputs: int = 0,
                data_task: str | None = None, target_units: tuple[Any, Any] | None = None) -> "keras.Model":
    """A compiled, seeded model for `experiment` (built under its distribution strategy), with the
    loss and metrics of its task on data with `outputs` classes, labels or targets.

    `target_units` (the training targets' mean and deviation, per target) ends a regression model
    with a fixed layer that turns standard units into the targets' own: the layers learn numbers
    near 0 and 1 whatever the targets' scale (house prices in dollars), while the loss, the
    metrics, the predictions and the saved model all speak the targets' units."""
    from kerastui.core.distribute import adapt_model, strategy_scope

    # Layer shape issues are left to Keras (ModelBuildError below); everything else is a SpecError.
    problems = [p for p in experiment.problems(data_task=data_task) if not p.field.startswith("layers")]
    if problems:
        raise SpecError(problems)
    keras_module = import_keras(experiment.backend)
    # Same seed -> same initial weights, dropout masks and shuffling order.
    keras_module.utils.set_random_seed(experiment.seed)
    with strategy_scope(experiment):
        model, _ = _functional_model(keras_module, experiment.layers, tuple(input_shape))
        if target_units is not None:
            mean, deviation = target_units
            rescaled = keras_module.layers.Rescaling(
                scale=[float(v) for v in deviation], offset=[float(v) for v in mean], name="target_units")(model.output)
            model = keras_module.Model(model.inputs, rescaled, name=model.name)
        settings = experiment.compile
        task = experiment.task_for(data_task)
        model.compile(
            optimizer=make_optimizer(keras_module, settings),
            loss=make_loss(keras_module, settings),
            metrics=task.compile_metrics(keras_module, outputs or _output_units(model), bool(settings.from_logits)),
        )
    return adapt_model(model, experiment)


def _output_units(model: Any) -> int:
    shape = tuple(model.output_shape)
    return int(shape[-1]) if len(shape) > 1 and shape[-1] is not None else 1


def make_optimizer(keras_module: Any, settings: Any):
    """The Keras optimizer for compile settings `settings` (its learning rate; its momentum where it takes one)."""
    class_name = OPTIMIZER_CLASSES.get(settings.optimizer)
    if class_name is None:
        raise SpecError([Problem("compile.optimizer", settings.optimizer,
                                 f"unknown optimizer; allowed: {', '.join(OPTIMIZER_CLASSES)}")])
    return getattr(keras_module.optimizers, class_name)(**optimizer_arguments(settings))


# Keras builds are not meant to run concurrently (the app previews in a thread worker).
_preview_lock = threading.Lock()


class KerasPreviewer:
    """The build screen's model summary, by Keras, in a process that has it (the app's default is
    kerastui.core.preview.RegistryPreviewer, which gives the same numbers without Keras)."""

    def load(self) -> str:
        """Import Keras (seconds: call it off the event loop); the backend's name."""
        return str(import_keras().backend.backend())

    def preview(self, layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...], num_classes: int,
                task: Any = None) -> PreviewResult:
        with _preview_lock:
            try:
                preview = preview_model(layers, input_shape)
            except ModelBuildError as error:
                return PreviewResult(None, error.message, error.layer_index)
            except Exception as error:  # an unexpected Keras complaint is still an explanation, not a crash
                return PreviewResult(None, f"{type(error).__name__}: {error}")
        return PreviewResult(preview, output_problem(preview.output_shape, num_classes, task))
