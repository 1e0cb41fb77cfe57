"""A sweep on disk: a directory holding its definition, its Optuna study and one ordinary run
directory per trial; how its workers are started (local processes, a Slurm job array); and what
the runs list and the leaderboard read from it.

    <runs>/<time>-sweep-<name>/
        sweep.toml        the base experiment and its [sweep] table, as run
        study.json        the study's name and storage (kerastui.core.sweep_study)
        study.journal     the Optuna study every worker shares
        trial-000/ ...    ordinary run directories (config.toml, metrics.jsonl, model, evaluation)
        worker-0.log      a local worker's output (a Slurm task's: slurm-<array>_<task>.out)

Which trials run, and in which order, is the study's business (its sampler); a trial whose worker
died is retried by the study too. What is ours is the trial's run directory.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kerastui.core.atomic import write_text_atomic
from kerastui.core.runs import RunRecord, default_runs_root, load_run, read_info, safe_name
from kerastui.core.spec import Experiment
from kerastui.core.sweep import PARAM_COUNT, SWEEP_FILE, Sweep, dumps_sweep, load_sweep
from kerastui.core.sweep_study import is_pruned

WORKER_LOG = "worker-{index}.log"


def is_sweep_dir(path: Path) -> bool:
    return (Path(path) / SWEEP_FILE).is_file()


def create_sweep_dir(base: Experiment, sweep: Sweep, root: Path | None = None, storage: str | None = None) -> Path:
    """A new sweep directory with its definition and its (empty) study; `storage`: an Optuna
    storage URL instead of the journal file beside the trials."""
    from kerastui.core.sweep_study import SweepStudy

    root = Path(root) if root is not None else default_runs_root()
    root.mkdir(parents=True, exist_ok=True)
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-sweep-{safe_name(base.name)}"
    path, suffix = root / stem, 2
    while True:
        try:
            path.mkdir()
            break
        except FileExistsError:
            path, suffix = root / f"{stem}-{suffix}", suffix + 1
    write_text_atomic(path / SWEEP_FILE, dumps_sweep(base, sweep))
    SweepStudy.create(path, storage)
    return path.resolve()


def trial_dirs(sweep_dir: Path) -> list[Path]:
    """The sweep's trials' run directories, in trial order."""
    return sorted(p for p in Path(sweep_dir).iterdir() if p.is_dir() and "trial" in read_info(p))


# ---- starting workers ---------------------------------------------------------------------------


def queue_workers(sweep_dir: Path, count: int, slots: int | None = None) -> tuple[Any, list[str]]:
    """`count` local workers of the sweep as entries of its runs directory's queue (the sweep's
    parent): the queue's runner starts them within its slots, each `kerastui sweep --worker`
    (kerastui.core.queue_runner), and they outlive whoever asked. Returns (the launcher, their
    entries' keys)."""
    from kerastui.core.launcher import LocalLauncher

    sweep_dir = Path(sweep_dir).resolve()
    launcher = LocalLauncher(runs_root=sweep_dir.parent, keep_warm=False)
    if slots is not None:
        launcher.slots = slots
    return launcher, launcher.add_sweep_workers(sweep_dir, count)


def submit_array(sweep_dir: Path, settings: Any, tasks: int = 1, workdir: Path | None = None) -> str:
    """Submit `tasks` workers as ONE Slurm job array; each task asks the sweep's study for trials
    until the budget is met. Returns the job id."""
    from kerastui.core import slurm
    from kerastui.core.slurm_script import SCRIPT_NAME, JobScript, render_sbatch_script

    sweep_dir = Path(sweep_dir).resolve()
    base, _ = load_sweep(sweep_dir / SWEEP_FILE)
    slurm.check_dataset_offline(base.dataset, base.data)
    job = JobScript(
        run_dir=sweep_dir,
        python=sys.executable,
        workdir=(workdir or Path.cwd()).resolve(),
        job_name=f"kerastui-sweep-{safe_name(base.name)}",
        backend=base.backend,
        pythonpath=slurm.source_checkout(),
        array_workers=max(1, tasks),
    )
    write_text_atomic(sweep_dir / SCRIPT_NAME, render_sbatch_script(settings, job))
    return slurm.sbatch(sweep_dir / SCRIPT_NAME)


# ---- the leaderboard ----------------------------------------------------------------------------


@dataclass
class LeaderboardRow:
    trial: int
    params: dict[str, Any]
    record: RunRecord | None
    objective: float | None  # the best epoch's value of the sweep's (first) objective

    @property
    def status(self) -> str:
        if self.record is None:
            return "not started"
        return "pruned" if is_pruned(self.record) else self.record.status


def trial_objective(sweep: Sweep, record: RunRecord) -> float | None:
    """The trial's value of the sweep's first objective: its best epoch's (or the model's size)."""
    if sweep.objective == PARAM_COUNT:
        count = record.info.get("param_count")
        return float(count) if isinstance(count, int) else None
    return sweep.best(record.metrics_history.get(sweep.objective, []))


def leaderboard(sweep_dir: Path) -> tuple[Sweep, list[LeaderboardRow]]:
    """Every trial that has a run directory: finished ones best first by the objective, then the
    live ones, then the pruned, failed and killed ones (each group best first)."""
    sweep_dir = Path(sweep_dir)
    _, sweep = load_sweep(sweep_dir / SWEEP_FILE)
    rows = []
    for run_dir in trial_dirs(sweep_dir):
        record = load_run(run_dir)
        rows.append(LeaderboardRow(int(record.info["trial"]), dict(record.info.get("trial_params") or {}), record,
                                   trial_objective(sweep, record)))
    sign = -1 if sweep.direction == "max" else 1
    rank = {"finished": 0, "running": 1, "queued": 1, "prepared": 1}
    rows.sort(key=lambda r: (rank.get(r.status, 2), r.objective is None, sign * (r.objective or 0.0), r.trial))
    return sweep, rows


def mean_objective_by_value(sweep: Sweep, rows: list[LeaderboardRow]) -> dict[str, list[tuple[Any, float, int]]]:
    """For each field varied over a list of values: (value, mean objective, trials) over the
    finished trials (a range's values rarely repeat: the study's view of it is a chart)."""
    out: dict[str, list[tuple[Any, float, int]]] = {}
    for parameter in sweep.parameters:
        if parameter.is_range:
            continue
        groups: dict[str, list[float]] = {}
        shown: dict[str, Any] = {}
        for row in rows:
            if row.objective is None or row.status != "finished" or parameter.path not in row.params:
                continue
            key = repr(row.params[parameter.path])
            shown[key] = row.params[parameter.path]
            groups.setdefault(key, []).append(row.objective)
        out[parameter.path] = [(shown[k], sum(v) / len(v), len(v)) for k, v in groups.items()]
    return out


# ---- a sweep as one row of the runs list --------------------------------------------------------


@dataclass
class SweepRecord(RunRecord):
    """A whole sweep as one row of the runs list: its trials grouped under it.

    Read like a run where that makes sense: `epochs_done` / `epochs_planned` count the trials
    ended (finished or pruned) and the budget, `best_val_metric` (and the older
    `best_val_accuracy`) is the best trial's objective (whatever metric the sweep optimises:
    val_auc, val_mae...), `headline` the best trial's test metric (and `test_accuracy` its
    accuracy, None for a regression), `duration` their sum.
    """

    trials: list[RunRecord] = field(default_factory=list)
    planned: int = 0
    objective: str = "val_accuracy"
    best: float | None = None
    best_trial: RunRecord | None = None

    @property
    def epochs_done(self) -> int:  # trials ended as the budget counts them
        return sum(t.status == "finished" or is_pruned(t) for t in self.trials)

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
    rule = sweep if sweep is not None else Sweep(())  # a damaged definition: the default objective
    planned = rule.size or len(trials_found)
    scored = [(value, trial) for trial in trials_found
              if trial.status == "finished" and (value := trial_objective(rule, trial)) is not None]
    best_value = rule.best(value for value, _ in scored)
    best_trial = next((trial for value, trial in scored if value == best_value), None)
    states = {t.status for t in trials_found}
    status = next((s for s in _SWEEP_STATES if s in states), None)
    if status is None:
        ended = sum(t.status == "finished" or is_pruned(t) for t in trials_found)
        status = "finished" if ended >= planned else \
            ("failed" if states == {"failed"} else "stopped" if states else "prepared")
    created = min((t.created for t in trials_found), default=0.0)
    return SweepRecord(Path(sweep_dir), base, status, info={"created_time": created}, errors=errors,
                       trials=sorted(trials_found, key=lambda t: t.name), planned=planned, objective=rule.objective,
                       best=best_value, best_trial=best_trial)
