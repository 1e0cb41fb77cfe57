"""List the run directories as a table, newest first (the same columns as the runs screen).

A sweep is one row, as on the runs screen: its epochs column counts the trials finished of those
planned, its best val is the best trial's objective; `--trials` lists each trial instead. The
metric columns are each run's task's: the best val_accuracy, val_auc or val_mae, and the test
accuracy, ROC AUC, macro F1 or R²; runs of one task name it in the header, else each cell does."""

from __future__ import annotations

import argparse
from pathlib import Path

from kerastui.cli.common import EXIT_OK, check_runs_dir
from kerastui.core.run_summary import STATUS_STYLES, format_duration, peak_memory_text, percent_text

HELP = "list runs as a table"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs-dir", type=Path, metavar="DIR", help="default $KERASTUI_RUNS_DIR or ./runs")
    parser.add_argument("--trials", action="store_true", help="list each sweep trial as a row of its own")



# Layouts from the widest to the narrowest; the first one that fits the console is used, so every
# run stays on one line (a folded table is unreadable at 80 columns: each run took 6-8 lines).
# compact: light box and short headers; architecture/dataset: None hides the column, a number caps
# its width (the cell ends in an ellipsis; config.toml has the whole experiment).
_LAYOUTS = (
    {"compact": False, "architecture": 0, "dataset": 0, "duration": True, "resources": True},
    {"compact": False, "architecture": 24, "dataset": 0, "duration": True, "resources": True},
    {"compact": True, "architecture": 20, "dataset": 12, "duration": True, "resources": True},
    {"compact": True, "architecture": 20, "dataset": 12, "duration": True, "resources": False},
    {"compact": True, "architecture": None, "dataset": 12, "duration": True, "resources": False},
    {"compact": True, "architecture": None, "dataset": 8, "duration": False, "resources": False},
    {"compact": True, "architecture": None, "dataset": None, "duration": False, "resources": False},
)


def runs_table(records: list, width: int | None = None) -> "rich.table.Table":  # noqa: F821
    """The runs as a table that fits `width` columns with one line per run (None: no limit)."""
    from rich.console import Console
    from rich.measure import Measurement

    console = Console(width=10_000)  # measures the width each layout needs, unwrapped
    table = None
    for layout in _LAYOUTS:
        table = _table(records, **layout)
        if width is None or Measurement.get(console, console.options, table).maximum <= width:
            return table
    return table


def _table(records: list, *, compact: bool, architecture: int | None, dataset: int | None, duration: bool,
           resources: bool):
    from rich import box
    from rich.table import Table
    from rich.text import Text

    def cell(text: str, style: str = "") -> Text:
        return Text(text, style=style, no_wrap=True, overflow="ellipsis")

    from kerastui.core.runs import metric_value_text, shared_metric_words

    val_word, test_word = shared_metric_words(records)
    columns = [
        ("run", "run", "left", None, lambda r: cell(r.name)),
        ("status", "status", "left", None, lambda r: cell(r.status_label, STATUS_STYLES.get(r.status, "dim"))),
        ("dataset", "dataset", "left", dataset, lambda r: cell(Path(r.dataset).name if r.experiment else "?")),
        ("architecture", "architecture", "left", architecture, lambda r: cell(r.architecture)),
        ("epochs", "epochs", "right", None, lambda r: cell(_epochs(r))),
        # The task's metrics: best validation accuracy, AUC or MAE; test accuracy, ROC AUC or R².
        # Runs of one task name the metric in the header, runs of several in each cell.
        (f"best val {val_word}".strip(), f"val {val_word}".strip(), "right", None,
         lambda r: cell(r.best_val_text if not val_word else metric_value_text(r.best_val_metric[1]))),
        (f"test {test_word}".strip(), f"test {test_word}".strip(), "right", None,
         lambda r: cell(r.headline_text if not test_word else metric_value_text(r.headline[1]))),
        ("duration", "time", "right", 0 if duration else None, lambda r: cell(format_duration(r.duration))),
        ("peak mem", "mem", "right", 0 if resources else None, lambda r: cell(peak_memory_text(r.resources))),
        ("CPU eff", "cpu", "right", 0 if resources else None, lambda r: cell(percent_text(r.resources.get("cpu_efficiency")))),
        ("GPU", "gpu", "right", 0 if resources and _any_gpu(records) else None,
         lambda r: cell(percent_text(r.resources.get("mean_gpu_util"), of_one=False))),
        ("where", "where", "left", None, lambda r: cell(r.location)),
    ]
    shown = [c for c in columns if c[3] is not None or c[0] in ("run", "status", "epochs", "where") or c[0].startswith(("best val", "test"))]
    table = Table(header_style="bold", expand=False, box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD,
                  pad_edge=not compact, collapse_padding=compact)
    for header, short, justify, cap, _ in shown:
        table.add_column(short if compact else header, justify=justify, no_wrap=True,
                         overflow="ellipsis", max_width=cap or None)
    for record in records:
        table.add_row(*(make(record) for *_, make in shown))
    return table


def _any_gpu(records: list) -> bool:
    return any(r.resources.get("mean_gpu_util") is not None for r in records)


def _epochs(record) -> str:
    planned = record.epochs_planned
    return f"{record.epochs_done}/{planned}" if planned else str(record.epochs_done)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from kerastui.core.runs import default_runs_root, list_runs
    from kerastui.core.slurm import refresh_slurm_runs
    from kerastui.core.sweep_runs import SweepRecord, group_sweeps

    check_runs_dir(args.runs_dir)
    root = args.runs_dir if args.runs_dir is not None else default_runs_root()
    console = Console(width=None if Console().is_terminal else 200)
    # A Slurm job that was cancelled or died never wrote its run's end: ask Slurm (one query).
    records = refresh_slurm_runs(list_runs(root))
    if not args.trials:
        records = group_sweeps(records)  # a sweep is one row
    if not records:
        console.print(f"No runs in {root} yet. Train one with: kerastui train --preset mlp --dataset digits", highlight=False)
        return EXIT_OK
    console.print(runs_table(records, console.width))
    broken = [r for r in records if r.errors]
    for record in broken:
        console.print(Text.assemble(("note", "yellow"), f": {record.name}: {'; '.join(record.errors)}"))
    sweeps = [] if args.trials else [r for r in records if isinstance(r, SweepRecord)]
    if sweeps:
        console.print(f"{len(records) - len(sweeps)} run(s) and {len(sweeps)} sweep(s) in {root}; a sweep's epochs "
                      "column counts its trials; --trials lists them, `kerastui sweep --show DIR` ranks them",
                      style="dim", highlight=False)
    else:
        console.print(f"{len(records)} run(s) in {root}", style="dim", highlight=False)
    return EXIT_OK
