"""The build screen by keys: datasets, presets, layer editing, hyperparameters, Keras summary."""

from __future__ import annotations

import io

import numpy as np
from fakes import error_at, type_into, wait_until
from rich.console import Console
from textual.widgets import Input, Select, Static, TabbedContent

from kerastui.core import spec
from kerastui.core.preview import RegistryPreviewer
from kerastui.core.spec import LayerSpec
from kerastui.tui.screens.path_dialog import PathDialog
from kerastui.tui.widgets.dataset_picker import DatasetPicker, DatasetTable
from kerastui.tui.widgets.hyperparameters import HyperparameterForm
from kerastui.tui.widgets.layer_editor import LayerEditor, LayerForm, LayerTable, ParamInput
from kerastui.tui.widgets.model_summary import ModelSummary
from kerastui.tui.widgets.sample_images import SampleImages, feature_table


async def ready(app, pilot, listed: bool = True) -> None:
    await wait_until(pilot, lambda: app.keras_ready and app.dataset is not None, what="keras and dataset")
    if listed:
        await wait_until(pilot, lambda: len(app.screen.query_one(DatasetPicker).infos) >= 7, what="dataset list")


async def choose_dataset_by_keys(app, pilot, name: str) -> None:
    picker = app.screen.query_one(DatasetPicker)
    await pilot.press("f2")
    assert app.focused is app.screen.query_one(DatasetTable)
    await pilot.press("ctrl+home")
    for _ in range([info.name for info in picker.infos].index(name)):
        await pilot.press("down")
    await pilot.press("enter")


