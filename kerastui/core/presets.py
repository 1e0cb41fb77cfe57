"""Named starting architectures, adapted to the dataset they will train on."""

from __future__ import annotations

from dataclasses import replace

from kerastui.core.spec import Experiment, LayerSpec, shape_problems

PRESETS = ("mlp", "cnn")
PRESET_DESCRIPTIONS = {
    "mlp": "classic MNIST MLP: Flatten -> Dense 128 relu -> Dense 64 relu -> Dense N softmax",
    "cnn": "small CNN: Conv 32 3x3 -> MaxPool 2x2 -> Conv 64 3x3 -> MaxPool 2x2 -> Flatten -> Dense 128 -> Dense N softmax",
}


class PresetError(ValueError):
    """A preset cannot fit the chosen data (a CNN on tabular data, say)."""


def preset_layers(name: str, input_shape: tuple[int, ...], num_classes: int) -> tuple[LayerSpec, ...]:
    """The layers of preset `name`, with input and output fitted to the data."""
    if name == "mlp":
        # Flatten first so the same MLP takes 8x8 digits, 28x28 MNIST, 32x32x3 CIFAR or flat tables.
        return (
            LayerSpec("Flatten"),
            LayerSpec("Dense", {"units": 128, "activation": "relu"}),
            LayerSpec("Dense", {"units": 64, "activation": "relu"}),
            LayerSpec("Dense", {"units": num_classes, "activation": "softmax"}),
        )
    if name == "cnn":
        if len(input_shape) != 3:
            raise PresetError(
                f"the cnn preset needs image data (height, width, channels); this dataset is "
                f"tabular with input shape {tuple(input_shape)}: use the mlp preset"
            )
        layers = _cnn("valid", num_classes)
        # Small images (8x8 digits) shrink to nothing with 'valid' convolutions; 'same' keeps them.
        if shape_problems(layers, input_shape):
            layers = _cnn("same", num_classes)
        return layers
    raise PresetError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")


def _cnn(padding: str, num_classes: int) -> tuple[LayerSpec, ...]:
    return (
        LayerSpec("Conv2D", {"filters": 32, "kernel_size": 3, "activation": "relu", "padding": padding}),
        LayerSpec("MaxPooling2D", {"pool_size": 2}),
        LayerSpec("Conv2D", {"filters": 64, "kernel_size": 3, "activation": "relu", "padding": padding}),
        LayerSpec("MaxPooling2D", {"pool_size": 2}),
        LayerSpec("Flatten"),
        LayerSpec("Dense", {"units": 128, "activation": "relu"}),
        LayerSpec("Dense", {"units": num_classes, "activation": "softmax"}),
    )


def preset_experiment(
    name: str, dataset: str, input_shape: tuple[int, ...], num_classes: int, **changes
) -> Experiment:
    """A complete experiment: preset layers on `dataset` with the classic defaults."""
    return replace(
        Experiment(name=name, dataset=dataset, layers=preset_layers(name, input_shape, num_classes)),
        **changes,
    )


def fit_output_to_classes(experiment: Experiment, num_classes: int) -> Experiment:
    """Make the last Dense layer emit one unit per class (after the dataset changed)."""
    layers = list(experiment.layers)
    for index in range(len(layers) - 1, -1, -1):
        if layers[index].type == "Dense":
            layers[index] = layers[index].with_params(units=num_classes)
            break
    return replace(experiment, layers=tuple(layers))
