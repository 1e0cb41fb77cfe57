"""Named starting architectures, adapted to the dataset they will train on (layers only: the
experiments built from them are kerastui.core.spec's preset_experiment).

Each preset is its body (preset_layers_before_output) and the output layer its task decides. A
preset that cannot fit the data (a 1-D CNN on images, an Embedding on measured values) raises
PresetError saying so and which presets do fit.
"""

from __future__ import annotations

from kerastui.core.layers import LayerSpec, shape_problems

PRESETS = ("mlp", "cnn", "resnet1d", "text_lstm", "regression_mlp", "rgb_cnn")
PRESET_DESCRIPTIONS = {
    "mlp": "classic MNIST MLP: Flatten -> Dense 128 relu -> Dense 64 relu -> Dense N softmax",
    "cnn": "small CNN: Conv 32 3x3 -> MaxPool 2x2 -> Conv 64 3x3 -> MaxPool 2x2 -> Flatten -> Dense 128 -> Dense N softmax",
    "resnet1d": "residual 1-D CNN for signals (steps, channels), such as (200, 2) strain series: Conv1D 32 k7 -> "
                "residual blocks 32, 64 /2, 128 /2 -> global average pool -> Dropout 0.3 -> output",
    "text_lstm": "text classifier on word indices (steps,), such as imdb: Embedding (vocabulary -> 64) -> LSTM 64 "
                 "-> Dropout 0.3 -> output",
    "regression_mlp": "MLP for regression (any data, flattened): Flatten -> Dense 64 relu -> Dense 64 relu -> "
                      "output (linear for regression)",
    "rgb_cnn": "small CNN for colour images such as CIFAR (32x32x3): (Conv 3x3 -> BN -> MaxPool 2x2) with 32, then "
               "64 filters -> global average pool -> Dropout 0.3 -> output",
}


class PresetError(ValueError):
    """A preset cannot fit the chosen data (a CNN on tabular data, say)."""


def output_layer(num_classes: int, task: str = "multiclass") -> LayerSpec:
    """The last layer a task needs on data with `num_classes` classes, labels or targets."""
    from kerastui.core.tasks import TASKS

    rule = TASKS.get(task, TASKS["multiclass"])
    return LayerSpec("Dense", {"units": rule.units(num_classes), "activation": rule.default_activation})


def preset_layers(name: str, input_shape: tuple[int, ...], num_classes: int,
                  task: str = "multiclass", *, vocabulary_size: int = 0) -> tuple[LayerSpec, ...]:
    """The layers of preset `name`, with input and output fitted to the data and its task.
    `vocabulary_size` is the number of distinct word indices of data made of them (0: the data
    is not word indices); text_lstm needs it."""
    return (*preset_layers_before_output(name, input_shape, vocabulary_size=vocabulary_size),
            output_layer(num_classes, task))


def presets_for(input_shape: tuple[int, ...], vocabulary_size: int = 0) -> tuple[str, ...]:
    """The presets that fit data of `input_shape` (and `vocabulary_size`, for word indices)."""
    fitting = []
    for name in PRESETS:
        try:
            _body(name, tuple(input_shape), vocabulary_size)
        except _NoFit:
            continue
        fitting.append(name)
    return tuple(fitting)


def preset_layers_before_output(name: str, input_shape: tuple[int, ...], *,
                                vocabulary_size: int = 0) -> tuple[LayerSpec, ...]:
    """Every layer of preset `name` but the output (which the task decides)."""
    if name not in PRESETS:
        raise PresetError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    shape = tuple(input_shape)
    try:
        return _body(name, shape, vocabulary_size)
    except _NoFit as why:
        fitting = presets_for(shape, vocabulary_size)
        instead = f"the {_one_of(fitting)} preset" if fitting else "layers of your own"
        raise PresetError(f"{why}: use {instead}") from None


class _NoFit(Exception):
    """Why a preset's body does not fit the data (PresetError adds the presets that do)."""


