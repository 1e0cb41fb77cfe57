"""Follow a run another process is writing (a local or Slurm run), printing its events as lines.

Reads metrics.jsonl through the core's run follower (kerastui.core.follower), the one the app's
run monitor uses: from the start, then only what is appended. A run submitted to Slurm is also
followed through its job: the job's state is printed when it changes, time spent PENDING in the
queue does not count as quiet, and a job that ends without the run recording its end is
reported with the last lines of its slurm-<id>.out. A local run whose process died (SIGKILL,
the out-of-memory killer) is marked `interrupted` within seconds. A run that has already ended
is printed and the command ends at once.

Exit status: 0 the run finished or was stopped, 1 it failed, was interrupted or its job ended
without finishing it, 2 bad input (no such run, not a run directory), 3 it went quiet (or never
started) for --idle-timeout seconds, 130 Ctrl+C.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from kerastui.cli.common import EXIT_FAILED, EXIT_OK, EXIT_QUIET, UsageError
from kerastui.core.run_summary import format_duration

HELP = "follow a run written by another process (e.g. a Slurm job), live"
OUTPUT_TAIL_LINES = 8  # lines of the run's output shown when it ended without recording its end
JOB_CHECK_EVERY = 5.0  # seconds between squeue calls for a Slurm run (sites frown on tight polling)


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
    from kerastui.core.runs import is_run_dir

    path = Path(args.run).expanduser()
    if args.run != "latest" and (path.is_absolute() or len(path.parts) > 1):
        if not path.exists():
            raise UsageError(f"{path} does not exist (a run submitted to Slurm has its directory from the start)")
        if not is_run_dir(path):
            raise UsageError(f"{path} is not a run directory (no config.toml, metrics.jsonl or status in it)")
        return path
    return resolve_run(args.run, args.runs_dir)


def run(args: argparse.Namespace) -> int:
    from kerastui.cli.progress import PlainProgress
    from kerastui.core import slurm
    from kerastui.core.follower import (
        JobStateChanged,
        RunEnded,
        RunFollower,
        RunQuiet,
        WriterGone,
        is_training_event,
    )
    from kerastui.core.runs import load_run

    if args.idle_timeout < 0 or args.poll <= 0:
        raise UsageError("--idle-timeout must be at least 0 and --poll greater than 0")
    path = _run_path(args)
    if not args.plain and sys.stdin.isatty() and sys.stdout.isatty():
        # On a terminal: the app's run monitor (charts, job state, evaluation), kerastui.tui.watch.
        from kerastui.tui.follow import DEFAULT_QUIET_AFTER
        from kerastui.tui.watch import watch_in_app

        quiet_after = min(args.idle_timeout or DEFAULT_QUIET_AFTER, DEFAULT_QUIET_AFTER)
        return watch_in_app(path, runs_root=args.runs_dir, quiet_after=quiet_after)

    out = PlainProgress(sys.stdout, batches=args.batches)
    out.note(f"watching {path} (status: {load_run(path).status_label})")
    follower = RunFollower(
        path,
        quiet_after=args.idle_timeout or float("inf"),
        job_state=slurm.job_state,  # a SlurmError is shown as state UNKNOWN; the files go on
        settle_job=slurm.sync_run_status,
        job_poll_interval=JOB_CHECK_EVERY,
    )
    stop = threading.Event()
    gone: WriterGone | None = None
    for event in follower.follow(stop, poll_interval=args.poll):
        if is_training_event(event):
            out(event)
        elif isinstance(event, JobStateChanged):
            out.note(f"Slurm job {event.state.job_id}: {event.state}")
        elif isinstance(event, WriterGone):
            gone = event
            out.note(f"{event.reason}; run status: {event.status}")
            _print_output_tail(out, path, follower.job)
        elif isinstance(event, RunQuiet):
            what = "no events yet: the run has not started" if event.events_seen == 0 else "no new events"
            out.note(f"quiet for {format_duration(event.seconds)} ({what}); status: {event.status}")
            return EXIT_QUIET
        elif isinstance(event, RunEnded):
            return _report_end(out, path, event, gone is not None, load_run)
    return EXIT_OK


def _report_end(out, path: Path, ended, writer_gone: bool, load_run) -> int:
    if ended.status in ("finished", "stopped"):
        record = load_run(path)
        if record.evaluation is not None:
            from kerastui.cli.evaluate import summary_line

            # The task's own metrics (test accuracy, ROC AUC and TPR at FPR, R², ...).
            out.note(f"{summary_line(record.evaluation)}  (kerastui evaluate {path} for details)")
        else:
            out.note("no evaluation written yet")
        return EXIT_OK
    if not writer_gone:
        reason = f": {ended.reason}" if ended.reason else ""
        out.note(f"the run has ended: {ended.status}{reason}")
    return EXIT_FAILED


def _print_output_tail(out, path: Path, job) -> None:
    from kerastui.core.launcher import LOG_FILE

    name = f"slurm-{job.job_id}.out" if job is not None else LOG_FILE
    output = path / name
    try:
        tail = output.read_text(encoding="utf-8", errors="replace").splitlines()[-OUTPUT_TAIL_LINES:]
    except OSError:
        return
    if tail:
        out.note(f"last lines of {output}:")
        for line in tail:
            out.note(f"  {line}")


