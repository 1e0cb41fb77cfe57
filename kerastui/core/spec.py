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
from typing import Any

import tomli_w

from kerastui.core.datasets.settings import DataSettings, settings_from_dict, settings_to_dict
from kerastui.core.layers import LayerSpec, integer_input_problems, shape_problems, vocabulary_problem
from kerastui.core.optimizers import OPTIMIZERS, momentum_refusal, takes_momentum
from kerastui.core.presets import preset_layers
from kerastui.core.problems import Problem, SpecError
from kerastui.core.tasks import TASKS, Task, all_losses, all_monitors
from kerastui.core.tasks.output import output_problems

LOSSES = all_losses()
STRATEGIES = ("default", "mirrored", "multiworker")
BACKENDS = ("tensorflow", "jax", "torch")
MONITORS = all_monitors()
# The task an experiment without one, and without data to infer it from, is checked as.
DEFAULT_TASK = "multiclass"
BALANCED = "balanced"


@dataclass(frozen=True)
class CompileSettings:
    optimizer: str = "adam"
    learning_rate: float = 0.001
    # sgd and rmsprop only (kerastui.core.optimizers says which): 0 is none, 0.9 the usual choice.
    momentum: float = 0.0
    loss: str = "sparse_categorical_crossentropy"
    # The last layer gives raw scores (linear) and the loss applies the sigmoid or softmax itself.
    from_logits: bool = False
    # binary_focal_crossentropy: gamma focuses on hard samples; alpha weighs the positive class.
    focal_gamma: float = 2.0
    focal_alpha: float = 0.25
    # huber: where the loss turns from squared to absolute error.
    huber_delta: float = 1.0


@dataclass(frozen=True)
class FitSettings:
    epochs: int = 10
    batch_size: int = 32
    validation_split: float = 0.2
    # 0 turns early stopping off; otherwise epochs without improvement of `monitor` before stopping.
    early_stopping_patience: int = 0
    monitor: str = "val_loss"
    # The training state is saved after every epoch, and with N > 0 every N batches too (long
    # epochs: a requeue or a kill then loses at most N batches).
    backup_every_batches: int = 0
    # "" (every sample counts the same), "balanced" (inverse class frequency in the training
    # labels, as scikit-learn computes it) or one weight per class, for rare positives.
    class_weight: str | tuple[float, ...] = ""


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
    # multiclass, binary, multilabel or regression; "" takes the task the data's labels suggest.
    task: str = ""
    # Where in the dataset's file the inputs and labels are, and how they are prepared (the
    # [data] table; kerastui.core.datasets.settings).
    data: DataSettings = field(default_factory=DataSettings)

    def task_for(self, data_task: str | None = None) -> Task:
        """The task this experiment trains: its own, else the data's, else multiclass."""
        # An unknown task (already reported as such) is checked as the data's, so that its one
        # problem is not buried under the mismatches of a task nobody chose.
        for name in (self.task, data_task):
            if isinstance(name, str) and name in TASKS:
                return TASKS[name]
        return TASKS[DEFAULT_TASK]

    def problems(self, input_shape: tuple[int, ...] | None = None, num_classes: int | None = None,
                 data_task: str | None = None, vocabulary_size: int | None = None) -> list[Problem]:
        """Every problem with this experiment at once (empty when valid).

        With `input_shape`, sizes are also followed through the layers so that a kernel or pool
        larger than what reaches it is reported before Keras is even loaded; with `num_classes`
        (the data's classes, labels or targets) too, an output that does not fit the task is
        reported. `data_task` is the task the data suggests, used when the experiment names none.
        `vocabulary_size` (0: the data is not word numbers) checks what an Embedding reads.
        """
        found: list[Problem] = []
        known_name = isinstance(self.task, str) and self.task in TASKS
        if self.task and not known_name:
            found.append(Problem("task", self.task, f"unknown task; allowed: {', '.join(TASKS)}"))
        task = self.task_for(data_task)
        # Without a task named or data to suggest one, a loss or monitor of any task may be meant.
        task_known = bool(known_name or data_task or num_classes is not None)
        if not self.name or not isinstance(self.name, str):
            found.append(Problem("name", self.name, "must be a non-empty name"))
        if not self.dataset:
            found.append(Problem("dataset", self.dataset, "must name a dataset or a file"))
        if isinstance(self.data, DataSettings):
            found.extend(self.data.problems())
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
        found.extend(_momentum_problems(c))
        found.extend(_loss_problems(c, task, task_known))
        found.extend(_whole_number_problems("fit.epochs", f.epochs, minimum=1))
        found.extend(_whole_number_problems("fit.batch_size", f.batch_size, minimum=1))
        found.extend(_whole_number_problems("fit.early_stopping_patience", f.early_stopping_patience, minimum=0))
        found.extend(_whole_number_problems("fit.backup_every_batches", f.backup_every_batches, minimum=0))
        if isinstance(f.validation_split, bool) or not isinstance(f.validation_split, (int, float)) or not (
            0.0 <= f.validation_split < 1.0
        ):
            found.append(Problem("fit.validation_split", f.validation_split, "must be at least 0 and less than 1"))
        found.extend(_class_weight_problems(f.class_weight, task if task_known else None, num_classes))
        if not task_known and f.monitor not in MONITORS:
            found.append(Problem("fit.monitor", f.monitor, f"allowed: {', '.join(MONITORS)}"))
        elif task_known and f.monitor not in task.monitors():
            found.append(Problem("fit.monitor", f.monitor,
                                 f"a {task.name} task reports {', '.join(task.monitors())}"))
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
            if vocabulary_size is not None and not bad:
                found.extend(integer_input_problems(self.layers, vocabulary_size > 0))
                if vocabulary_size > 0 and (vocabulary := vocabulary_problem(self.layers, vocabulary_size - 1)):
                    found.append(vocabulary)
            if not bad and not walked and num_classes is not None:
                found.extend(output_problems(self.layers, input_shape, num_classes, task, bool(c.from_logits)))
        return found

    def validated(self, input_shape: tuple[int, ...] | None = None) -> Experiment:
        """Return self, or raise SpecError listing every problem."""
        found = self.problems(input_shape)
        if found:
            raise SpecError(found)
        return self


