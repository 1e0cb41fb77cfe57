"""A sweep's definition: the [sweep] table of an experiment TOML, checked, and mapped to Optuna's
samplers, distributions and pruners (kerastui.core.sweep_study keeps the study, sweep_worker
runs its trials).

    [sweep]
    method = "tpe"                  # tpe (default) | cmaes | random | grid
    trials = 16                     # the budget: trials that end (a grid: its size, by default)
    seed = 0                        # the sampler's seed
    objective = "val_accuracy"      # a logged metric (its best epoch scores the trial), or a list
    goal = "max"                    # default: the metric's own direction; a list beside a list
    retries = 2                     # a trial whose worker was killed is tried again this often
    [sweep.parameters]
    "compile.learning_rate" = { min = 1e-4, max = 1e-1, scale = "log" }   # a float range
    "layers[1].units" = { min = 16, max = 256, scale = "log" }            # whole numbers: an int range
    "fit.batch_size" = [16, 32, 64]                                       # a list: categorical
    "compile.loss" = ["mse", "huber"]
    # only sampled when its parent has one of these values (listed after the parent)
    "compile.huber_delta" = { min = 0.5, max = 2.0, when = { "compile.loss" = "huber" } }
    # several objectives: a Pareto front (param_count: the model's size, lowest best)
    # objective = ["val_accuracy", "param_count"]
    [sweep.pruner]
    type = "median"                 # median | successive_halving | hyperband | none (default)
    startup_trials = 3              # trials that finish before any is pruned
    warmup_epochs = 1               # epochs each trial trains before it can be pruned

Fields are named by their path in the experiment: `compile.<name>`, `fit.<name>`, `data.<name>`,
`seed`, `layers[i].<parameter>`. `load_sweep` reports every bad path or value at once, like the
experiment's own validation, before anything runs. Optuna is imported only to sample or prune.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from kerastui.core import spec
from kerastui.core.layers import LAYERS
from kerastui.core.runs import SWEEP_DEFINITION
from kerastui.core.spec import Experiment, Problem, SpecError
from kerastui.core.tasks import TASKS, Task, all_monitors, metric_direction

METHODS = ("tpe", "cmaes", "random", "grid")
GOALS = ("max", "min")
PRUNERS = ("none", "median", "successive_halving", "hyperband")
MAX_TRIALS = 1000  # a budget larger than this is a mistake on a workstation or a login node
SWEEP_FILE = SWEEP_DEFINITION  # one name for it, kept in runs (which lists a sweep's trials)
# Not a logged metric: the model's parameter count, to trade accuracy against size (a Pareto front).
PARAM_COUNT = "param_count"
DEFAULT_RETRIES = 2
_LAYER_PATH = re.compile(r"^layers\[(\d+)\]\.(\w+)$")
_TOP_FIELDS = {"seed": int}
_SECTION_FIELDS = {"compile": spec.CompileSettings, "fit": spec.FitSettings, "data": spec.DataSettings}
_SWEEP_KEYS = ("method", "trials", "seed", "objective", "goal", "retries", "random_trials", "parameters", "pruner")
_RANGE_KEYS = ("min", "max", "scale", "step", "when")
# Each pruner's own settings beside the shared startup_trials and warmup_epochs, with their defaults.
_PRUNER_SETTINGS: dict[str, dict[str, Any]] = {
    "none": {},
    "median": {"interval_epochs": 1, "min_trials": 1},
    "successive_halving": {"min_resource": 1, "reduction_factor": 4, "min_early_stopping_rate": 0},
    "hyperband": {"min_resource": 1, "max_resource": 0, "reduction_factor": 3},  # 0: the trials' epochs
}


@dataclass(frozen=True)
class Parameter:
    """One varied field: a list of values (categorical; a grid's points) or a range of numbers
    (`integer` for a field of whole numbers), sampled only where `when` holds: each (parent path,
    values) pair asks that the parent was sampled with one of those values."""

    path: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    integer: bool = False
    when: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    @property
    def is_range(self) -> bool:
        return self.low is not None

    def applies(self, chosen: dict[str, Any]) -> bool:
        """Whether this parameter exists for a trial whose earlier parameters are `chosen`."""
        return all(parent in chosen and chosen[parent] in allowed for parent, allowed in self.when)

    def suggest(self, trial: Any) -> Any:
        """The value Optuna's trial gives this parameter (sampled, or fixed for a retried trial)."""
        if not self.is_range:
            return trial.suggest_categorical(self.path, list(self.values))
        if self.integer:
            return trial.suggest_int(self.path, int(self.low), int(self.high), step=int(self.step or 1), log=self.log)
        return trial.suggest_float(self.path, float(self.low), float(self.high), step=self.step, log=self.log)

    def to_toml(self, as_table: bool = False) -> Any:
        """A list, or a table (a range; values with a condition; or `as_table`, so that a file
        mixing both keeps its order: TOML writers put plain lists before tables)."""
        if not self.is_range and not self.when and not as_table:
            return list(self.values)
        table: dict[str, Any] = {}
        if self.is_range:
            table.update({"min": _number(self.low, self.integer), "max": _number(self.high, self.integer)})
            if self.log:
                table["scale"] = "log"
            if self.step is not None:
                table["step"] = _number(self.step, self.integer)
        else:
            table["values"] = list(self.values)
        if self.when:
            table["when"] = {parent: list(allowed) if len(allowed) > 1 else allowed[0] for parent, allowed in self.when}
        return table


def _number(value: float | None, integer: bool) -> Any:
    return int(value) if integer and value is not None else value


@dataclass(frozen=True)
class PrunerSettings:
    """[sweep.pruner]: which of Optuna's pruners stops hopeless trials, and when it may."""

    type: str = "none"
    startup_trials: int = 3  # trials that must finish before any trial is pruned
    warmup_epochs: int = 1  # epochs every trial trains before it can be pruned
    options: tuple[tuple[str, Any], ...] = ()  # the pruner's own settings, as given

    def option(self, name: str) -> Any:
        return dict(self.options).get(name, _PRUNER_SETTINGS.get(self.type, {}).get(name))

    def make(self, epochs: int) -> Any:
        """The Optuna pruner (NopPruner for "none"); `epochs`: the trials' planned epochs."""
        import optuna

        if self.type == "median":
            return optuna.pruners.MedianPruner(n_startup_trials=self.startup_trials, n_warmup_steps=self.warmup_epochs,
                                               interval_steps=self.option("interval_epochs"),
                                               n_min_trials=self.option("min_trials"))
        if self.type == "successive_halving":
            return optuna.pruners.SuccessiveHalvingPruner(
                min_resource=self.option("min_resource"), reduction_factor=self.option("reduction_factor"),
                min_early_stopping_rate=self.option("min_early_stopping_rate"))
        if self.type == "hyperband":
            return optuna.pruners.HyperbandPruner(
                min_resource=self.option("min_resource"), max_resource=self.option("max_resource") or max(1, epochs),
                reduction_factor=self.option("reduction_factor"))
        return optuna.pruners.NopPruner()

    def to_toml(self) -> dict[str, Any]:
        return {"type": self.type, "startup_trials": self.startup_trials, "warmup_epochs": self.warmup_epochs,
                **dict(self.options)}


@dataclass(frozen=True)
class Sweep:
    parameters: tuple[Parameter, ...] = ()  # in file order: a conditional one after its parent
    method: str = "tpe"
    trials: int = 0  # the budget: trials that end (finished, pruned or failed for good)
    seed: int = 0
    objectives: tuple[str, ...] = ("val_accuracy",)
    goals: tuple[str, ...] = ()  # one per objective ("" or missing: the metric's own direction)
    pruner: PrunerSettings = field(default_factory=PrunerSettings)
    retries: int = DEFAULT_RETRIES  # a trial whose worker was killed is tried again at most this often
    random_trials: int | None = None  # tpe/cmaes: trials sampled at random before the model (None: a quarter)

    @property
    def objective(self) -> str:
        """The first objective (the only one, unless the sweep looks for a Pareto front)."""
        return self.objectives[0]

    @property
    def directions(self) -> tuple[str, ...]:
        # Each metric's own direction: the highest AUC or accuracy, the lowest loss, MAE, size.
        goals = tuple(self.goals) + ("",) * (len(self.objectives) - len(self.goals))
        return tuple(goal or _direction_of(name) for name, goal in zip(self.objectives, goals))

    @property
    def direction(self) -> str:
        return self.directions[0]

    @property
    def several(self) -> bool:
        return len(self.objectives) > 1

    def best(self, values: Any, objective: int = 0) -> float | None:
        """The best of `values` in that objective's direction (NaN left out), or None when there is none."""
        kept = [float(v) for v in values if v is not None and v == v]
        if not kept:
            return None
        return max(kept) if self.directions[objective] == "max" else min(kept)

    @property
    def paths(self) -> list[str]:
        return [parameter.path for parameter in self.parameters]

    def grid_points(self) -> list[dict[str, Any]]:
        """A grid's combinations in the file's order (the first value of the first field first):
        queued so, trial-000 is the first combination, as a person reading the file expects."""
        import itertools

        paths = self.paths
        return [dict(zip(paths, combo)) for combo in itertools.product(*(p.values for p in self.parameters))]

    @property
    def grid_size(self) -> int:
        return math.prod(len(p.values) for p in self.parameters) if self.parameters else 0

    @property
    def size(self) -> int:
        """The budget: how many trials end before the sweep does."""
        return self.trials or (self.grid_size if self.method == "grid" else 0)

    # ---- Optuna ---------------------------------------------------------------------------------

    def optuna_directions(self) -> list[str]:
        return ["maximize" if d == "max" else "minimize" for d in self.directions]

    def sampler(self, seed: int | None = None) -> Any:
        """The Optuna sampler for `method`, seeded (the study's seed when `seed` is None)."""
        import optuna

        seed = self.seed if seed is None else seed
        startup = self.random_trials if self.random_trials is not None else max(2, min(10, self.size // 4))
        if self.method == "grid":
            return optuna.samplers.GridSampler({p.path: list(p.values) for p in self.parameters}, seed=seed)
        if self.method == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if self.method == "cmaes":
            return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=startup, warn_independent_sampling=False,
                                                independent_sampler=optuna.samplers.RandomSampler(seed=seed))
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)

    def suggest(self, trial: Any) -> dict[str, Any]:
        """Each parameter's value for an Optuna trial, by path (conditional ones only where they apply)."""
        chosen: dict[str, Any] = {}
        for parameter in self.parameters:
            if parameter.applies(chosen):
                chosen[parameter.path] = parameter.suggest(trial)
        return chosen


def _direction_of(objective: str) -> str:
    return "min" if objective == PARAM_COUNT else metric_direction(objective)


def trial_experiment(base: Experiment, params: dict[str, Any], number: int) -> Experiment:
    """The base experiment with a trial's values applied, named after the trial."""
    experiment = base
    for path, value in params.items():
        experiment = apply(experiment, path, value)
    return replace(experiment, name=f"{base.name}-t{number:03d}")


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


def _field_kind(base: Experiment | None, path: str) -> type | None:
    """The Python type the field at `path` holds (int, float, str...), None when unknown."""
    if path in _TOP_FIELDS:
        return _TOP_FIELDS[path]
    section, _, name = path.partition(".")
    if section in _SECTION_FIELDS:
        kinds = {f.name: f.default for f in fields(_SECTION_FIELDS[section])}
        default = kinds.get(name)
        return type(default) if isinstance(default, (int, float)) and not isinstance(default, bool) else None
    match = _LAYER_PATH.match(path)
    if match and base is not None and int(match.group(1)) < len(base.layers):
        layer = base.layers[int(match.group(1))]
        rule = LAYERS[layer.type].params.get(match.group(2)) if layer.type in LAYERS else None
        return getattr(rule, "kind", None)
    return None


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
    table: dict[str, Any] = {"method": sweep.method, "seed": sweep.seed}
    if sweep.trials:  # a grid without one runs each combination once
        table["trials"] = sweep.trials
    table["objective"] = list(sweep.objectives) if sweep.several else sweep.objective
    if any(sweep.goals):
        table["goal"] = list(sweep.goals) if sweep.several else sweep.goals[0]
    table["retries"] = sweep.retries
    if sweep.random_trials is not None:
        table["random_trials"] = sweep.random_trials
    tables = any(p.is_range or p.when for p in sweep.parameters)
    table["parameters"] = {p.path: p.to_toml(as_table=tables) for p in sweep.parameters}
    if sweep.pruner.type != "none":
        table["pruner"] = sweep.pruner.to_toml()
    data["sweep"] = table
    return tomli_w.dumps(data)


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


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def sweep_from_table(table: Any, base: Experiment | None) -> tuple[Sweep, list[Problem]]:
    """A [sweep] table (as TOML reads it, or as the app's sweep form builds it) checked against
    the base experiment: the sweep, and every problem found."""
    problems: list[Problem] = []
    if not isinstance(table, dict):
        return Sweep(()), [Problem("sweep", table, "must be a table")]
    for key in table:
        if key == "stop_bad_after":  # the hand-written median rule, before Optuna's pruners
            problems.append(Problem("sweep.stop_bad_after", table[key], "no longer a setting: use a pruner, "
                                    "[sweep.pruner] type = \"median\" with warmup_epochs (and startup_trials)"))
        elif key not in _SWEEP_KEYS:
            problems.append(Problem(f"sweep.{key}", table[key], f"unknown setting; allowed: {', '.join(_SWEEP_KEYS)}"))
    method = table.get("method", "tpe")
    if method not in METHODS:
        problems.append(Problem("sweep.method", method, f"unknown sampler; must be one of {', '.join(METHODS)}"))
    objectives, goals = _objectives(table, base, problems)
    seed = table.get("seed", 0)
    if not _whole(seed):
        problems.append(Problem("sweep.seed", seed, "must be a whole number"))
        seed = 0
    retries = table.get("retries", DEFAULT_RETRIES)
    if not _whole(retries) or not 0 <= retries <= 100:
        problems.append(Problem("sweep.retries", retries, "must be a whole number of retries, 0 to 100"))
        retries = DEFAULT_RETRIES
    random_trials = table.get("random_trials")
    if random_trials is not None and (not _whole(random_trials) or random_trials < 1):
        problems.append(Problem("sweep.random_trials", random_trials, "must be a whole number of trials, 1 or more"))
        random_trials = None
    parameters = _parameters(table.get("parameters"), base, method, problems)
    pruner = _pruner(table.get("pruner"), problems)
    count = table.get("trials")
    if count is not None and (not _whole(count) or not 1 <= count <= MAX_TRIALS):
        what = "a budget of 0 runs nothing" if count == 0 else "must be a whole number"
        problems.append(Problem("sweep.trials", count, f"{what}; give the number of trials, 1 to {MAX_TRIALS}"))
        count = None
    sweep = Sweep(tuple(parameters), method if method in METHODS else "tpe", count or 0, seed, objectives, goals,
                  pruner, retries, random_trials)
    if method == "grid" and any(p.when for p in parameters):
        problems.append(Problem("sweep.method", method, "a grid cannot hold conditional parameters (when); "
                                "use method = \"tpe\" or \"random\""))
    elif method == "grid" and parameters and not any(p.is_range for p in parameters):
        size = sweep.grid_size
        if count is not None and size > count:
            problems.append(Problem("sweep.trials", count, f"the grid has {size:,} combinations, more than the budget "
                                    f"of {count} allows; raise trials to {size}, use fewer values, or method = \"tpe\""))
        elif count is not None and size < count:
            problems.append(Problem("sweep.trials", count, f"the grid has only {size:,} combinations; trials = {count} "
                                    f"would repeat them (leave trials out: a grid runs each once)"))
        elif size > MAX_TRIALS:
            problems.append(Problem("sweep.parameters", f"{size:,} combinations",
                                    f"a grid of more than {MAX_TRIALS} trials; use fewer values or method = \"tpe\""))
    elif method in METHODS and method != "grid" and count is None and not any(p.field == "sweep.trials" for p in problems):
        problems.append(Problem("sweep.trials", None, f"missing: a {method} sweep needs a budget, e.g. trials = 16"))
    if sweep.several and method == "cmaes":
        problems.append(Problem("sweep.method", method, "CMA-ES optimises one objective; use tpe or random for several"))
    if pruner.type != "none" and PARAM_COUNT in objectives:
        problems.append(Problem("sweep.pruner.type", pruner.type, f"{PARAM_COUNT} does not change while a trial "
                                "trains; prune on a logged metric, or use type = \"none\""))
    elif sweep.several and pruner.type != "none":
        problems.append(Problem("sweep.pruner.type", pruner.type,
                                "pruning compares one objective epoch by epoch; use type = \"none\" with several objectives"))
    return sweep, problems


def _objectives(table: dict[str, Any], base: Experiment | None, problems: list[Problem]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    task = _task_of(base, table.get("parameters"))
    allowed = (*(task.monitors() if task is not None else all_monitors()), PARAM_COUNT)
    # Without an objective, the task's own metric (val_auc for binary, val_mae for regression).
    given = table.get("objective", f"val_{task.chart_metric}" if task is not None else "val_accuracy")
    names = given if isinstance(given, list) else [given]
    if not names or not all(isinstance(n, str) and n for n in names):
        problems.append(Problem("sweep.objective", given, f"must be a metric name (or a list of them): {', '.join(allowed)}"))
        names = ["val_accuracy"]
    for name in names:
        if name not in allowed:
            what = f"the {task.name} task logs" if task is not None else "training logs"
            problems.append(Problem("sweep.objective", name, f"unknown objective: not a metric {what}; "
                                    f"choose one of {', '.join(allowed)}"))
    if len(set(names)) < len(names):
        problems.append(Problem("sweep.objective", given, "names an objective twice"))
    goal = table.get("goal", "")
    goals = goal if isinstance(goal, list) else [goal]
    if any(g and g not in GOALS for g in goals):
        problems.append(Problem("sweep.goal", goal, "must be max or min (a list of them beside a list of objectives)"))
        goals = []
    elif goal and len(goals) != len(names):
        problems.append(Problem("sweep.goal", goal, f"gives {len(goals)} goal(s) for {len(names)} objective(s)"))
        goals = []
    return tuple(names), tuple(g for g in goals if g) if all(goals) else ()


def _parameters(raw: Any, base: Experiment | None, method: str, problems: list[Problem]) -> list[Parameter]:
    if not isinstance(raw, dict) or not raw:
        problems.append(Problem("sweep.parameters", raw, "must name at least one field to vary, e.g. \"compile.learning_rate\" = [0.001, 0.01]"))
        return []
    out: list[Parameter] = []
    for path, given in raw.items():
        where = f"sweep.parameters.{path}"
        parameter, problem = _parameter(path, given, method, _field_kind(base, path))
        if problem:
            problems.append(Problem(where, given, problem))
            continue
        known = {p.path: p for p in out}
        for parent, allowed in parameter.when:
            if parent not in known:
                later = parent in raw
                problems.append(Problem(where, parent, f"conditional on {parent}, which is {'listed after it' if later else 'not a swept parameter'}; "
                                        f"{'list the parent first' if later else f'add {parent} to [sweep.parameters]'}"))
            elif not known[parent].is_range:
                missing = [v for v in allowed if v not in known[parent].values]
                if missing:
                    problems.append(Problem(where, parent, f"when {parent} is {', '.join(map(repr, missing))}: "
                                            f"not one of its values ({', '.join(map(repr, known[parent].values))})"))
        out.append(parameter)
        if base is not None:
            checks = list(parameter.values) if not parameter.is_range else [parameter.low, parameter.high]
            if parameter.integer:
                checks = [int(v) for v in checks]
            problems.extend(_value_problems(_as_conditioned(base, parameter), path, where, checks))
    return out


def _parameter(path: str, given: Any, method: str, kind: type | None) -> tuple[Parameter, str]:
    if isinstance(given, list):
        return (Parameter(path, tuple(given)), "") if given else (Parameter(path), "the list of values is empty")
    if not isinstance(given, dict):
        return Parameter(path), "must be a list of values or a { min, max, scale } range"
    when, problem = _condition(given.get("when", {}))
    if problem:
        return Parameter(path), problem
    if "values" in given:
        unknown = set(given) - {"values", "when"}
        values = given["values"]
        if unknown:
            return Parameter(path), f"unknown keys {', '.join(sorted(unknown))}; a list of values takes values and when"
        if not isinstance(values, list) or not values:
            return Parameter(path), "values must be a list of one or more values"
        return Parameter(path, tuple(values), when=when), ""
    unknown = set(given) - set(_RANGE_KEYS)
    if unknown:
        return Parameter(path), f"unknown range keys {', '.join(sorted(unknown))}; use {', '.join(_RANGE_KEYS)} (or values)"
    if method == "grid":
        return Parameter(path), "a range needs a sampler (method = \"tpe\", \"random\" or \"cmaes\"); a grid takes a list of values"
    low, high, scale, step = given.get("min"), given.get("max"), given.get("scale", "linear"), given.get("step")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
    if not numbers or not low < high:
        return Parameter(path), "needs numbers min < max"
    if scale not in ("linear", "log"):
        return Parameter(path), "scale must be linear or log"
    if scale == "log" and low <= 0:
        return Parameter(path), "a log scale needs min > 0"
    if step is not None and (not isinstance(step, (int, float)) or isinstance(step, bool) or step <= 0 or scale == "log"):
        return Parameter(path), "step must be a number above 0, on a linear scale only"
    integer = kind is int or (kind is None and _whole(low) and _whole(high))
    if integer and not (_whole(low) and _whole(high) and (step is None or _whole(step))):
        return Parameter(path), "this field takes whole numbers: give whole min, max (and step)"
    return Parameter(path, (), low, high, scale == "log", step, integer, when), ""


def _condition(given: Any) -> tuple[tuple[tuple[str, tuple[Any, ...]], ...], str]:
    if not isinstance(given, dict):
        return (), "when must be a table: { \"<parent path>\" = value or [values] }"
    out = []
    for parent, allowed in given.items():
        values = tuple(allowed) if isinstance(allowed, list) else (allowed,)
        if not values:
            return (), f"when {parent}: give at least one value"
        out.append((parent, values))
    return tuple(out), ""


def _pruner(raw: Any, problems: list[Problem]) -> PrunerSettings:
    if raw is None:
        return PrunerSettings()
    if not isinstance(raw, dict):
        problems.append(Problem("sweep.pruner", raw, "must be a table with type = \"median\", \"successive_halving\", \"hyperband\" or \"none\""))
        return PrunerSettings()
    kind = raw.get("type", "median")
    if kind not in PRUNERS:
        problems.append(Problem("sweep.pruner.type", kind, f"unknown pruner; must be one of {', '.join(PRUNERS)}"))
        return PrunerSettings()
    own = _PRUNER_SETTINGS[kind]
    settings: dict[str, int] = {}
    for key, value in raw.items():
        if key == "type":
            continue
        if key not in ("startup_trials", "warmup_epochs", *own):
            allowed = ", ".join(("startup_trials", "warmup_epochs", *own))
            problems.append(Problem(f"sweep.pruner.{key}", value, f"not a setting of the {kind} pruner; it has: {allowed}"))
            continue
        smallest = 2 if key == "reduction_factor" else (0 if key in ("startup_trials", "warmup_epochs", "min_early_stopping_rate", "max_resource") else 1)
        if not _whole(value) or value < smallest:
            problems.append(Problem(f"sweep.pruner.{key}", value, f"must be a whole number, {smallest} or more"))
            continue
        settings[key] = value
    startup = settings.pop("startup_trials", PrunerSettings.startup_trials)
    warmup = settings.pop("warmup_epochs", PrunerSettings.warmup_epochs)
    return PrunerSettings(kind, startup, warmup, tuple(settings.items()))


def _as_conditioned(base: Experiment, parameter: Parameter) -> Experiment:
    """The base experiment as a trial that samples `parameter` has it: each parent at a value its
    condition allows (a momentum for sgd is checked on sgd, not on the base's adam). A parent that
    cannot be applied is left as it is; its own check reports it."""
    for parent, allowed in parameter.when:
        try:
            base = apply(base, parent, allowed[0])
        except (KeyError, TypeError, ValueError):
            continue
    return base


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
