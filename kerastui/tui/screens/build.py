"""The build screen: data (and its task), layers and training settings in three tabs, and a live
Keras summary.

The screen owns no state of its own: it shows the app's build session (the reactives the app
publishes) and posts the user's accepted edits as intents (kerastui.tui.intents) for the app to
apply. The summary is computed by Keras in a thread worker, a moment after the last edit (so
typing "128" builds one model, not three).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, OptionList, Select, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from kerastui.core.datasets.settings import DataSettings
from kerastui.core.presets import PRESET_DESCRIPTIONS, PRESETS
from kerastui.core.spec import Experiment, fit_to_task
from kerastui.core.tasks import TASKS, output_word
from kerastui.tui.host import Host
from kerastui.tui.intents import (
    ApplyPreset,
    ChooseTask,
    EditExperiment,
    PresetApplied,
    PreviewVerdict,
    TrainExperiment,
    UseDataset,
)
from kerastui.tui.widgets.data_file_view import DataFileView
from kerastui.tui.widgets.data_settings_form import DataSettingsForm
from kerastui.tui.widgets.dataset_picker import DatasetPicker, DatasetTable, shape_text
from kerastui.tui.widgets.hyperparameters import DataFacts, HyperparameterForm, with_setting
from kerastui.tui.widgets.layer_editor import LayerEditor, LayerTable
from kerastui.tui.widgets.model_summary import ModelSummary
from kerastui.tui.widgets.sample_images import SampleImages
from kerastui.tui.widgets.task_picker import TaskPicker, next_tasks

if TYPE_CHECKING:  # pragma: no cover
    from kerastui.core.build import ModelPreview, PreviewResult
    from kerastui.core.data import Dataset, DatasetInfo

PREVIEW_DELAY = 0.25  # seconds of quiet after an edit before Keras rebuilds the summary
TABS = ("tab-data", "tab-model", "tab-training")
# Actions bound to plain letters, which a focused dropdown takes as type-to-search instead.
LETTER_ACTIONS = ("preset", "choose_preset", "cycle_task")


def preset_title(name: str) -> str:
    return {"mlp": "MLP", "cnn": "CNN"}.get(name, name)


class PresetPicker(ModalScreen[str]):
    """Every preset with what it is; enter applies the highlighted one, escape closes."""

    DEFAULT_CSS = """
    PresetPicker {
        align: center middle;
    }

    PresetPicker > Vertical {
        width: 90%;
        max-width: 110;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }

    PresetPicker OptionList {
        height: auto;
        max-height: 16;
    }
    """

    BINDINGS = [Binding("escape", "dismiss_none", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Presets: enter replaces the layers, escape closes", style="bold"))
            options = []
            for name in PRESETS:
                label = Text()
                label.append(f"{name:<15}", style="bold")
                label.append(PRESET_DESCRIPTIONS.get(name, ""), style="dim")
                options.append(Option(label, id=name))
            yield OptionList(*options, id="preset-list")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class BuildScreen(Screen):
    """Choose data and its task, design layers, set hyperparameters; ctrl+r trains."""

    BINDINGS = [
        Binding("ctrl+r,f5", "train", "Train"),
        Binding("m", "preset('mlp')", "MLP preset"),
        Binding("c", "preset('cnn')", "CNN preset"),
        Binding("p", "choose_preset", "Presets", tooltip="Every preset (residual 1-D CNN, text LSTM, ...)"),
        Binding("T", "cycle_task", "Task", tooltip="Train the data as the next task that fits it"),
        # F-keys work even while typing in a field; 1/2/3 are shorter when not.
        Binding("f2,1", "show_tab('tab-data')", "Data tab", show=False),
        Binding("f3,2", "show_tab('tab-model')", "Model tab", show=False),
        Binding("f4,3", "show_tab('tab-training')", "Training tab", show=False),
    ]

    app: Host  # typing only: the app it runs in (KerasTUI), seen through what screens may use

    def __init__(self) -> None:
        super().__init__()
        self._preview_timer: Timer | None = None
        self._shown_key: tuple | None = None
        self.last_preview: ModelPreview | None = None
        self._last_result: PreviewResult | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="build-tabs", initial="tab-data"):
            with TabPane("Data F2", id="tab-data"):
                yield TaskPicker(id="task-picker")  # the experiment's task on its data: always in sight
                with VerticalScroll(id="data-pane"):
                    yield DatasetPicker(id="dataset-picker")
                    yield DataFileView(id="data-file")  # a file's [data] form and inspector
                    yield SampleImages(id="samples")
            with TabPane("Model F3", id="tab-model"), Horizontal(id="model-pane"):
                with Vertical(id="layers-side"):
                    yield Static(self._preset_hint(), id="preset-hint")
                    yield LayerEditor(id="layer-editor")
                yield ModelSummary(id="summary")
            with TabPane("Training F4", id="tab-training"):
                # Mounted just after the first frame (Lazy): its hundred-odd widgets would be
                # styled before anything shows. Until then it keeps what it is given and shows it
                # when composed, so the screen talks to it through this reference meanwhile.
                self.training_form = HyperparameterForm(self.app.experiment, id="hyperparameters")
                yield Lazy(self.training_form)
        yield Static("", id="build-status")
        yield Footer()

    @staticmethod
    def _preset_hint() -> Text:
        text = Text()
        for key, what in (("m", "mlp"), ("c", "cnn"), ("p", "presets…"), ("a", "add"), ("d", "delete"), ("K/J", "move"),
                          ("enter", "edit")):
            text.append(key, style="bold")
            text.append(f" {what}  ")
        text.rstrip()
        return text

    def on_mount(self) -> None:
        app = self.app
        self.watch(app, "experiment", self._experiment_changed, init=True)
        self.watch(app, "dataset", self._dataset_changed, init=True)
        self.watch(app, "dataset_info", self._dataset_info_changed, init=False)
        self.watch(app, "dataset_error", self._dataset_error_changed, init=False)
        self.watch(app, "keras_ready", self._keras_changed, init=True)
        self.watch(app, "keras_error", self._keras_changed, init=False)
        self.watch(app, "preview_error", self._update_status, init=False)
        self.watch(app, "training_pending", self._update_status, init=False)
        self.query_one(DatasetTable).focus()

    # ---- app state -> widgets -----------------------------------------------------------------

    @property
    def input_shape(self) -> tuple[int, ...] | None:
        info = self.app.dataset_info
        return tuple(info.input_shape) if info is not None else None

    def data_facts(self) -> DataFacts:
        """The data's task and outputs, as the training fields are checked against them."""
        info = self.app.dataset_info
        if info is None:
            return DataFacts()
        return DataFacts(info.task, info.outputs_for(self.app.session.task_name()))

    def _show_task(self) -> None:
        """The task line and the training fields' task (after the data or the experiment changed)."""
        self.query_one(TaskPicker).show(self.app.experiment, self.app.dataset_info)
        self.training_form.set_data(self.data_facts())

    def show_task(self) -> None:
        """Show the task the session holds again (a chosen task was refused: the dropdown goes back)."""
        self._show_task()

    def _experiment_changed(self, experiment: Experiment) -> None:
        self.query_one(LayerEditor).set_layers(experiment.layers, self.input_shape)
        self._show_task()
        self.training_form.set_experiment(experiment)
        self.query_one(DatasetPicker).set_current(experiment.dataset)
        self.query_one(DataFileView).follow(experiment.dataset, experiment.data)
        self._schedule_preview()
        self._update_status()

    def _dataset_changed(self, dataset: Dataset | None) -> None:
        samples = self.query_one(SampleImages)
        self.query_one(DataFileView).set_load_error(self.app.dataset_error)
        if dataset is not None and self.query_one(DataFileView).form:
            # A file's samples are the inspector's, read in a worker (a streamed file's rows are
            # not read on the UI thread).
            samples.show_message("")
        elif dataset is not None:
            samples.show(dataset)
        elif self.app.dataset_error:
            samples.show_message(f"✗ {self.app.dataset_error}", style="red")
        else:
            samples.show_message(f"loading {self.app.experiment.dataset}…")
        self._update_status()

    def _dataset_info_changed(self, info: DatasetInfo | None) -> None:
        if info is not None and self.query_one(DataFileView).form:
            self.query_one(DatasetPicker).remember(info)
        self.query_one(LayerEditor).set_layers(self.app.experiment.layers, self.input_shape)
        self._show_task()
        self._schedule_preview()
        self._update_status()

    def _dataset_error_changed(self, message: str) -> None:
        self.query_one(DataFileView).set_load_error(message)
        if message:
            self.query_one(SampleImages).show_message(f"✗ {message}", style="red")
        self._update_status()

    def _keras_changed(self, _: object = None) -> None:
        self._schedule_preview()
        self._update_status()

    def _update_status(self, _: object = None) -> None:
        app = self.app
        experiment, info = app.experiment, app.dataset_info
        text = Text(no_wrap=True, overflow="ellipsis")
        # The header says when the summary is ready; the status line only mentions it while it matters.
        if app.keras_error:
            text.append("✗ no model summary: its previewer failed to load", style="bold red")
            text.append(" │ ")
        elif not app.keras_ready:
            text.append("⏳ preparing the summary…", style="bold")
            text.append(" │ ")
        if info is not None:
            task = TASKS[app.session.task_name()]
            outputs = info.outputs_for(task.name)
            text.append(f"{info.name} {shape_text(info.input_shape)} → {task.name}, {outputs} {task.output_word}")
        elif app.dataset_error:
            text.append(f"{experiment.dataset} ✗ not loaded", style="red")
        else:
            text.append(f"{experiment.dataset} (loading)")
        text.append(f" │ {len(experiment.layers)} layers")
        if self.last_preview is not None and self._shown_key == self._current_key():
            text.append(f", {self.last_preview.total_params:,} params")
        text.append(" │ ")
        problems = app.session.problems()  # with the data's shape, outputs and task
        refused = self.invalid_fields()
        if refused:
            text.append(f"✗ fix {refused[0]}", style="red")
        elif problems:
            text.append(f"✗ {problems[0]}", style="red")
        elif app.dataset_error:
            text.append("✗ the data does not load (see Data tab)", style="red")
        elif app.preview_error:
            text.append("✗ layers do not fit (see Model tab)", style="red")
        elif app.training_pending:
            text.append("training starts when loaded…", style="yellow")
        else:
            text.append("✓ ctrl+r trains", style="bold")
        self.query_one("#build-status", Static).update(text)

    # ---- widgets -> app state -----------------------------------------------------------------

    def on_dataset_picker_chosen(self, event: DatasetPicker.Chosen) -> None:
        info = event.info
        self.post_message(UseDataset(info))
        word = output_word(info.task)
        self.notify(f"{info.name}: {shape_text(info.input_shape)}, {info.num_classes} {word}, task {info.task}",
                    title="Dataset")

    def on_dataset_picker_file_chosen(self, event: DatasetPicker.FileChosen) -> None:
        path = event.path

        def use_file(experiment: Experiment) -> Experiment:
            if experiment.dataset == path:
                return experiment  # the same file again: loaded again if it failed and has changed
            # Another file: its own keys are picked in the form; its labels say the task again.
            return replace(experiment, dataset=path, task="", data=DataSettings())

        self.query_one(DataFileView).focus_form_next = True
        self.post_message(EditExperiment(use_file))
        self.notify(f"{path}: pick its arrays and settings below", title="Data file")

    def on_data_file_view_shown(self, event: DataFileView.Shown) -> None:
        samples = self.query_one(SampleImages)
        samples.display = not event.form
        if not event.form and self.app.dataset is not None:
            samples.show(self.app.dataset)

    def on_data_settings_form_edited(self, event: DataSettingsForm.Edited) -> None:
        change = event.change
        self.post_message(EditExperiment(lambda experiment: replace(experiment, data=change(experiment.data))))
        self.notify(f"{event.what}; loading the data again", title="Data", timeout=3)

    def on_task_picker_chosen(self, event: TaskPicker.Chosen) -> None:
        self.post_message(ChooseTask((event.task,)))

    def action_cycle_task(self) -> None:
        self.post_message(ChooseTask(next_tasks(self.app.session.task_name())))

    def on_layer_editor_edited(self, event: LayerEditor.Edited) -> None:
        layers = event.layers
        self.post_message(EditExperiment(lambda experiment: replace(experiment, layers=layers)))

    def on_hyperparameter_form_edited(self, event: HyperparameterForm.Edited) -> None:
        field, value = event.field, event.value
        if field == "compile.from_logits":
            # Raw scores need a linear last layer, probabilities the task's activation: it follows.
            facts = self.data_facts()
            outputs = facts.outputs

            def change(experiment: Experiment) -> Experiment:
                changed = with_setting(experiment, field, value)
                if outputs is None:
                    return changed
                return fit_to_task(changed, outputs, facts.task)

            self.post_message(EditExperiment(change))
            return
        self.post_message(EditExperiment(lambda experiment: with_setting(experiment, field, value)))

    @on(LayerEditor.FieldChecked)
    @on(HyperparameterForm.FieldChecked)
    @on(DataSettingsForm.FieldChecked)
    def _field_checked(self) -> None:
        # A field's text was refused or fixed: the status line says whether ctrl+r can train.
        self._update_status()

    def invalid_fields(self) -> list[str]:
        """Each field showing a refused value. The experiment still holds that field's last valid value,
        so training or saving now would silently use a value the user does not see."""
        return (self.query_one(LayerEditor).invalid_fields() + self.training_form.invalid_fields()
                + self.query_one(DataFileView).invalid_fields())

    def show_experiment(self, experiment: Experiment) -> None:
        """Show `experiment` in every field, replacing refused text (an experiment file was opened)."""
        self.training_form.set_experiment(experiment)
        self.query_one(LayerEditor).reload()
        self._update_status()

    # ---- actions ------------------------------------------------------------------------------

    def action_train(self) -> None:
        self.post_message(TrainExperiment())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in LETTER_ACTIONS:
            # m / c / p / T are letters a focused dropdown may take (type to search): they must not swap the layers.
            focused = self.focused
            if focused is not None and any(isinstance(node, Select) for node in focused.ancestors_with_self):
                return False
        return True

    def action_preset(self, name: str) -> None:
        self.post_message(ApplyPreset(name))

    def action_choose_preset(self) -> None:
        def chosen(name: str | None) -> None:
            if name:
                self.post_message(ApplyPreset(name))

        self.app.push_screen(PresetPicker(), chosen)

    def on_preset_applied(self, _: PresetApplied) -> None:
        self.action_show_tab("tab-model")

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self._focus_tab(tab)
        # Hiding the old pane can move the focus (to the tab bar) after this; take it back once.
        self.call_after_refresh(self._keep_focus_in, tab)

    def _keep_focus_in(self, tab: str) -> None:
        focused = self.focused
        if focused is None or self.query_one(f"#{tab}", TabPane) not in focused.ancestors_with_self:
            self._focus_tab(tab)

    def _focus_tab(self, tab: str) -> None:
        if tab == "tab-data":
            self.query_one(DatasetTable).focus()
        elif tab == "tab-model":
            self.query_one(LayerTable).focus()
        else:
            fields = list(self.training_form.fields.values())
            if fields:
                fields[0].focus()

    # ---- live model summary -------------------------------------------------------------------

    def _current_key(self) -> tuple | None:
        info = self.app.dataset_info
        if info is None:
            return None
        task = self.app.session.task_name()
        return (self.app.experiment.layers, tuple(info.input_shape), info.outputs_for(task), task)

    def _schedule_preview(self) -> None:
        summary = self.query_one(ModelSummary)
        app = self.app
        if app.preview_error:
            self.post_message(PreviewVerdict(""))  # stale until Keras has looked at the new layers
        if app.keras_error:
            summary.show_error(f"No model summary: {app.keras_error}")
            return
        if not app.keras_ready:
            summary.show_waiting("preparing the summary…")
            return
        key = self._current_key()
        if key is None:
            summary.show_waiting("waiting for the dataset…")
            return
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY, self._start_preview)

    def _start_preview(self) -> None:
        key = self._current_key()
        if key is None:
            return
        if key == self._shown_key and self._last_result is not None:
            self._show_preview_result(self._last_result)
            return
        self._preview(key)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def _preview(self, key: tuple) -> tuple[tuple, PreviewResult]:
        layers, input_shape, outputs, task = key
        return key, self.app.previewer.preview(layers, input_shape, outputs, TASKS[task])

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "preview":
            return
        if worker.state == WorkerState.SUCCESS and worker.result is not None:
            key, result = worker.result
            self._last_result = result
            self._shown_key = key
            if key == self._current_key():
                self._show_preview_result(result)
        elif worker.state == WorkerState.ERROR:
            self.query_one(ModelSummary).show_error(str(worker.error))

    def _show_preview_result(self, result: PreviewResult) -> None:
        summary = self.query_one(ModelSummary)
        editor = self.query_one(LayerEditor)
        if result.preview is None:
            summary.show_error(result.problem or "unknown error")
            editor.set_keras_problem(result.layer_index, result.problem)
        else:
            summary.show_preview(result.preview, result.problem)
            editor.set_keras_problem(None, None)
        self.last_preview = result.preview
        self.post_message(PreviewVerdict(result.problem or ""))
        self._update_status()
