"""The runner of one runs directory's local queue: `python -m kerastui.core.queue_runner RUNS_DIR`.

A small process (no framework imported; the trainers it starts import Keras) that owns the
queue's slots: it starts waiting entries (kerastui.core.run_queue) in order while fewer than
`slots` train, reaps them as they end, keeps a warm trainer where one is wanted, and exits when
nothing waits, nothing trains and no warm trainer waits. One per runs directory: it holds
`.queue/runner.lock` for its whole life, and a second one exits at once.

It waits without polling: select() on the queue's wake FIFO (written by whoever adds, cancels or
reorders) and on a pipe that SIGCHLD writes to (a trainer ended), with a safety look every few
seconds (a queue shared over NFS from another host cannot wake it). SIGTERM ends it in order: its
runs stop after their batch (state saved), the waiting ones are cancelled. Its trainers die with it
(PR_SET_PDEATHSIG): a killed runner's runs are settled interrupted, their saved state kept for
resuming, by whoever looks next (the next runner, an app's launcher, a follower).

A sweep's worker is an entry too (`kerastui sweep --worker SWEEP_DIR`, what a Slurm array task
runs): it holds a slot while it asks the sweep's study for trials and trains them, and its entry
ends when the worker exits (the budget met, or stopped). A worker whose process died (SIGKILL, out
of memory) is queued again, up to MAX_WORKER_RESTARTS times: its trial is failed and retried by
the study, so a killed worker costs one trial. The runner never reads the study (no Optuna here):
a worker started once the budget is met exits at once.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from kerastui.core.launcher import WarmTrainer, cancel_queued, run_backend, start_sweep_worker, start_trainer
from kerastui.core.run_queue import MAX_WORKER_RESTARTS, Entry, RunQueue, own_queued_run
from kerastui.core.runs import QUEUED, mark_interrupted, read_status

SAFETY_LOOK_S = 5.0  # the longest it sleeps with nothing to wake it


class QueueRunner:
    """The one process that starts a runs directory's queued runs (see the module's docstring)."""

    def __init__(self, root: Path, python: str = sys.executable) -> None:
        self.queue = RunQueue(root)
        self.python = python
        self.children: dict[str, tuple[Entry, subprocess.Popen]] = {}  # by entry key
        self.warm: WarmTrainer | None = None
        self.adopted: set[Path] = set()  # waiting runs whose info.json names this runner
        self.ending = False  # SIGTERM came: stop the runs, start nothing, exit
        self._stopped: set[str] = set()
        self._lock = None
        self._fifo_fd: int | None = None
        self._signal_r: int | None = None

    # ---- the lock ------------------------------------------------------------------------------

    def acquire(self) -> bool:
        """Hold the queue (True), or False when another runner holds it."""
        self.queue.dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.queue.runner_lock, "a+b")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        self._lock = handle
        return True

    def release(self) -> None:
        if self._lock is not None:
            self._lock.truncate(0)
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    # ---- waking --------------------------------------------------------------------------------

    def _open_wakers(self) -> None:
        try:
            os.mkfifo(self.queue.wake_fifo, 0o600)
        except FileExistsError:
            pass
        except OSError:
            pass  # a filesystem without FIFOs: the safety look alone wakes it
        try:
            # Read and write: with a writer always open (itself) the FIFO never reads as ended,
            # which would make select() return at once for ever.
            self._fifo_fd = os.open(self.queue.wake_fifo, os.O_RDWR | os.O_NONBLOCK)
        except OSError:
            self._fifo_fd = None
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        os.set_blocking(write_end, False)
        signal.set_wakeup_fd(write_end)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so that the wakeup fd is written
        signal.signal(signal.SIGTERM, self._asked_to_end)
        self._signal_r = read_end

    def _asked_to_end(self, *_: object) -> None:
        """SIGTERM (a `kill`, a shutdown): its runs stop after their batch, their state saved
        (resumable), and then it exits; nothing more starts."""
        self.ending = True

    def _wait(self, timeout: float) -> None:
        fds = [fd for fd in (self._fifo_fd, self._signal_r) if fd is not None]
        try:
            ready, _, _ = select.select(fds, [], [], timeout)
        except InterruptedError:
            return
        for fd in ready:
            try:
                while os.read(fd, 4096):
                    pass
            except (BlockingIOError, OSError):
                pass

    # ---- the work ------------------------------------------------------------------------------

    def reap(self) -> None:
        for key, (entry, process) in list(self.children.items()):
            if process.poll() is None:
                continue
            del self.children[key]
            if entry.is_worker:
                self._reap_worker(entry, process.returncode)
                continue
            if read_status(entry.run) in ("running", QUEUED):
                # Its trainer ended without recording its end (a crash, the OOM killer).
                mark_interrupted(entry.run, "the training process ended without recording its end")
            self.queue.remove_entry(entry)
        if self.warm is not None and not self.warm.alive:
            self.warm.dismiss()  # reaped: it waited its idle time out (or died)
            self.warm = None
            self.queue.set_warm(None)  # none again until the next run is asked for

    def _reap_worker(self, entry: Entry, code: int) -> None:
        """A sweep worker ended: done (budget met, or stopped as asked), or died and queued again."""
        with self.queue.editing():
            still_queued = any(e.key == entry.key for e in self.queue.entries())
            if code in (0, 130) or self.ending or not still_queued or code == 2:  # 2: bad input, again and again
                self.queue.remove_entry(entry)
                return
            how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
            if entry.restarts >= MAX_WORKER_RESTARTS:
                note = f"worker {entry.worker} ended with {how} again; not started again"
                self.queue.remove_entry(entry)
            else:
                note = f"worker {entry.worker} ended with {how}; a new one takes its place (its trial is tried again)"
                self.queue.requeue_worker(entry, how)
        _log_line(entry.run / f"worker-{entry.worker}.log", f"kerastui queue runner: {note}")

    def start_waiting(self) -> None:
        slots = self.queue.slots()
        with self.queue.editing():
            entries = self.queue.entries()
            # A run started by an earlier runner that still trains holds its slot too.
            busy = sum(1 for e in entries if e.started)
            for entry in entries:
                if entry.started:
                    continue
                if entry.is_worker:
                    if not (entry.run / "sweep.toml").is_file():
                        self.queue.remove_entry(entry)  # its sweep was deleted
                        continue
                elif read_status(entry.run) != QUEUED:
                    self.queue.remove_entry(entry)  # cancelled meanwhile, or deleted
                    continue
                if busy >= slots:
                    if not entry.is_worker and entry.run not in self.adopted:
                        own_queued_run(entry.run)  # this runner is its life while it waits
                        self.adopted.add(entry.run)
                    continue
                self._start(entry)
                busy += 1

    def _start(self, entry: Entry) -> None:
        if entry.is_worker:
            try:
                process = start_sweep_worker(entry.run, entry.worker, self.python, die_with_parent=True)
            except OSError as error:
                _log_line(entry.run / f"worker-{entry.worker}.log", f"kerastui queue runner: cannot start: {error}")
                self.queue.remove_entry(entry)
                return
            self.children[entry.key] = (entry, process)
            self.queue.mark_started(entry, process.pid)
            return
        backend = run_backend(entry.run, self.queue.warm() or "tensorflow")
        warm, self.warm = self.warm, None
        try:
            process = start_trainer(entry.run, entry.resume, backend, self.python, warm, die_with_parent=True)
        except OSError as error:
            mark_interrupted(entry.run, f"its trainer could not be started: {error}")
            self.queue.remove_entry(entry)
            return
        self.children[entry.key] = (entry, process)
        self.adopted.discard(entry.run)
        self.queue.mark_started(entry, process.pid)

    def keep_trainer_warm(self) -> None:
        # Asked for only by launchers that may keep one (never on a login node: launcher.warm_trainer_wanted).
        backend = self.queue.warm()
        if self.warm is not None and (backend is None or self.warm.backend != backend):
            self.warm.dismiss()  # not wanted any more, or another Keras was chosen
            self.warm = None
        # A trainer importing Keras takes a core for seconds: start one only while no run trains,
        # so it never slows a fit down (measured: 1.42x on 2 cores when it did).
        if backend is not None and self.warm is None and not self.children:
            try:
                self.warm = WarmTrainer.start(backend, self.python, die_with_parent=True)
            except OSError as error:
                print(f"no warm trainer: {error}", flush=True)  # runs start cold; ask again next time
                self.queue.set_warm(None)

    def _end_runs(self) -> bool:
        """Ask each run to stop (SIGINT, as Ctrl+C) once; True while some still train."""
        if self.warm is not None:
            self.warm.dismiss()
            self.warm = None
        for key, (_, process) in self.children.items():
            if key not in self._stopped:
                self._stopped.add(key)
                try:
                    process.send_signal(signal.SIGINT)
                except OSError:
                    pass
        if self.children:
            return True
        with self.queue.editing():
            for entry in self.queue.waiting():  # asked to end: the queue ends with it, said so
                if not entry.is_worker and read_status(entry.run) == QUEUED:
                    cancel_queued(entry.run, resuming=entry.resume)
                self.queue.remove_entry(entry)
        self.release()
        return False

    def idle(self) -> bool:
        return not self.children and self.warm is None and not self.queue.entries()

    def serve(self) -> int:
        if not self.acquire():
            return 0  # another runner holds this queue
        self._open_wakers()
        while True:
            self.reap()
            if self.ending:
                if not self._end_runs():
                    return 0
                self._wait(SAFETY_LOOK_S)
                continue
            self.queue.settle_orphans(skip=self.children)  # entries a killed runner left behind
            self.start_waiting()
            self.keep_trainer_warm()
            if self.idle():
                # Let go first, then look once more: an entry added by someone who saw the lock
                # still held is seen here; one added later finds no runner and starts its own.
                self.release()
                if not self.queue.waiting() or not self.acquire():
                    return 0
                continue
            self._wait(SAFETY_LOOK_S)


def _log_line(path: Path, line: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
    except OSError:
        pass  # a note, not the work


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m kerastui.core.queue_runner RUNS_DIR", file=sys.stderr)
        return 2
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} runner {os.getpid()} for {args[0]}", flush=True)
    return QueueRunner(Path(args[0])).serve()


if __name__ == "__main__":
    sys.exit(main())
