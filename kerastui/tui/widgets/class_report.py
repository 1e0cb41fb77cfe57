"""Per-class precision, recall, F1 and support, with macro and weighted averages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.evaluate import ClassReport


def _score(value: float) -> Text:
    # Weak classes stand out: below 0.5 red, below 0.8 yellow.
    style = "red" if value < 0.5 else "yellow" if value < 0.8 else ""
    return Text(f"{value:.3f}", style=style)


def averages(per_class: Sequence[ClassReport]) -> dict[str, tuple[float, float, float]]:
    """'macro avg' and 'weighted avg' of (precision, recall, f1), as sklearn reports them."""
    if not per_class:
        return {}
    n = len(per_class)
    support = sum(r.support for r in per_class)
    macro = tuple(sum(getattr(r, f) for r in per_class) / n for f in ("precision", "recall", "f1"))
    weighted = tuple(
        sum(getattr(r, f) * r.support for r in per_class) / support if support else 0.0
        for f in ("precision", "recall", "f1")
    )
    return {"macro avg": macro, "weighted avg": weighted}


class ClassReportTable(Static):
    """A rich Table of evaluate.ClassReport rows."""

    DEFAULT_CSS = """
    ClassReportTable {
        /* A fixed width: auto-measuring a rich Table here cut it to its first column. */
        width: 56;
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(Text("no evaluation yet", style="dim"), id=id, classes=classes)
        self.per_class: tuple[ClassReport, ...] = ()

    def show(self, per_class: Sequence[ClassReport]) -> None:
        self.per_class = tuple(per_class)
        self.update(self.build_table())

    def build_table(self) -> Table:
        table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold", expand=False)
        table.add_column("class", no_wrap=True, max_width=12, overflow="ellipsis")
        for name in ("precision", "recall", "f1"):
            table.add_column(name, justify="right", no_wrap=True)
        table.add_column("support", justify="right", no_wrap=True)
        for report in self.per_class:
            table.add_row(report.name, _score(report.precision), _score(report.recall), _score(report.f1), str(report.support))
        support = sum(r.support for r in self.per_class)
        if self.per_class:
            table.add_section()
        for name, (p, r, f) in averages(self.per_class).items():
            table.add_row(Text(name, style="dim"), f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", str(support))
        return table
