"""Local runs as child processes: prepared, queued for a free slot, started, stopped.

The app never trains in its own process. `LocalLauncher.launch` prepares the run directory
(config.toml, status `queued`), adds it to the runs directory's queue on disk
(kerastui.core.run_queue) and returns at once. The queue's runner (kerastui.core.queue_runner:
one small process per runs directory, no framework imported) starts it when one of the slots is
free, as `kerastui train <run>/config.toml --run-dir <run> --plain` in its own session, so that
closing the terminal (SIGHUP) or quitting the app never stops it nor the runs still waiting. Its
output goes to the run's train.log. Whoever wants to see the run follows its directory
(kerastui.core.follower), exactly as for a Slurm job.

A warm trainer (kerastui.warm_trainer: Keras imported, waiting) is kept ready by the runner for
the backend of the latest run, so the next run starts training within a second. It costs ~750 MB,
so it is started only where training will happen: from the first local run asked for (or at
start-up with KERASTUI_WARM_TRAINER=start), never on a host that looks like a login node
(kerastui.core.slurm.looks_like_login_node), and it exits after KERASTUI_WARM_IDLE seconds
(default 600) without a run; the next run asked for starts one again.

A sweep's local workers are queue entries too (`add_sweep_workers`): the runner starts each as
`kerastui sweep --worker SWEEP_DIR` (what a Slurm array task runs) within the same slots, so they
outlive the app or command that asked for them and are stopped and cancelled like runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from kerastui.core.run_queue import RunQueue, own_queued_run
from kerastui.core.runs import (
    CANCELLED,
    CONFIG_FILE,
    QUEUED,
    RunWriter,
    default_runs_root,
    read_info,
    read_status,
    writer_alive,
)
from kerastui.core.spec import Experiment

LOG_FILE = "train.log"
SLOTS_ENV = "KERASTUI_SLOTS"
# "0" keeps no trainer waiting (runs then start cold); "start" has one waiting from start-up;
# anything else (the default) starts one from the first local run asked for.
WARM_ENV = "KERASTUI_WARM_TRAINER"
WARM_IDLE_ENV = "KERASTUI_WARM_IDLE"  # seconds a warm trainer waits for a run before it exits
DEFAULT_WARM_IDLE_S = 600.0


def _warm_setting() -> str:
    return os.environ.get(WARM_ENV, "1").strip().lower()


def warm_trainer_wanted() -> bool:
    """The setting allows a warm trainer, and this host is not a login node (it never gets one)."""
    from kerastui.core.slurm import looks_like_login_node

    return _warm_setting() not in ("0", "no", "false", "off") and not looks_like_login_node()


def warm_trainer_at_startup() -> bool:
    return _warm_setting() in ("start", "startup")


def warm_idle_seconds() -> float:
    """$KERASTUI_WARM_IDLE (seconds, > 0), else 10 minutes."""
    try:
        value = float(os.environ.get(WARM_IDLE_ENV, DEFAULT_WARM_IDLE_S))
    except ValueError:
        return DEFAULT_WARM_IDLE_S
    return value if value > 0 else DEFAULT_WARM_IDLE_S


def default_slots() -> int:
    """$KERASTUI_SLOTS, else 1: one run at a time on a login node."""
    try:
        return max(1, int(os.environ.get(SLOTS_ENV, "1")))
    except ValueError:
        return 1


def train_argv(run_dir: Path, resume: bool = False) -> list[str]:
    """The `kerastui` arguments that train a prepared run directory (as a Slurm job's script does),
    or continue a stopped one from its saved state."""
    if resume:
        return ["train", "--resume", str(run_dir), "--plain"]
    return ["train", str(run_dir / CONFIG_FILE), "--run-dir", str(run_dir), "--plain"]


def prepare_local_run(experiment: Experiment, runs_root: Path | None = None, name: str | None = None) -> Path:
    """A new run directory holding the experiment, marked `queued` until its process starts."""
    experiment.validated()
    writer = RunWriter.create(experiment, root=runs_root, name=name, status=QUEUED)
    # Until its trainer starts, the queue's owner (this process) is the run's life: if it dies
    # with the run still queued, followers settle the run instead of waiting for ever.
    writer.update_info(launcher="local", queued_by=os.getpid())
    return writer.path.resolve()


def _child_env(backend: str) -> dict[str, str]:
    env = dict(os.environ)
    env["KERAS_BACKEND"] = backend
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env[WARM_IDLE_ENV] = f"{warm_idle_seconds():g}"
    return env


@dataclass
class WarmTrainer:
    """One waiting trainer process for `backend`."""

    backend: str
    process: subprocess.Popen

    @classmethod
    def start(cls, backend: str, python: str, die_with_parent: bool = False) -> WarmTrainer:
        process = subprocess.Popen(
            [python, "-m", "kerastui.warm_trainer"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_child_env(backend),
            start_new_session=True,  # its own session: a closed terminal's SIGHUP never reaches it
            close_fds=True,
            preexec_fn=_die_with_parent if die_with_parent else None,
        )
        return cls(backend, process)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def hand_over(self, run_dir: Path, resume: bool = False) -> subprocess.Popen:
        """Give it `run_dir` to train; it is no longer warm afterwards."""
        request = json.dumps({"argv": train_argv(run_dir, resume), "log": str(run_dir / LOG_FILE)}) + "\n"
        assert self.process.stdin is not None
        self.process.stdin.write(request.encode())
        self.process.stdin.close()
        return self.process

    def dismiss(self) -> None:
        """End it: closing its input ends a trainer still waiting."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_trainer(run_dir: Path, resume: bool, backend: str, python: str = sys.executable,
                  warm: WarmTrainer | None = None, die_with_parent: bool = False) -> subprocess.Popen:
    """Start `run_dir`'s trainer: handed to `warm` when it waits with the same backend, else a
    new `kerastui train` process in its own session, its output in the run's train.log. Its pid
    goes into info.json first, so a follower never sees the run without a live owner."""
    if warm is not None and warm.alive and warm.backend == backend:
        RunWriter(run_dir).update_info(pid=warm.process.pid)
        try:
            return warm.hand_over(run_dir, resume)
        except OSError:
            pass  # it died just now: start one cold
    elif warm is not None:
        warm.dismiss()
    with open(run_dir / LOG_FILE, "ab") as log:
        process = subprocess.Popen(
            [python, "-m", "kerastui", *train_argv(run_dir, resume)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_child_env(backend),
            start_new_session=True,  # a closed terminal's SIGHUP never reaches it
            close_fds=True,
            preexec_fn=_die_with_parent if die_with_parent else None,
        )
    RunWriter(run_dir).update_info(pid=process.pid)
    return process


def sweep_worker_argv(sweep_dir: Path) -> list[str]:
    """The `kerastui` arguments of one sweep worker (a local one, or a Slurm array task)."""
    return ["sweep", "--worker", str(sweep_dir), "--plain"]


def start_sweep_worker(sweep_dir: Path, index: int, python: str = sys.executable,
                       die_with_parent: bool = False) -> subprocess.Popen:
    """A sweep worker process in a session of its own, its output in the sweep's
    worker-<index>.log. It selects its Keras backend itself, from the sweep's definition."""
    sweep_dir = Path(sweep_dir)
    # As the Slurm script does: a line per epoch as it happens, and no TensorFlow start-up chatter.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    with open(sweep_dir / f"worker-{index}.log", "ab") as log:
        return subprocess.Popen(
            [python, "-m", "kerastui", *sweep_worker_argv(sweep_dir)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True, close_fds=True,
            preexec_fn=_die_with_parent if die_with_parent else None,
        )


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGKILL when the runner that started it dies, so a killed
    runner's runs end too and are settled interrupted (state kept) instead of training unowned."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the run outlives its runner and finishes on its own


@dataclass
class LocalLauncher:
    """Adds runs to the local queue of `runs_root` (kerastui.core.run_queue) and controls it.

    The queue's runner (kerastui.core.queue_runner, started here when none holds the queue)
    starts them, at most `slots` at a time, in queue order; it outlives whoever added them, so any
    app or command from any terminal sees, stops, cancels and reorders the same queue.
    """

    runs_root: Path | None = None
    slots: int = field(default_factory=default_slots)
    python: str = sys.executable
    keep_warm: bool = field(default_factory=warm_trainer_wanted)
    # True: a trainer waits from start-up; else only once a local run has been asked for.
    warm_at_start: bool = field(default_factory=warm_trainer_at_startup)
    backend: str = "tensorflow"  # of the next run, and so of the warm trainer
    # Whether a trainer should be waiting: from start-up or the first run asked for here.
    warm_wanted: bool = False

    def __post_init__(self) -> None:
        self.warm_wanted = self.warm_at_start
        self.queue = RunQueue(Path(self.runs_root) if self.runs_root is not None else default_runs_root())

    # ---- the queue -----------------------------------------------------------------------------

    def launch(self, experiment: Experiment, name: str | None = None) -> Path:
        """Prepare the run and queue it (it starts as soon as a slot is free); returns its directory."""
        run_dir = prepare_local_run(experiment, self.queue.root, name)
        self.backend = experiment.backend
        self.warm_wanted = True
        self._add(run_dir)
        return run_dir

    def resume(self, run_dir: Path) -> None:
        """Queue a stopped, interrupted or failed run to continue from its last saved epoch
        (`kerastui train --resume`, which refuses, in the run's train.log, what cannot be resumed)."""
        run_dir = Path(run_dir).resolve()
        writer = RunWriter(run_dir)
        # Queued on disk too, so that whoever follows it waits for its continuation; this process
        # is its life until the runner takes it.
        writer.update_info(resume_from=read_status(run_dir))
        own_queued_run(run_dir)
        writer.set_status(QUEUED)
        self.warm_wanted = True
        self._add(run_dir, resume=True)

    def enqueue(self, run_dir: Path) -> None:
        """Queue a run directory prepared elsewhere (a sweep's trial), status `queued`."""
        self._add(Path(run_dir).resolve())

    def add_sweep_workers(self, sweep_dir: Path, count: int) -> list[str]:
        """Queue `count` workers of a sweep (each holds a slot while it trains the study's trials);
        returns their entries' keys."""
        self.queue.set_slots(self.slots)
        entries = self.queue.add_workers(sweep_dir, count)
        self.ensure_runner()
        return [e.key for e in entries]

    def _add(self, run_dir: Path, resume: bool = False) -> None:
        self.queue.set_slots(self.slots)
        if self.keep_warm and self.warm_wanted:
            self.queue.set_warm(self.backend)
        self.queue.add(run_dir, resume)
        self.ensure_runner()

    def ensure_runner(self) -> int:
        """The pid of the queue's runner, started now when none holds the queue."""
        pid = self.queue.runner_pid()
        if pid is not None:
            self.queue.poke()
            return pid
        self.queue.dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        with open(self.queue.dir / "runner.log", "ab") as log:
            process = subprocess.Popen(
                [self.python, "-m", "kerastui.core.queue_runner", str(self.queue.root)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True,  # outlives this process and its terminal
                close_fds=True,
            )
        _reap_later(process)
        return process.pid

    def pump(self) -> list[Path]:
        """Look after a queue whose runner is gone: settle its runs (interrupted, resumable) and
        start a runner for runs still waiting. Returns the runs settled now. Cheap; the runner, not
        this, starts runs."""
        if self.queue.runner_pid() is not None:
            return []
        settled = self.queue.settle_orphans()
        if self.queue.waiting():
            self.ensure_runner()
        return settled

    def move(self, run_dir: Path, delta: int) -> int:
        """A waiting run one place earlier (-1) or later (+1); its new position (ValueError when
        it is not waiting)."""
        position = self.queue.move_by(run_dir, delta)
        self.queue.poke()
        return position

    def move_to(self, run_dir: Path, position: int) -> int:
        position = self.queue.move_to(run_dir, position)
        self.queue.poke()
        return position

    def warm_up(self, backend: str) -> None:
        """Have a trainer with `backend` imported and waiting, once a run has been asked for (or
        from start-up, as the setting says): the queue's runner keeps it."""
        self.backend = backend
        if not (self.keep_warm and self.warm_wanted):
            return
        if self.queue.warm() == backend and self.queue.runner_pid() is not None:
            return
        self.queue.set_warm(backend)
        self.ensure_runner()

    # ---- what is going on ----------------------------------------------------------------------

    # A sweep with workers in the queue counts once, as its directory (stop() stops them all).

    @property
    def running(self) -> list[Path]:
        """Runs (and sweeps) of this queue that the runner has started and that still train."""
        return _distinct(e.run for e in self.queue.entries() if e.started)

    @property
    def queued(self) -> list[Path]:
        """Runs (and sweeps) waiting for a slot, the next to start first."""
        running = set(self.running)
        return _distinct(e.run for e in self.queue.waiting() if e.run not in running)

    @property
    def active(self) -> list[Path]:
        """Runs (and sweeps) that train, then those waiting for a slot."""
        return _distinct(e.run for e in self.queue.entries())

    # ---- stopping ------------------------------------------------------------------------------

    def stop(self, run_dir: Path) -> str:
        """Stop a run after its current batch (SIGINT, as Ctrl+C), or cancel it while queued.

        Works for any local run of this host, also one started by an earlier kerastui (its pid is
        in info.json). Returns what happened: stopping, cancelled or not running.
        """
        run_dir = Path(run_dir).resolve()
        if self.queue.workers_of(run_dir):
            return self.stop_sweep_workers(run_dir)
        with self.queue.editing():
            entry = self.queue.entry(run_dir)
            if entry is not None and read_status(run_dir) == QUEUED:
                cancel_queued(run_dir, resuming=entry.resume)
                if not entry.started:
                    self.queue.remove(run_dir)
                    return CANCELLED
                # Its trainer is starting (importing Keras): off the queue on disk first, so that it
                # refuses the run if it gets as far as claiming it; then told to stop.
                try:
                    os.kill(entry.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
                return CANCELLED
        info = read_info(run_dir)
        pid = info.get("pid") if writer_alive(run_dir, info) else None
        if not isinstance(pid, int) or pid == os.getpid():
            return "not running"
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            return "not running"
        return "stopping"

    def stop_sweep_workers(self, sweep_dir: Path, keys: set[str] | None = None) -> str:
        """A sweep's workers (those named by `keys`, else all): waiting ones taken off the queue,
        started ones asked to stop (SIGINT: their trial stops after its batch, and `kerastui sweep
        --continue` tries it again). Returns what happened: stopping, cancelled or not running."""
        outcome = "not running"
        with self.queue.editing():
            for entry in self.queue.workers_of(sweep_dir):
                if keys is not None and entry.key not in keys:
                    continue
                if not entry.started:
                    self.queue.remove_entry(entry)
                    outcome = CANCELLED if outcome == "not running" else outcome
                    continue
                try:
                    os.kill(entry.pid, signal.SIGINT)
                    outcome = "stopping"
                except ProcessLookupError:
                    pass
        self.queue.poke()
        return outcome

    def shutdown(self, keep_running: bool = True) -> None:
        """The app is quitting. Keep: the queue goes on with its runner. Stop: every run of the
        queue stops after its batch and every waiting one is cancelled. Either way the warm trainer
        this app asked for is not wanted any more: the runner lets it go (at once when it waits;
        else none starts once the queue is done), and exits when nothing is left to run."""
        if not keep_running:
            for run_dir in [*self.queued, *self.running]:
                self.stop(run_dir)
        if self.warm_wanted and self.queue.warm() is not None:
            self.queue.set_warm(None)
            self.queue.poke()


def _distinct(paths) -> list[Path]:
    return list(dict.fromkeys(paths))


def _reap_later(process: subprocess.Popen) -> None:
    """Collect the runner's exit status whenever it ends, so it never lingers as a zombie of a
    long-lived app (it is a child here only because this process started it)."""
    import threading

    threading.Thread(target=process.wait, daemon=True, name="queue-runner-reaper").start()


def cancel_queued(run_dir: Path, resuming: bool) -> None:
    """A queued run taken off the queue: a resumption goes back as it was (stopped, resumable
    later), a new run is marked cancelled. Whoever holds the queue skips it (`pump`)."""
    writer = RunWriter(run_dir)
    if resuming:
        writer.set_status(read_info(run_dir).get("resume_from") or "stopped")
        return
    try:
        writer.set_status(CANCELLED)
        writer.update_info(reason="cancelled before it started")
    except OSError:
        pass


def run_backend(run_dir: Path, default: str) -> str:
    """The Keras backend a prepared run's config.toml names (`default` when it cannot be read)."""
    from kerastui.core import spec

    try:
        return spec.load(run_dir / CONFIG_FILE).backend
    except (spec.SpecError, OSError):
        return default
