"""Send the current experiment to Slurm from the UI, and the login-node guard before local training.

The dialog's fields start from the user config and the environment (kerastui.core.slurm
default_settings); every change is checked at once (the same SlurmSettings rules as the CLI)
and the job.sbatch that will be written is previewed, so the user reads what is submitted.
Submitting prepares the run directory, calls sbatch through the core, and hands back the run
directory and job id; the app then opens the follow view of that run.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from kerastui.core.problems import MAX_PROBLEMS_IN_DIALOG, bounded
from kerastui.core.runs import safe_name
from kerastui.core.slurm_settings import SlurmSettings
from kerastui.core.spec import Experiment, SpecError
from kerastui.tui.host import host
from kerastui.tui.run_actions import runs_root, slurm_client
from kerastui.tui.slurm_client import SlurmClient
from kerastui.tui.widgets.backend_notice import BackendNotice

# (field id, label, SlurmSettings attribute, hint)
FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("partition", "Partition", "partition", "empty: the site's default"),
    ("time_limit", "Time limit", "time_limit", "HH:MM:SS or D-HH:MM:SS"),
    ("cpus", "CPUs", "cpus", "per task"),
    ("tasks", "Tasks", "tasks", "workers of a multiworker run"),
    ("gpus", "GPUs", "gpus", "0 for CPU only"),
    ("memory", "Memory", "memory", "e.g. 4G; empty: default"),
    ("account", "Account", "account", "empty: your default"),
    ("requeue_warning", "Requeue warning", "requeue_warning", "s before the time limit; 0: off"),
    ("extra_options", "Extra sbatch options", "extra_options", "e.g. --qos=short --constraint=v100"),
)


@dataclass(frozen=True)
class SubmitResult:
    run_dir: Path
    job_id: str | None     # None: prepared only (submit later with kerastui submit --prepared)


def settings_from_fields(values: dict[str, str]) -> tuple[SlurmSettings | None, dict[str, str]]:
    """SlurmSettings from the dialog's texts, or None and {field: what is wrong}."""
    errors: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for name in ("cpus", "tasks", "gpus", "requeue_warning"):
        text = values.get(name, "").strip()
        if not text.isdigit():
            errors[name] = "a whole number"
        else:
            numbers[name] = int(text)
    try:
        extra = tuple(shlex.split(values.get("extra_options", "")))
    except ValueError as error:
        errors["extra_options"] = f"cannot split into options: {error}"
        extra = ()
    if errors:
        return None, errors
    settings = SlurmSettings(
        partition=values.get("partition", "").strip(),
        time_limit=values.get("time_limit", "").strip(),
        cpus=numbers["cpus"],
        tasks=numbers["tasks"],
        gpus=numbers["gpus"],
        requeue_warning=numbers["requeue_warning"],
        memory=values.get("memory", "").strip().upper(),
        account=values.get("account", "").strip(),
        extra_options=extra,
    )
    for problem in settings.problems():
        errors[problem.field.removeprefix("slurm.")] = problem.message
    return (None, errors) if errors else (settings, {})


def field_texts(settings: SlurmSettings) -> dict[str, str]:
    return {
        "partition": settings.partition,
        "time_limit": settings.time_limit,
        "cpus": str(settings.cpus),
        "tasks": str(settings.tasks),
        "gpus": str(settings.gpus),
        "requeue_warning": str(settings.requeue_warning),
        "memory": settings.memory,
        "account": settings.account,
        "extra_options": shlex.join(settings.extra_options),
    }


def preview_script(experiment: Experiment, settings: SlurmSettings, root: Path) -> str:
    """The job.sbatch `prepare_submission` would write now: the core's own script (only the run
    directory's time stamp may differ)."""
    from kerastui.core import slurm

    run_dir = root.resolve() / f"{time.strftime('%Y%m%d-%H%M%S')}-{safe_name(experiment.name)}"
    return slurm.job_script(experiment, settings, run_dir)


