"""Start a sweep from the build screen: pick the fields to vary and their values, the sampler,
the budget of trials and the pruner, see every problem as you type, then start the sweep's
workers on this machine.

Values are typed as a list, `0.001, 0.01, 0.1` or `adam, sgd`, or for a sampler as a range,
`1e-4 .. 1e-1 log`. The form builds the same [sweep] table a TOML file would hold and checks it
with the core's own rules (kerastui.core.sweep), so what starts is what `kerastui sweep` would run.
The workers are processes of their own (kerastui.core.sweep_worker), as `kerastui sweep
--parallel N` starts them: the app only follows the trials' run directories, and a sweep goes on
if the app is closed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from kerastui.core.layers import LAYERS
from kerastui.core.problems import MAX_PROBLEMS_IN_DIALOG, bounded
from kerastui.core.spec import Experiment
from kerastui.core.sweep import METHODS, PRUNERS, Sweep, sweep_from_table
from kerastui.tui.host import RunLauncher

FIELD_ROWS = 3  # fields varied at once from the form (a TOML file can vary more)

def objectives_for(task: str) -> tuple[str, ...]:
    """What a sweep of a `task` experiment may optimise, its own metric first (val_auc, val_mae...)."""
    from kerastui.core.tasks import TASKS

    chosen = TASKS.get(task, TASKS["multiclass"])
    first = f"val_{chosen.chart_metric}"
    return (first, *(name for name in chosen.monitors() if name != first))


def sweepable_fields(experiment: Experiment) -> list[str]:
    """Every path the sweep can vary in this experiment: training settings, then each layer's parameters."""
    fields = ["compile.learning_rate", "compile.optimizer", "fit.batch_size", "fit.epochs", "fit.validation_split", "seed"]
    for index, layer in enumerate(experiment.layers):
        if layer.type in LAYERS:
            fields += [f"layers[{index}].{param}" for param in LAYERS[layer.type].params]
    return fields


def parse_values(text: str) -> Any:
    """'0.001, 0.01' -> [0.001, 0.01]; 'adam, sgd' -> ['adam', 'sgd']; '1e-4 .. 1e-1 log' -> a range table."""
    text = text.strip()
    if ".." in text:
        low, _, rest = text.partition("..")
        high, *scale = rest.split()
        return {"min": _number(low.strip()), "max": _number(high.strip()), "scale": scale[0] if scale else "linear"}
    return [_number(part.strip()) for part in text.split(",") if part.strip()]


def _number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def sweep_table(fields: list[tuple[str, str]], method: str, trials: str, objective: str, pruner: str) -> dict[str, Any]:
    """The [sweep] table the form describes (what a TOML file would hold)."""
    table: dict[str, Any] = {"method": method, "objective": objective,
                             "parameters": {path: parse_values(values) for path, values in fields if path and values.strip()}}
    if trials.strip():  # a grid without one runs each combination once
        table["trials"] = _number(trials.strip())
    if pruner != "none":
        table["pruner"] = {"type": pruner}
    return table


def start_sweep_workers(sweep_dir: Path, count: int) -> None:
    """The sweep's workers, queued on the runs directory's run queue (its runner starts them within
    the slots, and they outlive the app); the tests put scripted ones here."""
    from kerastui.core.sweep_runs import queue_workers

    queue_workers(sweep_dir, count)


