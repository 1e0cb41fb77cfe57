"""The training settings form: optimizer, learning rate, momentum (for the optimizers that take one), the loss and the options it reads, batch
size, epochs, validation split, class weights, seed, early stopping, distribution strategy and
Keras backend.

The loss and monitor choices are the task's (a binary task offers binary_crossentropy and
binary_focal_crossentropy, val_auc among its monitors); a loss's options (from_logits, focal
gamma and alpha, Huber's delta) are shown only when the chosen loss reads them, class weights
only for tasks with classes. Each field is checked by the experiment's own validation, with the
data's task and outputs known; a rejected value stays in its field with the reason below it and
never reaches the experiment."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, Select, Static

from kerastui.core.optimizers import takes_momentum
from kerastui.core.spec import BACKENDS, OPTIMIZERS, STRATEGIES, Experiment
from kerastui.core.tasks import Task
from kerastui.tui.widgets.form_fields import FORM_FIELD_CSS


def _loss_reads(option: str) -> Callable[[Experiment, Task], bool]:
    """Whether the experiment's loss (as its task knows it) reads compile option `option`."""

    def applies(experiment: Experiment, task: Task) -> bool:
        rule = task.loss_rule(experiment.compile.loss)
        return rule is not None and option in rule.options

    return applies


def _weights_classes(experiment: Experiment, task: Task) -> bool:
    return task.weights_classes


def _optimizer_takes_momentum(experiment: Experiment, task: Task) -> bool:
    return takes_momentum(experiment.compile.optimizer)


@dataclass(frozen=True)
class Setting:
    """One form field: where it lives in the Experiment and how to read it."""

    field: str  # the Problem.field name, e.g. "fit.batch_size"
    label: str
    kind: type  # int, float, str, bool; tuple: class weights ("", "balanced" or numbers)
    choices: tuple[str, ...] = ()
    help: str = ""
    # The choices the task offers (losses, monitors), in place of fixed `choices`.
    task_choices: Callable[[Task], tuple[str, ...]] | None = None
    # Shown only when this says the setting applies (a loss's option, class weights).
    applies: Callable[[Experiment, Task], bool] | None = None

    @property
    def is_choice(self) -> bool:
        return bool(self.choices) or self.task_choices is not None

    def choices_for(self, task: Task) -> tuple[str, ...]:
        return self.task_choices(task) if self.task_choices is not None else self.choices

    def shown_for(self, experiment: Experiment, task: Task) -> bool:
        return self.applies is None or self.applies(experiment, task)


SETTINGS: tuple[Setting, ...] = (
    Setting("name", "run name", str, help="names the run directory"),
    Setting("compile.optimizer", "optimizer", str, OPTIMIZERS),
    Setting("compile.learning_rate", "learning rate", float, help="e.g. 0.001"),
    Setting("compile.momentum", "momentum", float, help="0 = none, 0.9 usual; less than 1",
            applies=_optimizer_takes_momentum),
    Setting("compile.loss", "loss", str, task_choices=lambda task: task.loss_names()),
    Setting("compile.from_logits", "from logits", bool, help="last layer linear; the loss applies the sigmoid",
            applies=_loss_reads("from_logits")),
    Setting("compile.focal_gamma", "focal gamma", float, help="focus on hard samples; 0 = plain cross-entropy",
            applies=_loss_reads("focal_gamma")),
    Setting("compile.focal_alpha", "focal alpha", float, help="weight of the positive class, 0 to 1",
            applies=_loss_reads("focal_alpha")),
    Setting("compile.huber_delta", "huber delta", float, help="errors above it count linearly, not squared",
            applies=_loss_reads("huber_delta")),
    Setting("fit.batch_size", "batch size", int),
    Setting("fit.epochs", "epochs", int),
    Setting("fit.validation_split", "validation split", float, help="fraction of training data held out, 0 to <1"),
    Setting("fit.class_weight", "class weight", tuple,
            help='empty: equal; "balanced"; or one per class: 1, 20', applies=_weights_classes),
    Setting("seed", "seed", int, help="same seed, same initial weights and split"),
    Setting("fit.early_stopping_patience", "early stopping", int, help="epochs without improvement; 0 = off"),
    Setting("fit.monitor", "monitor", str, task_choices=lambda task: task.monitors(), help="what early stopping watches"),
    Setting("strategy", "strategy", str, STRATEGIES, help="mirrored: all GPUs of a node; multiworker: Slurm tasks"),
    Setting("backend", "backend", str, BACKENDS, help="for Slurm/headless runs; this app keeps the one it started with"),
)
SETTING_BY_FIELD = {setting.field: setting for setting in SETTINGS}


