"""The task on the build screen, by keys: the data tab shows the inferred task and changes it; the
training tab offers the task's losses (with the options each reads), monitors and class weights."""

from __future__ import annotations

from dataclasses import replace

from fakes import error_at, type_into, wait_until
from textual.widgets import Checkbox, Select, Static

from kerastui.tui.screens.build import PresetPicker
from kerastui.tui.widgets.dataset_picker import DatasetPicker, DatasetTable
from kerastui.tui.widgets.hyperparameters import SETTING_BY_FIELD, DataFacts, HyperparameterForm, setting_problem
from kerastui.tui.widgets.task_picker import TaskPicker


async def ready(app, pilot, listed: bool = False) -> None:
    await wait_until(pilot, lambda: app.keras_ready and app.dataset is not None, what="keras and dataset")
    if listed:
        await wait_until(pilot, lambda: len(app.screen.query_one(DatasetPicker).infos) >= 4, what="dataset list")


async def choose_dataset_by_keys(app, pilot, name: str) -> None:
    picker = app.screen.query_one(DatasetPicker)
    await pilot.press("f2")
    assert app.focused is app.screen.query_one(DatasetTable)
    await pilot.press("ctrl+home")
    for _ in range([info.name for info in picker.infos].index(name)):
        await pilot.press("down")
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.dataset is not None and app.dataset.name == name, what=f"{name} loaded")
    await pilot.pause(0.05)


def shown(form, name: str) -> bool:
    return bool(form.rows[name].display)


def choices(form, name: str) -> tuple[str, ...]:
    return form.fields[name].choices


async def test_breast_cancer_is_binary_with_one_sigmoid_unit_and_a_binary_loss(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, listed=True)
        await choose_dataset_by_keys(app, pilot, "breast_cancer")
        picker = app.screen.query_one(TaskPicker)
        await wait_until(pilot, lambda: "binary" in picker.line, what="the task line")
        assert picker.line.startswith("Task: binary (inferred from the labels) — scored by ROC AUC")
        last = app.experiment.layers[-1]
        assert (last.type, last.param("units"), last.param("activation")) == ("Dense", 1, "sigmoid")
        assert app.experiment.compile.loss == "binary_crossentropy"
        form = app.screen.query_one(HyperparameterForm)
        assert choices(form, "compile.loss") == ("binary_crossentropy", "binary_focal_crossentropy")
        assert "val_auc" in choices(form, "fit.monitor")
        assert "breast_cancer 30 → binary, 2 classes" in str(app.screen.query_one("#build-status", Static).render())

        # The focal loss reads gamma and alpha (and from_logits): they appear with it and go with it.
        await pilot.press("f4")
        assert shown(form, "compile.from_logits") and not shown(form, "compile.focal_gamma")
        form.fields["compile.loss"].value = "binary_focal_crossentropy"
        await pilot.pause()
        assert app.experiment.compile.loss == "binary_focal_crossentropy"
        assert shown(form, "compile.focal_gamma") and shown(form, "compile.focal_alpha")
        assert not shown(form, "compile.huber_delta")
        await type_into(pilot, form.fields["compile.focal_alpha"], "1.5")
        assert "at most 1" in error_at(form, "compile.focal_alpha")
        await type_into(pilot, form.fields["compile.focal_alpha"], "0.4")
        assert app.experiment.compile.focal_alpha == 0.4 and error_at(form, "compile.focal_alpha") == ""

        # from_logits on: the last layer gives raw scores (linear); off: sigmoid again.
        checkbox = form.fields["compile.from_logits"]
        assert isinstance(checkbox, Checkbox)
        checkbox.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.experiment.compile.from_logits, what="from_logits on")
        assert app.experiment.layers[-1].param("activation") == "linear"
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.experiment.compile.from_logits, what="from_logits off")
        assert app.experiment.layers[-1].param("activation") == "sigmoid"

        # Class weights for the rare positives: two weights, or balanced; not three, not words.
        weights = form.fields["fit.class_weight"]
        await type_into(pilot, weights, "1, 20")
        assert app.experiment.fit.class_weight == (1.0, 20.0) and error_at(form, "fit.class_weight") == ""
        await type_into(pilot, weights, "1, 20, 3")
        assert "2 classes" in error_at(form, "fit.class_weight")
        assert app.experiment.fit.class_weight == (1.0, 20.0)


