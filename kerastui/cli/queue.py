"""List the local queue (runs waiting for a slot, then those training), or cancel one of them.

A queued run is cancelled before it starts (its directory says `cancelled`, and whichever
process holds the queue skips it); a run already training is stopped after its current batch,
its state kept so it can be resumed. Slurm jobs are not in this queue: use `scancel`."""

from __future__ import annotations

import argparse
from pathlib import Path

from kerastui.cli.common import EXIT_OK, UsageError, check_runs_dir, resolve_run

HELP = "list or cancel the local queue of runs"

_IN_QUEUE = ("queued", "running")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs-dir", type=Path, metavar="DIR", help="default $KERASTUI_RUNS_DIR or ./runs")
    parser.add_argument("--cancel", metavar="RUN", action="append", default=[],
                        help="cancel this queued run, or stop it if it trains (a name, part of one, or a path; repeatable)")


def local_queue(root: Path | None) -> list:
    """Local runs waiting or training, in the order they were queued (oldest first)."""
    from kerastui.core.runs import list_runs

    records = [r for r in list_runs(root) if r.status in _IN_QUEUE and r.info.get("launcher", "local") == "local"]
    return sorted(records, key=lambda r: (r.status != "running", r.created, r.name))


def run(args: argparse.Namespace) -> int:
    check_runs_dir(args.runs_dir)
    if args.cancel:
        return _cancel(args.cancel, args.runs_dir)
    records = local_queue(args.runs_dir)
    if not records:
        print("the local queue is empty")
        return EXIT_OK
    for position, record in enumerate(records, 1):
        print(f"{position:>3}  {record.status:<8}  {record.name}")
    return EXIT_OK


def _cancel(names: list[str], runs_dir: Path | None) -> int:
    from kerastui.core.launcher import LocalLauncher, cancel_queued
    from kerastui.core.runs import CANCELLED, is_run_dir, read_info, read_status

    run_dirs = [resolve_run(name, runs_dir) for name in names]  # every name checked before any is cancelled
    for run_dir in run_dirs:
        if not is_run_dir(run_dir):
            raise UsageError(f"{run_dir} is not a run directory: nothing to cancel")
        status = read_status(run_dir)
        if status not in _IN_QUEUE:
            raise UsageError(f"{run_dir.name} is {status}, not queued or running: nothing to cancel")
    launcher = LocalLauncher(runs_root=runs_dir, keep_warm=False)
    for run_dir in run_dirs:
        if read_status(run_dir) == "queued":
            cancel_queued(run_dir, resuming=bool(read_info(run_dir).get("resume_from")))
            outcome = CANCELLED
        else:
            outcome = launcher.stop(run_dir)  # training: stopped after its current batch
        print(f"{run_dir.name}: {outcome}")
    return EXIT_OK
