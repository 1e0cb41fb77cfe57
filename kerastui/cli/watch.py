"""Follow a run another process is writing (a headless or Slurm job), printing its events as lines.

Reads metrics.jsonl from the start, then as it grows; waits for a run that has not started yet.
Exit status: 0 the run finished or was stopped, 1 it failed, 2 bad input, 3 it went quiet (or
never started) for --idle-timeout seconds, 130 Ctrl+C.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from kerastui.cli.common import EXIT_FAILED, EXIT_OK, EXIT_QUIET, UsageError, format_duration

HELP = "follow a run written by another process (e.g. a Slurm job), live"
EVALUATION_WAIT = 60.0  # the evaluation is written just after the final event


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
    from kerastui.core.events import final_status
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
    last = None
    for event in follow_metrics(path, poll_interval=args.poll, idle_timeout=args.idle_timeout or None):
        out(event)
        last = event
    ended = final_status(last) if last is not None else None
    if ended is None:
        what = "no events yet: the run has not started" if last is None else "no new events"
        out.note(f"quiet for {format_duration(args.idle_timeout)} ({what}); status: {_status(path)}")
        return EXIT_QUIET
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