async def test_dataset_list_shows_shapes_sizes_sources_and_availability(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        picker = app.screen.query_one(DatasetPicker)
        table = app.screen.query_one(DatasetTable)
        names = [info.name for info in picker.infos]
        assert names[:4] == ["digits", "iris", "wine", "breast_cancer"]
        digits_row = [str(cell) for cell in table.get_row("digits")]
        assert digits_row[:4] == ["● digits", "image 8x8x1", "10 classes", "1,437/360"]
        assert "embedded" in digits_row[4]
        assert [str(cell) for cell in table.get_row("diabetes")][2] == "regression"
        assert [str(cell) for cell in table.get_row("linnerud")][2] == "3 targets"
        assert [str(cell) for cell in table.get_row("breast_cancer")][2] == "binary"
        # The Keras sets are not cached in the test's KERAS_HOME: marked with the reason.
        mnist_row = [str(cell) for cell in table.get_row("mnist")]
        assert mnist_row[3] == "60k/10k"
        assert mnist_row[4].startswith("✗") and "not cached" in mnist_row[4]


async def test_unavailable_reason_is_readable_at_80_columns(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        table = app.screen.query_one(DatasetTable)
        row = [info.name for info in app.screen.query_one(DatasetPicker).infos].index("mnist")
        shown = "".join(segment.text for segment in table.render_line(row + 1))  # + 1: header
        assert "✗ not cached" in shown  # the reason's words are on screen, not cut after "mnist is no"
        await pilot.press("ctrl+home", *["down"] * row)
        detail = str(app.screen.query_one("#dataset-detail", Static).render())
        assert "mnist.npz" in detail  # where to put the file: in full below the table


async def test_choosing_iris_by_keys_adapts_the_mlp_and_the_summary(make_app):
    app = make_app(previewer=RegistryPreviewer())
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        await choose_dataset_by_keys(app, pilot, "iris")
        assert app.experiment.dataset == "iris"
        await wait_until(pilot, lambda: app.dataset is not None and app.dataset.name == "iris", what="iris loaded")
        last_dense = [layer for layer in app.experiment.layers if layer.type == "Dense"][-1]
        assert last_dense.param("units") == 3

        summary = app.screen.query_one(ModelSummary)
        await wait_until(pilot, lambda: summary.state == "preview" and summary.preview.input_shape == (4,), timeout=60, what="summary")
        preview = summary.preview
        assert preview.layers[-1].output_shape == (None, 3)
        # Flatten(4) -> Dense 128 -> Dense 64 -> Dense 3, computed by Keras.
        assert preview.total_params == (4 * 128 + 128) + (128 * 64 + 64) + (64 * 3 + 3)
        assert f"{preview.total_params:,}" in summary.text

        # Tabular data: a feature table instead of images.
        samples = app.screen.query_one(SampleImages)
        await wait_until(pilot, lambda: bool(samples.query(".sample-table")), what="feature table")
        assert not samples.query(".sample-image")
        console = Console(width=120, file=io.StringIO())
        with console.capture() as capture:
            console.print(feature_table(app.dataset))
        table_text = capture.get()
        assert "sepal length (cm)" in table_text and "label" in table_text  # iris's own column names
        assert any(name in table_text for name in ("setosa", "versicolor", "virginica"))


async def test_unavailable_dataset_is_refused_with_its_reason(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        before = app.experiment
        await choose_dataset_by_keys(app, pilot, "mnist")
        await pilot.pause(0.1)
        assert app.experiment == before
        detail = str(app.screen.query_one("#dataset-detail", Static).render())
        assert "not available" in detail and "mnist.npz" in detail
        assert any("not cached" in n.message for n in app._notifications)


async def test_a_data_file_path_is_checked_at_the_field(make_app, tmp_path):
    good = tmp_path / "tiny.npz"
    rng = np.random.default_rng(0)
    np.savez(good, x_train=rng.random((20, 5)).astype("float32"), y_train=np.arange(20) % 2,
             x_test=rng.random((6, 5)).astype("float32"), y_test=np.arange(6) % 2)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        field = app.screen.query_one("#dataset-path", Input)
        await type_into(pilot, field, str(tmp_path / "nope.npz"))
        await pilot.press("enter")
        error = app.screen.query_one("#dataset-path-error", Static)
        await wait_until(pilot, lambda: "nope.npz" in str(error.render()), what="path error")
        assert field.has_class("-invalid")
        assert app.experiment.dataset == "digits"

        await type_into(pilot, field, str(good))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.experiment.dataset == str(good), what="file dataset chosen")
        assert not field.has_class("-invalid")
        assert app.dataset_info.input_shape == (5,) and app.dataset_info.num_classes == 2
        assert app.dataset_info.task == "binary" and app.experiment.layers[-1].param("units") == 1  # inferred: binary


async def test_cnn_preset_on_tabular_data_explains_and_keeps_the_layers(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        await choose_dataset_by_keys(app, pilot, "iris")
        await wait_until(pilot, lambda: app.dataset_info.name == "iris", what="iris")
        layers = app.experiment.layers
        await pilot.press("c")
        assert app.experiment.layers == layers
        assert any("needs image data" in n.message for n in app._notifications)
        await pilot.press("f2", "ctrl+home", "enter")  # back to digits
        await wait_until(pilot, lambda: app.dataset_info.name == "digits", what="digits")
        await pilot.press("c")
        assert app.experiment.name == "cnn" and app.experiment.layers[0].type == "Conv2D"
        assert app.screen.query_one(TabbedContent).active == "tab-model"
        await pilot.press("m")
        assert app.experiment.name == "mlp" and app.experiment.layers[0].type == "Flatten"


async def test_layer_editor_add_delete_move_by_keys(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, listed=False)
        await pilot.press("f3")
        assert isinstance(app.focused, LayerTable)
        original = app.experiment.layers  # Flatten, Dense 128, Dense 64, Dense 10
        await pilot.press("down", "a")  # after Dense 128
        layers = app.experiment.layers
        assert len(layers) == 5 and layers[2] == LayerSpec("Dense", {"units": 64, "activation": "relu"})
        await pilot.press("d")
        assert app.experiment.layers == original
        await pilot.press("ctrl+home", "down", "J")  # Dense 128 moves below Dense 64
        assert [layer.describe() for layer in app.experiment.layers] == ["Flatten", "Dense 64 relu", "Dense 128 relu", "Dense 10 softmax"]
        assert app.screen.query_one(LayerTable).cursor_row == 2
        await pilot.press("K")
        assert app.experiment.layers == original
        await pilot.press("shift+down")
        await pilot.press("shift+up")
        assert app.experiment.layers == original
        table = app.screen.query_one(LayerTable)
        assert [str(table.get_row_at(i)[1]) for i in range(table.row_count)] == [layer.describe() for layer in original]


async def test_bad_layer_values_are_flagged_at_the_field_and_never_applied(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, listed=False)
        await pilot.press("f3", "ctrl+home", "down", "enter")  # edit Dense 128
        form = app.screen.query_one(LayerForm)
        assert form.key[0] == 1 and form.key[1] == "Dense"
        assert isinstance(app.focused, Select)  # the type field comes first
        before = app.experiment
        units = form.inputs["units"]
        assert isinstance(units, ParamInput) and units.value == "128"

        await type_into(pilot, units, "abc")
        assert error_at(form, "units") == "✗ must be a whole number"
        assert units.has_class("-invalid")
        assert app.experiment == before
        await type_into(pilot, units, "0")
        assert error_at(form, "units") == "✗ must be at least 1"
        assert app.experiment == before
        assert app.experiment.problems() == []

        await type_into(pilot, units, "32")
        assert error_at(form, "units") == ""
        assert app.experiment.layers[1] == LayerSpec("Dense", {"units": 32, "activation": "relu"})
        assert str(app.screen.query_one(LayerTable).get_row_at(1)[1]) == "Dense 32 relu"

        # Escape returns to the list; the type can be changed with the Select.
        await pilot.press("escape")
        assert isinstance(app.focused, LayerTable)
        app.screen.query_one(LayerEditor).set_type(1, "Dropout")
        await pilot.pause(0.1)
        assert app.experiment.layers[1] == LayerSpec("Dropout", {})
        form = app.screen.query_one(LayerForm)
        rate = form.inputs["rate"]
        await type_into(pilot, rate, "1.5")
        assert error_at(form, "rate") == "✗ must be less than 1"
        assert app.experiment.layers[1] == LayerSpec("Dropout", {})
        await type_into(pilot, rate, "0.25")
        assert app.experiment.layers[1] == LayerSpec("Dropout", {"rate": 0.25})


async def test_a_kernel_larger_than_its_input_is_explained(make_app):
    app = make_app(previewer=RegistryPreviewer())
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, listed=False)
        await pilot.press("c")  # cnn on digits (8x8): 'same' padding
        summary = app.screen.query_one(ModelSummary)
        await wait_until(pilot, lambda: summary.state == "preview" and summary.preview.layers[0].description.startswith("Conv2D"), timeout=60, what="cnn summary")
        await pilot.press("ctrl+home", "enter")
        form = app.screen.query_one(LayerForm)
        await type_into(pilot, form.inputs["kernel_size"], "9")
        assert app.experiment.layers[0].param("kernel_size") == 9
        # A 9x9 kernel with 'same' padding fits 8x8; with 'valid' padding it does not.
        padding = form.inputs["padding"]
        assert isinstance(padding, Select)
        padding.value = "valid"
        await wait_until(pilot, lambda: summary.state == "error", timeout=60, what="build error")
        assert "layer 0" in summary.text and "8x8" in summary.text
        assert app.preview_error
        assert "larger than its input" in error_at(form, "kernel_size")
        # Training is refused while the layers do not fit.
        await pilot.press("escape", "ctrl+r")
        assert app.current_mode == "build"
        await pilot.press("m")  # the cnn was edited by hand: the preset asks first
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", what="replace question")
        await pilot.press("y")
        await wait_until(pilot, lambda: summary.state == "preview", timeout=60, what="mlp summary")
        assert not app.preview_error


async def test_hyperparameters_are_validated_at_the_field(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, listed=False)
        await pilot.press("f4")
        form = app.screen.query_one(HyperparameterForm)
        assert app.focused is form.fields["name"]
        before = app.experiment

        batch = form.fields["fit.batch_size"]
        await type_into(pilot, batch, "abc")
        assert error_at(form, "fit.batch_size") == "✗ must be a whole number"
        await type_into(pilot, batch, "0")
        assert error_at(form, "fit.batch_size") == "✗ must be at least 1"
        split = form.fields["fit.validation_split"]
        await type_into(pilot, split, "1.5")
        assert "less than 1" in error_at(form, "fit.validation_split")
        rate = form.fields["compile.learning_rate"]
        await type_into(pilot, rate, "-1")
        assert "greater than 0" in error_at(form, "compile.learning_rate")
        assert app.experiment == before

        await type_into(pilot, batch, "64")
        await type_into(pilot, form.fields["fit.epochs"], "3")
        await type_into(pilot, form.fields["fit.early_stopping_patience"], "2")
        await type_into(pilot, rate, "0.01")
        assert error_at(form, "fit.batch_size") == "" and error_at(form, "compile.learning_rate") == ""
        form.fields["compile.optimizer"].value = "sgd"
        await pilot.pause()
        fit, compile_ = app.experiment.fit, app.experiment.compile
        assert (fit.batch_size, fit.epochs, fit.early_stopping_patience) == (64, 3, 2)
        assert (compile_.learning_rate, compile_.optimizer) == (0.01, "sgd")
        assert fit.validation_split == before.fit.validation_split


async def test_refused_field_values_block_training_and_saving_until_fixed(make_app, fake_run, tmp_path):
    """A field showing a refused value must not be trained or saved with its hidden last valid value."""
    saved = tmp_path / "same.toml"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, listed=False)
        status = app.screen.query_one("#build-status", Static)
        await pilot.press("f3", "ctrl+home", "down", "enter", "tab", "end", "ctrl+u", "0")  # Dense 128 -> units 0
        assert app.experiment.layers[1].param("units") == 128
        assert "✗ fix layer 1 units" in str(status.render())
        await pilot.press("ctrl+r")
        await pilot.pause(0.1)
        assert app.current_mode == "build" and fake_run.calls == []
        assert any('units "0": must be at least 1' in n.message for n in app._notifications)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, PathDialog)

        await pilot.press("backspace", "6", "4")  # fixed: accepted, and the status says so
        assert app.experiment.layers[1].param("units") == 64
        assert "✓ ctrl+r trains" in str(status.render())
        spec.save(app.experiment, saved)

        form = app.screen.query_one(HyperparameterForm)
        await type_into(pilot, form.fields["fit.epochs"], "-1")
        assert "✗ fix epochs" in str(status.render())
        # Opening a file that equals the experiment still replaces the refused text with its values.
        await pilot.press("ctrl+o")
        await type_into(pilot, app.screen.query_one("#path-input", Input), str(saved))
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, PathDialog), what="the file opened")
        assert form.fields["fit.epochs"].value == "10" and not form.fields["fit.epochs"].has_class("-invalid")
        assert app.screen.invalid_fields() == []
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(fake_run.calls) == 1, what="training started")
        assert fake_run.calls[0]["experiment"] == spec.load(saved)


