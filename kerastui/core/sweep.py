"""Sweeps: many trials from one experiment, each an ordinary run directory.

An experiment TOML may carry a [sweep] table:

    [sweep]
    method = "grid"                 # or "random" (then trials = N and seed)
    objective = "val_accuracy"      # a logged metric; its best epoch ranks the trials
    goal = "max"                    # default: min for a loss, max otherwise
    [sweep.parameters]
    "compile.learning_rate" = [0.001, 0.01]           # a list of values
    "layers[1].units" = [32, 128]
    # random only: a range, log-uniform for learning rates
    # "compile.learning_rate" = { min = 1e-4, max = 1e-1, scale = "log" }

Fields are named by their path in the experiment: `compile.learning_rate`, `compile.optimizer`,
`fit.batch_size`, `fit.epochs`, `fit.validation_split`, `seed`, `layers[i].<parameter>`.
`load_sweep` reports every bad path or value at once, like the experiment's own validation.
"""

from __future__ import annotations

import itertools
import math
import random
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

import tomli_w

from kerastui.core import spec
from kerastui.core.layers import LAYERS
from kerastui.core.runs import SWEEP_DEFINITION
from kerastui.core.spec import Experiment, Problem, SpecError
from kerastui.core.tasks import TASKS, Task, all_monitors, metric_direction

METHODS = ("grid", "random")
GOALS = ("max", "min")
MAX_TRIALS = 1000  # a grid larger than this is a mistake on a workstation or a login node
SWEEP_FILE = SWEEP_DEFINITION  # one name for it, kept in runs (which lists a sweep's trials)
_LAYER_PATH = re.compile(r"^layers\[(\d+)\]\.(\w+)$")
_TOP_FIELDS = {"seed": int}
_SECTION_FIELDS = {"compile": spec.CompileSettings, "fit": spec.FitSettings, "data": spec.DataSettings}


@dataclass(frozen=True)
class Range:
    """A continuous range for random search; scale "log" samples log-uniformly."""

    minimum: float
    maximum: float
    scale: str = "linear"

    def sample(self, rng: random.Random) -> float:
        if self.scale == "log":
            return float(math.exp(rng.uniform(math.log(self.minimum), math.log(self.maximum))))
        return float(rng.uniform(self.minimum, self.maximum))


@dataclass(frozen=True)
class Sweep:
    parameters: tuple[tuple[str, tuple[Any, ...] | Range], ...]  # (path, values or range), in file order
    method: str = "grid"
    trials: int | None = None  # random search: how many
    seed: int = 0
    objective: str = "val_accuracy"
    goal: str = ""  # "" means: min for a loss, max otherwise
    # From this many epochs on, a trial whose best objective so far is worse than the median of
    # the other trials' at the same epoch is stopped (and recorded as stopped early, not failed).
    # 0: every trial runs to its end.
    stop_bad_after: int = 0

    @property
    def direction(self) -> str:
        # The metric's own direction: the highest AUC or accuracy, the lowest loss, MAE or RMSE.
        return self.goal or metric_direction(self.objective)

    def best(self, values: Iterable[float]) -> float | None:
        """The best of `values` in the sweep's direction (NaN left out), or None when there is none."""
        kept = [float(v) for v in values if v == v]
        if not kept:
            return None
        return max(kept) if self.direction == "max" else min(kept)

    def better(self, value: float, than: float) -> bool:
        """Whether `value` is strictly better than `than` for the objective."""
        return value > than if self.direction == "max" else value < than

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.parameters]

    @property
    def size(self) -> int:
        if self.method == "random":
            return int(self.trials or 0)
        return math.prod(len(values) for _, values in self.parameters)  # type: ignore[arg-type]

    def combinations(self) -> list[dict[str, Any]]:
        """Each trial's values, by path, in a stable order (grid: the file's order; random: seeded)."""
        if self.method == "grid":
            names = self.paths
            value_lists = [values for _, values in self.parameters]
            return [dict(zip(names, combo)) for combo in itertools.product(*value_lists)]
        rng = random.Random(self.seed)
        picks = []
        for _ in range(self.size):
            pick = {}
            for path, values in self.parameters:
                pick[path] = values.sample(rng) if isinstance(values, Range) else rng.choice(values)
            picks.append(pick)
        return picks


@dataclass(frozen=True)
class Trial:
    index: int
    params: dict[str, Any] = field(default_factory=dict)
    experiment: Experiment = field(default_factory=Experiment)

    @property
    def name(self) -> str:
        return f"trial-{self.index:03d}"


def trials(base: Experiment, sweep: Sweep) -> list[Trial]:
    out = []
    for index, params in enumerate(sweep.combinations()):
        experiment = base
        for path, value in params.items():
            experiment = apply(experiment, path, value)
        out.append(Trial(index, params, replace(experiment, name=f"{base.name}-t{index:03d}")))
    return out


