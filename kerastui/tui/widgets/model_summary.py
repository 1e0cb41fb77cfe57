"""The model as Keras sees it: per-layer output shape and parameters, totals, or why it does not build."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

if TYPE_CHECKING:  # pragma: no cover
    from kerastui.core.build import ModelPreview


def format_shape(shape: tuple) -> str:
    """(None, 8, 8, 32) -> '8x8x32': the batch dimension is always None, so it is left out."""
    dims = [str(d) for d in shape[1:]] if shape and shape[0] is None else [str(d) for d in shape]
    return "x".join(dims) or "scalar"


def summary_table(preview: ModelPreview) -> Table:
    table = Table(box=None, padding=(0, 1), header_style="bold", expand=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("layer", overflow="ellipsis", no_wrap=True, ratio=1)
    table.add_column("output", justify="right", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    table.add_row("", Text("input", style="dim"), format_shape(preview.input_shape), "")
    for layer in preview.layers:
        table.add_row(str(layer.index), layer.description, format_shape(layer.output_shape), f"{layer.params:,}")
    return table


class ModelSummary(VerticalScroll):
    """Shows one of: a waiting message, a Keras preview, or a build error."""

    DEFAULT_CSS = """
    ModelSummary {
        padding-left: 1;
        border-left: solid $primary-background;
    }

    ModelSummary.-error {
        border-left: solid $error;
    }

    .pane-title {
        text-style: bold;
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.preview: ModelPreview | None = None
        self.error: str | None = None
        self.state = "waiting"
        self._content: RenderableType = ""

    def compose(self):
        yield Static(Text("Model summary", style="bold"), classes="pane-title")
        yield Static(Text("preparing the summary…", style="dim"), id="summary-body")

    @property
    def body(self) -> Static:
        return self.query_one("#summary-body", Static)

    def show_waiting(self, message: str) -> None:
        self.state = "waiting"
        self._show(Text(message, style="dim italic"))

    def show_preview(self, preview: ModelPreview, output_problem: str | None = None) -> None:
        self.state, self.preview, self.error = "preview", preview, None
        totals = Text()
        totals.append(f"total params: {preview.total_params:,}", style="bold")
        totals.append(f"   trainable: {preview.trainable_params:,}")
        if preview.total_params != preview.trainable_params:
            totals.append(f"   non-trainable: {preview.total_params - preview.trainable_params:,}")
        parts: list = [summary_table(preview), Text(""), totals]
        if output_problem:
            parts.append(Text(f"\n✗ {output_problem}", style="bold red"))
        self._show(Group(*parts))
        self.set_class(bool(output_problem), "-error")

    def show_error(self, message: str) -> None:
        self.state, self.preview, self.error = "error", None, message
        text = Text("✗ the layers do not fit together\n\n", style="bold red")
        text.append(message, style="red")
        self._show(text)
        self.add_class("-error")

    @property
    def text(self) -> str:
        """What the summary says, as plain text (for tests and logs)."""
        console = Console(width=100, no_color=True, file=io.StringIO())
        with console.capture() as capture:
            console.print(self._content)
        return capture.get()

    def _show(self, content: RenderableType) -> None:
        self._content = content
        self.body.update(content)