def _momentum_problems(c: CompileSettings) -> list[Problem]:
    momentum = c.momentum
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not (
        math.isfinite(momentum) and 0 <= momentum < 1
    ):
        return [Problem("compile.momentum", momentum,
                        "must be a number at least 0 and less than 1 (0: no momentum; 0.9 is usual)")]
    # An unknown optimizer is reported as such; whether it takes a momentum is then moot.
    if momentum and c.optimizer in OPTIMIZERS and not takes_momentum(c.optimizer):
        return [Problem("compile.momentum", momentum, momentum_refusal(c.optimizer))]
    return []


def _loss_problems(c: CompileSettings, task: Task, task_known: bool) -> list[Problem]:
    found = []
    if not task_known:
        if c.loss not in LOSSES:
            found.append(Problem("compile.loss", c.loss, f"allowed: {', '.join(LOSSES)}"))
    elif c.loss not in task.loss_names():
        others = [name for name, t in TASKS.items() if c.loss in t.loss_names()]
        why = f" (it is a {' and '.join(others)} loss)" if others else ""
        found.append(Problem("compile.loss", c.loss, f"a {task.name} task takes {', '.join(task.loss_names())}{why}"))
    if not isinstance(c.from_logits, bool):
        found.append(Problem("compile.from_logits", c.from_logits, "must be true or false"))
    for name, value, low in (("focal_gamma", c.focal_gamma, 0.0), ("focal_alpha", c.focal_alpha, 0.0),
                             ("huber_delta", c.huber_delta, 0.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < low:
            found.append(Problem(f"compile.{name}", value, "must be a number at least 0"))
        elif name == "focal_alpha" and value > 1:
            found.append(Problem(f"compile.{name}", value, "must be at most 1 (the positive class's weight)"))
        elif name == "huber_delta" and value == 0:
            found.append(Problem(f"compile.{name}", value, "must be greater than 0"))
    return found


def _class_weight_problems(weights: Any, task: Task | None, num_classes: int | None) -> list[Problem]:
    if weights in ("", None):
        return []
    if task is not None and not task.weights_classes:
        return [Problem("fit.class_weight", weights,
                        f"weights classes, which a {task.name} task does not have; leave it empty")]
    if weights == BALANCED:
        return []
    if isinstance(weights, str) or not isinstance(weights, (tuple, list)):
        return [Problem("fit.class_weight", weights, "must be \"balanced\" or one weight per class, such as [1, 20]")]
    bad = [w for w in weights if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w <= 0]
    if bad or not weights:
        return [Problem("fit.class_weight", list(weights), "each weight must be a number greater than 0")]
    classes = 2 if task is not None and task.name == "binary" else num_classes
    if classes is not None and len(weights) != classes:
        return [Problem("fit.class_weight", list(weights),
                        f"gives {len(weights)} weights but the data has {classes} classes")]
    return []


def _classic_mlp() -> tuple[LayerSpec, ...]:
    return preset_layers("mlp", (8, 8, 1), 10)


def preset_experiment(
    name: str, dataset: str, input_shape: tuple[int, ...], num_classes: int, *, data_task: str | None = None,
    vocabulary_size: int = 0, **changes: Any
) -> Experiment:
    """A complete experiment: preset layers on `dataset` with the classic defaults, its output,
    loss and monitor those of its task (the one in `changes`, else the data's)."""
    base = replace(Experiment(name=name, dataset=dataset), **changes)
    task = base.task_for(data_task).name
    layers = preset_layers(name, input_shape, num_classes, task, vocabulary_size=vocabulary_size)
    return fit_to_task(replace(base, layers=layers), num_classes, data_task)


def fit_to_task(experiment: Experiment, outputs: int, data_task: str | None = None) -> Experiment:
    """The experiment adapted to data with `outputs` classes, labels or targets (after the data or
    the task changed): the last Dense layer gets the task's units, and its activation, the loss
    and the monitor become the task's defaults where they no longer fit; class weights go where
    the task has no classes."""
    task = experiment.task_for(data_task)
    layers = list(experiment.layers)
    for index in range(len(layers) - 1, -1, -1):
        if layers[index].type == "Dense":
            last = layers[index].with_params(units=task.units(outputs))
            if task.activation_problem(last.param("activation"), experiment.compile.from_logits) is not None:
                last = last.with_params(activation="linear" if experiment.compile.from_logits else task.default_activation)
            layers[index] = last
            break
    compile_settings, fit = experiment.compile, experiment.fit
    if compile_settings.loss not in task.loss_names():
        compile_settings = replace(compile_settings, loss=task.default_loss())
    if fit.monitor not in task.monitors():
        fit = replace(fit, monitor="val_loss")
    if fit.class_weight and not task.weights_classes:
        fit = replace(fit, class_weight="")
    return replace(experiment, layers=tuple(layers), compile=compile_settings, fit=fit)


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


def to_dict(experiment: Experiment) -> dict[str, Any]:
    """Plain data in TOML-friendly form (tuples become lists, layers an array of tables)."""
    data = asdict(experiment)
    data["layers"] = [{"type": layer.type, **layer.params} for layer in experiment.layers]
    weights = experiment.fit.class_weight
    data["fit"]["class_weight"] = list(weights) if isinstance(weights, tuple) else weights
    table = settings_to_dict(experiment.data)
    if table:
        data["data"] = table
    else:
        del data["data"]
    return data


# Top-level settings that are names, and what each names (for the message when one is not text).
TEXT_SETTINGS = {
    "name": "the experiment's name",
    "dataset": "a built-in name such as \"digits\", or a data file's path",
    "strategy": ", ".join(STRATEGIES),
    "backend": ", ".join(BACKENDS),
    "task": ", ".join(TASKS) + ", or \"\" for the data's own",
}


def from_dict(data: dict[str, Any], source: str | None = None) -> Experiment:
    """Build an Experiment from plain data, reporting unknown keys and bad types as problems."""
    problems: list[Problem] = []
    top = _known_keys(data, Experiment, "", problems)
    # Names are looked up in registries (a task, a backend, a file): a number or a list there
    # would otherwise reach a dict lookup or a path and end in a traceback.
    for key, meaning in TEXT_SETTINGS.items():
        if key in top and not isinstance(top[key], str):
            problems.append(Problem(key, top[key], f"must be text in quotes ({meaning})"))
            del top[key]
    raw_layers = data.get("layers", []) if isinstance(data, dict) else []
    if not isinstance(raw_layers, list):
        problems.append(Problem("layers", raw_layers, "must be an array of tables: [[layers]] type = \"Dense\" ..."))
        raw_layers = []
    layers = []
    for index, raw in enumerate(raw_layers):
        if not isinstance(raw, dict) or "type" not in raw:
            problems.append(Problem(f"layers[{index}]", raw, "must be a table with a 'type' key"))
            continue
        if not isinstance(raw["type"], str):
            problems.append(Problem(f"layers[{index}].type", raw["type"], "must be a layer type's name in quotes, such as \"Dense\""))
            continue
        params = {k: v for k, v in raw.items() if k != "type"}
        layers.append(LayerSpec(type=raw["type"], params=params))
    raw_compile = data.get("compile", {})
    if isinstance(raw_compile, dict):
        # Metrics follow the task now; files written before that still load.
        raw_compile = {k: v for k, v in raw_compile.items() if k != "metrics"}
    compile_data = _known_keys(raw_compile, CompileSettings, "compile.", problems)
    task = TASKS.get(str(top.get("task", "")))
    if task is not None and "loss" not in compile_data:
        compile_data["loss"] = task.default_loss()
    fit_data = _known_keys(data.get("fit", {}), FitSettings, "fit.", problems)
    if isinstance(fit_data.get("class_weight"), list):
        fit_data["class_weight"] = tuple(fit_data["class_weight"])
    data_settings = settings_from_dict(top.pop("data", None), problems)
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
        data=data_settings,
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
    from kerastui.core.user_paths import special_file_problem

    problem = special_file_problem(Path(path))
    if problem:
        raise ValueError(problem)
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot be read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"is not UTF-8 text (byte {error.start}); TOML files are UTF-8") from None