async def test_layer_list_shows_a_flag_and_the_full_description_after_an_edit(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, listed=False)
        await pilot.press("f3", "ctrl+home", "down", "enter")  # Dense 128
        form = app.screen.query_one(LayerForm)
        await type_into(pilot, form.inputs["units"], "1000000")
        table = app.screen.query_one(LayerTable)

        # The row is updated in place; what the user sees is the rendered line, not the cell value.
        def shown(row: int) -> str:
            return "".join(segment.text for segment in table.render_line(row + 1))  # + 1: header

        await pilot.pause()
        assert "Dense 1000000 relu" in shown(1)
        await pilot.press("escape", "c")  # the edited mlp: the preset asks first
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", what="replace question")
        await pilot.press("y")
        await wait_until(pilot, lambda: app.experiment.name == "cnn", what="cnn preset")
        await pilot.press("ctrl+home", "enter")  # cnn: Conv2D 32 3x3 same on 8x8
        form = app.screen.query_one(LayerForm)
        await type_into(pilot, form.inputs["kernel_size"], "9")
        form.inputs["padding"].value = "valid"  # 9x9 on 8x8 without padding: does not fit
        await pilot.pause(0.1)
        assert app.screen.query_one(LayerEditor).layer_problems(0)
        assert "✗" in shown(0)


