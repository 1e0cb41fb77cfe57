"""Run directories: create and write one while training, list and load them, follow one live.

A run directory holds everything about one training run, so it can be read by another process
(`kerastui watch`, the runs screen, a login node reading what a Slurm job writes):

    config.toml       the Experiment (kerastui.core.spec TOML)
    metrics.jsonl     one JSON event per line (events.event_to_dict), flushed as written
    model.keras       the trained model
    evaluation.json   Evaluation.to_dict() on the test set
    status            running | finished | stopped | failed (one word)
    info.json         created/ended time, duration, host, pid, kerastui version, backend, Slurm job id,
                      and at the end what it used (resources: CPU efficiency, peak memory, GPU)
    resources.jsonl   CPU, memory and GPU samples every few seconds (kerastui.core.resources)

Everything except the append-only metrics file is written atomically (temp file, then rename),
so a reader or a crash never sees half a file.
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from kerastui.core import spec
from kerastui.core.atomic import write_bytes_atomic, write_text_atomic
from kerastui.core.events import (
    EpochEnded,
    TrainingEvent,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
    event_from_dict,
    event_to_dict,
    final_status,
)
from kerastui.core.layers import LAYERS

if TYPE_CHECKING:  # only for type hints: evaluate.py may pull in scikit-learn
    from kerastui.core.evaluate import Evaluation
    from kerastui.core.spec import Experiment

RUNS_DIR_ENV = "KERASTUI_RUNS_DIR"
CONFIG_FILE = "config.toml"
METRICS_FILE = "metrics.jsonl"
MODEL_FILE = "model.keras"
EVALUATION_FILE = "evaluation.json"
STATUS_FILE = "status"
INFO_FILE = "info.json"
RUN_FILES = (CONFIG_FILE, METRICS_FILE, MODEL_FILE, EVALUATION_FILE, STATUS_FILE, INFO_FILE)
# Held (flock, exclusive) by the one process that trains into the run; the kernel drops it when
# that process dies, however it dies, so it also tells followers whether the writer still lives.
LOCK_FILE = ".writer.lock"
# The training state (weights, optimizer, epoch) saved after every finished epoch, to resume from;
# removed once the run has finished.
BACKUP_DIR = "backup"
RESUMABLE_STATUSES = ("stopped", "interrupted", "failed")
# A sweep's directory holds this file and one run directory per trial (kerastui.core.sweep_runs).
SWEEP_DEFINITION = "sweep.toml"
# A run in one of these states is never trained into again (resuming one is a separate, explicit act).
ENDED_STATUSES = ("finished", "stopped", "failed", "interrupted", "cancelled")

STATUSES = ("running", "finished", "stopped", "failed")
# A local run waiting for a free slot in the app's run queue (kerastui.core.launcher).
QUEUED = "queued"
# A Slurm run that saved its state at its time-limit warning and requeued its job: when Slurm
# starts the job again, it resumes where it stopped (kerastui.cli.train).
REQUEUED = "requeued"
CANCELLED = "cancelled"
# Status shown for a run whose file says "running" but whose process on this host is gone
# (killed with SIGKILL, machine rebooted): it will never finish.
INTERRUPTED = "interrupted"
UNKNOWN = "unknown"


def default_runs_root() -> Path:
    """$KERASTUI_RUNS_DIR, or ./runs."""
    configured = os.environ.get(RUNS_DIR_ENV)
    return Path(configured).expanduser() if configured else Path("runs")


def safe_name(name: str) -> str:
    """A directory-name-safe version of a run name (letters, digits, . _ -)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")
    return cleaned[:60] or "run"


class RunClaimError(RuntimeError):
    """The run directory cannot be trained into: another process writes it, or it has ended."""


class StatusNotRecorded(OSError):
    """The run's status file could not be written (full disk, read-only, directory removed)."""


# The status file is written padded to this many bytes, so that on a disk too full for a new file
# the final word can still overwrite the old one in place (readers strip the padding).
STATUS_BYTES = 16