@dataclass(frozen=True)
class DataFacts:
    """What the fields are checked against: the task the data's labels suggest and its number of
    classes, labels or targets (None before the data is known)."""

    task: str | None = None
    outputs: int | None = None


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


def parse_class_weight(raw: str) -> Any:
    """"" or "balanced" as they are; "1, 20" (or "[1, 20]", "1 20") as a tuple of floats; any other
    text as it is, for the experiment's check to refuse with its own words."""
    raw = raw.strip()
    if raw.lower() == "balanced":
        return "balanced"
    parts = [part for part in re.split(r"[,\s]+", raw.strip("[]() ")) if part]
    if not parts:
        return ""
    try:
        return tuple(float(part) for part in parts)
    except ValueError:
        return raw


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
    if setting.kind is bool:
        return raw.lower() in ("true", "1", "yes", "on"), None
    if setting.kind is tuple:
        return parse_class_weight(raw), None
    return raw, None


def value_problem(experiment: Experiment, setting: Setting, value: Any,
                  data: DataFacts = DataFacts()) -> tuple[Experiment | None, str | None]:
    """(the experiment with `value` in the setting's field, None), or (None, why it is refused),
    checked with the data's task and outputs known (val_auc fits a binary task, not regression)."""
    candidate = with_setting(experiment, setting.field, value)
    for found in candidate.problems(num_classes=data.outputs, data_task=data.task):
        if found.field == setting.field:
            return None, found.message
    return candidate, None


def setting_problem(experiment: Experiment, setting: Setting, text: str,
                    data: DataFacts = DataFacts()) -> tuple[Experiment | None, str | None]:
    """(the experiment with the typed value, None), or (None, why the value is not allowed)."""
    value, problem = parse_setting(setting, text)
    if problem:
        return None, problem
    return value_problem(experiment, setting, value, data)


