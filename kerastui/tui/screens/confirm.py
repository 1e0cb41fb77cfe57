"""A yes/no question in a modal dialog (used before quitting while a run trains)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True (y / the yes button) or False (n / escape / the no button)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes
        self.no_label = no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(self.question, id="confirm-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes_label} (y)", id="confirm-yes", variant="error")
                yield Button(f"{self.no_label} (n)", id="confirm-no", variant="primary")

    def on_mount(self) -> None:
        # The safe answer has the focus, so an accidental enter keeps the run going.
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class QuitWhileTrainingScreen(ModalScreen[str | None]):
    """Quitting while the local queue has runs: keep the queue going without the app (k), stop its
    runs and cancel the waiting ones (s), or stay."""

    BINDINGS = [
        Binding("k", "answer('keep')", "Keep running"),
        Binding("s", "answer('stop')", "Stop and quit"),
        Binding("escape,n", "answer(None)", "Cancel"),
    ]

    def __init__(self, active: int, queued: int) -> None:
        super().__init__()
        self.active = active
        self.queued = queued

    def compose(self) -> ComposeResult:
        training = self.active - self.queued
        runs = [f"{training} run{'s' if training != 1 else ''} training"] if training else []
        runs += [f"{self.queued} waiting for a slot"] if self.queued else []
        question = (f"The local queue has {' and '.join(runs)}, each run in its own process.\n"
                    "Keep: the queue's runner goes on without this app, starting the waiting runs in turn; "
                    "any kerastui, from any terminal, lists and controls the same queue.\n"
                    "Stop: each run stops after its current batch, keeping its finished epochs and model; "
                    "the waiting ones are cancelled.")
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(question, id="confirm-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Keep running, quit (k)", id="quit-keep", variant="primary")
                yield Button("Stop and quit (s)", id="quit-stop", variant="error")
                yield Button("Cancel (escape)", id="quit-cancel")

    def on_mount(self) -> None:
        self.query_one("#quit-keep", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss({"quit-keep": "keep", "quit-stop": "stop"}.get(event.button.id or ""))

    def action_answer(self, answer: str | None) -> None:
        self.dismiss(answer)