def has_saved_state(run_dir: Path) -> bool:
    """Whether the run's training state (kerastui.core.train's backup) is there to resume from."""
    return (Path(run_dir) / BACKUP_DIR / "training_metadata.json").is_file()


def write_failure(path: Path, error: OSError) -> str:
    """One line for a failed write: which file, and why in words a user acts on."""
    why = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EROFS: "the file system is read-only",
        errno.ENOENT: "the run directory was removed",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
    }.get(error.errno or 0, error.strerror or str(error))
    return f"{Path(path).name} could not be written in {Path(path).parent}: {why}"


def _file_sha256(path: Path) -> str:
    import hashlib

    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def _json_default(value: Any) -> Any:
    # Metrics may arrive as numpy scalars; anything with .item() becomes a plain number.
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def iso_time(timestamp: float) -> str:
    """The one time format of info.json: ISO 8601, local time, seconds, offset with a colon
    ("2025-01-31T14:05:09+01:00"); every writer (runs, slurm) uses it."""
    return datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")


# ---- writing -------------------------------------------------------------------------------


class RunWriter:
    """Writes one run directory; also a Listener: call it with each training event."""

    def __init__(self, path: Path, experiment: Experiment | None = None):
        self.path = Path(path)
        self.experiment = experiment
        self._lock = threading.Lock()
        self._metrics = None  # opened on the first event, append mode
        self._claim: Any = None  # the lock file, while this writer holds the run (claim)
        self.epochs_done = 0
        self.final_event: TrainingEvent | None = None
        self._info: dict[str, Any] = _read_json(self.path / INFO_FILE) or {}
        # The first write that failed (write_failure's line), and who to tell at once: the
        # pipeline stops the training, since nothing more it does could be kept.
        self.write_error = ""
        self.status_recorded = True  # False once the status file could not be written
        self.end_status: str | None = None  # recorded with the final event instead of its own (REQUEUED)
        self.on_write_error: Callable[[str], None] | None = None
        self._metrics_broken = False  # after a failed append, no later line may land after half a line

    @classmethod
    def create(cls, experiment: Experiment, root: Path | None = None, name: str | None = None,
               status: str = "running") -> RunWriter:
        """A new directory `<root>/<YYYYmmdd-HHMMSS>-<name>` (with -2, -3... if taken)."""
        root = Path(root) if root is not None else default_runs_root()
        root.mkdir(parents=True, exist_ok=True)
        created = time.time()
        base = f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(created))}-{safe_name(name or experiment.name)}"
        path, suffix = root / base, 2
        while True:
            try:
                path.mkdir()  # atomic claim: two processes starting together get different dirs
                break
            except FileExistsError:
                path, suffix = root / f"{base}-{suffix}", suffix + 1
        writer = cls(path, experiment)
        writer._start(experiment, created, status)
        return writer

    @classmethod
    def open(cls, path: Path, experiment: Experiment | None = None) -> RunWriter:
        """Write into an existing (or prepared) directory, e.g. one `kerastui submit` made for a job.

        Keeps what info.json already holds (the job id recorded at submission). With an
        experiment this is the run's trainer: it claims the directory (RunClaimError when another
        process holds it or the run has already ended), then (re)writes config.toml and marks the
        run as running.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        writer = cls(path, experiment)
        if experiment is not None:
            writer.claim()
            status = read_status(path)
            if status in ENDED_STATUSES:
                writer.close()
                raise RunClaimError(
                    f"{path} has already {'been ' if status in ('interrupted', 'cancelled') else ''}{status}; "
                    "its files are kept as they are. Train a new run instead (or copy its config.toml)."
                )
            writer._start(experiment, writer._info.get("created_time") or time.time())
        return writer

    @classmethod
    def resume(cls, path: Path) -> RunWriter:
        """Claim a stopped, interrupted or failed run to continue it from its saved state.

        RunClaimError when it finished, when another process writes it, when its config.toml was
        edited since it started (that would be a different experiment), or when nothing was saved.
        """
        path = Path(path)
        writer = cls(path)
        writer.claim()
        try:
            status = read_status(path)
            if status == "finished":
                raise RunClaimError(f"{path} has already finished; there is nothing to resume")
            if status == QUEUED and writer._info.get("resume_from") in RESUMABLE_STATUSES:
                status = writer._info["resume_from"]  # queued for resuming by the app's launcher
            if status not in (*RESUMABLE_STATUSES, REQUEUED):
                raise RunClaimError(f"{path} is {status}; only a stopped, interrupted or failed run can be resumed")
            recorded = writer._info.get("config_sha256")
            if recorded and recorded != _file_sha256(path / CONFIG_FILE):
                raise RunClaimError(f"{path / CONFIG_FILE} was edited since the run started; resuming would "
                                    "mix two experiments. Train the edited file as a new run instead")
            if not has_saved_state(path):
                raise RunClaimError(f"{path} has no saved training state to resume from "
                                    "(it ended before its first epoch finished)")
            writer.experiment = spec.load(path / CONFIG_FILE)
        except (RunClaimError, spec.SpecError):
            writer.close()
            raise
        writer.set_status("running")
        now = time.time()
        writer.update_info(resumed=iso_time(now), resumed_time=now, host=socket.gethostname(), pid=os.getpid(),
                           reason="", ended=None, ended_time=None, resume_from=None)
        return writer

    def claim(self) -> None:
        """Become the run's one writer (an exclusive flock on its lock file, held until close or
        exit); RunClaimError naming the holder when another process has it."""
        import fcntl

        if self._claim is not None:
            return
        handle = open(self.path / LOCK_FILE, "a+b")
        deadline = time.monotonic() + 0.5  # a follower's liveness probe holds it for microseconds
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.02)
                    continue
                handle.close()
                info = read_info(self.path)
                holder = f"pid {info.get('pid', '?')} on {info.get('host', '?')}"
                raise RunClaimError(f"{self.path} is being written by another process ({holder}); not writing into it") from None
            except OSError:
                break  # a filesystem without locks (some NFS mounts): carry on without one
        self._claim = handle

    def _start(self, experiment: Experiment, created: float, status: str = "running") -> None:
        from kerastui import __version__

        spec.save(experiment, self.path / CONFIG_FILE)
        # A run made to wait (queued, prepared) never says "running" before it does.
        self.set_status(status)
        info: dict[str, Any] = {
            "config_sha256": _file_sha256(self.path / CONFIG_FILE),  # a resume refuses an edited config
            "created": iso_time(created),
            "created_time": created,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "kerastui_version": __version__,
            "backend": experiment.backend,
            "strategy": experiment.strategy,
        }
        if os.environ.get("SLURM_JOB_ID"):
            info["slurm_job_id"] = os.environ["SLURM_JOB_ID"]
        self.update_info(**info)

    # Listener ---------------------------------------------------------------------------
    def __call__(self, event: TrainingEvent) -> None:
        """Record one event. Never raises for a failed write (the trainer would only log it and go
        on): the failure is kept in `write_error` and reported through `on_write_error`."""
        self._append_event(event)
        if isinstance(event, TrainingStarted):
            self.record_info(started=iso_time(event.time), started_time=event.time)
        elif isinstance(event, EpochEnded):
            self.epochs_done = event.epoch + 1
        if (status := final_status(event)) is not None:
            status = self.end_status or status
            self.final_event = event
            try:
                self.set_status(status)
            except StatusNotRecorded as error:
                self.status_recorded = False
                self.failed_write(self.path / STATUS_FILE, error)
                return
            ended = event.time
            # From the start of training, so time spent queued (a Slurm job) does not count.
            began = self._info.get("started_time", self._info.get("created_time", ended))
            self.record_info(ended=iso_time(ended), ended_time=ended, duration=round(ended - began, 3), reason=event.reason)

    def _append_event(self, event: TrainingEvent) -> None:
        line = json.dumps(event_to_dict(event), default=_json_default) + "\n"
        with self._lock:
            if self._metrics_broken:
                return
            try:
                if self._metrics is None:
                    self._metrics = open(self.path / METRICS_FILE, "a", encoding="utf-8")
                if os.fstat(self._metrics.fileno()).st_nlink == 0:
                    # Appending to a deleted file succeeds and keeps nothing: say so instead.
                    raise FileNotFoundError(errno.ENOENT, "removed", str(self.path / METRICS_FILE))
                self._metrics.write(line)
                # Flush every line so a follower sees it at once; fsync (slow on network
                # filesystems) only where losing it would lose an epoch or the outcome.
                self._metrics.flush()
                if isinstance(event, (EpochEnded, TrainingStarted)) or final_status(event):
                    os.fsync(self._metrics.fileno())
                return
            except OSError as error:
                failure = error
                self._metrics_broken = True
                self._discard_metrics_handle()
        self.failed_write(self.path / METRICS_FILE, failure)

    def _discard_metrics_handle(self) -> None:
        if self._metrics is not None:
            try:
                self._metrics.close()  # closes the file even when flushing what is left fails
            except OSError:
                pass
            self._metrics = None

    def record_info(self, **values: Any) -> None:
        """update_info for what the run records as it goes: a failed write is noted (the run
        ends failed for it), not raised into the trainer."""
        try:
            self.update_info(**values)
        except OSError as error:
            self.failed_write(self.path / INFO_FILE, error)

    def failed_write(self, path: Path, error: OSError) -> None:
        """Note that writing `path` failed (the first failure is the one reported)."""
        self.fail(write_failure(path, error))

    def fail(self, reason: str) -> None:
        """Something the run must keep could not be kept: the run will end as failed, for `reason`."""
        if self.write_error:
            return
        self.write_error = reason
        if self.on_write_error is not None:
            self.on_write_error(reason)

    # Files ------------------------------------------------------------------------------
    def save_model(self, model: Any) -> Path:
        """model.keras, atomically: Keras writes a temporary .keras beside it, then it is renamed."""
        from kerastui.core.disk_space import check_free_space, state_bytes

        target = self.path / MODEL_FILE
        check_free_space(self.path, state_bytes(model), MODEL_FILE)
        # Keras insists on the .keras suffix, so the temporary name ends with it too.
        temp = self.path / f".{MODEL_FILE}.{os.getpid()}.{threading.get_ident()}.tmp.keras"
        try:
            model.save(str(temp))
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return target

    def save_evaluation(self, evaluation: Evaluation) -> Path:
        text = json.dumps(evaluation.to_dict(), indent=2, default=_json_default)
        return write_text_atomic(self.path / EVALUATION_FILE, text + "\n")

    def set_status(self, status: str) -> None:
        """Atomically; on a disk too full for a new file, over the old word in place. Raises
        StatusNotRecorded when neither works."""
        text = (status + "\n").ljust(STATUS_BYTES).encode("utf-8")
        target = self.path / STATUS_FILE
        try:
            write_bytes_atomic(target, text)
            return
        except OSError as error:
            first = error
        try:
            with open(target, "r+b") as handle:  # no new blocks: the padded old word's are reused
                if os.fstat(handle.fileno()).st_size < len(text):
                    raise first
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError:
            raise StatusNotRecorded(first.errno, write_failure(target, first)) from first

    def update_info(self, **values: Any) -> None:
        with self._lock:
            self._info.update(values)
            text = json.dumps(self._info, indent=2, default=_json_default)
        write_text_atomic(self.path / INFO_FILE, text + "\n")

    @property
    def info(self) -> dict[str, Any]:
        return dict(self._info)

    def close(self) -> None:
        with self._lock:
            self._discard_metrics_handle()
            if self._claim is not None:
                self._claim.close()  # releases the flock
                self._claim = None

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- reading -------------------------------------------------------------------------------


# The runs tables' words for the task metrics (a cell holds "AUC 0.9871" in 11 columns).
SHORT_METRIC_NAMES = {"val_accuracy": "acc", "val_auc": "AUC", "val_mae": "MAE", "val_rmse": "RMSE",
                      "val_loss": "loss", "test accuracy": "acc", "ROC AUC": "AUC", "PR AUC": "AP"}


def shared_metric_words(records: list) -> tuple[str, str]:
    """The short names of the validation and test metrics when every run has the same ones
    ("acc", "AUC", "MAE"...), else "": runs of one task name the metric once, in the header."""

    def shared(names: set[str]) -> str:
        names.discard("")
        return SHORT_METRIC_NAMES.get(next(iter(names)), next(iter(names))) if len(names) == 1 else ""

    return shared({r.best_val_metric[0] for r in records}), shared({r.headline[0] for r in records})


def metric_value_text(value: float | None) -> str:
    """A metric for a table cell: four decimals for the usual scores (0.9600, so a column of them
    lines up), fewer for large errors (an MAE of 3214.51 in dollars); '-' when there is none."""
    if value is None or value != value:
        return "-"
    if abs(value) < 10:
        return f"{value:.4f}"
    return f"{value:.2f}" if abs(value) < 10_000 else f"{value:.4g}"


# Why a sweep's pruner stopped a trial (its run's reason begins so; kerastui.core.sweep_study
# writes it): such a run is listed as "pruned".
PRUNED_REASON = "pruned by the sweep"


@dataclass
class RunRecord:
    """One run directory as read from disk; `errors` notes what could not be read."""

    path: Path
    experiment: Experiment | None
    status: str
    events: list[TrainingEvent] = field(default_factory=list)
    evaluation: Evaluation | None = None
    info: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name

    def absorb(self, events: list[TrainingEvent]) -> None:
        """Append training events read since (by kerastui.core.follower); the status follows them."""
        self.__dict__.pop("resources", None)  # its samples moved on too
        for event in events:
            self.events.append(event)
            if isinstance(event, TrainingStarted):
                self.status = "running"
            elif (status := final_status(event)) is not None:
                self.status = status

    @property
    def status_label(self) -> str:
        """The status as shown: "requeued: preempted" for a Slurm job requeued after a SIGTERM
        (the status file itself says "requeued", as at a time-limit warning); "pruned" for a sweep's
        trial its pruner stopped (on disk: stopped, for the reason the sweep gives)."""
        if self.status == REQUEUED and self.info.get("requeued_for"):
            return f"{REQUEUED}: {self.info['requeued_for']}"
        if self.status == "stopped" and self.sweep and self.reason.startswith(PRUNED_REASON):
            return "pruned"
        return self.status

    @property
    def epoch_events(self) -> list[EpochEnded]:
        return [e for e in self.events if isinstance(e, EpochEnded)]

    @property
    def epochs_done(self) -> int:
        return len({e.epoch for e in self.epoch_events})

    @property
    def epochs_planned(self) -> int | None:
        for event in self.events:
            if isinstance(event, TrainingStarted):
                return event.epochs
        return self.experiment.fit.epochs if self.experiment else None

    @property
    def final_event(self) -> TrainingFinished | TrainingStopped | TrainingFailed | None:
        for event in reversed(self.events):
            if final_status(event):
                return event  # type: ignore[return-value]
        return None

    @property
    def reason(self) -> str:
        final = self.final_event
        return final.reason if final else ""

    @property
    def metrics_history(self) -> dict[str, list[float]]:
        """Per-epoch values of every logged metric, like Keras's History.history."""
        history: dict[str, list[float]] = {}
        for event in self.epoch_events:
            for key, value in event.metrics.items():
                history.setdefault(key, []).append(value)
        return history

    @property
    def best_val_accuracy(self) -> float | None:
        values = [v for v in self.metrics_history.get("val_accuracy", []) if v == v]  # drop NaN
        return max(values) if values else None

    @property
    def test_accuracy(self) -> float | None:
        """Accuracy on the test set (None for a regression, or without an evaluation)."""
        return self.evaluation.metric("test_accuracy") if self.evaluation is not None else None

    @property
    def task(self) -> str:
        """The run's task: its evaluation's, else its experiment's, else what its history logs."""
        if self.evaluation is not None:
            return self.evaluation.task
        if self.experiment is not None and self.experiment.task:
            return self.experiment.task
        history = self.metrics_history
        for metric, task in (("val_mae", "regression"), ("val_auc", "binary"), ("val_accuracy", "multiclass")):
            if metric in history:
                return task
        return ""

    @property
    def best_val_metric(self) -> tuple[str, float | None]:
        """(name, best value) of the task's validation metric (val_accuracy, val_auc, val_mae), the
        best in that metric's direction: the lowest MAE, the highest AUC."""
        from kerastui.core.tasks import TASKS, metric_direction

        task = TASKS.get(self.task)
        history = self.metrics_history
        name = f"val_{task.chart_metric}" if task is not None else next(
            (n for n in ("val_accuracy", "val_auc", "val_mae") if n in history), "val_accuracy")
        values = [v for v in history.get(name, []) if v == v]  # drop NaN
        if not values:
            return name, None
        return name, (max(values) if metric_direction(name) == "max" else min(values))

    @property
    def best_val_rank(self) -> float | None:
        """The best validation value signed so that bigger is better (for sorting runs of any task)."""
        from kerastui.core.tasks import metric_direction

        name, value = self.best_val_metric
        return None if value is None else (value if metric_direction(name) == "max" else -value)

    @property
    def best_val_text(self) -> str:
        """'acc 0.9120', 'AUC 0.9871', 'MAE 3.2140'; '-' before the first validation epoch."""
        name, value = self.best_val_metric
        return "-" if value is None else f"{SHORT_METRIC_NAMES.get(name, name)} {metric_value_text(value)}"

    @property
    def headline_text(self) -> str:
        """'acc 0.9120', 'AUC 0.9871', 'R² 0.4710', 'macro F1 0.6200'; '-' without an evaluation."""
        label, value = self.headline
        if not label:
            return "-"
        shown = "undefined" if value is None or value != value else metric_value_text(value)
        return f"{SHORT_METRIC_NAMES.get(label, label)} {shown}"

    @property
    def headline(self) -> tuple[str, float | None]:
        """(label, value) of the task's headline test metric: test accuracy, ROC AUC, R²,
        macro F1; ("", None) without an evaluation."""
        if self.evaluation is None:
            return "", None
        name, value = self.evaluation.headline
        return self.evaluation.metric_label(name), value

    @property
    def duration(self) -> float | None:
        """Seconds from creation to the end; for a run still going, to its latest event."""
        if "duration" in self.info:
            return float(self.info["duration"])
        if self.events:
            start = self.info.get("started_time", self.events[0].time)
            return max(0.0, self.events[-1].time - start)
        return None

    @property
    def created(self) -> float:
        """Creation time (epoch seconds): info.json, else the directory name, else its mtime."""
        if isinstance(self.info.get("created_time"), (int, float)):
            return float(self.info["created_time"])
        match = re.match(r"(\d{8}-\d{6})", self.path.name)
        if match:
            try:
                return time.mktime(time.strptime(match.group(1), "%Y%m%d-%H%M%S"))
            except ValueError:
                pass  # a name that looks like a time but is none (month 13): its mtime instead
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0

    @cached_property
    def resources(self) -> dict[str, Any]:
        """What the run used (kerastui.core.resources' summary): from info.json once it ended, else
        summed from its samples so far (read again after `absorb`)."""
        summary = self.info.get("resources")
        if isinstance(summary, dict):
            return summary
        from kerastui.core.resources import RESOURCES_FILE, read_resources

        if not (self.path / RESOURCES_FILE).exists():
            return {}
        return read_resources(self.path).summary()

    @property
    def sweep(self) -> str | None:
        """The sweep this run is a trial of (its directory's name), or None."""
        return str(self.info["sweep"]) if self.info.get("sweep") else None

    @property
    def slurm_job_id(self) -> str | None:
        job = self.info.get("slurm_job_id")
        return str(job) if job else None

    @property
    def location(self) -> str:
        """Where it ran: 'local' or 'slurm <job id>'."""
        return f"slurm {self.slurm_job_id}" if self.slurm_job_id else "local"

    @property
    def dataset(self) -> str:
        return self.experiment.dataset if self.experiment else "?"

    @property
    def architecture(self) -> str:
        return architecture_summary(self.experiment.layers) if self.experiment else "?"

    @property
    def model_path(self) -> Path | None:
        path = self.path / MODEL_FILE
        return path if path.exists() else None


