"""F1 / ?: every key of every screen, collected from the bindings themselves so it never goes stale."""

from __future__ import annotations

import importlib
import io
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:  # pragma: no cover
    from textual.app import App

# (section title, "module:Class") in the order a user meets them. Modules are imported when the help
# opens (not at start-up); a screen that cannot be imported is left out rather than breaking help.
HELP_SECTIONS: tuple[tuple[str, str], ...] = (
    ("Everywhere", "kerastui.tui.app:KerasTUI"),
    ("Build screen", "kerastui.tui.screens.build:BuildScreen"),
    ("Build: dataset list", "kerastui.tui.widgets.dataset_picker:DatasetTable"),
    ("Build: layer list", "kerastui.tui.widgets.layer_editor:LayerTable"),
    ("Build: layer parameters", "kerastui.tui.widgets.layer_editor:LayerForm"),
    ("Train screen and following a run", "kerastui.tui.screens.monitor:RunMonitor"),
    ("Evaluate screen", "kerastui.tui.screens.evaluate:EvaluateScreen"),
    ("Evaluate: confusion matrix", "kerastui.tui.widgets.confusion_table:ConfusionTable"),
    ("Evaluate: mistakes", "kerastui.tui.widgets.misclassified_browser:MisclassifiedBrowser"),
    ("Evaluate, binary: the threshold", "kerastui.tui.widgets.binary_evaluation:BinaryEvaluationView"),
    ("Evaluate, multi-label: a label's threshold", "kerastui.tui.widgets.multilabel_evaluation:LabelTable"),
    ("Evaluate, regression", "kerastui.tui.widgets.regression_evaluation:RegressionEvaluationView"),
    ("Runs screen", "kerastui.tui.screens.runs:RunsScreen"),
    ("Comparing runs", "kerastui.tui.screens.compare:CompareScreen"),
    ("Submit to Slurm", "kerastui.tui.screens.submit:SubmitScreen"),
    ("Dialogs", "kerastui.tui.screens.confirm:ConfirmScreen"),
)


def _load(target: str) -> type[DOMNode] | None:
    module_name, _, class_name = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except Exception:  # pragma: no cover - a screen still being written must not break help
        return None


def load_sections() -> None:
    """Import every section's module: done off the UI thread at start-up (kerastui.tui.flows.preview),
    so the first f1 imports nothing while a run trains (the evaluate, compare and submit screens)."""
    for _, target in HELP_SECTIONS:
        _load(target)


def _bindings(cls: type[DOMNode]) -> list[Binding]:
    """The class's own BINDINGS (tuples normalised), without those hidden from users entirely."""
    found = []
    for item in cls.BINDINGS:
        binding = item if isinstance(item, Binding) else Binding(*item)
        if binding.description:
            found.append(binding)
    return found


def key_sections(app: App) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(section, [(keys, description)])] for every screen and widget with keys."""
    sections = []
    seen_classes: set[type] = set()
    for title, target in HELP_SECTIONS:
        cls = _load(target)
        if cls is None or cls in seen_classes:
            continue
        seen_classes.add(cls)
        rows: dict[str, list[str]] = {}
        for binding in _bindings(cls):
            for key in binding.key.split(","):
                shown = app.get_key_display(Binding(key.strip(), binding.action))
                rows.setdefault(binding.description, [])
                if shown not in rows[binding.description]:
                    rows[binding.description].append(shown)
        if title == "Everywhere":
            rows.setdefault("Command palette", []).append(app.get_key_display(Binding(app.COMMAND_PALETTE_BINDING, "")))
        if rows:
            sections.append((title, [(" / ".join(keys), description) for description, keys in rows.items()]))
    return sections


class HelpScreen(ModalScreen[None]):
    """A scrollable list of all keys; escape, q or F1 closes it."""

    DEFAULT_CSS = """
    #help-dialog {
        height: 90%;
    }
    """

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("f1", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Static(Text("Keys  (escape closes; ctrl+p opens the command palette)", style="bold"), id="help-title")
            yield Static(self._table(), id="help-keys")

    def _table(self) -> Table:
        table = Table(show_header=False, box=None, padding=(0, 2, 0, 0), expand=True)
        table.add_column("key", no_wrap=True, style="bold", min_width=16)
        table.add_column("action", ratio=1)
        for title, rows in key_sections(self.app):
            table.add_row(Text(title, style="bold underline"), "")
            for keys, description in rows:
                table.add_row(keys, description)
            table.add_row("", "")
        return table

    def on_mount(self) -> None:
        self.query_one("#help-dialog").focus()

    def plain_text(self, width: int = 100) -> str:
        """The key list as plain text (for tests and for copying into docs)."""
        console = Console(width=width, no_color=True, file=io.StringIO())
        with console.capture() as capture:
            console.print(self._table())
        return capture.get()

    def action_close(self) -> None:
        self.dismiss(None)
