"""The experiment: one frozen dataclass tree that flows from the build screen to a run directory.

Everything a run needs to be repeated is here, and it round-trips through TOML so a run made
in the UI is a file a user can edit, diff, commit and re-run headless.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Iterable

import tomli_w

OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw", "adagrad", "nadam")
LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy")
ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "elu", "gelu", "selu", "swish", "linear")
PADDINGS = ("valid", "same")
STRATEGIES = ("default", "mirrored", "multiworker")
BACKENDS = ("tensorflow", "jax", "torch")
MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")


@dataclass(frozen=True)
class ParamRule:
    """What one layer parameter accepts: its type, default and allowed range or choices."""

    kind: type
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    exclusive_maximum: bool = False

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
        if self.minimum is not None and value < self.minimum:
            return f"must be at least {self.minimum:g}"
        if self.maximum is not None:
            if self.exclusive_maximum and value >= self.maximum:
                return f"must be less than {self.maximum:g}"
            if not self.exclusive_maximum and value > self.maximum:
                return f"must be at most {self.maximum:g}"
        return None


# The layer types kerastui can build, with the parameters each takes. Names are Keras class names.
LAYER_TYPES: dict[str, dict[str, ParamRule]] = {
    "Dense": {
        "units": ParamRule(int, 64, minimum=1, maximum=1_000_000),
        "activation": ParamRule(str, "relu", choices=ACTIVATIONS),
    },
    "Conv2D": {
        "filters": ParamRule(int, 32, minimum=1, maximum=100_000),
        "kernel_size": ParamRule(int, 3, minimum=1, maximum=1_000),
        "strides": ParamRule(int, 1, minimum=1, maximum=1_000),
        "padding": ParamRule(str, "valid", choices=PADDINGS),
        "activation": ParamRule(str, "relu", choices=ACTIVATIONS),
    },
    "MaxPooling2D": {"pool_size": ParamRule(int, 2, minimum=1, maximum=1_000)},
    "AveragePooling2D": {"pool_size": ParamRule(int, 2, minimum=1, maximum=1_000)},
    "Flatten": {},
    "Dropout": {"rate": ParamRule(float, 0.5, minimum=0.0, maximum=1.0, exclusive_maximum=True)},
    "BatchNormalization": {},
    "GlobalAveragePooling2D": {},
}

# Layers that need an image-shaped input (height, width, channels).
SPATIAL_LAYERS = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an experiment: where, what value, and what is allowed."""

    field: str
    value: Any
    message: str

    def __str__(self) -> str:
        return f"{self.field} = {self.value!r}: {self.message}"


# Problems shown at once: a file with 700,000 unknown keys gets these and a count, not a flood.
MAX_PROBLEMS_SHOWN = 20


def bounded(lines: Iterable[str], limit: int = MAX_PROBLEMS_SHOWN) -> list[str]:
    """The first `limit` problem lines, then one line counting the rest."""
    lines = list(lines)
    if len(lines) <= limit:
        return lines
    more = len(lines) - limit
    return [*lines[:limit], f"... and {more} more problem{'s' if more != 1 else ''}"]


class SpecError(ValueError):
    """An experiment (or its TOML file) is invalid; carries every problem at once."""

    def __init__(self, problems: list[Problem], source: str | None = None):
        self.problems = problems
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(where + "; ".join(bounded(str(p) for p in problems)))