def architecture_summary(layers: tuple[spec.LayerSpec, ...]) -> str:
    """Compact one-line architecture for tables, e.g. 'Conv32 MaxPool2 Flatten Dense128 Dense10'."""
    return " ".join(LAYERS[layer.type].abbreviation(layer.param) if layer.type in LAYERS else layer.type
                    for layer in layers)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_events(path: Path) -> tuple[list[TrainingEvent], list[str]]:
    """All complete events in a metrics file, and notes on lines that could not be read."""
    events: list[TrainingEvent] = []
    notes: list[str] = []
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return events, notes
    except OSError as error:
        return events, [f"{path.name}: cannot be read: {error.strerror or error}"]
    lines = text.split("\n")
    # Without a trailing newline the last line may still be being written: not an error.
    complete = lines[:-1]
    for number, line in enumerate(complete, start=1):
        if not line.strip():
            continue
        try:
            events.append(event_from_dict(json.loads(line)))
        except (ValueError, TypeError) as error:
            notes.append(f"{path.name} line {number}: {error}")
    return events, notes


def load_run(path: Path) -> RunRecord:
    """Read a run directory; what cannot be read is noted in `errors`, never raised."""
    path = Path(path)
    errors: list[str] = []
    experiment = None
    if (path / CONFIG_FILE).exists():
        try:
            experiment = spec.load(path / CONFIG_FILE)
        except spec.SpecError as error:
            errors.append(f"{CONFIG_FILE}: {'; '.join(str(p) for p in error.problems)}")
    else:
        errors.append(f"no {CONFIG_FILE}")

    events, notes = read_events(path / METRICS_FILE)
    errors.extend(notes)

    info = _read_json(path / INFO_FILE)
    if info is None:
        if (path / INFO_FILE).exists():
            errors.append(f"{INFO_FILE}: not valid JSON")
        info = {}

    status = read_status(path)
    final = next((e for e in reversed(events) if final_status(e)), None)
    if final is not None and status in ("running", UNKNOWN):
        status = final_status(final) or status  # the event made it to disk, the status file did not
    elif status in ("running", QUEUED) and _process_gone(info):
        status = INTERRUPTED

    evaluation = None
    if (path / EVALUATION_FILE).exists():
        evaluation = _load_evaluation(path / EVALUATION_FILE, errors)

    return RunRecord(path, experiment, status, events, evaluation, info, errors)