class SweepForm(ModalScreen[Path | None]):
    """Returns the sweep's directory once its workers have started, or None."""

    BINDINGS = [
        Binding("ctrl+r", "start", "Start", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    SweepForm { align: center middle; }
    SweepForm #sweep-form { width: 100%; max-width: 100; height: auto; max-height: 100%; padding: 0 1;
                            background: $panel; border: round $primary; }
    SweepForm .sweep-row { height: auto; }
    SweepForm .sweep-row Select { width: 34; }
    SweepForm .sweep-row Input { width: 1fr; }
    SweepForm #sweep-settings { grid-size: 4; grid-columns: auto 1fr auto 1fr; height: auto; grid-gutter: 0 1; }
    SweepForm #sweep-verdict { height: auto; padding: 0 1; }
    SweepForm #sweep-verdict.-error { color: $error; }
    """

    def __init__(self, experiment: Experiment, runs_root: Path, launcher: RunLauncher, task: str = "") -> None:
        super().__init__()
        self.experiment = experiment
        self.data_task = task or experiment.task or "multiclass"  # the task the data is trained as
        self.runs_root = Path(runs_root)
        self.launcher = launcher
        self.sweep: Sweep | None = None
        self.problems: list[str] = []

    def compose(self) -> ComposeResult:
        choices = [(path, path) for path in sweepable_fields(self.experiment)]
        with Vertical(id="sweep-form"):
            yield Label(f"Sweep {self.experiment.name} on {self.experiment.dataset}", classes="dialog-title")
            for row in range(FIELD_ROWS):
                with Horizontal(classes="sweep-row"):
                    yield Select(choices, prompt="field to vary", id=f"sweep-field-{row}")
                    yield Input(placeholder="values: 0.001, 0.01   or a range: 1e-4 .. 1e-1 log", id=f"sweep-values-{row}")
            with Grid(id="sweep-settings"):
                yield Label("method")
                yield Select([(m, m) for m in METHODS], value="tpe", allow_blank=False, id="sweep-method")
                yield Label("trials (budget)")
                yield Input(placeholder="e.g. 16; a grid: its size", id="sweep-trials")
                yield Label("objective")
                objectives = objectives_for(self.data_task)
                yield Select([(o, o) for o in objectives], value=objectives[0], allow_blank=False, id="sweep-objective")
                yield Label("pruner")
                yield Select([(p, p) for p in PRUNERS], value="none", allow_blank=False, id="sweep-pruner")
            yield Static(id="sweep-verdict")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start (ctrl+r)", id="sweep-start", variant="success")
                yield Button("Cancel (esc)", id="sweep-cancel", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#sweep-field-0", Select).focus()
        self._check()

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event: Any) -> None:
        self._check()

    def form_fields(self) -> list[tuple[str, str]]:
        out = []
        for row in range(FIELD_ROWS):
            path = self.query_one(f"#sweep-field-{row}", Select).value
            values = self.query_one(f"#sweep-values-{row}", Input).value
            out.append((path if isinstance(path, str) else "", values))
        return out

    def _check(self) -> None:
        table = sweep_table(self.form_fields(), str(self.query_one("#sweep-method", Select).value),
                            self.query_one("#sweep-trials", Input).value,
                            str(self.query_one("#sweep-objective", Select).value),
                            str(self.query_one("#sweep-pruner", Select).value))
        sweep, problems = sweep_from_table(table, self.experiment)
        self.problems = [str(p) for p in problems]
        self.sweep = None if problems else sweep
        verdict = self.query_one("#sweep-verdict", Static)
        verdict.set_class(bool(problems), "-error")
        if problems:
            verdict.update(Text("\n".join(f"✗ {line}" for line in bounded(self.problems, MAX_PROBLEMS_IN_DIALOG))))
            return
        workers = self.worker_count
        pruner = "" if sweep.pruner.type == "none" else f", {sweep.pruner.type} pruner"
        verdict.update(Text(f"{sweep.size} trial{'s' if sweep.size != 1 else ''} ({sweep.method}, best {sweep.objective} "
                            f"{sweep.direction}{pruner}), {workers} worker{'s' if workers != 1 else ''} on this machine. "
                            "ctrl+r starts them.", style="bold"))

    @property
    def worker_count(self) -> int:
        """Worker processes: the app's run slots, no more than the trials."""
        size = self.sweep.size if self.sweep is not None else 1
        return max(1, min(self.launcher.slots, size))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "sweep-start":
            self.action_start()
        else:
            self.action_cancel()

    def action_start(self) -> None:
        from kerastui.core.sweep_runs import create_sweep_dir

        self._check()
        if self.sweep is None:
            self.notify("Fix the sweep first: " + (self.problems[0] if self.problems else "name a field and its values"),
                        severity="error", timeout=10)
            return
        try:
            sweep_dir = create_sweep_dir(self.experiment, self.sweep, self.runs_root)
            start_sweep_workers(sweep_dir, self.worker_count)
        except OSError as error:
            self.notify(f"Cannot start the sweep in {self.runs_root}: {error.strerror or error}", severity="error", timeout=15)
            return
        self.dismiss(sweep_dir)

    def action_cancel(self) -> None:
        self.dismiss(None)
