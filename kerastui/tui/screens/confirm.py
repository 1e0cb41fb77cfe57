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
    """Quitting while runs train: keep them running in the background (k), stop them (s), or stay."""

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
        runs = "A run is" if self.active == 1 else f"{self.active} runs are"
        queued = (f"\n{self.queued} queued run{'s' if self.queued != 1 else ''} will be cancelled either way "
                  "(the queue lives in this app).") if self.queued else ""
        question = (f"{runs} training, each in its own process.\n"
                    "Keep: they go on in the background; the next kerastui lists them and enter re-attaches.\n"
                    f"Stop: each stops after its current batch, keeping its finished epochs and model.{queued}")
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
