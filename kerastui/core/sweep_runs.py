"""A sweep on disk: a directory holding its definition and one ordinary run directory per trial.

    <runs>/<time>-sweep-<name>/
        sweep.toml        the base experiment and its [sweep] table, as run
        trials.json       each trial: its index, the values it varies, its run directory's name
        trial-000/ ...    ordinary run directories (config.toml, metrics.jsonl, model, evaluation)

Trials run on the local run queue (kerastui.core.launcher), N at a time. A sweep interrupted
and continued runs only the trials that have not finished; a trial that stopped, failed or was
interrupted runs again in a fresh directory (trial-003-r2), its earlier one kept.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kerastui.core.atomic import write_text_atomic
from kerastui.core.runs import (
    QUEUED,
    RunRecord,
    RunWriter,
    default_runs_root,
    load_run,
    read_info,
    read_status,
    safe_name,
)
from kerastui.core.spec import Experiment
from kerastui.core.sweep import SWEEP_FILE, Sweep, Trial, dumps_sweep, load_sweep, trials

TRIALS_FILE = "trials.json"


def is_sweep_dir(path: Path) -> bool:
    return (Path(path) / SWEEP_FILE).is_file()


def create_sweep_dir(base: Experiment, sweep: Sweep, root: Path | None = None) -> Path:
    root = Path(root) if root is not None else default_runs_root()
    root.mkdir(parents=True, exist_ok=True)
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-sweep-{base.name}"
    path, suffix = root / stem, 2
    while True:
        try:
            path.mkdir()
            break
        except FileExistsError:
            path, suffix = root / f"{stem}-{suffix}", suffix + 1
    write_text_atomic(path / SWEEP_FILE, dumps_sweep(base, sweep))
    _write_trials(path, {t.index: {"index": t.index, "params": t.params, "run": t.name} for t in trials(base, sweep)})
    return path.resolve()


def _write_trials(path: Path, table: dict[int, dict[str, Any]]) -> None:
    write_text_atomic(path / TRIALS_FILE, json.dumps([table[i] for i in sorted(table)], indent=2) + "\n")


def read_trials(path: Path) -> dict[int, dict[str, Any]]:
    try:
        return {int(row["index"]): row for row in json.loads((Path(path) / TRIALS_FILE).read_text(encoding="utf-8"))}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def prepare_pending_trials(sweep_dir: Path, status: str = QUEUED) -> list[Path]:
    """Run directories, marked `status` (queued for the local queue, prepared for a job array),
    for every trial that has not finished yet (all of them the first time). Finished trials are
    left exactly as they are."""
    sweep_dir = Path(sweep_dir)
    base, sweep = load_sweep(sweep_dir / SWEEP_FILE)
    table = read_trials(sweep_dir)
    prepared = []
    for trial in trials(base, sweep):
        row = table.setdefault(trial.index, {"index": trial.index, "params": trial.params, "run": trial.name})
        run_dir = sweep_dir / row["run"]
        before = read_status(run_dir) if run_dir.exists() else None
        if before == "finished" or (before == "stopped" and stopped_early(load_run(run_dir))):
            continue  # done: it ended, or the sweep's rule stopped it as clearly bad
        if before is not None:  # ran before and did not finish: a fresh directory, the old one kept
            attempt = 2
            while (sweep_dir / f"{trial.name}-r{attempt}").exists():
                attempt += 1
            row["run"] = f"{trial.name}-r{attempt}"
            run_dir = sweep_dir / row["run"]
        prepared.append(_prepare_trial(run_dir, trial, sweep_dir, status))
    _write_trials(sweep_dir, table)
    return prepared


def _prepare_trial(run_dir: Path, trial: Trial, sweep_dir: Path, status: str) -> Path:
    writer = RunWriter.open(run_dir, trial.experiment)
    try:
        writer.set_status(status)
        writer.update_info(launcher="local", sweep=sweep_dir.name, trial=trial.index, trial_params=trial.params)
    finally:
        writer.close()
    return run_dir.resolve()


def submit_array(sweep_dir: Path, settings: Any, parallel: int = 0, workdir: Path | None = None) -> tuple[str, list[Path]]:
    """Submit the sweep's unfinished trials as ONE Slurm job array (one task per trial, at most
    `parallel` at a time); returns the job id and the trials' run directories."""
    import sys

    from kerastui.core import slurm
    from kerastui.core.slurm_script import SCRIPT_NAME, JobScript, render_sbatch_script

    sweep_dir = Path(sweep_dir).resolve()
    base, _ = load_sweep(sweep_dir / SWEEP_FILE)
    slurm.check_dataset_offline(base.dataset, base.data)
    runs = prepare_pending_trials(sweep_dir, status=slurm.PREPARED)
    if not runs:
        return "", []
    job = JobScript(
        run_dir=sweep_dir,
        python=sys.executable,
        workdir=(workdir or Path.cwd()).resolve(),
        job_name=f"kerastui-sweep-{safe_name(base.name)}",
        backend=base.backend,
        pythonpath=slurm.source_checkout(),
        array_runs=tuple(run.name for run in runs),
        array_parallel=parallel,
    )
    write_text_atomic(sweep_dir / SCRIPT_NAME, render_sbatch_script(settings, job))
    job_id = slurm.sbatch(sweep_dir / SCRIPT_NAME)
    table = read_trials(sweep_dir)
    by_run = {row["run"]: index for index, row in table.items()}
    for task, run in enumerate(runs):
        writer = RunWriter(run)
        writer.update_info(slurm_job_id=f"{job_id}_{task}", submitted_time=time.time())
        if read_status(run) == slurm.PREPARED:
            writer.set_status(slurm.SUBMITTED)
        table[by_run[run.name]]["slurm_job_id"] = f"{job_id}_{task}"
    _write_trials(sweep_dir, table)
    return job_id, runs


