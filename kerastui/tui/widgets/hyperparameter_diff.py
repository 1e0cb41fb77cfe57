"""Side-by-side hyperparameters (and results) of several runs, the differing rows highlighted."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from kerastui.core.runs import RunRecord, architecture_summary

RESULT_ROWS = ("status", "epochs done", "best validation", "duration", "where")  # then each test metric


def hyperparameters(record: RunRecord) -> dict[str, str]:
    """The run's settings as display strings, in a fixed order ("?" when config.toml is unreadable)."""
    experiment = record.experiment
    if experiment is None:
        return {"experiment": "? (no readable config.toml)"}
    c, f = experiment.compile, experiment.fit
    return {
        "name": experiment.name,
        "dataset": experiment.dataset,
        # The task trained (an empty `task` in the TOML means the data's, which the evaluation names).
        "task": experiment.task or record.task or "-",
        "architecture": architecture_summary(experiment.layers),
        "layers": str(len(experiment.layers)),
        "optimizer": c.optimizer,
        "learning_rate": f"{c.learning_rate:g}",
        "loss": c.loss,
        "batch_size": str(f.batch_size),
        "epochs": str(f.epochs),
        "validation_split": f"{f.validation_split:g}",
        "early_stopping_patience": str(f.early_stopping_patience),
        "monitor": f.monitor,
        "seed": str(experiment.seed),
        "strategy": experiment.strategy,
        "backend": experiment.backend,
    }


def results(record: RunRecord) -> dict[str, str]:
    from kerastui.core.run_summary import format_duration

    return {
        "status": record.status,
        "epochs done": str(record.epochs_done),
        "best validation": record.best_val_text,
        "duration": format_duration(record.duration),
        "where": record.location,
    }


def evaluation_rows(records: list[RunRecord]) -> list[tuple[str, list[str]]]:
    """[(metric label, value per run)] for every summary metric of the runs' tasks, in the order
    their evaluations list them ('ROC AUC', 'PR AUC', 'TPR at FPR 0.05', ... 'R²'); '-' where a
    run has no evaluation or its task has no such metric (mixed tasks share few rows)."""
    labels: list[str] = []
    columns: list[dict[str, str]] = []
    for record in records:
        evaluation = record.evaluation
        column: dict[str, str] = {}
        if evaluation is not None:
            for name, value in evaluation.summary_metrics():
                label = evaluation.metric_label(name)
                column[label] = "undefined" if value is None or value != value else f"{value:.4g}"
                if label not in labels:
                    labels.append(label)
        columns.append(column)
    return [(label, [column.get(label, "-") for column in columns]) for label in labels]


def parameter_rows(records: list[RunRecord]) -> list[tuple[str, list[str], bool]]:
    """[(parameter, value per run, differs)] for the union of the runs' settings."""
    columns = [hyperparameters(r) for r in records]
    names: list[str] = []
    for column in columns:
        names += [n for n in column if n not in names]
    rows = []
    for name in names:
        values = [column.get(name, "-") for column in columns]
        rows.append((name, values, len(set(values)) > 1))
    return rows


def differing_parameters(records: list[RunRecord]) -> list[str]:
    return [name for name, _, differs in parameter_rows(records) if differs]


def diff_table(records: list[RunRecord], only_differences: bool = False) -> Table:
    table = Table(expand=True, header_style="bold", show_lines=False, pad_edge=False, box=box.SIMPLE_HEAD)
    table.add_column("", no_wrap=True, width=1)
    table.add_column("setting", no_wrap=True, style="dim")
    for record in records:
        table.add_column(record.name, overflow="fold")
    for name, values, differs in parameter_rows(records):
        if only_differences and not differs:
            continue
        style = "bold yellow" if differs else ""
        table.add_row(Text("≠" if differs else "", style="bold yellow"), Text(name, style=style),
                      *(Text(value, style=style) for value in values))
    table.add_section()
    result_columns = [results(r) for r in records]
    for name in RESULT_ROWS:
        values = [column[name] for column in result_columns]
        table.add_row("", Text(name, style="italic"), *values)
    # Each test metric of the runs' tasks on its own row, so runs compare metric by metric.
    for label, values in evaluation_rows(records):
        table.add_row("", Text(f"test {label}", style="italic"), *values)
    return table


class HyperparameterDiff(Static):
    """A table: one column per run, one row per setting; differing settings marked ≠ and highlighted."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.records: list[RunRecord] = []
        self.only_differences = False

    def show(self, records: list[RunRecord]) -> None:
        self.records = list(records)
        self._render_table()

    def set_only_differences(self, on: bool) -> None:
        self.only_differences = on
        self._render_table()

    def _render_table(self) -> None:
        if not self.records:
            self.update("No runs selected.")
            return
        self.update(diff_table(self.records, self.only_differences))