def _body(name: str, shape: tuple[int, ...], vocabulary_size: int) -> tuple[LayerSpec, ...]:
    if name == "mlp":
        # Flatten first so the same MLP takes 8x8 digits, 28x28 MNIST, 32x32x3 CIFAR or flat tables.
        return (
            LayerSpec("Flatten"),
            LayerSpec("Dense", {"units": 128, "activation": "relu"}),
            LayerSpec("Dense", {"units": 64, "activation": "relu"}),
        )
    if name == "regression_mlp":
        return (
            LayerSpec("Flatten"),
            LayerSpec("Dense", {"units": 64, "activation": "relu"}),
            LayerSpec("Dense", {"units": 64, "activation": "relu"}),
        )
    if name == "cnn":
        if len(shape) != 3:
            raise _NoFit(f"the cnn preset needs image data (height, width, channels); this dataset is "
                         f"{_kind(shape)} with input shape {shape}")
        layers = _cnn("valid")
        # Small images (8x8 digits) shrink to nothing with 'valid' convolutions; 'same' keeps them.
        if shape_problems(layers, shape):
            layers = _cnn("same")
        return _fitted(name, shape, layers)
    if name == "rgb_cnn":
        if len(shape) != 3:
            raise _NoFit(f"the rgb_cnn preset needs image data (height, width, channels), such as CIFAR's "
                         f"32x32x3; this dataset is {_kind(shape)} with input shape {shape}")
        return _fitted(name, shape, _rgb_cnn())
    if name == "resnet1d":
        if len(shape) != 2:
            raise _NoFit(f"the resnet1d preset needs signals (steps, channels), such as (200, 2); this "
                         f"dataset is {_kind(shape)} with input shape {shape}")
        return _fitted(name, shape, _resnet1d())
    if name == "text_lstm":
        if len(shape) != 1 or vocabulary_size < 2:
            what = (f"{_kind(shape)} with input shape {shape}" if len(shape) != 1
                    else f"not word indices (it has no vocabulary size), input shape {shape}")
            raise _NoFit(f"the text_lstm preset needs word indices (steps,) and their vocabulary size, "
                         f"such as imdb's; this dataset is {what}")
        return _fitted(name, shape, _text_lstm(vocabulary_size))
    raise _NoFit(f"unknown preset {name!r}")


def _one_of(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _kind(shape: tuple[int, ...]) -> str:
    return {1: "tabular", 2: "sequences (steps, channels)", 3: "images"}.get(len(shape), f"{len(shape)}-D data")


def _fitted(name: str, shape: tuple[int, ...], layers: tuple[LayerSpec, ...]) -> tuple[LayerSpec, ...]:
    """`layers`, or _NoFit when the data is too small for them (a 2x2 image pooled twice)."""
    problems = shape_problems(layers, shape)
    if problems:
        raise _NoFit(f"the {name} preset does not fit input shape {shape}: {problems[0]}")
    return layers


def _cnn(padding: str) -> tuple[LayerSpec, ...]:
    return (
        LayerSpec("Conv2D", {"filters": 32, "kernel_size": 3, "activation": "relu", "padding": padding}),
        LayerSpec("MaxPooling2D", {"pool_size": 2}),
        LayerSpec("Conv2D", {"filters": 64, "kernel_size": 3, "activation": "relu", "padding": padding}),
        LayerSpec("MaxPooling2D", {"pool_size": 2}),
        LayerSpec("Flatten"),
        LayerSpec("Dense", {"units": 128, "activation": "relu"}),
    )


def _rgb_cnn() -> tuple[LayerSpec, ...]:
    # 'same' padding and global pooling: 32x32 CIFAR and smaller images alike, few parameters.
    return (
        LayerSpec("Conv2D", {"filters": 32, "kernel_size": 3, "activation": "relu", "padding": "same"}),
        LayerSpec("BatchNormalization"),
        LayerSpec("MaxPooling2D", {"pool_size": 2}),
        LayerSpec("Conv2D", {"filters": 64, "kernel_size": 3, "activation": "relu", "padding": "same"}),
        LayerSpec("BatchNormalization"),
        LayerSpec("MaxPooling2D", {"pool_size": 2}),
        LayerSpec("GlobalAveragePooling2D"),
        LayerSpec("Dropout", {"rate": 0.3}),
    )


def _resnet1d() -> tuple[LayerSpec, ...]:
    # A wide stem sees several steps of both detectors at once; each later block halves the steps
    # and doubles the filters, as the residual 1-D networks that scored best on such signals do.
    return (
        LayerSpec("Conv1D", {"filters": 32, "kernel_size": 7, "padding": "same", "activation": "relu"}),
        LayerSpec("ResidualBlock", {"dims": 1, "filters": 32, "kernel_size": 3}),
        LayerSpec("ResidualBlock", {"dims": 1, "filters": 64, "kernel_size": 3, "strides": 2}),
        LayerSpec("ResidualBlock", {"dims": 1, "filters": 128, "kernel_size": 3, "strides": 2}),
        LayerSpec("GlobalAveragePooling1D"),
        LayerSpec("Dropout", {"rate": 0.3}),
    )


def _text_lstm(vocabulary_size: int) -> tuple[LayerSpec, ...]:
    return (
        LayerSpec("Embedding", {"input_dim": int(vocabulary_size), "output_dim": 64}),
        LayerSpec("LSTM", {"units": 64}),
        LayerSpec("Dropout", {"rate": 0.3}),
    )