@dataclass
class LeaderboardRow:
    trial: int
    params: dict[str, Any]
    record: RunRecord | None
    objective: float | None  # the best epoch's value of the sweep's objective

    @property
    def status(self) -> str:
        if self.record is None:
            return "not started"
        return "stopped early" if stopped_early(self.record) else self.record.status


def leaderboard(sweep_dir: Path) -> tuple[Sweep, list[LeaderboardRow]]:
    """Every trial, best first by the objective (trials without a value last)."""
    sweep_dir = Path(sweep_dir)
    _, sweep = load_sweep(sweep_dir / SWEEP_FILE)
    rows = []
    for index, row in sorted(read_trials(sweep_dir).items()):
        run_dir = sweep_dir / row["run"]
        record = load_run(run_dir) if run_dir.exists() else None
        best = sweep.best(record.metrics_history.get(sweep.objective, [])) if record else None
        rows.append(LeaderboardRow(index, dict(row.get("params", {})), record, best))
    sign = -1 if sweep.direction == "max" else 1
    rows.sort(key=lambda r: (r.objective is None, sign * (r.objective or 0.0), r.trial))
    return sweep, rows


def mean_objective_by_value(sweep: Sweep, rows: list[LeaderboardRow]) -> dict[str, list[tuple[Any, float, int]]]:
    """For each varied field: (value, mean objective, trials) over the trials that have one."""
    out: dict[str, list[tuple[Any, float, int]]] = {}
    for path in sweep.paths:
        groups: dict[str, list[float]] = {}
        shown: dict[str, Any] = {}
        for row in rows:
            if row.objective is None or path not in row.params:
                continue
            key = repr(row.params[path])
            shown[key] = row.params[path]
            groups.setdefault(key, []).append(row.objective)
        out[path] = [(shown[k], sum(v) / len(v), len(v)) for k, v in groups.items()]
    return out


@dataclass
class SweepRecord(RunRecord):
    """A whole sweep as one row of the runs list: its trials grouped under it.

    Read like a run where that makes sense: `epochs_done` / `epochs_planned` count the trials
    finished and planned, `best_val_metric` (and the older `best_val_accuracy`) is the best trial's
    objective (whatever metric the sweep optimises: val_auc, val_mae...), `headline` the best
    trial's test metric (and `test_accuracy` its accuracy, None for a regression), `duration`
    their sum.
    """

    trials: list[RunRecord] = field(default_factory=list)
    planned: int = 0
    objective: str = "val_accuracy"
    best: float | None = None
    best_trial: RunRecord | None = None

    @property
    def epochs_done(self) -> int:  # trials finished
        return sum(t.status == "finished" for t in self.trials)

    @property
    def epochs_planned(self) -> int | None:
        return self.planned

    @property
    def best_val_accuracy(self) -> float | None:
        return self.best

    @property
    def test_accuracy(self) -> float | None:
        return self.best_trial.test_accuracy if self.best_trial is not None else None

    @property
    def best_val_metric(self) -> tuple[str, float | None]:
        return self.objective, self.best  # the sweep's objective, at its best trial

    @property
    def headline(self) -> tuple[str, float | None]:
        return self.best_trial.headline if self.best_trial is not None else ("", None)

    @property
    def task(self) -> str:
        return self.best_trial.task if self.best_trial is not None else ""

    @property
    def duration(self) -> float | None:
        spans = [t.duration for t in self.trials if t.duration is not None]
        return sum(spans) if spans else None

    @property
    def location(self) -> str:
        return "sweep"

    @property
    def architecture(self) -> str:
        return f"sweep of {self.planned}: {', '.join(self.varied) or 'no field'}"

    @property
    def varied(self) -> list[str]:
        return sorted({name for t in self.trials for name in (t.info.get("trial_params") or {})})

    @property
    def resources(self) -> dict[str, Any]:
        return {}


# While any trial is in one of these, the sweep is (the order is the precedence).
_SWEEP_STATES = ("running", "requeued", "queued", "submitted", "prepared")


def group_sweeps(records: list[RunRecord]) -> list[RunRecord]:
    """The runs list with each sweep's trials replaced by one SweepRecord (trials found by
    list_runs, the sweep's definition read from its directory)."""
    by_sweep: dict[Path, list[RunRecord]] = {}
    out: list[RunRecord] = []
    for record in records:
        if record.sweep and is_sweep_dir(record.path.parent):
            by_sweep.setdefault(record.path.parent, []).append(record)
        else:
            out.append(record)
    for sweep_dir, trials_found in by_sweep.items():
        out.append(sweep_record(sweep_dir, trials_found))
    out.sort(key=lambda r: (r.created, r.name), reverse=True)
    return out


