"""The local run queue of one runs directory, on disk: `<runs>/.queue/`.

Any process (an app in any terminal, `kerastui train --queue`, `kerastui queue`, a sweep) adds,
cancels and reorders entries here; one runner process (kerastui.core.queue_runner) starts them
as slots free. Nothing here imports a framework.

    .queue/entries/<run name>.json   {"run": path, "order": n, "resume": bool, "pid": started or null}
    .queue/entries/<sweep>.worker-<i>.json
                                     a sweep's worker: {"kind": "sweep-worker", "run": sweep dir,
                                     "worker": i, "restarts": n, "order", "pid"}; it holds a slot
                                     while its process (`kerastui sweep --worker`) asks the study
                                     for trials and trains them, and ends when the budget is met
    .queue/edit.lock                 flock held for each read-modify-write of the entries
    .queue/runner.lock               flock held by the runner for its whole life; holds its pid
    .queue/wake                      FIFO: a byte written wakes the runner at once (never blocks)
    .queue/slots                     how many runs may train at once (the latest launcher's word)
    .queue/warm                      the backend a warm trainer should wait with (absent: none)

Entries are written atomically (core/atomic.py), so a reader sees an entry whole or not at all.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from kerastui.core.atomic import write_text_atomic
from kerastui.core.runs import (
    QUEUED,
    RunWriter,
    lock_file_held,
    mark_interrupted,
    pid_exists,
    read_status,
    writer_alive,
)

QUEUE_DIR = ".queue"
MAX_WORKER_RESTARTS = 4  # a sweep worker that keeps dying is a fault, not bad luck


RUN = "run"
SWEEP_WORKER = "sweep-worker"


@dataclass(frozen=True)
class Entry:
    """One run in the queue, or one worker of a sweep (`run` is then the sweep's directory):
    waiting (pid None) or started by the runner (its trainer's or worker's pid)."""

    run: Path
    order: int
    resume: bool = False
    pid: int | None = None
    kind: str = RUN
    worker: int = 0  # a sweep worker's number (its log: worker-<n>.log in the sweep)
    restarts: int = 0  # a sweep worker started again after its process died
    died: str = ""  # how its process last died (e.g. "signal SIGKILL")

    @property
    def started(self) -> bool:
        return self.pid is not None

    @property
    def is_worker(self) -> bool:
        return self.kind == SWEEP_WORKER

    @property
    def key(self) -> str:
        """Its name in the queue (its entry file's stem): the run's name, or `<sweep>.worker-<n>`."""
        return f"{self.run.name}.worker-{self.worker}" if self.is_worker else self.run.name

    def label(self) -> str:
        """How a list shows it."""
        return f"sweep worker {self.worker} · {self.run.name}" if self.is_worker else self.run.name

    def replace(self, **changes: object) -> Entry:
        from dataclasses import replace

        return replace(self, **changes)


class RunQueue:
    """The queue directory of `root` (created on first write)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.dir = self.root / QUEUE_DIR
        self.entries_dir = self.dir / "entries"
        self.runner_lock = self.dir / "runner.lock"
        self.wake_fifo = self.dir / "wake"

    # ---- entries -------------------------------------------------------------------------------

    def _entry_path(self, key: str) -> Path:
        return self.entries_dir / f"{key}.json"

    def entries(self) -> list[Entry]:
        """Started entries first, then the waiting ones in queue order."""
        found = []
        try:
            paths = list(self.entries_dir.iterdir())
        except OSError:
            return []
        for path in paths:
            if path.suffix != ".json" or path.name.startswith("."):
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                found.append(Entry(Path(data["run"]), int(data["order"]), bool(data.get("resume")),
                                   data.get("pid") if isinstance(data.get("pid"), int) else None,
                                   str(data.get("kind") or RUN), int(data.get("worker") or 0),
                                   int(data.get("restarts") or 0), str(data.get("died") or "")))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # deleted meanwhile, or not ours: never let one hide the others
        return sorted(found, key=lambda e: (not e.started, e.order, e.key))

    def waiting(self) -> list[Entry]:
        return [e for e in self.entries() if not e.started]

    def runs(self) -> list[Entry]:
        """The entries that are runs (not sweep workers)."""
        return [e for e in self.entries() if not e.is_worker]

    def entry(self, run_dir: Path) -> Entry | None:
        """The entry of a run (not a sweep's worker)."""
        return next((e for e in self.runs() if e.run.name == Path(run_dir).name), None)

    def workers_of(self, sweep_dir: Path) -> list[Entry]:
        """The entries of a sweep's workers, started or waiting."""
        return [e for e in self.entries() if e.is_worker and e.run.name == Path(sweep_dir).name]

    def _write(self, entry: Entry) -> None:
        data = {"run": str(entry.run), "order": entry.order, "resume": entry.resume, "pid": entry.pid}
        if entry.is_worker:
            data.update(kind=entry.kind, worker=entry.worker, restarts=entry.restarts, died=entry.died)
        write_text_atomic(self._entry_path(entry.key), json.dumps(data) + "\n")

    @contextlib.contextmanager
    def editing(self) -> Iterator[None]:
        """Hold the edit lock: read-modify-writes of entries by two processes never interleave."""
        self.entries_dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "edit.lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def add(self, run_dir: Path, resume: bool = False) -> Entry:
        """At the end of the queue."""
        with self.editing():
            last = max((e.order for e in self.entries()), default=0)
            entry = Entry(Path(run_dir).resolve(), last + 1, resume)
            self._write(entry)
        self.poke()
        return entry

    def add_workers(self, sweep_dir: Path, count: int) -> list[Entry]:
        """`count` workers of a sweep at the end of the queue, numbered after those it has."""
        sweep_dir = Path(sweep_dir).resolve()
        added = []
        with self.editing():
            entries = self.entries()
            last = max((e.order for e in entries), default=0)
            taken = {e.worker for e in entries if e.is_worker and e.run.name == sweep_dir.name}
            numbers = (n for n in range(len(taken) + count) if n not in taken)
            for order, number in enumerate(numbers, last + 1):
                if len(added) == count:
                    break
                entry = Entry(sweep_dir, order, kind=SWEEP_WORKER, worker=number)
                self._write(entry)
                added.append(entry)
        self.poke()
        return added

    def remove(self, run_dir: Path) -> None:
        """A run's entry off the queue."""
        self._entry_path(Path(run_dir).name).unlink(missing_ok=True)

    def remove_entry(self, entry: Entry) -> None:
        self._entry_path(entry.key).unlink(missing_ok=True)

    def mark_started(self, entry: Entry, pid: int) -> None:
        self._write(entry.replace(pid=pid))

    def requeue_worker(self, entry: Entry, died: str) -> Entry:
        """A sweep worker whose process died (`died`: how), waiting again (first in line: its own order)."""
        again = entry.replace(pid=None, restarts=entry.restarts + 1, died=died)
        self._write(again)
        return again

    def move_to(self, run_dir: Path, position: int) -> int:
        """Put a waiting run at `position` (1 = next to start) among the waiting ones; returns where
        it went (clamped). ValueError when it is not waiting in this queue."""
        with self.editing():
            waiting = self.waiting()
            names = [e.key for e in waiting]
            if Path(run_dir).name not in names:
                raise ValueError(f"{Path(run_dir).name} is not waiting in the queue")
            moving = waiting.pop(names.index(Path(run_dir).name))
            position = min(max(1, position), len(waiting) + 1)
            waiting.insert(position - 1, moving)
            for order, entry in enumerate(waiting, 1):
                if entry.order != order:
                    self._write(entry.replace(order=order))
        return position

    def move_by(self, run_dir: Path, delta: int) -> int:
        """One place earlier (-1) or later (+1) among the waiting runs; returns its new position."""
        names = [e.key for e in self.waiting()]
        if Path(run_dir).name not in names:
            raise ValueError(f"{Path(run_dir).name} is not waiting in the queue")
        return self.move_to(run_dir, names.index(Path(run_dir).name) + 1 + delta)

    def positions(self) -> dict[str, int]:
        """Entry name (a run's name) -> its place among the waiting entries (1 starts next)."""
        return {e.key: n for n, e in enumerate(self.waiting(), 1)}

    # ---- settings the runner reads -------------------------------------------------------------

    def set_slots(self, slots: int) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.dir / "slots", f"{max(1, int(slots))}\n")

    def slots(self, default: int = 1) -> int:
        try:
            return max(1, int((self.dir / "slots").read_text()))
        except (OSError, ValueError):
            return default

    def set_warm(self, backend: str | None) -> None:
        """Ask for a warm trainer with `backend` (None: none wanted)."""
        if backend is None:
            (self.dir / "warm").unlink(missing_ok=True)
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.dir / "warm", backend + "\n")

    def warm(self) -> str | None:
        try:
            return (self.dir / "warm").read_text().strip() or None
        except OSError:
            return None

    # ---- the runner ----------------------------------------------------------------------------

    def runner_pid(self) -> int | None:
        """The pid of the runner holding this queue, or None when none holds it."""
        if not lock_file_held(self.runner_lock):
            return None
        try:
            return int(self.runner_lock.read_text().strip() or 0) or -1
        except (OSError, ValueError):
            return -1  # held, its pid not written yet

    def poke(self) -> None:
        """Wake the runner now (it also looks every few seconds). Never blocks: without a reader
        (no runner) the FIFO refuses at once."""
        try:
            fd = os.open(self.wake_fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return  # no FIFO yet, or no runner reading it (ENXIO)
        try:
            os.write(fd, b"!")
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EPIPE):
                raise
        finally:
            os.close(fd)

    def settle_orphans(self, reason: str = "the queue's runner ended before the run did",
                       skip: Collection[str] = ()) -> list[Path]:
        """Entries whose owner is gone (the runner was killed): their runs settled as interrupted
        (kerastui.core.runs.mark_interrupted, their saved state kept for resuming) and taken off;
        entries of runs no longer queued or running (ended, cancelled, deleted) are dropped. A
        sweep worker started by a runner that is gone is dropped once its process is (its trial is
        settled and retried by the study); a waiting one stays for the next runner. `skip`: keys
        of the caller's own children. Returns the runs settled now."""
        settled = []
        if not self.entries_dir.is_dir():
            return settled
        with self.editing():
            for entry in self.entries():
                if entry.key in skip:
                    continue  # the runner's own child: it reaps it, with its own reason
                if entry.is_worker:
                    if not (entry.run / "sweep.toml").is_file() or (entry.started and not _pid_alive(entry.pid)):
                        self.remove_entry(entry)
                    continue
                status = read_status(entry.run)
                if status not in (QUEUED, "running"):
                    self.remove_entry(entry)
                elif writer_alive(entry.run) is False:
                    mark_interrupted(entry.run, reason)
                    self.remove_entry(entry)
                    settled.append(entry.run)
        return settled


def _pid_alive(pid: int | None) -> bool:
    return pid is not None and pid_exists(pid)


def own_queued_run(run_dir: Path, pid: int | None = None) -> None:
    """Name `pid` (default: this process) as the queued run's life in its info.json: followers
    settle a queued run whose owner died instead of waiting for it for ever."""
    RunWriter(run_dir).update_info(pid=pid or os.getpid(), host=socket.gethostname())
