"""The export dialog (x on a run): a script, a notebook or a submission, a path checked as it is
typed, and the code previewed with syntax colours before anything is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.syntax import Syntax
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, RadioButton, RadioSet, Static
from textual.worker import Worker, WorkerState

KIND_LABELS = {"script": "Script (.py)", "notebook": "Notebook (.ipynb)", "submission": "Submission (folder + zip)"}


def default_destination(run_dir: Path, kind: str, folder: Path | None = None) -> Path:
    folder = folder if folder is not None else Path.cwd()
    name = run_dir.name
    return folder / {"script": f"{name}.py", "notebook": f"{name}.ipynb", "submission": f"{name}-submission"}[kind]


class ExportDialog(ModalScreen["list[Path] | None"]):
    """Dismisses with the files written, or None when cancelled."""

    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    ExportDialog #export-dialog { width: 90%; height: 90%; border: thick $accent; background: $surface; padding: 0 1; }
    ExportDialog #export-title { text-style: bold; height: auto; }
    ExportDialog RadioSet { height: auto; layout: horizontal; }
    ExportDialog #export-path-problem { color: $error; height: auto; }
    ExportDialog #export-preview { height: 1fr; border: round $panel; }
    """

    BINDINGS = [
        Binding("ctrl+s", "write", "Write", priority=True),
        Binding("ctrl+t", "next_kind", "Script/notebook/submission", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, run_dir: Path, folder: Path | None = None) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.folder = folder
        self.kind = "script"
        self.source: Any = None  # kerastui.core.export.RunSource once read
        self.problem = ""  # why the run cannot be exported ("" when it can)
        self.written: list[Path] | None = None
        self.preview_text = ""  # the code shown (for the kind chosen), once made
        self.path_problem = ""  # what is wrong with the path typed ("" when it can be written)

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog"):
            yield Static(f"Export {self.run_dir.name} as plain Keras", id="export-title")
            with RadioSet(id="export-kind"):
                for kind, label in KIND_LABELS.items():
                    yield RadioButton(label, value=kind == "script", id=f"export-{kind}")
            yield Input(str(default_destination(self.run_dir, "script", self.folder)), id="export-path")
            yield Static("", id="export-path-problem")
            with VerticalScroll(id="export-preview"):
                yield Static("reading the run…", id="export-code")
            yield Footer()

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()
        self._read_run()

    @work(thread=True, exclusive=True, exit_on_error=False, group="export-read")
    def _read_run(self) -> Any:
        from kerastui.core.export import load_run_source

        return load_run_source(self.run_dir)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export-preview")
    def _make_preview(self, kind: str) -> str:
        from kerastui.core.export import preview
        from kerastui.core.export.steps import plan
        from kerastui.core.export.submission import model_py

        if kind == "submission":
            return model_py(plan(self.source))
        return preview(self.source, Path(self.query_one("#export-path", Input).value).name or "script.py")

    @work(thread=True, exclusive=True, exit_on_error=False, group="export-write")
    def _write(self, kind: str, path: Path) -> list[Path]:
        from kerastui.core.export import export

        return export(self.source, kind, path)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if state == WorkerState.ERROR:
            error = worker.error
            message = str(error) if error is not None else "failed"
            if worker.group == "export-write":
                self._show_problem(message)
                return
            self.problem = message
            self.query_one("#export-code", Static).update(f"This run cannot be exported: {message}")
            return
        if state != WorkerState.SUCCESS:
            return
        if worker.group == "export-read":
            self.source = worker.result
            self._make_preview(self.kind)
        elif worker.group == "export-preview":
            self.preview_text = worker.result
            self.query_one("#export-code", Static).update(
                Syntax(worker.result, "python", line_numbers=True, word_wrap=False, theme="monokai"))
        elif worker.group == "export-write":
            self.written = list(worker.result)
            self.notify(f"{self.kind} written: {self.written[0] if self.kind != 'submission' else self.path()}",
                        title="Exported")
            self.dismiss(self.written)

    def path(self) -> Path:
        return Path(self.query_one("#export-path", Input).value.strip()).expanduser()

    def _show_problem(self, text: str) -> None:
        self.path_problem = text
        self.query_one("#export-path-problem", Static).update(text)

    @on(Input.Changed, "#export-path")
    def _check_path(self) -> None:
        from kerastui.core.export import destination_problem

        value = self.query_one("#export-path", Input).value.strip()
        self._show_problem(destination_problem(self.path(), self.kind) if value else "name where to write it")

    @on(Input.Submitted, "#export-path")
    def _submitted(self) -> None:
        self.action_write()

    @on(RadioSet.Changed, "#export-kind")
    def _kind_changed(self, event: RadioSet.Changed) -> None:
        kind = (event.pressed.id or "export-script").removeprefix("export-")
        self._choose(kind)

    def _choose(self, kind: str) -> None:
        if kind == self.kind:
            return
        field = self.query_one("#export-path", Input)
        # A path still at the old kind's default follows the kind; one the user typed stays.
        if self.path() == default_destination(self.run_dir, self.kind, self.folder):
            field.value = str(default_destination(self.run_dir, kind, self.folder))
        self.kind = kind
        self._check_path()
        if self.source is not None:
            self.query_one("#export-code", Static).update("writing the preview…")
            self._make_preview(kind)

    def action_next_kind(self) -> None:
        kinds = list(KIND_LABELS)
        kind = kinds[(kinds.index(self.kind) + 1) % len(kinds)]
        self.query_one(f"#export-{kind}", RadioButton).value = True
        self._choose(kind)

    def action_write(self) -> None:
        from kerastui.core.export import destination_problem

        if self.problem:
            self.notify(f"This run cannot be exported: {self.problem}", severity="error")
            return
        if self.source is None:
            self.notify("Still reading the run; a moment.")
            return
        problem = destination_problem(self.path(), self.kind)
        if problem:
            self._show_problem(problem)
            return
        self._write(self.kind, self.path())

    def action_cancel(self) -> None:
        self.dismiss(None)