def _load_evaluation(path: Path, errors: list[str]) -> Evaluation | None:
    data = _read_json(path)
    if data is None:
        errors.append(f"{EVALUATION_FILE}: not valid JSON")
        return None
    try:
        from kerastui.core.evaluation import evaluation_from_dict
    except ImportError as error:
        errors.append(f"{EVALUATION_FILE}: cannot be read here ({error})")
        return None
    try:
        return evaluation_from_dict(data)  # of the run's task (no "task" key: multiclass)
    except (KeyError, TypeError, ValueError) as error:
        errors.append(f"{EVALUATION_FILE}: malformed ({error})")
        return None


def _process_gone(info: dict[str, Any]) -> bool:
    """True when the run was written by a process on this host that no longer exists."""
    return process_alive_here(info) is False


def pid_exists(pid: int) -> bool:
    """Whether a process with this pid exists on this host (kill with signal 0; one that belongs
    to someone else exists too). An ended but unreaped one (a zombie) still does."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists but belongs to someone else
    return True


def process_alive_here(info: dict[str, Any]) -> bool | None:
    """Whether the process named in info.json (pid, host) still runs; None when this host cannot tell
    (another machine, a Slurm job, no pid). A zombie (ended, not yet reaped) counts as gone."""
    pid, host = info.get("pid"), info.get("host")
    if not isinstance(pid, int) or host != socket.gethostname() or info.get("slurm_job_id"):
        return None
    if not pid_exists(pid):
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): kill(0) is all there is
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def writer_alive(run_dir: Path, info: dict[str, Any] | None = None) -> bool | None:
    """Whether the process writing `run_dir` still runs: its lock held (any host whose filesystem
    has locks), else its pid on this host (process_alive_here); None when nothing can tell."""
    # A queued run has no writer yet; a lock file left by its earlier trainer (a queued resumption)
    # says nothing: its life is the pid its queue named (kerastui.core.run_queue).
    held = writer_lock_held(run_dir) if read_status(run_dir) != QUEUED else None
    if held is not None:
        return held
    return process_alive_here(info if info is not None else read_info(run_dir))


def writer_lock_held(run_dir: Path) -> bool | None:
    """True while a writer holds the run's lock, False when it was released (its writer ended or
    died), None when there is no lock file or the filesystem cannot say."""
    return lock_file_held(Path(run_dir) / LOCK_FILE)


def lock_file_held(path: Path) -> bool | None:
    """True while some process holds an flock on `path`, False when none does, None when there is
    no such file or the filesystem cannot say."""
    import fcntl

    try:
        handle = open(path, "rb")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return None
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False


def read_info(run_dir: Path) -> dict[str, Any]:
    return _read_json(Path(run_dir) / INFO_FILE) or {}


def read_status(run_dir: Path) -> str:
    """The status file's word, or 'unknown' when it is missing or unreadable."""
    try:
        return (Path(run_dir) / STATUS_FILE).read_text(encoding="utf-8").strip() or UNKNOWN
    except OSError:
        return UNKNOWN