@dataclass(frozen=True)
class LayerSpec:
    """One layer: a Keras layer type and its parameters (missing parameters take defaults)."""

    type: str
    params: dict[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> Any:
        """The parameter's value, or the type's default for it."""
        if name in self.params:
            return self.params[name]
        return LAYER_TYPES[self.type][name].default

    def with_params(self, **changes: Any) -> LayerSpec:
        return replace(self, params={**self.params, **changes})

    def describe(self) -> str:
        """Short human label, e.g. 'Conv2D 32 3x3 relu'."""
        if self.type not in LAYER_TYPES:
            return self.type
        if self.type == "Dense":
            return f"Dense {self.param('units')} {self.param('activation')}"
        if self.type == "Conv2D":
            k = self.param("kernel_size")
            text = f"Conv2D {self.param('filters')} {k}x{k} {self.param('activation')}"
            if self.param("padding") == "same":
                text += " same"
            if self.param("strides") != 1:
                text += f" /{self.param('strides')}"
            return text
        if self.type in ("MaxPooling2D", "AveragePooling2D"):
            p = self.param("pool_size")
            return f"{self.type} {p}x{p}"
        if self.type == "Dropout":
            return f"Dropout {self.param('rate'):g}"
        return self.type

    def problems(self, index: int) -> list[Problem]:
        where = f"layers[{index}]"
        rules = LAYER_TYPES.get(self.type)
        if rules is None:
            return [Problem(f"{where}.type", self.type, f"unknown layer type; allowed: {', '.join(LAYER_TYPES)}")]
        found = []
        for name, value in self.params.items():
            rule = rules.get(name)
            if rule is None:
                allowed = ", ".join(rules) or "no parameters"
                found.append(Problem(f"{where}.{name}", value, f"{self.type} takes {allowed}"))
            elif (why := rule.problem(value)) is not None:
                found.append(Problem(f"{where}.{name}", value, why))
        return found


@dataclass(frozen=True)
class CompileSettings:
    optimizer: str = "adam"
    learning_rate: float = 0.001
    loss: str = "sparse_categorical_crossentropy"
    metrics: tuple[str, ...] = ("accuracy",)


@dataclass(frozen=True)
class FitSettings:
    epochs: int = 10
    batch_size: int = 32
    validation_split: float = 0.2
    # 0 turns early stopping off; otherwise epochs without improvement of `monitor` before stopping.
    early_stopping_patience: int = 0
    monitor: str = "val_loss"


@dataclass(frozen=True)
class Experiment:
    """Everything needed to train and evaluate one model. Defaults follow the classic Keras MNIST MLP."""

    name: str = "mlp"
    dataset: str = "digits"
    layers: tuple[LayerSpec, ...] = field(default_factory=lambda: _classic_mlp())
    compile: CompileSettings = field(default_factory=CompileSettings)
    fit: FitSettings = field(default_factory=FitSettings)
    seed: int = 42
    strategy: str = "default"
    backend: str = "tensorflow"

    def problems(self, input_shape: tuple[int, ...] | None = None, num_classes: int | None = None) -> list[Problem]:
        """Every problem with this experiment at once (empty when valid).

        With `input_shape`, spatial sizes are also followed through the layers so that a kernel
        or pool larger than what reaches it is reported before Keras is even loaded; with
        `num_classes` too, an output that cannot classify that many classes is reported.
        """
        found: list[Problem] = []
        if not self.name or not isinstance(self.name, str):
            found.append(Problem("name", self.name, "must be a non-empty name"))
        if not self.dataset:
            found.append(Problem("dataset", self.dataset, "must name a dataset or a file"))
        if not self.layers:
            found.append(Problem("layers", [], "needs at least one layer"))
        for index, layer in enumerate(self.layers):
            found.extend(layer.problems(index))
        c, f = self.compile, self.fit
        if c.optimizer not in OPTIMIZERS:
            found.append(Problem("compile.optimizer", c.optimizer, f"unknown optimizer; allowed: {', '.join(OPTIMIZERS)}"))
        if isinstance(c.learning_rate, bool) or not isinstance(c.learning_rate, (int, float)) or not (
            math.isfinite(c.learning_rate) and c.learning_rate > 0
        ):
            found.append(Problem("compile.learning_rate", c.learning_rate, "must be a number greater than 0"))
        if c.loss not in LOSSES:
            found.append(Problem("compile.loss", c.loss, f"allowed: {', '.join(LOSSES)}"))
        found.extend(_whole_number_problems("fit.epochs", f.epochs, minimum=1))
        found.extend(_whole_number_problems("fit.batch_size", f.batch_size, minimum=1))
        found.extend(_whole_number_problems("fit.early_stopping_patience", f.early_stopping_patience, minimum=0))
        if isinstance(f.validation_split, bool) or not isinstance(f.validation_split, (int, float)) or not (
            0.0 <= f.validation_split < 1.0
        ):
            found.append(Problem("fit.validation_split", f.validation_split, "must be at least 0 and less than 1"))
        if f.monitor not in MONITORS:
            found.append(Problem("fit.monitor", f.monitor, f"allowed: {', '.join(MONITORS)}"))
        elif (f.early_stopping_patience and f.monitor.startswith("val_") and f.validation_split == 0
              and not isinstance(f.early_stopping_patience, bool)):
            found.append(Problem("fit.validation_split", f.validation_split,
                                 f"early stopping watches {f.monitor}, which needs a validation split; "
                                 "set one above 0, or monitor 'loss'"))
        found.extend(_whole_number_problems("seed", self.seed, minimum=0))
        if self.strategy not in STRATEGIES:
            found.append(Problem("strategy", self.strategy, f"allowed: {', '.join(STRATEGIES)}"))
        if self.backend not in BACKENDS:
            found.append(Problem("backend", self.backend, f"allowed: {', '.join(BACKENDS)}"))
        elif self.strategy in STRATEGIES and self.strategy != "default" and self.backend != "tensorflow":
            found.append(Problem("strategy", self.strategy,
                                 f"uses tf.distribute, so it needs the tensorflow backend (not {self.backend}); "
                                 "choose strategy 'default' or backend 'tensorflow'"))
        if input_shape is not None and self.layers:
            # Shapes are followed through the layers before the first bad one, so a kernel too big
            # is listed with an unknown layer type further on rather than after it is fixed.
            bad = [_layer_index(p.field) for p in found if p.field.startswith("layers")]
            usable = self.layers[: min(bad)] if bad else self.layers
            walked = shape_problems(usable, input_shape)
            found.extend(walked)
            if not bad and not walked and num_classes is not None:
                found.extend(output_problems(self.layers, input_shape, num_classes))
        return found

    def validated(self, input_shape: tuple[int, ...] | None = None) -> Experiment:
        """Return self, or raise SpecError listing every problem."""
        found = self.problems(input_shape)
        if found:
            raise SpecError(found)
        return self


def _classic_mlp() -> tuple[LayerSpec, ...]:
    from kerastui.core.presets import preset_layers  # presets builds on this module

    return preset_layers("mlp", (8, 8, 1), 10)


def _whole_number_problems(name: str, value: Any, minimum: int) -> list[Problem]:
    if isinstance(value, bool) or not isinstance(value, int):
        return [Problem(name, value, "must be a whole number")]
    if value < minimum:
        return [Problem(name, value, f"must be at least {minimum}")]
    return []


def _layer_index(field_name: str) -> int:
    """0 for 'layers' itself, 3 for 'layers[3].units'."""
    match = re.match(r"layers\[(\d+)\]", field_name)
    return int(match.group(1)) if match else 0


def output_problems(layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...], num_classes: int) -> list[Problem]:
    """The last layer must give one value per class: (num_classes,), not an image or the wrong count.

    Found before a run directory is made or a job submitted, where otherwise training would fail
    at its first step (on a compute node, after the queue).
    """
    shape = _output_shape(layers, input_shape)
    if shape is None or not layers:
        return []
    where = f"layers[{len(layers) - 1}]"
    last = layers[-1]
    if len(shape) != 1:
        return [Problem(f"{where}.type", last.type,
                        f"the model outputs shape {shape} per sample but needs ({num_classes},): "
                        "add Flatten or GlobalAveragePooling2D before the last Dense layer")]
    if shape[0] != num_classes:
        field_name = f"{where}.units" if last.type == "Dense" else f"{where}.type"
        value = last.param("units") if last.type == "Dense" else last.type
        return [Problem(field_name, value,
                        f"the model outputs {shape[0]} values but the dataset has {num_classes} classes: "
                        f"make the last layer Dense with {num_classes} units")]
    return []