async def test_t_cycles_to_the_next_task_the_data_can_be_and_the_choices_follow(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        picker = app.screen.query_one(TaskPicker)
        form = app.screen.query_one(HyperparameterForm)
        assert picker.line.startswith("Task: multiclass (inferred from the labels)")
        assert choices(form, "compile.loss") == ("sparse_categorical_crossentropy", "categorical_crossentropy")

        # Digits have 10 classes: binary and multi-label do not fit, so T goes on to regression.
        await pilot.press("T")
        await wait_until(pilot, lambda: app.experiment.task == "regression", what="regression")
        last = app.experiment.layers[-1]
        assert (last.param("units"), last.param("activation")) == (1, "linear")
        assert app.experiment.compile.loss == "mse"
        assert "regression (chosen; the labels suggest multiclass)" in picker.line
        assert choices(form, "compile.loss") == ("mse", "mae", "huber")
        assert "val_mae" in choices(form, "fit.monitor") and "val_auc" not in choices(form, "fit.monitor")
        assert not shown(form, "fit.class_weight")  # a regression has no classes to weigh
        assert any("skipped" in n.message and "binary" in n.message for n in app._notifications)
        assert app.screen.query_one("#task-select", Select).value == "regression"

        # huber reads its delta; mse does not.
        assert not shown(form, "compile.huber_delta")
        form.fields["compile.loss"].value = "huber"
        await pilot.pause()
        assert app.experiment.compile.loss == "huber" and shown(form, "compile.huber_delta")
        await type_into(pilot, form.fields["compile.huber_delta"], "0")
        assert "greater than 0" in error_at(form, "compile.huber_delta")
        await type_into(pilot, form.fields["compile.huber_delta"], "2")
        assert app.experiment.compile.huber_delta == 2.0
        form.fields["compile.loss"].value = "mse"
        await pilot.pause()
        assert not shown(form, "compile.huber_delta")

        await pilot.press("f2", "T")  # wraps round to multiclass
        await wait_until(pilot, lambda: app.experiment.task == "multiclass", what="multiclass again")
        last = app.experiment.layers[-1]
        assert (last.param("units"), last.param("activation")) == (10, "softmax")
        assert app.experiment.compile.loss == "sparse_categorical_crossentropy"
        assert choices(form, "compile.loss") == ("sparse_categorical_crossentropy", "categorical_crossentropy")
        assert shown(form, "fit.class_weight")


async def test_a_task_the_data_cannot_be_is_refused_with_the_reason(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        before = app.experiment
        select = app.screen.query_one("#task-select", Select)
        select.value = "binary"
        await wait_until(pilot, lambda: any(n.title == "Task not changed" for n in app._notifications), what="refusal")
        refusal = next(n for n in app._notifications if n.title == "Task not changed")
        assert "binary labels must be 0 or 1" in refusal.message
        assert app.experiment == before
        await pilot.pause()
        assert select.value == ""  # the dropdown shows the task kept
        select.value = "regression"
        await wait_until(pilot, lambda: app.experiment.task == "regression", what="regression from the dropdown")


async def test_class_weights_are_checked_at_the_field(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        await pilot.press("f4")
        form = app.screen.query_one(HyperparameterForm)
        weights = form.fields["fit.class_weight"]
        await type_into(pilot, weights, "balanced")
        assert error_at(form, "fit.class_weight") == "" and app.experiment.fit.class_weight == "balanced"
        await type_into(pilot, weights, "abc")
        assert "balanced" in error_at(form, "fit.class_weight") and "one weight per class" in error_at(form, "fit.class_weight")
        assert app.experiment.fit.class_weight == ""  # the last valid text: the emptied field, on the way
        assert any("class weight" in refused for refused in app.screen.invalid_fields())
        await type_into(pilot, weights, "1, 20")  # digits have 10 classes
        assert "10 classes" in error_at(form, "fit.class_weight")
        await type_into(pilot, weights, "")
        assert error_at(form, "fit.class_weight") == "" and app.experiment.fit.class_weight == ""


def test_a_monitor_is_checked_with_the_data_task_known(make_app):
    """val_auc is a binary task's; the form checks with the data's task, not all tasks' monitors."""
    from kerastui.core.spec import Experiment

    monitor = SETTING_BY_FIELD["fit.monitor"]
    experiment = Experiment()
    accepted, problem = setting_problem(replace(experiment, compile=replace(experiment.compile, loss="binary_crossentropy")),
                                        monitor, "val_auc", DataFacts("binary", 2))
    assert problem is None and accepted is not None and accepted.fit.monitor == "val_auc"
    regression = replace(experiment, task="regression", compile=replace(experiment.compile, loss="mse"))
    refused, problem = setting_problem(regression, monitor, "val_auc", DataFacts("regression", 1))
    assert refused is None and "regression" in problem and "val_mae" in problem


async def test_p_lists_every_preset_and_enter_applies_one(make_app):
    from kerastui.core.presets import PRESETS

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PresetPicker), what="the preset list")
        options = app.screen.query_one("#preset-list")
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == list(PRESETS)
        await pilot.press("down", "enter")  # the second: cnn
        await wait_until(pilot, lambda: app.experiment.name == "cnn", what="cnn applied")
        assert app.experiment.layers[0].type == "Conv2D"
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PresetPicker), what="the list again")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, PresetPicker), what="closed")
        assert app.experiment.name == "cnn"


def test_palette_has_every_preset_and_task():
    from kerastui.core.presets import PRESETS
    from kerastui.core.tasks import TASK_NAMES
    from kerastui.tui.app import PALETTE

    actions = {action for _, _, action in PALETTE}
    assert {f"preset('{name}')" for name in PRESETS} <= actions
    assert {f"choose_task('{name}')" for name in TASK_NAMES} <= actions
    assert "choose_preset" in actions
