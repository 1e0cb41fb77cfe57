"""Named starting architectures, adapted to the dataset they will train on (layers only: the
experiments built from them are kerastui.core.spec's preset_experiment)."""

from __future__ import annotations

from kerastui.core.layers import LayerSpec, shape_problems

PRESETS = ("mlp", "cnn")
PRESET_DESCRIPTIONS = {
    "mlp": "classic MNIST MLP: Flatten -> Dense 128 relu -> Dense 64 relu -> Dense N softmax",
    "cnn": "small CNN: Conv 32 3x3 -> MaxPool 2x2 -> Conv 64 3x3 -> MaxPool 2x2 -> Flatten -> Dense 128 -> Dense N softmax",
}


class PresetError(ValueError):
    """A preset cannot fit the chosen data (a CNN on tabular data, say)."""


def output_layer(num_classes: int, task: str = "multiclass") -> LayerSpec:
    """The last layer a task needs on data with `num_classes` classes, labels or targets."""
    from kerastui.core.tasks import TASKS

    rule = TASKS.get(task, TASKS["multiclass"])
    return LayerSpec("Dense", {"units": rule.units(num_classes), "activation": rule.default_activation})


def preset_layers(name: str, input_shape: tuple[int, ...], num_classes: int,
                  task: str = "multiclass") -> tuple[LayerSpec, ...]:
    """The layers of preset `name`, with input and output fitted to the data and its task."""
    return (*preset_layers_before_output(name, input_shape), output_layer(num_classes, task))


def preset_layers_before_output(name: str, input_shape: tuple[int, ...]) -> tuple[LayerSpec, ...]:
    """Every layer of preset `name` but the output (which the task decides)."""
    if name == "mlp":
        # Flatten first so the same MLP takes 8x8 digits, 28x28 MNIST, 32x32x3 CIFAR or flat tables.
        return (
            LayerSpec("Flatten"),
            LayerSpec("Dense", {"units": 128, "activation": "relu"}),
            LayerSpec("Dense", {"units": 64, "activation": "relu"}),
        )
    if name == "cnn":
        if len(input_shape) != 3:
            raise PresetError(
                f"the cnn preset needs image data (height, width, channels); this dataset is "
                f"tabular with input shape {tuple(input_shape)}: use the mlp preset"
            )
        layers = _cnn("valid")
        # Small images (8x8 digits) shrink to nothing with 'valid' convolutions; 'same' keeps them.
        if shape_problems(layers, input_shape):
            layers = _cnn("same")
        return layers
    raise PresetError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")


def _cnn(padding: str) -> tuple[LayerSpec, ...]:
    return (
        LayerSpec("Conv2D", {"filters": 32, "kernel_size": 3, "activation": "relu", "padding": padding}),
        LayerSpec("MaxPooling2D", {"pool_size": 2}),
        LayerSpec("Conv2D", {"filters": 64, "kernel_size": 3, "activation": "relu", "padding": padding}),
        LayerSpec("MaxPooling2D", {"pool_size": 2}),
        LayerSpec("Flatten"),
        LayerSpec("Dense", {"units": 128, "activation": "relu"}),
    )
