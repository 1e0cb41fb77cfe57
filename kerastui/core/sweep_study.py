"""A sweep's Optuna study: where it is stored, its budget, the next trial, and how a trial ends.

The sweep's directory holds the study beside the trials' run directories:

    sweep.toml       the definition as run (the base experiment and its [sweep])
    study.json       the study's name ("sweep") and storage: null for the journal beside it, or a URL
    study.journal    Optuna's JournalStorage file (JournalFileOpenLock: safe on NFS)
    trial-007/       one ordinary run directory per Optuna trial (its number; user attr "run_dir")

Open it anywhere Optuna runs: `load_study(sweep_dir)` here, or
`optuna-dashboard <sweep_dir>/study.journal` where a browser is at hand.

Every worker (kerastui.core.sweep_worker: a local one or a Slurm array task) asks for its next
trial under one lock in the sweep's directory, so the budget is met exactly however many ask at once. A trial
whose worker died (SIGKILL, a time limit, a lost node) is found from its run directory (its
writer's lock released, its status never settled), marked failed in the study and tried again by
Optuna's RetryFailedTrialCallback, at most `retries` times; a trial that fails in training (a NaN
loss) is a result, and is not retried.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from kerastui.core.atomic import write_text_atomic
from kerastui.core.runs import (
    INTERRUPTED,
    PRUNED_REASON,
    QUEUED,
    RunWriter,
    UNKNOWN,
    load_run,
    mark_interrupted,
    process_alive_here,
    read_info,
    read_status,
    writer_alive,
)
from kerastui.core.spec import Experiment
from kerastui.core.sweep import (
    PARAM_COUNT,
    SWEEP_FILE,
    load_sweep,
    trial_experiment,
)

STUDY_FILE = "study.json"
STUDY_NAME = "sweep"
PREPARED = "prepared"  # a trial's run directory between its ask and its training (no queue takes it)
JOURNAL_FILE = "study.journal"
BUDGET_LOCK = "budget"  # JournalFileOpenLock adds ".lock": held while a worker takes a trial
# A trial asked for with no run directory this long after: its worker died in between.
ASK_GRACE_SECONDS = 120.0
# Why a trial ended, as the study records it (user attribute "ending") and the leaderboard shows it.
FINISHED, PRUNED, FAILED, KILLED = "finished", "pruned", "failed", "killed"
# The final event's reason of a trial the pruner stopped (its run's status is "stopped").


def run_name(number: int) -> str:
    return f"trial-{number:03d}"


def trial_run_dir(sweep_dir: Path, trial: Any) -> Path:
    """The run directory of a study's trial (a FrozenTrial, or its number)."""
    if isinstance(trial, int):
        return Path(sweep_dir) / run_name(trial)
    return Path(sweep_dir) / str(trial.user_attrs.get("run_dir") or run_name(trial.number))


def load_study(sweep_dir: Path) -> Any:
    """The sweep's Optuna study, to read (the views, the leaderboard): from the journal beside it,
    or the storage URL study.json records. FileNotFoundError when the sweep has no study."""
    import optuna

    sweep_dir = Path(sweep_dir)
    place = read_study_file(sweep_dir)
    if not place:
        raise FileNotFoundError(f"{sweep_dir} holds no study ({STUDY_FILE} is missing or unreadable)")
    _quiet_optuna()
    return optuna.load_study(study_name=place.get("study_name") or STUDY_NAME,
                             storage=_storage(sweep_dir, place.get("storage")))