class SubmitScreen(ModalScreen[SubmitResult | None]):
    """Slurm fields, the job script preview, submit / prepare only / cancel."""

    CSS_PATH = "submit.tcss"
    BINDINGS = [
        Binding("ctrl+r", "submit", "Submit", priority=True),
        Binding("ctrl+w", "prepare_only", "Prepare only", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, experiment: Experiment, client: SlurmClient | None = None, root: Path | None = None,
                 backend: str = "") -> None:
        super().__init__()
        self.experiment = experiment
        self.client = client
        self.root = root
        self.backend = backend
        self.settings: SlurmSettings | None = None
        self.errors: dict[str, str] = {}
        self.busy = False
        self.script_text = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="submit-dialog", classes="dialog"):
            yield Label(f"Submit {self.experiment.name} ({self.experiment.dataset}) to Slurm", classes="dialog-title")
            with Grid(id="submit-fields"):
                for field_id, label, _, hint in FIELDS:
                    yield Label(label, classes="submit-label")
                    yield Input(id=f"slurm-{field_id}", placeholder=hint)
            yield Static(id="submit-errors")
            yield Label("job.sbatch as it will be written into the run directory:", classes="dialog-hint")
            with VerticalScroll(id="submit-preview-pane"):
                yield Static(id="submit-preview")
            yield BackendNotice(id="submit-backend")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Submit (ctrl+r)", id="submit-go", variant="success")
                yield Button("Prepare only (ctrl+w)", id="submit-prepare")
                yield Button("Cancel (esc)", id="submit-cancel", variant="primary")

    def on_mount(self) -> None:
        if self.client is None:
            self.client = slurm_client(self.app)
        if self.root is None:
            self.root = runs_root(self.app)
        try:
            defaults = self.client.settings()
        except Exception as error:  # a bad config file or SBATCH_* value: say so, start from built-ins
            defaults = SlurmSettings()
            self.notify(f"Slurm defaults not used: {error}", title="Slurm settings", severity="warning", timeout=15)
        for name, text in field_texts(defaults).items():
            self.query_one(f"#slurm-{name}", Input).value = text
        self.query_one(BackendNotice).show(self.backend or host(self.app).keras_backend, self.experiment.backend)
        self._check()
        self.query_one("#slurm-partition", Input).focus()

    # ---- fields -------------------------------------------------------------------------------

    def field_values(self) -> dict[str, str]:
        return {name: self.query_one(f"#slurm-{name}", Input).value for name, *_ in FIELDS}

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._check()

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        self.focus_next()

    def _check(self) -> None:
        self.settings, self.errors = settings_from_fields(self.field_values())
        self.script_text, problem = "", ""
        if self.settings is not None:
            try:
                self.script_text = preview_script(self.experiment, self.settings, self.root)
            except SpecError as error:  # settings that do not fit this experiment (tasks vs strategy)
                self.errors = {p.field.removeprefix("slurm."): p.message for p in error.problems}
                self.settings, problem = None, str(error)
        for name, *_ in FIELDS:
            self.query_one(f"#slurm-{name}", Input).set_class(name in self.errors, "-invalid")
        errors = self.query_one("#submit-errors", Static)
        if self.errors:
            labels = {field_id: label for field_id, label, *_ in FIELDS}
            errors.update(Text("\n".join(f"✗ {labels.get(n, n)}: {m}" for n, m in self.errors.items()), style="red"))
        else:
            errors.update("")
        preview = self.query_one("#submit-preview", Static)
        if self.settings is None:
            preview.update(Text(problem or "(fix the fields above to see the script)", style="red" if problem else "dim"))
            return
        preview.update(Text(self.script_text))

    # ---- actions ------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit-go":
            self.action_submit()
        elif event.button.id == "submit-prepare":
            self.action_prepare_only()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)

    def action_submit(self) -> None:
        self._start(submit=True)

    def action_prepare_only(self) -> None:
        self._start(submit=False)

    def _start(self, submit: bool) -> None:
        if self.busy:
            return
        self._check()
        if self.settings is None:
            self.notify("Fix the marked fields first.", severity="error")
            return
        self.busy = True
        self.query_one("#submit-errors", Static).update(Text("submitting…" if submit else "preparing…", style="yellow"))
        self._send(self.settings, submit)

    @work(thread=True, exit_on_error=False, group="slurm-submit", exclusive=True)
    def _send(self, settings: SlurmSettings, submit: bool) -> SubmitResult:
        client = self.client
        run_dir = client.prepare(self.experiment, settings, runs_root=self.root)
        if not submit:
            return SubmitResult(Path(run_dir), None)
        try:
            job_id = client.submit(run_dir)
        except Exception as error:
            raise SubmitFailed(Path(run_dir), error) from error
        return SubmitResult(Path(run_dir), job_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "slurm-submit":
            return
        if event.state == WorkerState.SUCCESS:
            self.busy = False
            self.dismiss(event.worker.result)
        elif event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.busy = False
            error = event.worker.error
            message = _error_text(error)
            self.query_one("#submit-errors", Static).update(Text(f"✗ {message}", style="red"))
            self.notify(message, title="Not submitted", severity="error", timeout=15)


class SubmitFailed(Exception):
    """sbatch refused a run directory that was prepared: it stays, to fix and submit later."""

    def __init__(self, run_dir: Path, error: BaseException) -> None:
        super().__init__(f"{_error_text(error)}. The run directory {run_dir} was prepared: "
                         f"edit its job.sbatch if needed and submit it with `kerastui submit --prepared {run_dir}`")
        self.run_dir = run_dir


def _error_text(error: BaseException | None) -> str:
    if isinstance(error, SpecError):
        return "; ".join(bounded((str(p) for p in error.problems), MAX_PROBLEMS_IN_DIALOG))
    return str(error) if error is not None else "unknown error"


# ---- opening the dialog and following the job -----------------------------------------------------


def open_submit(app: App, experiment: Experiment | None = None) -> None:
    """Show the submit dialog for `experiment` (default: the app's); on success follow the job."""
    experiment = experiment or host(app).session.experiment

    def done(result: SubmitResult | None) -> None:
        if result is None:
            return
        if result.job_id is None:
            app.notify(f"Prepared {result.run_dir}: edit job.sbatch if you like, then "
                       f"`kerastui submit --prepared {result.run_dir}`.", title="Slurm", timeout=20)
            return
        from kerastui.tui.screens.monitor import RunMonitor

        app.notify(f"Submitted job {result.job_id}; following {result.run_dir.name}.", title="Slurm", timeout=8)
        app.push_screen(RunMonitor(result.run_dir, closable=True, job_id=result.job_id))

    app.push_screen(SubmitScreen(experiment), done)


# ---- the login-node guard -------------------------------------------------------------------------


class LoginNodeQuestion(ModalScreen[str]):
    """'here' (train locally anyway), 'slurm' (open the submit dialog) or 'cancel'."""

    BINDINGS = [
        Binding("h", "answer('here')", "Train here"),
        Binding("s", "answer('slurm')", "Submit to Slurm"),
        Binding("escape,n", "answer('cancel')", "Cancel"),
    ]

    def __init__(self, warning: str) -> None:
        super().__init__()
        self.warning = warning

    def compose(self) -> ComposeResult:
        with Vertical(id="guard-dialog", classes="dialog"):
            yield Label("Train on the login node?", classes="dialog-title")
            yield Static(self.warning, id="guard-warning")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Submit to Slurm (s)", id="guard-slurm", variant="success")
                yield Button("Train here (h)", id="guard-here", variant="warning")
                yield Button("Cancel (esc)", id="guard-cancel", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#guard-slurm", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id.removeprefix("guard-"))

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)


def ask_before_local_training(app: App, train_here: Callable[[], Any]) -> bool:
    """When the login-node guard warns about this run, ask and return True (the caller stops there);
    otherwise return False and let the caller train.

    `train_here` is called if the user still chooses to train locally.
    """
    info = host(app).session.dataset_info
    if info is None:
        return False
    try:
        warning = slurm_client(app).login_node_guard(host(app).session.experiment, info)
    except Exception as error:  # a broken config file must not block training; say why the guard is off
        app.notify(f"Login-node guard not checked: {error}", severity="warning", timeout=10)
        return False
    if not warning:
        return False

    def answered(answer: str | None) -> None:
        if answer == "here":
            train_here()
        elif answer == "slurm":
            open_submit(app)

    app.push_screen(LoginNodeQuestion(warning), answered)
    return True
