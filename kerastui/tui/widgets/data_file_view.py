"""The data tab's part for a file of named arrays or a folder of images: the [data] form and the
inspector, fed by one look at the data (kerastui.tui.widgets.data_look) in a thread worker.

`follow(name, settings)` is called whenever the experiment's dataset or [data] table may have
changed; a new look starts only when either did, in a worker that never blocks the UI, and a look
that finishes after a newer one was asked for is dropped. For built-ins, CSV tables and IDX
folders the view hides itself (the data tab's samples show those) and says so with `Shown`.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from kerastui.core.datasets.settings import DataSettings
from kerastui.tui.widgets.data_inspector import DataInspector
from kerastui.tui.widgets.data_look import DataLook, look_at
from kerastui.tui.widgets.data_settings_form import DataSettingsForm


READING_DELAY = 0.4  # seconds a look may take before the view says it is reading


class DataFileView(Vertical):
    """The [data] form and the inspector for the experiment's data file; see the module docstring."""

    DEFAULT_CSS = """
    DataFileView {
        height: auto;
        display: none;
    }

    DataFileView #data-look-status {
        height: auto;
        color: $text-muted;
    }
    """

    class Shown(Message):
        """The view now shows a file's form (`form` ARRAYS or IMAGES), or hides itself ("")."""

        def __init__(self, form: str) -> None:
            super().__init__()
            self.form = form

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.key: tuple[str, DataSettings] | None = None  # what the latest look was asked for
        self.look: DataLook | None = None  # the latest look that finished for `key`
        self.load_error = ""
        self.form = ""
        # Focus the form once the next look is shown (a file was just chosen: its keys come next).
        self.focus_form_next = False
        self._reading: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="data-look-status")
        yield DataSettingsForm(id="data-settings")
        yield DataInspector(id="data-inspector")

    def follow(self, name: str, settings: DataSettings) -> None:
        """Look at `name` read with `settings` (again only when either changed)."""
        key = (name, settings)
        if key == self.key:
            return
        self.key = key
        if self._reading is not None:
            self._reading.stop()
        # Said only when a look takes a while: a quick one would shift the form by a line and back.
        self._reading = self.set_timer(READING_DELAY, lambda: self._status(f"reading {name}…") if self.form else None)
        self._look(name, settings)

    def set_load_error(self, message: str) -> None:
        """The app's load of the experiment's data failed with `message` ("" when it loaded)."""
        self.load_error = message
        self.query_one(DataSettingsForm).set_load_error(message)

    def invalid_fields(self) -> list[str]:
        return self.query_one(DataSettingsForm).invalid_fields() if self.form else []

    @work(thread=True, exclusive=True, group="data-look", exit_on_error=False)
    def _look(self, name: str, settings: DataSettings) -> DataLook:
        return look_at(name, settings)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "data-look":
            return
        if worker.state == WorkerState.SUCCESS and isinstance(worker.result, DataLook):
            look = worker.result
            if look.key == self.key:
                self._show(look)
        elif worker.state == WorkerState.ERROR:  # look_at catches what it can; this is the rest
            self._status(f"✗ cannot look at the data: {worker.error}", style="red")

    def _show(self, look: DataLook) -> None:
        self.look = look
        if self._reading is not None:
            self._reading.stop()
            self._reading = None
        form = look.form
        self._status("")
        if form != self.form:
            self.form = form
            self.display = bool(form)
            self.post_message(self.Shown(form))
        if not form:
            return
        form_widget = self.query_one(DataSettingsForm)
        form_widget.show(look, look.settings, self.load_error)
        self.query_one(DataInspector).show(look)
        if self.focus_form_next:
            self.focus_form_next = False
            form_widget.focus_first()

    def _status(self, message: str, style: str = "dim") -> None:
        status = self.query_one("#data-look-status", Static)
        status.update(Text(message, style=style))
        status.display = bool(message)