def journal_storage(path: Path) -> Any:
    """Optuna's JournalStorage over a file, with the open-file lock (works on NFS, unlike fcntl)."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    return JournalStorage(JournalFileBackend(str(path), lock_obj=JournalFileOpenLock(str(path))))


@contextlib.contextmanager
def budget_lock(sweep_dir: Path) -> Iterator[None]:
    """One worker at a time takes the next trial (Optuna's open-file lock: atomic on NFS too; a
    holder killed while holding it is given up on after 30 s)."""
    from optuna.storages.journal import JournalFileOpenLock

    lock = JournalFileOpenLock(str(Path(sweep_dir) / BUDGET_LOCK))
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


@dataclass
class AskedTrial:
    trial: Any  # optuna.trial.Trial
    run_dir: Path
    experiment: Experiment
    params: dict[str, Any]


class SweepStudy:
    """The study of the sweep in `sweep_dir`: its storage opened once, studies loaded from it."""

    def __init__(self, sweep_dir: Path, storage: Any = None):
        self.sweep_dir = Path(sweep_dir).resolve()
        self.base, self.sweep = load_sweep(self.sweep_dir / SWEEP_FILE)
        place = read_study_file(self.sweep_dir)
        self.study_name = place.get("study_name") or STUDY_NAME
        self.storage_url = storage or place.get("storage")
        self.storage = _storage(self.sweep_dir, self.storage_url)

    @classmethod
    def create(cls, sweep_dir: Path, storage: str | None = None) -> SweepStudy:
        """Write study.json and create the study (in the journal, or at the storage URL); a grid's
        combinations are queued in the file's order."""
        import warnings

        import optuna

        sweep_dir = Path(sweep_dir)
        write_text_atomic(sweep_dir / STUDY_FILE, json.dumps(
            {"study_name": STUDY_NAME, "storage": storage}, indent=2) + "\n")
        handle = cls(sweep_dir)
        _quiet_optuna()
        study = optuna.create_study(storage=handle.storage, study_name=handle.study_name,
                                    directions=handle.sweep.optuna_directions(), load_if_exists=True)
        with warnings.catch_warnings():  # set_metric_names is experimental in Optuna 3 to 5
            warnings.simplefilter("ignore")
            study.set_metric_names(list(handle.sweep.objectives))
        if handle.sweep.method == "grid" and not study.trials:
            for point in handle.sweep.grid_points():
                study.enqueue_trial(point)
        return handle

    def study(self, seed: int | None = None) -> Any:
        import optuna

        _quiet_optuna()
        return optuna.load_study(study_name=self.study_name, storage=self.storage, sampler=self.sweep.sampler(seed),
                                 pruner=self.sweep.pruner.make(self.base.fit.epochs))

    def trials(self) -> list[Any]:
        return self.study().get_trials(deepcopy=False)

    def progress(self) -> StudyProgress:
        return study_progress(self.trials(), self.sweep.size)

    def settle(self) -> list[int]:
        """Tell the study about trials whose run ended or whose worker died (as every ask does)."""
        with budget_lock(self.sweep_dir):
            return settle_stale_trials(self, self.study())

    # ---- the next trial ---------------------------------------------------------------------------

    def next_trial(self, status: str = PREPARED, **info: Any) -> AskedTrial | None:
        """Ask the study for the next trial and prepare its run directory (marked `status`, with
        `info`), or None when the budget is met. Stale trials are settled first."""
        with budget_lock(self.sweep_dir):
            study = self.study()
            settle_stale_trials(self, study)
            trials = study.get_trials(deepcopy=False)
            waiting = any(t.state.name == "WAITING" for t in trials)
            if not waiting and budget_used(trials) >= self.sweep.size:
                return None
            # Seeded by the trials so far: reproducible, and no two workers draw the same values.
            study.sampler = self.sweep.sampler(self.sweep.seed * 100_003 + len(trials))
            trial = study.ask()
            params = self.sweep.suggest(trial)
            experiment = trial_experiment(self.base, params, trial.number)
            run_dir = self.sweep_dir / run_name(trial.number)
            retry_of = study._storage.get_trial_system_attrs(trial._trial_id).get("failed_trial")
            writer = RunWriter.open(run_dir, experiment)
            try:
                writer.set_status(status)
                writer.update_info(sweep=self.sweep_dir.name, trial=trial.number, trial_params=params,
                                   optuna_trial_id=_trial_id(trial), retry_of=retry_of, **info)
            finally:
                writer.close()
            trial.set_user_attr("run_dir", run_dir.name)
            trial.set_user_attr("epochs", 0)  # a retry's copy of the failed trial's count, reset
            return AskedTrial(trial, run_dir.resolve(), experiment, params)

    def live_trial(self, study: Any, number: int) -> Any:
        """The optuna.trial.Trial of trial `number` (to report to from the process training it)."""
        import optuna

        frozen = next(t for t in study.get_trials(deepcopy=False) if t.number == number)
        return optuna.trial.Trial(study, frozen._trial_id)  # the id Optuna keeps; no public lookup by number

    # ---- how a trial ends ---------------------------------------------------------------------------

    def tell_locked(self, study: Any, trial: Any, ending: str, values: list[float] | None = None, reason: str = "",
                    epochs: int | None = None) -> None:
        """`tell`, under the lock every ask and every settling holds: one word per trial."""
        with budget_lock(self.sweep_dir):
            self.tell(study, trial, ending, values, reason, epochs)

    def tell(self, study: Any, trial: Any, ending: str, values: list[float] | None = None, reason: str = "",
             epochs: int | None = None) -> None:
        """Record how `trial` ended: finished with its objective values, pruned, failed in
        training (a result: not retried) or killed (failed, and tried again within the bound);
        `epochs`: how many it trained (what pruning saved is counted from them)."""
        from optuna.trial import TrialState

        if study._storage.get_trial(trial._trial_id).state.is_finished():
            return  # told already (a worker that found its run ended): the first word stands
        if ending == FINISHED and (not values or any(v is None or not math.isfinite(v) for v in values)):
            ending, reason = FAILED, reason or "the objective was not logged (or not finite)"
        trial.set_user_attr("ending", ending)
        if epochs is not None:
            trial.set_user_attr("epochs", int(epochs))
        if reason:
            trial.set_user_attr("reason", reason[:500])
        if ending == FINISHED:
            study.tell(trial, values if len(values or []) > 1 else values[0], skip_if_finished=True)
        elif ending == PRUNED:
            study.tell(trial, state=TrialState.PRUNED, skip_if_finished=True)
        else:
            study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
        if ending == KILLED:
            import warnings

            from optuna.storages import RetryFailedTrialCallback

            frozen = next(t for t in study.get_trials(deepcopy=False) if t.number == trial.number)
            with warnings.catch_warnings():  # "experimental" since Optuna 2.8: a line in every worker's log
                warnings.simplefilter("ignore")
                RetryFailedTrialCallback(max_retry=self.sweep.retries)(study, frozen)

    def objective_values(self, history: dict[str, list[float]], param_count: int | None) -> list[float | None]:
        """Each objective's value for a trial: its best epoch's, or the model's size."""
        out: list[float | None] = []
        for index, name in enumerate(self.sweep.objectives):
            out.append(float(param_count) if name == PARAM_COUNT and param_count is not None
                       else self.sweep.best(history.get(name, []), index))
        return out


