"""The training settings form: optimizer, learning rate, loss, batch size, epochs, validation split,
seed, early stopping, distribution strategy and Keras backend. Each field is checked by the experiment's own validation; a rejected value stays in
its field with the reason below it and never reaches the experiment."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

from kerastui.core.spec import BACKENDS, LOSSES, MONITORS, OPTIMIZERS, STRATEGIES, Experiment
from kerastui.tui.widgets.form_fields import FORM_FIELD_CSS


@dataclass(frozen=True)
class Setting:
    """One form field: where it lives in the Experiment and how to read it."""

    field: str  # the Problem.field name, e.g. "fit.batch_size"
    label: str
    kind: type  # int, float, str
    choices: tuple[str, ...] = ()
    help: str = ""


SETTINGS: tuple[Setting, ...] = (
    Setting("name", "run name", str, help="names the run directory"),
    Setting("compile.optimizer", "optimizer", str, OPTIMIZERS),
    Setting("compile.learning_rate", "learning rate", float, help="e.g. 0.001"),
    Setting("compile.loss", "loss", str, LOSSES, help="sparse: integer labels (all kerastui datasets)"),
    Setting("fit.batch_size", "batch size", int),
    Setting("fit.epochs", "epochs", int),
    Setting("fit.validation_split", "validation split", float, help="fraction of training data held out, 0 to <1"),
    Setting("seed", "seed", int, help="same seed, same initial weights and split"),
    Setting("fit.early_stopping_patience", "early stopping", int, help="epochs without improvement; 0 = off"),
    Setting("fit.monitor", "monitor", str, MONITORS, help="what early stopping watches"),
    Setting("strategy", "strategy", str, STRATEGIES, help="mirrored: all GPUs of a node; multiworker: Slurm tasks"),
    Setting("backend", "backend", str, BACKENDS, help="for Slurm/headless runs; this app keeps the one it started with"),
)


def get_setting(experiment: Experiment, field: str) -> Any:
    value: Any = experiment
    for part in field.split("."):
        value = getattr(value, part)
    return value


def with_setting(experiment: Experiment, field: str, value: Any) -> Experiment:
    """A copy of `experiment` with the dotted `field` set to `value`."""
    head, _, rest = field.partition(".")
    if not rest:
        return replace(experiment, **{head: value})
    return replace(experiment, **{head: replace(getattr(experiment, head), **{rest: value})})


def parse_setting(setting: Setting, text: str) -> tuple[Any, str | None]:
    raw = text.strip()
    if setting.kind is int:
        try:
            return int(raw), None
        except ValueError:
            return None, "must be a whole number"
    if setting.kind is float:
        try:
            return float(raw), None
        except ValueError:
            return None, "must be a number"
    return raw, None


def setting_problem(experiment: Experiment, setting: Setting, text: str) -> tuple[Experiment | None, str | None]:
    """(the experiment with the new value, None), or (None, why the value is not allowed)."""
    value, problem = parse_setting(setting, text)
    if problem:
        return None, problem
    candidate = with_setting(experiment, setting.field, value)
    for found in candidate.problems():
        if found.field == setting.field:
            return None, found.message
    return candidate, None


def format_value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class SettingInput(Input):
    def __init__(self, value: str, setting: Setting, **kwargs: Any) -> None:
        super().__init__(value, compact=True, **kwargs)
        self.setting = setting


class SettingSelect(Select):
    def __init__(self, value: str, setting: Setting, **kwargs: Any) -> None:
        super().__init__([(c, c) for c in setting.choices], value=value, allow_blank=False, compact=True, **kwargs)
        self.setting = setting


class HyperparameterForm(VerticalScroll):
    """Posts `HyperparameterForm.Edited(field, value)` for every accepted change."""

    DEFAULT_CSS = FORM_FIELD_CSS + """
    HyperparameterForm .field-row {
        margin-top: 0;
    }
    """

    class Edited(Message):
        """`field` (dotted, e.g. "fit.epochs") was set to the accepted `value`."""

        def __init__(self, field: str, value: Any) -> None:
            super().__init__()
            self.field = field
            self.value = value

    class FieldChecked(Message):
        """A field's typed text was refused, or no longer is (see `invalid_fields`)."""

    def __init__(self, experiment: Experiment, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.experiment = experiment
        self.fields: dict[str, Input | Select] = {}
        self.errors: dict[str, Static] = {}

    def compose(self) -> ComposeResult:
        for setting in SETTINGS:
            value = get_setting(self.experiment, setting.field)
            safe_id = setting.field.replace(".", "-")
            if setting.choices:
                field: Input | Select = SettingSelect(value, setting, id=f"hp-{safe_id}")
            else:
                field = SettingInput(format_value(value), setting, id=f"hp-{safe_id}")
            self.fields[setting.field] = field
            with Horizontal(classes="field-row"):
                yield Label(setting.label, classes="field-label")
                yield field
                yield Static(Text(setting.help, style="dim"), classes="field-help")
            error = Static("", classes="field-error", id=f"hp-error-{safe_id}")
            error.display = False
            self.errors[setting.field] = error
            yield error

    def set_experiment(self, experiment: Experiment) -> None:
        """Show `experiment`'s values; a field whose text already means the same value is left alone."""
        self.experiment = experiment
        for setting in SETTINGS:
            field = self.fields.get(setting.field)
            if field is None:
                continue
            value = get_setting(experiment, setting.field)
            if isinstance(field, Select):
                if field.value != value:
                    field.value = value
            else:
                shown, problem = parse_setting(setting, field.value)
                if problem or shown != value:
                    field.value = format_value(value)
                    self.set_error(setting.field, None)

    def invalid_fields(self) -> list[str]:
        """'batch size = "0": must be at least 1' for each field showing a refused value."""
        found = []
        for setting in SETTINGS:
            field = self.fields.get(setting.field)
            if isinstance(field, Input) and field.has_class("-invalid"):
                _, problem = setting_problem(self.experiment, setting, field.value)
                if problem:
                    found.append(f'{setting.label} "{field.value}": {problem}')
        return found

    def set_error(self, field_name: str, message: str | None) -> None:
        field, error = self.fields[field_name], self.errors[field_name]
        if field.has_class("-invalid") != bool(message):
            self.post_message(self.FieldChecked())
        field.set_class(bool(message), "-invalid")
        error.update(Text(f"✗ {message}") if message else "")
        error.display = bool(message)

    def on_input_changed(self, event: Input.Changed) -> None:
        if isinstance(event.input, SettingInput):
            event.stop()
            self._apply(event.input.setting, event.value)

    def on_select_changed(self, event: Select.Changed) -> None:
        if isinstance(event.select, SettingSelect) and event.value is not Select.NULL:
            event.stop()
            if event.value != get_setting(self.experiment, event.select.setting.field):
                self._apply(event.select.setting, str(event.value))

    def _apply(self, setting: Setting, text: str) -> None:
        candidate, problem = setting_problem(self.experiment, setting, text)
        self.set_error(setting.field, problem)
        if candidate is not None and candidate != self.experiment:
            self.experiment = candidate
            self.post_message(self.Edited(setting.field, get_setting(candidate, setting.field)))