def format_value(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(format_value(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


class SettingInput(Input):
    def __init__(self, value: str, setting: Setting, **kwargs: Any) -> None:
        super().__init__(value, compact=True, **kwargs)
        self.setting = setting


class SettingSelect(Select):
    def __init__(self, value: str, setting: Setting, choices: tuple[str, ...], **kwargs: Any) -> None:
        options = choices if value in choices else (*choices, value)
        super().__init__([(c, c) for c in options], value=value, allow_blank=False, compact=True, **kwargs)
        self.setting = setting
        self.choices = options


class SettingCheckbox(Checkbox):
    """A yes/no setting; its label says which (a compact box alone reads the same either way)."""

    def __init__(self, value: bool, setting: Setting, **kwargs: Any) -> None:
        super().__init__(self.state_label(value), value, compact=True, **kwargs)
        self.setting = setting

    @staticmethod
    def state_label(value: bool) -> str:
        return "on" if value else "off"

    def watch_value(self) -> None:
        super().watch_value()  # the -on class and the Changed message
        self.label = self.state_label(self.value)


Field = Input | Select | Checkbox


class HyperparameterForm(VerticalScroll):
    """Posts `HyperparameterForm.Edited(field, value)` for every accepted change."""

    DEFAULT_CSS = FORM_FIELD_CSS + """
    HyperparameterForm .field-row {
        margin-top: 0;
    }

    /* binary_focal_crossentropy, the longest loss name, whole; every field as wide, so the
       help column stays one column */
    HyperparameterForm .field-row Input, HyperparameterForm .field-row Select,
    HyperparameterForm .field-row Checkbox {
        width: 30;
    }

    HyperparameterForm .field-error {
        padding-left: 18;
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
        self.data = DataFacts()
        self.fields: dict[str, Field] = {}
        self.errors: dict[str, Static] = {}
        self.rows: dict[str, Horizontal] = {}
        self.helps: dict[str, Static] = {}

    @property
    def task(self) -> Task:
        """The task the fields are offered and checked for."""
        return self.experiment.task_for(self.data.task)

    def compose(self) -> ComposeResult:
        task = self.task
        for setting in SETTINGS:
            value = get_setting(self.experiment, setting.field)
            safe_id = setting.field.replace(".", "-")
            if setting.is_choice:
                field: Field = SettingSelect(value, setting, setting.choices_for(task), id=f"hp-{safe_id}")
            elif setting.kind is bool:
                field = SettingCheckbox(bool(value), setting, id=f"hp-{safe_id}")
            else:
                field = SettingInput(format_value(value), setting, id=f"hp-{safe_id}")
                if setting.kind is tuple:
                    field.placeholder = "equal"
            self.fields[setting.field] = field
            help_text = self.helps[setting.field] = Static(self._help(setting), classes="field-help")
            row = self.rows[setting.field] = Horizontal(classes="field-row", id=f"hp-row-{safe_id}")
            row.display = setting.shown_for(self.experiment, task)
            with row:
                yield Label(setting.label, classes="field-label")
                yield field
                yield help_text
            error = Static("", classes="field-error", id=f"hp-error-{safe_id}")
            error.display = False
            self.errors[setting.field] = error
            yield error

    def _help(self, setting: Setting) -> Text:
        if setting.field == "compile.loss":
            rule = self.task.loss_rule(self.experiment.compile.loss)
            return Text(rule.help if rule is not None else "", style="dim")
        if setting.field == "fit.monitor":
            return Text(f"what early stopping watches ({self.task.name})", style="dim")
        return Text(setting.help, style="dim")

    def set_data(self, data: DataFacts) -> None:
        """Check and offer the fields for this data from now on (its task, its outputs)."""
        if data != self.data:
            self.data = data
            if self.is_mounted:
                self.set_experiment(self.experiment)

    def set_experiment(self, experiment: Experiment) -> None:
        """Show `experiment`'s values; a field whose text already means the same value is left
        alone. The choices and the fields shown follow its task and loss."""
        self.experiment = experiment
        task = self.task
        for setting in SETTINGS:
            field = self.fields.get(setting.field)
            if field is None:
                continue
            value = get_setting(experiment, setting.field)
            shown = setting.shown_for(experiment, task)
            row = self.rows[setting.field]
            if row.display != shown:
                row.display = shown
            if isinstance(field, SettingSelect):
                self._show_choice(field, setting.choices_for(task), value)
            elif isinstance(field, Checkbox):
                if field.value != bool(value):
                    with field.prevent(Checkbox.Changed):
                        field.value = bool(value)
            else:
                parsed, problem = parse_setting(setting, field.value)
                if problem or parsed != value or (not shown and field.has_class("-invalid")):
                    field.value = format_value(value)
                    self.set_error(setting.field, None)
            self.helps[setting.field].update(self._help(setting))

    @staticmethod
    def _show_choice(field: SettingSelect, choices: tuple[str, ...], value: str) -> None:
        options = choices if value in choices else (*choices, value)
        # Quietly: changing the options or the value must not read as the user choosing one.
        with field.prevent(Select.Changed):
            if options != field.choices:
                field.choices = options
                field.set_options([(c, c) for c in options])
            if field.value != value:
                field.value = value

    def invalid_fields(self) -> list[str]:
        """'batch size = "0": must be at least 1' for each field showing a refused value."""
        found = []
        for setting in SETTINGS:
            field = self.fields.get(setting.field)
            if isinstance(field, Input) and field.has_class("-invalid"):
                _, problem = setting_problem(self.experiment, setting, field.value, self.data)
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
            setting = event.input.setting
            value, problem = parse_setting(setting, event.value)
            self._apply(setting, value, problem)

    def on_select_changed(self, event: Select.Changed) -> None:
        if isinstance(event.select, SettingSelect) and event.value is not Select.NULL:
            event.stop()
            if event.value != get_setting(self.experiment, event.select.setting.field):
                self._apply(event.select.setting, str(event.value))

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if isinstance(event.checkbox, SettingCheckbox):
            event.stop()
            if event.value != get_setting(self.experiment, event.checkbox.setting.field):
                self._apply(event.checkbox.setting, bool(event.value))

    def _apply(self, setting: Setting, value: Any, problem: str | None = None) -> None:
        candidate = None
        if problem is None:
            candidate, problem = value_problem(self.experiment, setting, value, self.data)
        self.set_error(setting.field, problem)
        if candidate is not None and candidate != self.experiment:
            self.experiment = candidate
            self.post_message(self.Edited(setting.field, get_setting(candidate, setting.field)))
            if (setting.field == "compile.optimizer" and candidate.compile.momentum
                    and not takes_momentum(candidate.compile.optimizer)):
                # The momentum's field is hidden for an optimizer without one: it goes back to
                # none rather than stay, unseen, as the experiment's one problem.
                self.experiment = with_setting(candidate, "compile.momentum", 0.0)
                self.post_message(self.Edited("compile.momentum", 0.0))
            if setting.field in ("compile.loss", "compile.optimizer"):
                self.set_experiment(self.experiment)  # the loss's or optimizer's options shown, others hidden