def shape_problems(layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...]) -> list[Problem]:
    """Follow height/width through the layers and report where a window no longer fits.

    A cheap early check for the editor; the Keras-computed preview in `build` stays the authority.
    """
    problems, _ = _follow_shapes(layers, input_shape)
    return problems


def _output_shape(layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    problems, shape = _follow_shapes(layers, input_shape)
    return None if problems else shape


def _follow_shapes(layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...]) -> tuple[list[Problem], tuple[int, ...]]:
    shape = tuple(input_shape)
    for index, layer in enumerate(layers):
        where = f"layers[{index}]"
        if layer.type in SPATIAL_LAYERS and len(shape) != 3:
            return [Problem(f"{where}.type", layer.type, f"needs image input (height, width, channels), but receives shape {shape}")], shape
        if layer.type == "Conv2D":
            k, s = layer.param("kernel_size"), layer.param("strides")
            if layer.param("padding") == "valid" and (k > shape[0] or k > shape[1]):
                return [Problem(f"{where}.kernel_size", k, f"kernel {k}x{k} is larger than its input {shape[0]}x{shape[1]}; use a smaller kernel or padding 'same'")], shape
            shape = (_out(shape[0], k, s, layer.param("padding")), _out(shape[1], k, s, layer.param("padding")), layer.param("filters"))
        elif layer.type in ("MaxPooling2D", "AveragePooling2D"):
            p = layer.param("pool_size")
            if p > shape[0] or p > shape[1]:
                return [Problem(f"{where}.pool_size", p, f"pool {p}x{p} is larger than its input {shape[0]}x{shape[1]}")], shape
            shape = (shape[0] // p, shape[1] // p, shape[2])
        elif layer.type == "GlobalAveragePooling2D":
            shape = (shape[2],)
        elif layer.type == "Flatten":
            shape = (math.prod(shape),)
        elif layer.type == "Dense":
            shape = (*shape[:-1], layer.param("units"))
    return [], shape


def _out(size: int, kernel: int, stride: int, padding: str) -> int:
    if padding == "same":
        return -(-size // stride)
    return (size - kernel) // stride + 1


# ---- TOML ----------------------------------------------------------------------------------


def to_dict(experiment: Experiment) -> dict[str, Any]:
    """Plain data in TOML-friendly form (tuples become lists, layers an array of tables)."""
    data = asdict(experiment)
    data["layers"] = [{"type": layer.type, **layer.params} for layer in experiment.layers]
    data["compile"]["metrics"] = list(experiment.compile.metrics)
    return data


def from_dict(data: dict[str, Any], source: str | None = None) -> Experiment:
    """Build an Experiment from plain data, reporting unknown keys and bad types as problems."""
    problems: list[Problem] = []
    top = _known_keys(data, Experiment, "", problems)
    layers = []
    for index, raw in enumerate(data.get("layers", [])):
        if not isinstance(raw, dict) or "type" not in raw:
            problems.append(Problem(f"layers[{index}]", raw, "must be a table with a 'type' key"))
            continue
        params = {k: v for k, v in raw.items() if k != "type"}
        layers.append(LayerSpec(type=raw["type"], params=params))
    compile_data = _known_keys(data.get("compile", {}), CompileSettings, "compile.", problems)
    if "metrics" in compile_data:
        compile_data["metrics"] = tuple(compile_data["metrics"])
    fit_data = _known_keys(data.get("fit", {}), FitSettings, "fit.", problems)
    top.pop("layers", None)
    top.pop("compile", None)
    top.pop("fit", None)
    if problems:
        raise SpecError(problems, source)
    return Experiment(
        **top,
        layers=tuple(layers),
        compile=CompileSettings(**compile_data),
        fit=FitSettings(**fit_data),
    )


def _known_keys(data: Any, cls: type, prefix: str, problems: list[Problem]) -> dict[str, Any]:
    if not isinstance(data, dict):
        problems.append(Problem(prefix.rstrip(".") or "experiment", data, "must be a table"))
        return {}
    allowed = {f.name for f in fields(cls)}
    for key in data:
        if key not in allowed:
            problems.append(Problem(prefix + key, data[key], f"unknown setting; allowed: {', '.join(sorted(allowed))}"))
    return {k: v for k, v in data.items() if k in allowed}


def dumps(experiment: Experiment) -> str:
    return tomli_w.dumps(to_dict(experiment))


def loads(text: str, source: str | None = None) -> Experiment:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError([Problem("toml", source or "<text>", f"not valid TOML: {error}")], source) from None
    return from_dict(data, source)


def save(experiment: Experiment, path: str | Path) -> Path:
    """Write the experiment as TOML atomically (temp file, then rename)."""
    from kerastui.core.atomic import write_text_atomic

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(path, dumps(experiment))


def load(path: str | Path) -> Experiment:
    path = Path(path)
    try:
        text = read_toml_text(path)
    except ValueError as error:
        raise SpecError([Problem("file", str(path), str(error))], str(path)) from None
    return loads(text, str(path))


def read_toml_text(path: Path) -> str:
    """A TOML file's text; ValueError saying why not (unreadable, not UTF-8), for a message that
    names the file. Every TOML the project reads (experiments, sweeps, the user config) comes here."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot be read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"is not UTF-8 text (byte {error.start}); TOML files are UTF-8") from None