async def test_sample_images_are_whole_at_80_columns(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, listed=False)
        samples = app.screen.query_one(SampleImages)
        await wait_until(pilot, lambda: bool(samples.query(".sample-image")), what="sample images")
        await pilot.press("tab", "tab", "pagedown")  # past the path field to the scrolling pane
        await pilot.pause(0.1)
        shown = [view for view in samples.query(".sample-image") if view.display]
        assert len(shown) >= 4
        assert all(view.region.right <= samples.content_region.right for view in shown)
        await pilot.resize_terminal(120, 40)
        await pilot.pause(0.1)
        assert sum(1 for view in samples.query(".sample-image") if view.display) == 6


async def test_an_output_layer_that_cannot_classify_the_dataset_blocks_training(make_app, fake_run):
    """Dense 5 softmax as the last layer cannot classify digits' 10 classes: said before training."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, listed=False)
        status = app.screen.query_one("#build-status", Static)
        await pilot.press("f3", "ctrl+home", "down", "down", "down", "enter", "tab", "end", "ctrl+u", "5")
        assert app.experiment.layers[-1].param("units") == 5
        assert "10" in str(status.render()) and "✗" in str(status.render())
        await pilot.press("ctrl+r")
        await pilot.pause(0.1)
        assert app.current_mode == "build" and fake_run.calls == []
        assert any("10" in n.message and "layers[3]" in n.message for n in app._notifications)


async def test_a_preset_asks_before_replacing_hand_edited_layers(make_app):
    from kerastui.tui.screens.confirm import ConfirmScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, listed=False)
        await pilot.press("f3", "ctrl+home", "down", "a")  # a fifth layer: no longer the MLP preset
        edited = app.experiment.layers
        assert len(edited) == 5
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert "Replace your 5 layers with the CNN preset?" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="question closed")
        assert app.experiment.layers == edited and app.experiment.name == "mlp"
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question again")
        await pilot.press("y")
        await wait_until(pilot, lambda: app.experiment.name == "cnn", what="cnn preset")
        assert app.experiment.layers[0].type == "Conv2D"
        assert app.screen.query_one(TabbedContent).active == "tab-model"
        await pilot.press("m")  # the cnn as made: switches at once
        assert app.experiment.name == "mlp" and not isinstance(app.screen, ConfirmScreen)


async def test_palette_preset_shows_the_model_tab_like_the_keys(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, listed=False)
        assert app.screen.query_one(TabbedContent).active == "tab-data"
        await pilot.press("ctrl+p")
        await pilot.pause(0.1)
        await pilot.press(*"CNN preset")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.experiment.name == "cnn", what="cnn preset")
        await wait_until(pilot, lambda: app.screen.query_one(TabbedContent).active == "tab-model", what="model tab")


async def test_c_in_a_training_dropdown_does_not_apply_the_cnn_preset(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, listed=False)
        await pilot.press("f4")
        form = app.screen.query_one(HyperparameterForm)
        dropdown = next(field for field in form.fields.values() if isinstance(field, Select))
        dropdown.focus()
        await pilot.pause(0.05)
        layers = app.experiment.layers
        await pilot.press("c")
        await pilot.pause(0.1)
        assert app.experiment.name == "mlp" and app.experiment.layers == layers
        assert app.screen.query_one(TabbedContent).active == "tab-training"
        await pilot.press("enter", "c")  # the dropdown open
        await pilot.pause(0.1)
        assert app.experiment.name == "mlp" and app.experiment.layers == layers


async def test_changing_the_seed_reloads_the_data_split_as_headless_training_would(make_app):
    """A run started here must be evaluated later (kerastui evaluate, the runs screen) on the same test set."""
    from kerastui.core.data import experiment_dataset

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, listed=False)
        assert app.dataset.seed == app.experiment.seed
        form = app.screen.query_one(HyperparameterForm)
        await pilot.press("f4")
        await type_into(pilot, form.fields["seed"], "7")
        assert app.experiment.seed == 7
        await wait_until(pilot, lambda: app.dataset is not None and app.dataset.seed == 7, what="data split with seed 7")
        np.testing.assert_array_equal(app.dataset.x_test, experiment_dataset(app.experiment).x_test)


async def test_edits_in_quick_succession_are_all_kept(make_app):
    # A setting and the layers changed within one tick: each edit applies to the experiment as
    # the one before left it, none to a copy read before it arrived.
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        layers = (*app.experiment.layers[:-1], LayerSpec("Dropout", {"rate": 0.25}), app.experiment.layers[-1])
        app.screen.query_one(HyperparameterForm).post_message(HyperparameterForm.Edited("fit.epochs", 7))
        app.screen.query_one(LayerEditor).post_message(LayerEditor.Edited(layers))
        app.screen.query_one(HyperparameterForm).post_message(HyperparameterForm.Edited("compile.learning_rate", 0.01))
        await wait_until(pilot, lambda: app.experiment.layers == layers, what="the layer edit")
        await pilot.pause(0.1)
        assert app.experiment.fit.epochs == 7 and app.experiment.compile.learning_rate == 0.01
        assert app.session.experiment == app.experiment