def apply(experiment: Experiment, path: str, value: Any) -> Experiment:
    """The experiment with the field at `path` set to `value` (KeyError for an unknown path)."""
    if path in _TOP_FIELDS:
        return replace(experiment, **{path: value})
    section, _, name = path.partition(".")
    if section in _SECTION_FIELDS and name in {f for f in _SECTION_FIELDS[section].__dataclass_fields__}:
        return replace(experiment, **{section: replace(getattr(experiment, section), **{name: value})})
    match = _LAYER_PATH.match(path)
    if match:
        index, param = int(match.group(1)), match.group(2)
        if index >= len(experiment.layers):
            raise KeyError(f"there is no layer {index} (the experiment has {len(experiment.layers)})")
        layer = experiment.layers[index]
        rules = LAYERS[layer.type].params if layer.type in LAYERS else {}
        if param not in rules:
            allowed = ", ".join(rules) or "none"
            raise KeyError(f"layer {index} ({layer.type}) has no parameter {param!r}; it has: {allowed}")
        layers = list(experiment.layers)
        layers[index] = layer.with_params(**{param: value})
        return replace(experiment, layers=tuple(layers))
    raise KeyError("unknown field; sweep seed, compile.<name>, fit.<name>, data.<name> or layers[i].<parameter>")


# ---- reading and writing ----------------------------------------------------------------------------


