"""Run a sweep: every trial of an experiment's [sweep] table, N at a time, each its own run.

    kerastui sweep examples/sweep.toml --parallel 2
    kerastui sweep --continue runs/20261201-093000-sweep-mlp    # after Ctrl+C: only the rest
    kerastui sweep examples/sweep.toml --slurm --parallel 2 --time 00:10:00   # one job array
    kerastui sweep --show runs/20261201-093000-sweep-mlp        # the leaderboard, now

Each trial is an ordinary run directory inside the sweep's directory; a leaderboard sorted by
the objective is printed at the end, with the mean objective for each value of each varied field.
Exit status: 0 every trial finished, 1 some did not, 2 bad input (every problem is printed),
130 interrupted (running trials stopped after their batch, keeping their epochs).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any

from kerastui.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    check_runs_dir,
    config_problem,
)

HELP = "run an experiment's [sweep] of trials locally, N at a time, and print the leaderboard"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="?", metavar="CONFIG.toml", help="experiment file with a [sweep] table")
    parser.add_argument("--continue", dest="resume", metavar="SWEEP_DIR", help="run the trials of this sweep that have not finished")
    parser.add_argument("--parallel", type=int, default=1, metavar="N", help="trials at a time (default 1)")
    parser.add_argument("--runs-dir", type=Path, metavar="DIR", help="where the sweep's directory goes (default $KERASTUI_RUNS_DIR or ./runs)")
    parser.add_argument("--show", metavar="SWEEP_DIR", help="print this sweep's leaderboard and exit")
    parser.add_argument("--slurm", action="store_true",
                        help="submit the trials as one Slurm job array (sbatch --array=0-N%%K, K = --parallel)")
    from kerastui.cli.submit import add_slurm_options

    add_slurm_options(parser)


def run(args: argparse.Namespace) -> int:
    from kerastui.core.launcher import LocalLauncher
    from kerastui.core.spec import SpecError
    from kerastui.core.sweep import SWEEP_FILE, load_sweep
    from kerastui.core.sweep_runs import (
        create_sweep_dir,
        is_sweep_dir,
        prepare_pending_trials,
        read_trials,
    )

    if args.show is not None:
        if not is_sweep_dir(Path(args.show)):
            raise UsageError(f"{args.show} is not a sweep directory (no {SWEEP_FILE} in it)")
        _print_leaderboard(Path(args.show))
        from kerastui.cli.sweep_views import print_study_views

        print_study_views(Path(args.show))  # history, importances, value by parameter, Pareto front
        return EXIT_OK
    check_runs_dir(args.runs_dir)
    if (args.config is None) == (args.resume is None):
        raise UsageError("give either CONFIG.toml (a new sweep) or --continue SWEEP_DIR")
    if args.parallel < 1:
        raise UsageError("--parallel must be at least 1")
    if args.resume is not None and not is_sweep_dir(Path(args.resume)):
        raise UsageError(f"{args.resume} is not a sweep directory (no {SWEEP_FILE} in it)")
    source = Path(args.resume) / SWEEP_FILE if args.resume else Path(args.config)
    try:
        base, sweep = load_sweep(source)
    except SpecError as error:
        raise UsageError(*(config_problem(source, p) for p in error.problems)) from None
    _check_dataset(base.dataset, base.data)

    try:
        sweep_dir = Path(args.resume).resolve() if args.resume else create_sweep_dir(base, sweep, args.runs_dir)
    except OSError as error:
        print(f"kerastui: error: cannot write the sweep in {args.runs_dir or 'the runs directory'}: "
              f"{error.strerror or error}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    if args.slurm:
        return _submit_array(args, sweep_dir)
    pending = prepare_pending_trials(sweep_dir)
    total = len(read_trials(sweep_dir))
    print(f"sweep {sweep_dir}: {total} trials ({sweep.method}), {len(pending)} to run, {args.parallel} at a time", flush=True)
    launcher = LocalLauncher(runs_root=sweep_dir, slots=args.parallel, keep_warm=False)
    for run_dir in pending:
        launcher.enqueue(run_dir)
    interrupted = _follow(launcher, sweep_dir)
    _print_leaderboard(sweep_dir)
    if interrupted:
        print(f"kerastui: sweep interrupted; continue it with: kerastui sweep --continue {sweep_dir}", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    from kerastui.core.sweep_runs import leaderboard

    _, rows = leaderboard(sweep_dir)
    return EXIT_OK if all(r.status == "finished" for r in rows) else EXIT_FAILED


def _submit_array(args: argparse.Namespace, sweep_dir: Path) -> int:
    import shlex

    from kerastui.cli.submit import slurm_settings_from
    from kerastui.core import slurm
    from kerastui.core.spec import SpecError
    from kerastui.core.sweep_runs import submit_array

    try:
        job_id, runs = submit_array(sweep_dir, slurm_settings_from(args), parallel=args.parallel if args.parallel > 1 else 0)
    except SpecError as error:
        raise UsageError(*(str(p) for p in error.problems)) from None
    except (slurm.SlurmError, ValueError) as error:
        raise UsageError(str(error)) from None
    if not job_id:
        print(f"sweep {sweep_dir}: every trial has finished; nothing to submit")
        return EXIT_OK
    print(f"sweep {sweep_dir}: {len(runs)} trials as job array {job_id} (tasks {job_id}_0 to {job_id}_{len(runs) - 1})")
    print(f"follow a trial:  kerastui watch {shlex.quote(str(runs[0]))}")
    print(f"the leaderboard: kerastui sweep --show {shlex.quote(str(sweep_dir))}")
    return EXIT_OK


def _check_dataset(name: str, settings: Any) -> None:
    from kerastui.core.data import DatasetError, dataset_info

    try:
        info = dataset_info(name, settings=settings)
    except DatasetError as error:
        raise UsageError(str(error)) from None
    if not info.available:
        raise UsageError(f"dataset {name!r} is not available: {info.unavailable_reason}")


def _follow(launcher: Any, sweep_dir: Path) -> bool:
    """Run the queue to its end, a line per trial as it ends; True when Ctrl+C stopped it."""
    from kerastui.core.runs import read_status

    stop = {"asked": False}

    def on_signal(signum: int, frame: Any) -> None:
        if stop["asked"]:
            raise KeyboardInterrupt
        stop["asked"] = True
        print("stopping: running trials stop after their batch, queued ones are not started "
              "(Ctrl+C again to leave them running)", file=sys.stderr, flush=True)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    reported: set[Path] = set()
    try:
        while launcher.active:
            if stop["asked"]:
                launcher.shutdown(keep_running=False)
                stop["asked"] = "done"
            time.sleep(0.5)
            launcher.pump()
            for run_dir in sorted(p for p in sweep_dir.iterdir() if p.is_dir()):
                status = read_status(run_dir)
                if run_dir not in reported and run_dir not in launcher.running and status not in ("queued", "running", "unknown"):
                    reported.add(run_dir)
                    _print_trial(run_dir, status)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return bool(stop["asked"])


def _print_trial(run_dir: Path, status: str) -> None:
    from kerastui.core.runs import read_info

    info = read_info(run_dir)
    params = "  ".join(f"{k}={_short(v)}" for k, v in (info.get("trial_params") or {}).items())
    reason = f" ({info['reason']})" if info.get("reason") and status != "finished" else ""
    print(f"{run_dir.name:14} {status}{reason}  {params}", flush=True)


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _print_leaderboard(sweep_dir: Path) -> None:
    from kerastui.core.sweep_runs import leaderboard, mean_objective_by_value

    sweep, rows = leaderboard(sweep_dir)
    objective = f"{sweep.objective} ({sweep.direction})"
    print(f"\nleaderboard by best {objective}:")
    names = sweep.paths
    header = ["rank", "trial", "status", *names, sweep.objective, "test"]
    table = [header]
    for rank, row in enumerate(rows, start=1):
        test = row.record.headline_text if row.record is not None else "-"  # the task's test metric
        table.append([str(rank), f"{row.trial:03d}", row.status, *(_short(row.params.get(n)) for n in names),
                      "-" if row.objective is None else f"{row.objective:.4f}", test])
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    for path, groups in mean_objective_by_value(sweep, rows).items():
        if groups:
            means = ", ".join(f"{_short(value)}: {mean:.4f} ({n})" for value, mean, n in groups)
            print(f"mean {sweep.objective} by {path}: {means}")
    sys.stdout.flush()
