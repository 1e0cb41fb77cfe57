"""The local run queue of one runs directory, on disk: `<runs>/.queue/`.

Any process (an app in any terminal, `kerastui train --queue`, `kerastui queue`, a sweep) adds,
cancels and reorders entries here; one runner process (kerastui.core.queue_runner) starts them
as slots free. Nothing here imports a framework.

    .queue/entries/<run name>.json   {"run": path, "order": n, "resume": bool, "pid": started or null}
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
from kerastui.core.runs import QUEUED, RunWriter, mark_interrupted, read_status, writer_alive

QUEUE_DIR = ".queue"


@dataclass(frozen=True)
class Entry:
    """One run in the queue: waiting (pid None) or started by the runner (its trainer's pid)."""

    run: Path
    order: int
    resume: bool = False
    pid: int | None = None

    @property
    def started(self) -> bool:
        return self.pid is not None


class RunQueue:
    """The queue directory of `root` (created on first write)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.dir = self.root / QUEUE_DIR
        self.entries_dir = self.dir / "entries"
        self.runner_lock = self.dir / "runner.lock"
        self.wake_fifo = self.dir / "wake"

    # ---- entries -------------------------------------------------------------------------------

    def _entry_path(self, run_dir: Path) -> Path:
        return self.entries_dir / f"{Path(run_dir).name}.json"

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
                                   data.get("pid") if isinstance(data.get("pid"), int) else None))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # deleted meanwhile, or not ours: never let one hide the others
        return sorted(found, key=lambda e: (not e.started, e.order, e.run.name))

    def waiting(self) -> list[Entry]:
        return [e for e in self.entries() if not e.started]

    def entry(self, run_dir: Path) -> Entry | None:
        return next((e for e in self.entries() if e.run.name == Path(run_dir).name), None)

    def _write(self, entry: Entry) -> None:
        data = {"run": str(entry.run), "order": entry.order, "resume": entry.resume, "pid": entry.pid}
        write_text_atomic(self._entry_path(entry.run), json.dumps(data) + "\n")

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

    def remove(self, run_dir: Path) -> None:
        self._entry_path(run_dir).unlink(missing_ok=True)

    def mark_started(self, entry: Entry, pid: int) -> None:
        self._write(Entry(entry.run, entry.order, entry.resume, pid))

    def move_to(self, run_dir: Path, position: int) -> int:
        """Put a waiting run at `position` (1 = next to start) among the waiting ones; returns where
        it went (clamped). ValueError when it is not waiting in this queue."""
        with self.editing():
            waiting = self.waiting()
            names = [e.run.name for e in waiting]
            if Path(run_dir).name not in names:
                raise ValueError(f"{Path(run_dir).name} is not waiting in the queue")
            moving = waiting.pop(names.index(Path(run_dir).name))
            position = min(max(1, position), len(waiting) + 1)
            waiting.insert(position - 1, moving)
            for order, entry in enumerate(waiting, 1):
                if entry.order != order:
                    self._write(Entry(entry.run, order, entry.resume, entry.pid))
        return position

    def move_by(self, run_dir: Path, delta: int) -> int:
        """One place earlier (-1) or later (+1) among the waiting runs; returns its new position."""
        names = [e.run.name for e in self.waiting()]
        if Path(run_dir).name not in names:
            raise ValueError(f"{Path(run_dir).name} is not waiting in the queue")
        return self.move_to(run_dir, names.index(Path(run_dir).name) + 1 + delta)

    def positions(self) -> dict[str, int]:
        """Run name -> its place among the waiting runs (1 starts next)."""
        return {e.run.name: n for n, e in enumerate(self.waiting(), 1)}

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
        try:
            handle = open(self.runner_lock, "rb")
        except OSError:
            return None
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                try:
                    return int(handle.read().strip() or 0) or -1
                except ValueError:
                    return -1  # held, its pid not written yet
            except OSError:
                return None
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            return None

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
                       skip: Collection[Path] = ()) -> list[Path]:
        """Entries whose owner is gone (the runner was killed): their runs settled as interrupted
        (kerastui.core.runs.mark_interrupted, their saved state kept for resuming) and taken off;
        entries of runs no longer queued or running (ended, cancelled, deleted) are dropped.
        Returns the runs settled now."""
        settled = []
        if not self.entries_dir.is_dir():
            return settled
        with self.editing():
            for entry in self.entries():
                if entry.run in skip:
                    continue  # the runner's own child: it reaps it, with its own reason
                status = read_status(entry.run)
                if status not in (QUEUED, "running"):
                    self.remove(entry.run)
                elif writer_alive(entry.run) is False:
                    mark_interrupted(entry.run, reason)
                    self.remove(entry.run)
                    settled.append(entry.run)
        return settled


def own_queued_run(run_dir: Path, pid: int | None = None) -> None:
    """Name `pid` (default: this process) as the queued run's life in its info.json: followers
    settle a queued run whose owner died instead of waiting for it for ever."""
    RunWriter(run_dir).update_info(pid=pid or os.getpid(), host=socket.gethostname())