def read_study_file(sweep_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((Path(sweep_dir) / STUDY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _storage(sweep_dir: Path, url: str | None) -> Any:
    return journal_storage(Path(sweep_dir) / JOURNAL_FILE) if not url else open_storage(url)


def open_storage(url: str) -> Any:
    """An Optuna storage from a URL (a database, through SQLAlchemy) or a journal file's path."""
    import optuna

    return optuna.storages.RDBStorage(url) if "://" in url else journal_storage(Path(url))


@dataclass(frozen=True)
class StudyProgress:
    """Where a study stands against its budget."""

    budget: int
    complete: int = 0
    pruned: int = 0
    failed: int = 0  # failed for good: a training failure, or killed with no retry left
    retried: int = 0  # killed, and tried again
    running: int = 0
    waiting: int = 0

    @property
    def ended(self) -> int:
        return self.complete + self.pruned + self.failed

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.ended)


def study_progress(trials: list[Any], budget: int) -> StudyProgress:
    retried = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    names = [t.state.name for t in trials]
    failed = sum(1 for t in trials if t.state.name == "FAIL" and t.number not in retried)
    return StudyProgress(budget, names.count("COMPLETE"), names.count("PRUNED"), failed,
                         sum(1 for t in trials if t.state.name == "FAIL" and t.number in retried),
                         names.count("RUNNING"), names.count("WAITING"))


def _quiet_optuna() -> None:
    import optuna

    # A line per trial on stderr would bury the workers' own; the study says it all.
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def _trial_id(trial: Any) -> int:
    return int(trial._trial_id)  # Optuna's own id of the trial (its number is per study)


def budget_used(trials: list[Any]) -> int:
    """Trials that count against the budget: all but the failed ones that were tried again
    (finished, pruned, running, waiting to run, failed for good)."""
    retried = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    return sum(1 for t in trials if not (t.state.name == "FAIL" and t.number in retried))


def settle_stale_trials(handle: SweepStudy, study: Any) -> list[int]:
    """Trials the study says are running whose run has ended or whose worker died: told as their
    run directory says (a killed one is retried). Returns their numbers."""
    settled = []
    for frozen in study.get_trials(deepcopy=False):
        if frozen.state.name != "RUNNING":
            continue
        verdict = _run_verdict(handle, frozen)
        if verdict is None:
            continue
        ending, values, reason, epochs = verdict
        trial = handle.live_trial(study, frozen.number)
        handle.tell(study, trial, ending, values, reason, epochs)
        settled.append(frozen.number)
    return settled


def _run_verdict(handle: SweepStudy, frozen: Any) -> tuple[str, list[float] | None, str, int | None] | None:
    """(ending, values, reason, epochs) of a trial the study thinks runs, from its run directory; None
    while it may still be running."""
    name = frozen.user_attrs.get("run_dir")
    run_dir = handle.sweep_dir / name if name else None
    started = frozen.datetime_start.timestamp() if frozen.datetime_start else time.time()
    if run_dir is None or not run_dir.is_dir():
        if time.time() - started > ASK_GRACE_SECONDS:
            return KILLED, None, "its worker died before the trial's run directory was made", 0
        return None
    status = read_status(run_dir)
    info = read_info(run_dir)
    if status == "running":
        alive = writer_alive(run_dir, info)
        if alive is None:  # no lock to probe here (some network filesystems): its worker, or Slurm
            alive = _worker_alive(info)
        if alive is not False:
            return None
        mark_interrupted(run_dir, "its sweep worker was killed (SIGKILL, a time limit or a lost node)")
        return KILLED, None, "its worker was killed while it trained", load_run(run_dir).epochs_done
    if status in (QUEUED, PREPARED, "submitted", UNKNOWN):
        if _worker_alive(info) is not False:
            return None
        _mark_interrupted(run_dir, "its sweep worker died before the trial trained")
        return KILLED, None, "its worker died before the trial trained", 0
    # Ended: its own worker tells it, unless that worker is gone (or, on another host where that
    # cannot be seen, has had time enough to).
    alive = _worker_alive(info)
    ended = info.get("ended_time")
    recent = not isinstance(ended, (int, float)) or time.time() - ended < ASK_GRACE_SECONDS
    if alive or (alive is None and recent):
        return None
    return ending_from_run(handle, run_dir)


def _worker_alive(info: dict[str, Any]) -> bool | None:
    """Whether the worker that asked for this trial still runs: its pid, where this host can see it,
    else its Slurm job's state; None when neither can tell."""
    alive = process_alive_here({"pid": info.get("worker_pid", info.get("pid")),
                                "host": info.get("worker_host", info.get("host"))})
    if alive is None and info.get("slurm_job_id"):
        alive = _slurm_job_alive(str(info["slurm_job_id"]))
    return alive


def _mark_interrupted(run_dir: Path, reason: str) -> None:
    """mark_interrupted, for a trial's prepared run directory too (runs settles only its own words)."""
    if read_status(run_dir) == PREPARED:
        writer = RunWriter(run_dir)
        writer.set_status(QUEUED)  # the one word before training that mark_interrupted settles
    mark_interrupted(run_dir, reason)


def _slurm_job_alive(job_id: str) -> bool | None:
    from kerastui.core import slurm

    try:
        state = slurm.job_state(job_id)
    except Exception:  # noqa: BLE001 - no Slurm to ask: it cannot be told
        return None
    return None if state is None else not state.finished


def ending_from_run(handle: SweepStudy, run_dir: Path) -> tuple[str, list[float] | None, str, int]:
    """How an ended run directory's trial ended, in the study's words (and its epochs)."""
    record = load_run(run_dir)
    epochs = record.epochs_done
    if record.status == "finished":
        count = record.info.get("param_count")
        values = handle.objective_values(record.metrics_history, count if isinstance(count, int) else None)
        return FINISHED, values, "", epochs
    if is_pruned(record):
        return PRUNED, None, record.reason, epochs
    if record.status == "failed":
        return FAILED, None, record.reason, epochs
    # Stopped by the user or by Slurm (scancel, the time limit), interrupted, cancelled: tried again.
    return KILLED, None, record.reason or f"its run is {record.status or INTERRUPTED}", epochs


def is_pruned(record: Any) -> bool:
    """Whether the sweep's pruner stopped this run (a RunRecord): stopped, and said why."""
    return record.status == "stopped" and record.reason.startswith(PRUNED_REASON)
