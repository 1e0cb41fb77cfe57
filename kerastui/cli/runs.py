"""List the run directories as a table, newest first (the same columns as the runs screen)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kerastui.cli.common import EXIT_OK, format_duration

HELP = "list runs as a table"

STATUS_STYLES = {
    "finished": "green",
    "running": "cyan",
    "stopped": "yellow",
    "failed": "red",
    "interrupted": "magenta",
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs-dir", type=Path, metavar="DIR", help="default $KERASTUI_RUNS_DIR or ./runs")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def runs_table(records: list) -> "rich.table.Table":  # noqa: F821
    from rich.table import Table
    from rich.text import Text

    table = Table(title=None, header_style="bold", expand=False)
    for header, justify in (
        ("run", "left"), ("status", "left"), ("dataset", "left"), ("architecture", "left"),
        ("epochs", "right"), ("best val_acc", "right"), ("test acc", "right"), ("duration", "right"), ("where", "left"),
    ):
        table.add_column(header, justify=justify, overflow="fold")
    for record in records:
        planned = record.epochs_planned
        epochs = f"{record.epochs_done}/{planned}" if planned else str(record.epochs_done)
        table.add_row(
            Text(record.name),
            Text(record.status, style=STATUS_STYLES.get(record.status, "dim")),
            Text(Path(record.dataset).name if record.experiment else "?"),
            Text(record.architecture),
            epochs,
            _number(record.best_val_accuracy),
            _number(record.test_accuracy),
            format_duration(record.duration),
            record.location,
        )
    return table


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from kerastui.core.runs import default_runs_root, list_runs

    root = args.runs_dir if args.runs_dir is not None else default_runs_root()
    console = Console(width=None if Console().is_terminal else 200)
    records = list_runs(root)
    if not records:
        console.print(f"No runs in {root} yet. Train one with: kerastui train --preset mlp --dataset digits", highlight=False)
        return EXIT_OK
    console.print(runs_table(records))
    broken = [r for r in records if r.errors]
    for record in broken:
        console.print(Text.assemble(("note", "yellow"), f": {record.name}: {'; '.join(record.errors)}"))
    console.print(f"{len(records)} run(s) in {root}", style="dim", highlight=False)
    return EXIT_OK