def mark_interrupted(run_dir: Path, reason: str) -> str:
    """Settle a run whose writer died without a final event (SIGKILL, the OOM killer) as
    `interrupted`, so nothing says `running` for ever; returns the status now on disk."""
    run_dir = Path(run_dir)
    status = read_status(run_dir)
    if status not in ("running", QUEUED, UNKNOWN):
        return status
    writer = RunWriter(run_dir)
    try:
        writer.set_status(INTERRUPTED)
        ended = time.time()
        writer.update_info(ended=iso_time(ended), ended_time=ended, reason=reason)
    except OSError:
        return INTERRUPTED  # someone else's read-only run: report it without writing it
    return INTERRUPTED


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and any((path / name).exists() for name in RUN_FILES)


def list_runs(root: Path | None = None) -> list[RunRecord]:
    """Every run directory under root, newest first; unreadable ones carry an error note."""
    root = Path(root) if root is not None else default_runs_root()
    if not root.is_dir():
        return []
    records = []
    children = []
    for child in root.iterdir():
        if (child / SWEEP_DEFINITION).is_file():  # a sweep (kerastui.core.sweep_runs): its trials are runs
            children.extend(sorted(child.iterdir()))
        else:
            children.append(child)
    for child in children:
        if child.name.startswith(".") or not is_run_dir(child):
            continue
        try:
            records.append(load_run(child))
        except Exception as error:  # a broken run must not hide the others
            records.append(RunRecord(child, None, UNKNOWN, errors=[f"cannot be read: {error}"]))
    records.sort(key=lambda r: (r.created, r.name), reverse=True)
    return records


