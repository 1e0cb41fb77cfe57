"""List the local queue of a runs directory (runs training, then those waiting, in the order they
will start), cancel runs in it, or reorder it.

The queue is on disk (<runs>/.queue, kerastui.core.run_queue) and its runner starts the waiting
runs as slots free, whether or not any app is open. A waiting run is cancelled before it starts
(its directory says `cancelled`); a run already training is stopped after its current batch, its
state kept so it can be resumed. Slurm jobs are not in this queue: use `scancel`."""

from __future__ import annotations

import argparse
from pathlib import Path

from kerastui.cli.common import EXIT_OK, UsageError, check_runs_dir, resolve_run

HELP = "list, cancel or reorder the local queue of runs"

_IN_QUEUE = ("queued", "running")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs-dir", type=Path, metavar="DIR", help="default $KERASTUI_RUNS_DIR or ./runs")
    parser.add_argument("--cancel", metavar="RUN", action="append", default=[],
                        help="cancel this queued run, or stop it if it trains (a name, part of one, or a path; repeatable); "
                             "a sweep's name (or SWEEP.worker-N) cancels its workers in the queue, stopping those that train")
    parser.add_argument("--first", metavar="RUN", help="move this waiting run to the front of the queue")
    parser.add_argument("--move", nargs=2, metavar=("RUN", "N"),
                        help="move this waiting run to place N among the waiting runs (1 starts next)")


def local_queue(root: Path | None) -> list[tuple[int | None, str, Path, str]]:
    """(place among the waiting entries or None, status, run or sweep dir, label): the queue's
    runs and sweep workers training, then those waiting in the order they start; then local runs
    training outside the queue."""
    from kerastui.core.run_queue import RunQueue
    from kerastui.core.runs import default_runs_root, list_runs, read_status

    queue = RunQueue(Path(root) if root is not None else default_runs_root())
    rows: list[tuple[int | None, str, Path, str]] = []
    place = 0
    for entry in queue.entries():
        status = ("queued" if (entry.run / "sweep.toml").is_file() else "gone") if entry.is_worker \
            else read_status(entry.run)
        if status not in _IN_QUEUE:
            continue  # ended or cancelled; the runner drops it at its next look
        if not entry.started:
            place += 1
        rows.append((None if entry.started else place, "running" if entry.started else status, entry.run, entry.label()))
    in_queue = {run.name for _, _, run, _ in rows}
    for record in sorted(list_runs(root), key=lambda r: (r.created, r.name)):
        if record.status == "running" and record.name not in in_queue and not record.info.get("slurm_job_id") \
                and not record.sweep:  # a sweep's trial trains in its worker, listed above
            rows.append((None, "running", record.path, record.name))  # `kerastui train` in the foreground
    return rows


def run(args: argparse.Namespace) -> int:
    check_runs_dir(args.runs_dir)
    if args.cancel:
        return _cancel(args.cancel, args.runs_dir)
    if args.first or args.move:
        return _reorder(args)
    # A runner killed since anyone looked left runs saying running: settled now, and said.
    for run_dir in _launcher(args.runs_dir).pump():
        print(f"{run_dir.name}: interrupted (the queue's runner ended before it did; `kerastui train --resume` "
              "continues it from its last saved epoch)")
    rows = local_queue(args.runs_dir)
    if not rows:
        print("the local queue is empty")
        return EXIT_OK
    for place, status, _, label in rows:
        print(f"{place if place is not None else '-':>3}  {status:<8}  {label}")
    return EXIT_OK


def _launcher(runs_dir: Path | None):
    from kerastui.core.launcher import LocalLauncher

    return LocalLauncher(runs_root=runs_dir, keep_warm=False)


def _reorder(args: argparse.Namespace) -> int:
    name, place = (args.first, "1") if args.first else args.move
    try:
        position = int(place)
    except ValueError:
        raise UsageError(f"--move's place must be a whole number (1 starts next), not {place!r}") from None
    if position < 1:
        raise UsageError(f"--move's place must be 1 or more (1 starts next), not {position}")
    run_dir = resolve_run(name, args.runs_dir)
    try:
        now = _launcher(args.runs_dir).move_to(run_dir, position)
    except ValueError as error:
        raise UsageError(f"{error}: only a run waiting for a slot can be moved") from None
    print(f"{run_dir.name}: place {now} in the queue")
    return EXIT_OK


def _queued_workers(name: str, runs_dir: Path | None) -> tuple[Path, set[str]] | None:
    """The sweep's workers in the queue that `name` means: a sweep's name (a unique part of one,
    or its path) for all of them, or one worker's `SWEEP.worker-N`; None when it names none."""
    from kerastui.core.run_queue import RunQueue
    from kerastui.core.runs import default_runs_root

    workers = [e for e in RunQueue(Path(runs_dir) if runs_dir is not None else default_runs_root()).entries()
               if e.is_worker]
    exact = [e for e in workers if name in (e.key, e.run.name, str(e.run))]
    if not exact and name.strip():
        sweeps = {e.run for e in workers if name in e.run.name}
        if len(sweeps) > 1:
            raise UsageError(f"{name!r} matches several sweeps in the queue: "
                             f"{', '.join(sorted(p.name for p in sweeps))}; give the full name")
        exact = [e for e in workers if e.run in sweeps]
    if not exact:
        return None
    return exact[0].run, {e.key for e in exact}


def _cancel(names: list[str], runs_dir: Path | None) -> int:
    from kerastui.core.runs import is_run_dir, read_status

    sweeps = {name: found for name in names if (found := _queued_workers(name, runs_dir)) is not None}
    # every name checked before any is cancelled
    run_dirs = [resolve_run(name, runs_dir) for name in names if name not in sweeps]
    for run_dir in run_dirs:
        if not is_run_dir(run_dir):
            raise UsageError(f"{run_dir} is not a run directory: nothing to cancel")
        status = read_status(run_dir)
        if status not in _IN_QUEUE:
            raise UsageError(f"{run_dir.name} is {status}, not queued or running: nothing to cancel")
    launcher = _launcher(runs_dir)
    for name, (sweep_dir, keys) in sweeps.items():
        outcome = launcher.stop_sweep_workers(sweep_dir, keys)  # waiting: cancelled; training: stopped after the batch
        print(f"{name if len(keys) == 1 and name in keys else sweep_dir.name}: "
              f"{len(keys)} sweep worker{'s' if len(keys) != 1 else ''} {outcome}")
    for run_dir in run_dirs:
        outcome = launcher.stop(run_dir)  # queued: cancelled; training: stopped after its current batch
        if outcome == "not running" and read_status(run_dir) == "queued":
            from kerastui.core.launcher import cancel_queued
            from kerastui.core.runs import CANCELLED, read_info

            # Queued but in no queue (its queue's owner is gone): cancelled all the same.
            cancel_queued(run_dir, resuming=bool(read_info(run_dir).get("resume_from")))
            outcome = CANCELLED
        print(f"{run_dir.name}: {outcome}")
    return EXIT_OK
