"""Local runs as child processes: prepared, queued for a free slot, started, stopped.

The app never trains in its own process. `LocalLauncher.launch` prepares the run directory
(config.toml, status `queued`) and returns it at once; the run starts when one of `slots` is
free, as `kerastui train <run>/config.toml --run-dir <run> --plain` in its own session, so that
closing the terminal (SIGHUP) or quitting the app never stops it. Its output goes to the run's
train.log. Whoever wants to see the run follows its directory (kerastui.core.follower), exactly
as for a Slurm job.

A warm trainer (kerastui.warm_trainer: Keras imported, waiting) is kept ready for the
backend of the latest run, so the next run starts training within a second. It costs ~750 MB,
so it is started only where training will happen: from the first local run asked for (or at
start-up with KERASTUI_WARM_TRAINER=start), never on a host that looks like a login node
(kerastui.core.slurm.looks_like_login_node), and it exits after KERASTUI_WARM_IDLE seconds
(default 600) without a run; the next run asked for starts one again.

Not thread-safe: call it from one thread (the app's event loop; `pump` is cheap).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from kerastui.core.runs import (
    CANCELLED,
    CONFIG_FILE,
    QUEUED,
    RunWriter,
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
    def start(cls, backend: str, python: str) -> WarmTrainer:
        process = subprocess.Popen(
            [python, "-m", "kerastui.warm_trainer"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_child_env(backend),
            start_new_session=True,  # its own session: a closed terminal's SIGHUP never reaches it
            close_fds=True,
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


@dataclass
class LocalLauncher:
    """Runs experiments as local child processes, at most `slots` at a time, in launch order."""

    runs_root: Path | None = None
    slots: int = field(default_factory=default_slots)
    python: str = sys.executable
    keep_warm: bool = field(default_factory=warm_trainer_wanted)
    # True: a trainer waits from start-up; else only once a local run has been asked for.
    warm_at_start: bool = field(default_factory=warm_trainer_at_startup)
    queued: deque[Path] = field(default_factory=deque)
    running: dict[Path, subprocess.Popen] = field(default_factory=dict)
    warm: WarmTrainer | None = None
    resuming: set[Path] = field(default_factory=set)  # queued runs that continue from their saved state
    backend: str = "tensorflow"  # of the next run, and so of the warm trainer
    # Whether a trainer should be waiting now: from start-up or the first run asked for, until one
    # exits idle (then again from the next run asked for).
    warm_wanted: bool = False

    def __post_init__(self) -> None:
        self.warm_wanted = self.warm_at_start

    # ---- the queue -----------------------------------------------------------------------------

    def launch(self, experiment: Experiment, name: str | None = None) -> Path:
        """Prepare the run and start it as soon as a slot is free; returns its directory."""
        run_dir = prepare_local_run(experiment, self.runs_root, name)
        self.backend = experiment.backend
        self.warm_wanted = True
        self.queued.append(run_dir)
        self.pump()
        return run_dir

    def resume(self, run_dir: Path) -> None:
        """Queue a stopped, interrupted or failed run to continue from its last saved epoch
        (`kerastui train --resume`, which refuses, in the run's train.log, what cannot be resumed)."""
        run_dir = Path(run_dir).resolve()
        writer = RunWriter(run_dir)
        # Queued on disk too, so that whoever follows it waits for its continuation.
        writer.update_info(resume_from=read_status(run_dir))
        writer.set_status(QUEUED)
        self.resuming.add(run_dir)
        self.queued.append(run_dir)
        self.warm_wanted = True
        self.pump()

    def enqueue(self, run_dir: Path) -> None:
        """Queue a run directory prepared elsewhere (a sweep's trial), status `queued`."""
        self.queued.append(Path(run_dir).resolve())
        self.pump()

    def pump(self) -> list[Path]:
        """Reap ended children, start queued runs in free slots; returns the runs started now."""
        for run_dir, process in list(self.running.items()):
            if process.poll() is not None:
                del self.running[run_dir]
        if self.warm is not None and not self.warm.alive:
            self.warm.dismiss()  # reaped: it waited its idle time out (or died)
            self.warm = None
            self.warm_wanted = False  # none again until the next run is asked for
        started = []
        while self.queued and len(self.running) < self.slots:
            run_dir = self.queued.popleft()
            if read_status(run_dir) != QUEUED:
                self.resuming.discard(run_dir)
                continue  # cancelled meanwhile, here or by `kerastui queue --cancel` (or deleted)
            self.running[run_dir] = self._start(run_dir)
            started.append(run_dir)
        # A trainer importing Keras takes a core for seconds: start the next one only while no run
        # trains, so it never slows a fit down (measured: 1.42x on 2 cores when it did).
        if not self.running and self.warm_wanted and (self.warm is None or self.warm.backend != self.backend):
            self.warm_up(self.backend)
        return started

    def _start(self, run_dir: Path) -> subprocess.Popen:
        resume = run_dir in self.resuming
        self.resuming.discard(run_dir)
        backend = _run_backend(run_dir, self.backend)
        warm, self.warm = self.warm, None
        if warm is not None and warm.alive and warm.backend == backend:
            # Its pid first, so a follower never sees a queued run without a live owner.
            RunWriter(run_dir).update_info(pid=warm.process.pid)
            try:
                return warm.hand_over(run_dir, resume)
            except OSError:
                pass  # it died just now: start one cold
        elif warm is not None:
            warm.dismiss()
        with open(run_dir / LOG_FILE, "ab") as log:
            process = subprocess.Popen(
                [self.python, "-m", "kerastui", *train_argv(run_dir, resume)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_child_env(backend),
                start_new_session=True,
                close_fds=True,
            )
        RunWriter(run_dir).update_info(pid=process.pid)
        return process

    def warm_up(self, backend: str) -> None:
        """Have a trainer with `backend` imported and waiting (replacing one of another backend)."""
        self.backend = backend
        if not self.keep_warm:
            return
        if self.warm is not None and self.warm.backend != backend:
            self.warm.dismiss()  # the experiment chose another Keras: the old one is of no use
            self.warm = None
        if not self.warm_wanted:
            return  # no run asked for yet (or the last trainer idled out): hold no memory
        if self.warm is not None:
            if self.warm.alive and self.warm.backend == backend:
                return
            self.warm.dismiss()
            self.warm = None
        if self.running:
            return  # pump starts it once the slots are idle
        self.warm = WarmTrainer.start(backend, self.python)

    # ---- what is going on ----------------------------------------------------------------------

    @property
    def active(self) -> list[Path]:
        """Runs started here that still train, then those waiting for a slot."""
        self.pump()
        return [*self.running, *self.queued]

    # ---- stopping ------------------------------------------------------------------------------

    def stop(self, run_dir: Path) -> str:
        """Stop a run after its current batch (SIGINT, as Ctrl+C), or cancel it while queued.

        Works for any local run of this host, also one started by an earlier kerastui (its pid is
        in info.json). Returns what happened: stopping, cancelled or not running.
        """
        run_dir = Path(run_dir).resolve()
        if run_dir in self.queued:
            self.queued.remove(run_dir)
            cancel_queued(run_dir, resuming=run_dir in self.resuming)
            self.resuming.discard(run_dir)
            return CANCELLED
        process = self.running.get(run_dir)
        pid = process.pid if process is not None and process.poll() is None else None
        if pid is None:
            info = read_info(run_dir)
            if writer_alive(run_dir, info) and isinstance(info.get("pid"), int):
                pid = info["pid"]
        if pid is None:
            return "not running"
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            return "not running"
        return "stopping"

    def shutdown(self, keep_running: bool = True) -> None:
        """The app is quitting: end the warm trainer; stop the runs unless `keep_running`.

        Runs already training keep going on their own either way unless stopped here. Queued runs
        cannot wait for a queue that is going away: they are cancelled (their directory says so).
        """
        if self.warm is not None:
            self.warm.dismiss()
            self.warm = None
        for run_dir in list(self.queued):
            self.stop(run_dir)  # cancelled; a run queued for resuming goes back to how it was
        if not keep_running:
            for run_dir in list(self.running):
                self.stop(run_dir)


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


def _run_backend(run_dir: Path, default: str) -> str:
    from kerastui.core import spec

    try:
        return spec.load(run_dir / CONFIG_FILE).backend
    except (spec.SpecError, OSError):
        return default
