"""What the subcommands share: exit codes, error lines, output mode, finding a run by name."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, TextIO

EXIT_OK = 0
EXIT_FAILED = 1  # the run itself failed (NaN loss, crash)
EXIT_USAGE = 2  # bad input: options, config file, dataset; argparse uses 2 as well
EXIT_QUIET = 3  # `watch`: the run went quiet (or never started) before it ended
EXIT_INTERRUPTED = 130  # Ctrl+C, as shells report SIGINT


class UsageError(Exception):
    """Bad input; each line is printed as one error line and the command exits 2. However many
    problems there are, the first 20 are printed and the rest counted."""

    def __init__(self, *lines: str):
        from kerastui.core.problems import bounded

        shown = bounded(lines)
        super().__init__("; ".join(shown))
        self.lines = tuple(shown)


def print_error(message: str, stream: TextIO | None = None) -> None:
    print(f"kerastui: error: {message}", file=stream or sys.stderr, flush=True)


def plain_output(requested: bool, stream: TextIO | None = None) -> bool:
    """Plain lines instead of live progress bars: asked for, NO_COLOR set, or not a terminal."""
    stream = stream or sys.stdout
    if requested or os.environ.get("NO_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return not (isatty and isatty())


def resolve_run(run: str, runs_root: Path | None) -> Path:
    """A run directory from a path, a directory name under the runs root, 'latest', or a unique part of a name."""
    from kerastui.core.runs import default_runs_root, is_run_dir, list_runs

    if not run.strip():
        raise UsageError("the run's name is empty: give a run directory, its name, part of it, or 'latest'")
    path = Path(run).expanduser()
    if path.is_dir():
        return path
    check_runs_dir(runs_root)
    root = Path(runs_root) if runs_root is not None else default_runs_root()
    if run == "latest":
        records = list_runs(root)
        if not records:
            raise UsageError(f"no runs in {root} yet")
        return records[0].path
    if is_run_dir(root / run):
        return root / run
    matches = sorted(p for p in root.iterdir() if run in p.name and is_run_dir(p)) if root.is_dir() else []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        names = ", ".join(p.name for p in matches[:5])
        raise UsageError(f"{run!r} matches several runs in {root}: {names}; give the full name")
    raise UsageError(f"no run {run!r}: not a directory, and no run in {root} has that name")


def config_problem(path: Any, problem: Any) -> str:
    """One error line for a problem in a TOML file (a spec.Problem), naming the file once."""
    if problem.field in ("file", "toml"):  # about the file itself: its name is the value already
        return f"{path}: {problem.message}"
    return f"{path}: {problem}"


def check_runs_dir(runs_dir: Path | None) -> None:
    """A --runs-dir (or $KERASTUI_RUNS_DIR) that exists but is no directory is bad input, said up front."""
    from kerastui.core.runs import default_runs_root

    path = Path(runs_dir) if runs_dir is not None else default_runs_root()
    if path.exists() and not path.is_dir():
        raise UsageError(f"the runs directory {path} is a file, not a directory; give another --runs-dir")


def load_experiment_data(experiment: Any, run_dir: Path | None = None) -> Any:
    """The experiment's dataset split with its seed (as trained), or a one-line UsageError. With
    the run's directory, a streamed set is prepared as that run prepared it (preprocessing.json)."""
    from kerastui.core.data import DatasetError, experiment_dataset, run_dataset

    try:
        return run_dataset(experiment, run_dir) if run_dir is not None else experiment_dataset(experiment)
    except DatasetError as error:
        raise UsageError(str(error)) from None
