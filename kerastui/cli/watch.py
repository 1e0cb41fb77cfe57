"""Follow a run another process is writing (a headless or Slurm job), printing its events as lines.

Reads metrics.jsonl from the start, then as it grows; waits for a run that has not started yet.
A run submitted to Slurm is also followed through its job: the job's state is printed when it
changes, time spent PENDING in the queue does not count as quiet, and a job that ends without the
run recording its end (killed, out of memory, a broken environment on the node) is reported with
the last lines of its slurm-<id>.out at once instead of after --idle-timeout.
Exit status: 0 the run finished or was stopped, 1 it failed (or its job ended without finishing
it), 2 bad input, 3 it went quiet (or never started) for --idle-timeout seconds, 130 Ctrl+C.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from kerastui.cli.common import EXIT_FAILED, EXIT_OK, EXIT_QUIET, UsageError
from kerastui.core.events import final_status
from kerastui.core.run_summary import format_duration

HELP = "follow a run written by another process (e.g. a Slurm job), live"
EVALUATION_WAIT = 60.0  # the evaluation is written just after the final event
JOB_CHECK_EVERY = 5.0  # seconds between squeue calls for a Slurm run (sites frown on tight polling)
OUTPUT_TAIL_LINES = 8  # lines of slurm-<id>.out shown when a job ended without finishing its run


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN_DIR", help="run directory (or its name under the runs dir, or 'latest')")
    parser.add_argument("--runs-dir", type=Path, metavar="DIR", help="default $KERASTUI_RUNS_DIR or ./runs")
    parser.add_argument(
        "--idle-timeout", type=float, default=600.0, metavar="SECONDS",
        help="give up after this long without a new event (default 600; 0 waits for ever)",
    )
    parser.add_argument("--poll", type=float, default=0.5, metavar="SECONDS", help="how often to look for new lines")
    parser.add_argument("--batches", action="store_true", help="also print batch events")
    parser.add_argument(
        "--plain", action="store_true",
        help="print one line per event instead of opening the terminal UI (the default when not on a terminal)",
    )


def _run_path(args: argparse.Namespace) -> Path:
    from kerastui.cli.common import resolve_run

    path = Path(args.run).expanduser()
    if args.run != "latest" and not path.exists() and (path.is_absolute() or len(path.parts) > 1):
        return path  # a run that has not been created yet (a queued job): wait for it
    return resolve_run(args.run, args.runs_dir)


def run(args: argparse.Namespace) -> int:
    from kerastui.cli.progress import PlainProgress
    from kerastui.core.runs import EVALUATION_FILE, follow_metrics, load_run

    if args.idle_timeout < 0 or args.poll <= 0:
        raise UsageError("--idle-timeout must be at least 0 and --poll greater than 0")
    path = _run_path(args)
    if not getattr(args, "plain", True) and sys.stdin.isatty() and sys.stdout.isatty():
        # On a terminal: the app's follow view (charts, job state, evaluation), kerastui.tui.watch.
        from kerastui.tui.follow import DEFAULT_QUIET_AFTER
        from kerastui.tui.watch import watch_in_app

        quiet_after = min(args.idle_timeout or DEFAULT_QUIET_AFTER, DEFAULT_QUIET_AFTER)
        return watch_in_app(path, runs_root=args.runs_dir, quiet_after=quiet_after)
    out = PlainProgress(sys.stdout, batches=args.batches)
    status = load_run(path).status if path.exists() else "not started"
    out.note(f"watching {path} (status: {status})")
    job = _JobWatch(path, out)
    seen = 0
    last = None
    quiet_since = time.monotonic()
    while True:
        # Between checks of the job, follow the file; each pass re-reads it from the start and
        # skips what was already printed (as the TUI's follower does).
        check_after = max(args.poll, min(JOB_CHECK_EVERY, args.idle_timeout or JOB_CHECK_EVERY))
        for index, event in enumerate(follow_metrics(path, poll_interval=args.poll, idle_timeout=check_after), start=1):
            if index > seen:
                seen, last = index, event
                out(event)
                quiet_since = time.monotonic()
        if last is not None and final_status(last):
            break
        state = job.check()
        if state is not None and state.state == "PENDING":
            quiet_since = time.monotonic()  # waiting in the queue is not the run going quiet
        if state is not None and state.finished:
            return job.ended_without_finishing(state, events_seen=seen)
        if args.idle_timeout and time.monotonic() - quiet_since >= args.idle_timeout:
            what = "no events yet: the run has not started" if last is None else "no new events"
            out.note(f"quiet for {format_duration(args.idle_timeout)} ({what}); status: {_status(path)}")
            return EXIT_QUIET
    ended = final_status(last)
    if ended == "failed":
        return EXIT_FAILED
    evaluation = _wait_for(path / EVALUATION_FILE, min(EVALUATION_WAIT, args.idle_timeout or EVALUATION_WAIT), args.poll)
    record = load_run(path)
    if evaluation and record.evaluation is not None:
        e = record.evaluation
        out.note(f"test accuracy {e.test_accuracy:.4f}  test loss {e.test_loss:.4f}  (kerastui evaluate {path} for details)")
    else:
        out.note("no evaluation written yet")
    return EXIT_OK


class _JobWatch:
    """The Slurm job behind a run (its id from info.json), polled at most every JOB_CHECK_EVERY s."""

    def __init__(self, path: Path, out) -> None:
        self.path = path
        self.out = out
        self.last: object = None
        self.checked = 0.0

    def job_id(self) -> str | None:
        try:
            info = json.loads((self.path / "info.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        job = info.get("slurm_job_id") if isinstance(info, dict) else None
        return str(job) if job else None

    def check(self):
        """The job's state (printed when it changes), or None: not a Slurm run, or no Slurm here."""
        from kerastui.core.slurm import SlurmError, job_state

        job_id = self.job_id()
        if job_id is None or time.monotonic() - self.checked < JOB_CHECK_EVERY:
            return self.last if job_id is not None else None
        self.checked = time.monotonic()
        try:
            state = job_state(job_id)
        except SlurmError:
            return None  # no Slurm commands on this machine: follow the file alone
        if state != self.last:
            self.out.note(f"Slurm job {job_id}: {state}")
            self.last = state
        return state

    def ended_without_finishing(self, state, events_seen: int) -> int:
        from kerastui.core.runs import follow_metrics
        from kerastui.core.slurm import sync_run_status

        # Lines written just before the job ended may still be arriving (shared filesystems lag).
        for index, event in enumerate(follow_metrics(self.path, poll_interval=0.2, idle_timeout=1.0), start=1):
            if index > events_seen:
                self.out(event)
                if final_status(event):
                    return EXIT_FAILED if final_status(event) == "failed" else EXIT_OK
        status = sync_run_status(self.path, state) if self.path.exists() else "no run directory"
        self.out.note(f"Slurm job {state.job_id} ended {state} without the run recording its end; run status: {status}")
        output = self.path / f"slurm-{state.job_id}.out"
        try:
            tail = output.read_text(encoding="utf-8", errors="replace").splitlines()[-OUTPUT_TAIL_LINES:]
        except OSError:
            tail = []
        if tail:
            self.out.note(f"last lines of {output}:")
            for line in tail:
                self.out.note(f"  {line}")
        return EXIT_FAILED


def _status(path: Path) -> str:
    from kerastui.core.runs import load_run

    return load_run(path).status if path.exists() else "no run directory"


def _wait_for(path: Path, timeout: float, poll: float) -> bool:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)
    return True