def loads_sweep(text: str, source: str | None = None) -> tuple[Experiment, Sweep]:
    """The base experiment and its [sweep]; SpecError listing every problem of either."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError([Problem("toml", source or "<text>", f"not valid TOML: {error}")], source) from None
    table = data.pop("sweep", None)
    problems: list[Problem] = []
    try:
        base = spec.from_dict(data, source)
    except SpecError as error:
        problems.extend(error.problems)
        base = None
    if base is not None:
        problems.extend(base.problems())
    if table is None:
        problems.append(Problem("sweep", None, "missing: add a [sweep] table with [sweep.parameters]"))
        raise SpecError(problems, source)
    sweep, sweep_problems = sweep_from_table(table, base)
    problems.extend(sweep_problems)
    if problems:
        raise SpecError(problems, source)
    return base, sweep  # type: ignore[return-value]


def load_sweep(path: str | Path) -> tuple[Experiment, Sweep]:
    path = Path(path)
    try:
        text = spec.read_toml_text(path)
    except ValueError as error:
        raise SpecError([Problem("file", str(path), str(error))], str(path)) from None
    return loads_sweep(text, str(path))


def dumps_sweep(base: Experiment, sweep: Sweep) -> str:
    data = spec.to_dict(base)
    table: dict[str, Any] = {"method": sweep.method, "objective": sweep.objective}
    if sweep.goal:
        table["goal"] = sweep.goal
    if sweep.method == "random":
        table["trials"], table["seed"] = sweep.trials, sweep.seed
    if sweep.stop_bad_after:
        table["stop_bad_after"] = sweep.stop_bad_after
    parameters: dict[str, Any] = {}
    for path, values in sweep.parameters:
        if isinstance(values, Range):
            parameters[path] = {"min": values.minimum, "max": values.maximum, "scale": values.scale}
        else:
            parameters[path] = list(values)
    table["parameters"] = parameters
    data["sweep"] = table
    return tomli_w.dumps(data)


_SWEEP_KEYS = ("method", "trials", "seed", "objective", "goal", "stop_bad_after", "parameters")


def _task_of(base: Experiment | None, parameters: Any) -> Task | None:
    """The task every trial trains: the experiment's, else its built-in data set's (a constant,
    cheap to look up); None when unknown here (a file is not loaded to find out) or when the
    sweep varies the task or the data, so that trials may differ."""
    if base is None or (isinstance(parameters, dict) and {"task", "dataset"} & set(parameters)):
        return None
    if base.task:
        return TASKS.get(base.task)
    from kerastui.core.data import builtin_name, dataset_info

    if builtin_name(base.dataset) is None:
        return None
    try:
        return TASKS.get(dataset_info(base.dataset, settings=base.data).task)
    except Exception:  # noqa: BLE001 - a name the experiment's own check reports; the objective is not judged
        return None


def sweep_from_table(table: Any, base: Experiment | None) -> tuple[Sweep, list[Problem]]:
    """A [sweep] table (as TOML reads it, or as the app's sweep form builds it) checked against
    the base experiment: the sweep, and every problem found."""
    problems: list[Problem] = []
    if not isinstance(table, dict):
        return Sweep(()), [Problem("sweep", table, "must be a table")]
    for key in table:
        if key not in _SWEEP_KEYS:
            problems.append(Problem(f"sweep.{key}", table[key], f"unknown setting; allowed: {', '.join(_SWEEP_KEYS)}"))
    method = table.get("method", "grid")
    if method not in METHODS:
        problems.append(Problem("sweep.method", method, f"must be one of {', '.join(METHODS)}"))
    goal = table.get("goal", "")
    if goal and goal not in GOALS:
        problems.append(Problem("sweep.goal", goal, "must be max or min"))
    task = _task_of(base, table.get("parameters"))
    # Without an objective, the task's own metric (val_auc for binary, val_mae for regression).
    objective = table.get("objective", f"val_{task.chart_metric}" if task is not None else "val_accuracy")
    allowed = task.monitors() if task is not None else all_monitors()
    if not isinstance(objective, str) or not objective:
        problems.append(Problem("sweep.objective", objective, f"must be a metric name: {', '.join(allowed)}"))
    elif objective not in allowed:
        what = f"the {task.name} task logs" if task is not None else "training logs"
        problems.append(Problem("sweep.objective", objective, f"not a metric {what}; choose one of {', '.join(allowed)}"))
    stop_bad_after = table.get("stop_bad_after", 0)
    if isinstance(stop_bad_after, bool) or not isinstance(stop_bad_after, int) or stop_bad_after < 0:
        problems.append(Problem("sweep.stop_bad_after", stop_bad_after,
                                "must be a whole number of epochs (0: never stop a trial early)"))
        stop_bad_after = 0
    count = table.get("trials")
    seed = table.get("seed", 0)
    if method == "random":
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_TRIALS:
            problems.append(Problem("sweep.trials", count, f"random search needs a number of trials, 1 to {MAX_TRIALS}"))
        if isinstance(seed, bool) or not isinstance(seed, int):
            problems.append(Problem("sweep.seed", seed, "must be a whole number"))
    raw = table.get("parameters")
    parameters: list[tuple[str, Any]] = []
    if not isinstance(raw, dict) or not raw:
        problems.append(Problem("sweep.parameters", raw, "must name at least one field to vary, e.g. \"compile.learning_rate\" = [0.001, 0.01]"))
        raw = {}
    for path, values in raw.items():
        where = f"sweep.parameters.{path}"
        if isinstance(values, dict):
            rng, problem = _range(values, method)
            if problem:
                problems.append(Problem(where, values, problem))
                continue
            parameters.append((path, rng))
            checks = [rng.minimum, rng.maximum]
        elif isinstance(values, list):
            if not values:
                problems.append(Problem(where, values, "the list of values is empty"))
                continue
            parameters.append((path, tuple(values)))
            checks = list(values)
        else:
            problems.append(Problem(where, values, "must be a list of values or a {min, max, scale} range"))
            continue
        if base is not None:
            problems.extend(_value_problems(base, path, where, checks))
    sweep = Sweep(tuple(parameters), method if method in METHODS else "grid",
                  count if isinstance(count, int) else None, seed if isinstance(seed, int) else 0,
                  objective if isinstance(objective, str) else "val_accuracy", goal if goal in GOALS else "",
                  stop_bad_after)
    if method == "grid" and parameters and not any(isinstance(v, Range) for _, v in parameters):
        if sweep.size > MAX_TRIALS:
            problems.append(Problem("sweep.parameters", f"{sweep.size:,} combinations",
                                    f"a grid of more than {MAX_TRIALS} trials; use fewer values or method = \"random\""))
    return sweep, problems


def _range(values: dict[str, Any], method: str) -> tuple[Range, str]:
    if method == "grid":
        return Range(0, 1), "a range needs method = \"random\"; a grid takes a list of values"
    unknown = set(values) - {"min", "max", "scale"}
    if unknown:
        return Range(0, 1), f"unknown range keys {', '.join(sorted(unknown))}; use min, max and scale"
    low, high, scale = values.get("min"), values.get("max"), values.get("scale", "linear")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)) or not low < high:
        return Range(0, 1), "needs numbers min < max"
    if scale not in ("linear", "log"):
        return Range(0, 1), "scale must be linear or log"
    if scale == "log" and low <= 0:
        return Range(0, 1), "a log scale needs min > 0"
    return Range(float(low), float(high), scale), ""


def _value_problems(base: Experiment, path: str, where: str, values: list[Any]) -> list[Problem]:
    """Each value applied alone to the base experiment: the path must exist and the value be allowed."""
    problems = []
    for value in values:
        try:
            candidate = apply(base, path, value)
        except KeyError as error:
            return [Problem(where, path, str(error).strip("'\""))]
        except (TypeError, ValueError) as error:
            problems.append(Problem(where, value, str(error)))
            continue
        for problem in candidate.problems():
            problems.append(Problem(where, value, f"{problem.field}: {problem.message}"))
    return problems
