"""Ask for a file path (save / open an experiment); the action's error is shown at the field."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static
from kerastui.tui.widgets.form_fields import FORM_FIELD_CSS


class PathDialog(ModalScreen[str | None]):
    """Enter runs `action(path)`; it returns None on success (the dialog closes) or why it failed."""

    DEFAULT_CSS = FORM_FIELD_CSS

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, path: str, action: Callable[[str], str | None | Awaitable[str | None]],
                 verb: str = "OK") -> None:
        super().__init__()
        self.title_text = title
        self.initial_path = path
        self.action_callback = action
        self.verb = verb

    def compose(self) -> ComposeResult:
        with Vertical(id="path-dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Input(self.initial_path, placeholder="path/to/experiment.toml", id="path-input")
            yield Static("", id="path-error", classes="field-error")
            yield Static(f"enter: {self.verb.lower()}   escape: cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#path-input", Input).focus()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = self.action_callback(event.value)
        if inspect.isawaitable(error):  # e.g. a file read in a thread
            self.query_one("#path-error", Static).update(Text("reading…"))
            error = await error
        if error is None:
            self.dismiss(event.value)
            return
        self.query_one("#path-input", Input).add_class("-invalid")
        self.query_one("#path-error", Static).update(Text(error))

    def on_input_changed(self, event: Input.Changed) -> None:
        # A new path deserves a fresh verdict.
        self.query_one("#path-input", Input).remove_class("-invalid")
        self.query_one("#path-error", Static).update("")

    def action_cancel(self) -> None:
        self.dismiss(None)