def sweep_record(sweep_dir: Path, trials_found: list[RunRecord]) -> SweepRecord:
    errors: list[str] = []
    base, sweep = None, None
    try:
        base, sweep = load_sweep(Path(sweep_dir) / SWEEP_FILE)
    except Exception as error:  # a damaged sweep.toml must not hide the runs beside it
        errors.append(f"{SWEEP_FILE}: {error}")
    planned = len(read_trials(sweep_dir)) if (Path(sweep_dir) / TRIALS_FILE).exists() else len(trials_found)
    rule = sweep if sweep is not None else Sweep(())  # a damaged definition: the default objective
    scored = [(value, trial) for trial in trials_found
              if (value := rule.best(trial.metrics_history.get(rule.objective, []))) is not None]
    best_value = rule.best(value for value, _ in scored)
    best_trial = next((trial for value, trial in scored if value == best_value), None)
    states = {t.status for t in trials_found}
    status = next((s for s in _SWEEP_STATES if s in states), None)
    if status is None:
        status = "finished" if states == {"finished"} and len(trials_found) >= planned else \
            ("failed" if states == {"failed"} else "stopped" if states else "prepared")
    created = min((t.created for t in trials_found), default=0.0)
    record = SweepRecord(Path(sweep_dir), base, status, info={"created_time": created}, errors=errors,
                         trials=sorted(trials_found, key=lambda t: t.name), planned=planned, objective=rule.objective,
                         best=best_value, best_trial=best_trial)
    return record


# ---- stopping clearly bad trials --------------------------------------------------------------

# How a trial's final event reason starts when the sweep's rule stopped it (it says so, in its run).
STOPPED_EARLY = "stopped early by the sweep"
MIN_TRIALS_COMPARED = 2  # other trials that must have reached the epoch before any is stopped


class BadTrialStop:
    """A Listener for one trial's training: with the sweep's stop_bad_after = N, from epoch N
    on, the trial stops when its best objective so far is worse than the median of the other
    trials' best at the same epoch (the median stopping rule). It runs in the trial's own
    process, so local and Slurm sweeps behave the same. `stop(reason)` is the trainer's stop."""

    def __init__(self, run_dir: Path, sweep: Sweep, stop: Any):
        self.run_dir = Path(run_dir)
        self.sweep = sweep
        self.stop = stop
        self.values: list[float] = []
        self.reason = ""

    def __call__(self, event: Any) -> None:
        from kerastui.core.events import EpochEnded

        if not isinstance(event, EpochEnded) or self.reason:
            return
        value = event.metrics.get(self.sweep.objective)
        if value is not None and value == value:
            self.values.append(float(value))
        epochs = event.epoch + 1
        if not self.values or epochs < self.sweep.stop_bad_after or epochs >= event.epochs:
            return
        others = self._others_best_at(epochs)
        if len(others) < MIN_TRIALS_COMPARED:
            return
        median = statistics.median(others)
        mine = self.sweep.best(self.values)
        if mine is not None and self.sweep.better(median, mine):
            self.reason = (f"{STOPPED_EARLY}: best {self.sweep.objective} {mine:.4f} after {epochs} epochs is "
                           f"{'below' if self.sweep.direction == 'max' else 'above'} the median {median:.4f} of "
                           f"{len(others)} other trials")
            self.stop(self.reason)

    def _others_best_at(self, epochs: int) -> list[float]:
        from kerastui.core.runs import METRICS_FILE, read_events

        best = []
        for row in read_trials(self.run_dir.parent).values():
            other = self.run_dir.parent / row["run"]
            if other.resolve() == self.run_dir.resolve():
                continue
            values = [e.metrics.get(self.sweep.objective) for e in read_events(other / METRICS_FILE)[0]
                      if type(e).__name__ == "EpochEnded" and e.epoch < epochs]
            values = [float(v) for v in values if v is not None and v == v]
            if len(values) >= epochs:  # it has reached this epoch
                best.append(self.sweep.best(values))
        return best


def stopped_early(record: RunRecord) -> bool:
    """Whether the sweep's rule stopped this trial (as clearly bad): not failed, and done."""
    return record.status == "stopped" and record.reason.startswith(STOPPED_EARLY)


def bad_trial_stop_for(run_dir: Path, stop: Any) -> BadTrialStop | None:
    """The rule for this run, when it is a trial of a sweep that asks to stop bad trials."""
    run_dir = Path(run_dir)
    if not is_sweep_dir(run_dir.parent) or "sweep" not in read_info(run_dir):
        return None
    try:
        _, sweep = load_sweep(run_dir.parent / SWEEP_FILE)
    except Exception:  # a damaged sweep.toml: the trial trains to its end
        return None
    return BadTrialStop(run_dir, sweep, stop) if sweep.stop_bad_after else None
