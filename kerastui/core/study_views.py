"""What a sweep's Optuna study says, as plain data for the terminal to draw: the optimisation
history (each trial's value and the best so far), parameter importances, the value against each
parameter, the pruned and failed trials, and the Pareto front of a study with several objectives.

    views = study_views(study)            # an optuna.Study; nothing here trains or draws
    views.history, views.importances, views.parameters, views.counts, views.pareto

No Textual, no Keras; optuna itself is only touched through the study handed in (and imported
lazily for its importance evaluators), so `kerastui sweep --show` and the app's worker thread
pay for it only when they ask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    import optuna

# Importance evaluators, by the name the views show. PED-ANOVA (Optuna's default since 4.x where
# it exists) also weighs conditional parameters; fANOVA only those set in every complete trial.
FANOVA = "fANOVA"
PED_ANOVA = "PED-ANOVA"
# Below this many complete trials an importance is noise (a random forest over 3 points, a top
# quantile of one trial): the view says so instead of drawing bars that look like knowledge.
MIN_TRIALS_FOR_IMPORTANCE = 5

COMPLETE, PRUNED, FAILED, RUNNING, WAITING = "complete", "pruned", "failed", "running", "waiting"


@dataclass(frozen=True)
class HistoryPoint:
    """One ended trial in trial order: its value, and the best value of complete trials so far
    (a pruned trial's value is its last reported one, and it never counts towards the best)."""

    number: int
    value: float
    best: float
    state: str = COMPLETE


@dataclass(frozen=True)
class Importances:
    """Each parameter's share of the objective's importance by `evaluator`, largest first; empty
    with `reason` when there is nothing to say yet. `note` qualifies values that are there;
    `left_out`: parameters the evaluator cannot weigh (conditional ones, for fANOVA), with why."""

    evaluator: str
    values: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    note: str = ""
    left_out: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ParameterValues:
    """The objective against one parameter, over the complete trials that set it. Numeric
    parameters keep their numbers (`log` for a log-scaled range); categorical ones their choices
    in the distribution's order, each point's x its choice's index."""

    name: str
    numeric: bool
    xs: list[float]
    values: list[float]
    numbers: list[int]
    log: bool = False
    choices: tuple[str, ...] = ()
    pruned_xs: list[float] = field(default_factory=list)  # where pruned trials were (their last value)
    pruned_values: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class TrialCounts:
    complete: int = 0
    pruned: int = 0
    failed: int = 0
    running: int = 0
    waiting: int = 0

    @property
    def total(self) -> int:
        return self.complete + self.pruned + self.failed + self.running + self.waiting

    def text(self) -> str:
        parts = [f"{self.complete} complete", f"{self.pruned} pruned", f"{self.failed} failed"]
        parts += [f"{n} {name}" for n, name in ((self.running, "running"), (self.waiting, "waiting")) if n]
        return ", ".join(parts)


@dataclass(frozen=True)
class ParetoPoint:
    number: int
    values: tuple[float, ...]
    params: dict[str, Any]
    on_front: bool


@dataclass(frozen=True)
class StudyViews:
    objectives: tuple[str, ...]  # one name per objective
    directions: tuple[str, ...]  # "max" or "min", one per objective
    history: list[HistoryPoint]
    importances: list[Importances]
    parameters: list[ParameterValues]
    counts: TrialCounts
    states: dict[int, str]  # trial number -> complete/pruned/failed/running/waiting
    pareto: list[ParetoPoint]  # every complete trial, on_front marking study.best_trials; [] for one objective
    epochs: int | None = None  # epochs trained over all trials (their "epochs" user attribute), None if unknown

    def counts_text(self) -> str:
        """'6 complete, 2 pruned, 1 failed, 23 epochs': the trials, and what pruning saved."""
        return self.counts.text() + (f", {self.epochs} epochs" if self.epochs is not None else "")

    @property
    def multi_objective(self) -> bool:
        return len(self.objectives) > 1

    def best_text(self) -> str:
        complete = [p for p in self.history if p.state == COMPLETE]
        if self.multi_objective:
            front = sum(p.on_front for p in self.pareto)
            return f"{front} trial{'s' if front != 1 else ''} on the Pareto front"
        if not complete:
            return "no complete trial yet"
        best = complete[-1].best
        number = next(p.number for p in complete if p.value == best)
        return f"best {self.objectives[0]} {best:.4g} (trial {number})"


def study_views(study: optuna.Study, objectives: tuple[str, ...] | list[str] | None = None,
                importance_evaluators: tuple[str, ...] = (PED_ANOVA, FANOVA)) -> StudyViews:
    """Everything the views draw, from one read of the study's trials. `objectives` names the
    values (default: the study's metric names, else "objective"); history, importances and the
    parameter values follow the first objective."""
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    directions = tuple("max" if d.name == "MAXIMIZE" else "min" for d in study.directions)
    names = tuple(objectives or getattr(study, "metric_names", None) or ())
    if len(names) != len(directions):
        names = ("objective",) if len(directions) == 1 else tuple(f"objective {i + 1}" for i in range(len(directions)))
    states = {t.number: _state(t) for t in trials}
    counts = TrialCounts(**{name: sum(s == state for s in states.values()) for name, state in
                            (("complete", COMPLETE), ("pruned", PRUNED), ("failed", FAILED),
                             ("running", RUNNING), ("waiting", WAITING))})
    complete = [t for t in trials if states[t.number] == COMPLETE and _finite(t.values)]
    return StudyViews(
        objectives=names,
        directions=directions,
        history=optimisation_history(trials, states, directions[0]),
        importances=[importances(study, complete, evaluator, len(directions)) for evaluator in importance_evaluators],
        parameters=parameter_values(trials, states),
        counts=counts,
        states=states,
        pareto=pareto_points(study, complete) if len(directions) > 1 else [],
        epochs=_epochs(trials),
    )


def _epochs(trials: list[Any]) -> int | None:
    counted = [t.user_attrs["epochs"] for t in trials if isinstance(t.user_attrs.get("epochs"), int)]
    return sum(counted) if counted else None


def _state(trial: Any) -> str:
    return {"COMPLETE": COMPLETE, "PRUNED": PRUNED, "FAIL": FAILED, "RUNNING": RUNNING}.get(trial.state.name, WAITING)


def _finite(values: Any) -> bool:
    return bool(values) and all(v is not None and math.isfinite(v) for v in values)


def _last_intermediate(trial: Any) -> float | None:
    """A pruned trial's value where the pruner stopped it: its last finite report."""
    reports = [(step, v) for step, v in trial.intermediate_values.items() if v is not None and math.isfinite(v)]
    return max(reports)[1] if reports else None


def optimisation_history(trials: list[Any], states: dict[int, str], direction: str) -> list[HistoryPoint]:
    """Complete and pruned trials in trial order, each with the best complete value so far
    (max or min by `direction`, the first objective); the best stays NaN until a trial completes."""
    better = max if direction == "max" else min
    best = math.nan
    points = []
    for trial in trials:
        state = states[trial.number]
        if state == COMPLETE and _finite(trial.values):
            value = trial.values[0]
            best = value if math.isnan(best) else better(best, value)
        elif state == PRUNED and (value := _last_intermediate(trial)) is not None:
            pass
        else:
            continue
        points.append(HistoryPoint(trial.number, float(value), float(best), state))
    return points


def importances(study: optuna.Study, complete: list[Any], evaluator: str, n_objectives: int = 1) -> Importances:
    """Optuna's importances of the parameters for the first objective, or why there are none."""
    varied = sorted({name for t in complete for name in t.params})
    if len(complete) < MIN_TRIALS_FOR_IMPORTANCE:
        return Importances(evaluator, reason=f"importances need at least {MIN_TRIALS_FOR_IMPORTANCE} complete "
                                             f"trials ({len(complete)} so far)")
    if not varied:
        return Importances(evaluator, reason="the trials vary no parameter")
    if len(varied) == 1:
        return Importances(evaluator, {varied[0]: 1.0}, note=f"only {varied[0]} varies: it holds all the importance")
    import optuna.importance as optuna_importance

    left_out: dict[str, str] = {}
    if evaluator == PED_ANOVA:
        if not hasattr(optuna_importance, "PedAnovaImportanceEvaluator"):
            return Importances(evaluator, reason=f"this Optuna ({_version()}) has no PED-ANOVA evaluator (3.6 added it)")
        judge = optuna_importance.PedAnovaImportanceEvaluator()
        params = None
    else:
        judge = optuna_importance.FanovaImportanceEvaluator(seed=0)  # seeded: the same bars each redraw
        everywhere = [name for name in varied if all(name in t.params for t in complete)]
        left_out = {name: "not set in every complete trial" for name in varied if name not in everywhere}
        if not everywhere:
            return Importances(evaluator, reason="no parameter is set in every complete trial", left_out=left_out)
        params = everywhere
    # No target where the evaluator can do without: PED-ANOVA then reads the study's directions
    # (given a target it ranks for *low* values, which would invert a maximised objective), for
    # several objectives all of them; fANOVA (variance, no direction) needs one to be named.
    target = None if n_objectives == 1 or evaluator == PED_ANOVA else (lambda t: t.values[0])
    try:
        values = optuna_importance.get_param_importances(study, evaluator=judge, params=params, target=target)
    except (ValueError, RuntimeError, ZeroDivisionError, ImportError) as error:
        return Importances(evaluator, reason=f"{evaluator} could not weigh them: {error}", left_out=left_out)
    ordered = dict(sorted(((k, float(v)) for k, v in values.items()), key=lambda kv: -kv[1]))
    note = "" if n_objectives == 1 else ("for all objectives" if target is None else "for the first objective")
    return Importances(evaluator, ordered, note=note, left_out=left_out)


def _version() -> str:
    import optuna

    return optuna.__version__


def parameter_values(trials: list[Any], states: dict[int, str]) -> list[ParameterValues]:
    """For each parameter (in the order trials first set it), the first objective of each complete
    trial that set it, and where pruned trials stopped."""
    order: dict[str, Any] = {}
    for trial in trials:
        for name, distribution in trial.distributions.items():
            order.setdefault(name, distribution)
    found = []
    for name, distribution in order.items():
        choices = tuple(str(c) for c in getattr(distribution, "choices", ()))
        numeric = not choices
        xs, values, numbers, pruned_xs, pruned_values = [], [], [], [], []
        for trial in trials:
            if name not in trial.params:
                continue
            x = float(trial.params[name]) if numeric else float(choices.index(str(trial.params[name])))
            if states[trial.number] == COMPLETE and _finite(trial.values):
                xs.append(x)
                values.append(float(trial.values[0]))
                numbers.append(trial.number)
            elif states[trial.number] == PRUNED and (last := _last_intermediate(trial)) is not None:
                pruned_xs.append(x)
                pruned_values.append(float(last))
        found.append(ParameterValues(name, numeric, xs, values, numbers, log=bool(getattr(distribution, "log", False)),
                                     choices=choices, pruned_xs=pruned_xs, pruned_values=pruned_values))
    return found


def pareto_points(study: optuna.Study, complete: list[Any]) -> list[ParetoPoint]:
    """Every complete trial's objective values, those of study.best_trials (the front) marked."""
    front = {t.number for t in study.best_trials}
    return [ParetoPoint(t.number, tuple(float(v) for v in t.values), dict(t.params), t.number in front)
            for t in complete]


def views_key(study: optuna.Study) -> tuple:
    """What the views depend on, cheap to read: each trial's number, state and value count. The app
    recomputes the views (importances fit a forest) only when this changes."""
    return tuple((t.number, t.state.name, len(t.intermediate_values), tuple(t.values or ()))
                 for t in study.get_trials(deepcopy=False))
