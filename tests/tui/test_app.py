"""The app shell: instant start while Keras loads, modes, help, quit, too-small terminal, files."""

from __future__ import annotations

import threading
from dataclasses import replace

from fakes import FakeLauncher, FakeRunExperiment, FakePreviewer, type_into, wait_until
from textual.widgets import Input, Static, TabbedContent

from kerastui.core import spec
from kerastui.tui.app import KerasTUI
from kerastui.tui.intents import EditExperiment
from kerastui.tui.screens.build import BuildScreen
from kerastui.tui.screens.confirm import QuitWhileTrainingScreen
from kerastui.tui.screens.help import HelpScreen
from kerastui.tui.screens.path_dialog import PathDialog
from kerastui.tui.screens.too_small import TooSmallScreen
from kerastui.tui.widgets.image_view import UPPER_HALF_BLOCK, ImageView
from kerastui.tui.widgets.layer_editor import LayerEditor
from kerastui.tui.widgets.model_summary import ModelSummary


def status_text(app: KerasTUI) -> str:
    return str(app.screen.query_one("#build-status", Static).render())


async def test_starts_on_the_build_screen_with_the_digits_mlp(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, BuildScreen)
        await wait_until(pilot, lambda: app.keras_ready and app.dataset is not None, what="warm-up")
        assert app.experiment.dataset == "digits"
        assert app.dataset.name == "digits" and app.dataset_info.input_shape == (8, 8, 1)
        assert app.sub_title == "ready (runs train with Keras on fake)"
        assert "loading TensorFlow" not in status_text(app)
        assert "digits 8x8x1 → multiclass, 10 classes" in status_text(app)


async def test_app_answers_keys_and_trains_while_keras_is_still_importing(make_app, fake_launcher):
    release = threading.Event()
    loader_called = threading.Event()

    class SlowKeras(FakePreviewer):
        def load(self) -> str:
            loader_called.set()
            release.wait(30)
            return super().load()

    app = make_app(previewer=SlowKeras())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, loader_called.is_set, what="the Keras import to start")
        assert not app.keras_ready
        assert "preparing the model summary" in app.sub_title
        assert "preparing the summary" in status_text(app)

        # The UI responds: tabs switch, layers are added, the summary says what it waits for.
        await pilot.press("f3")
        assert app.screen.query_one(TabbedContent).active == "tab-model"
        layers_before = len(app.experiment.layers)
        await pilot.press("a")
        assert len(app.experiment.layers) == layers_before + 1
        await pilot.press("d")
        assert len(app.experiment.layers) == layers_before
        summary = app.screen.query_one(ModelSummary)
        assert summary.state == "waiting" and "preparing the summary" in summary.text

        # Training does not wait for the app's Keras: the run is a process of its own.
        await wait_until(pilot, lambda: app.dataset is not None, what="dataset")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(fake_launcher.launched) == 1, what="the run to be launched")
        assert not app.keras_ready
        assert app.current_mode == "train"
        run_dir = fake_launcher.launched[0]
        from kerastui.core import spec

        assert spec.load(run_dir / "config.toml") == app.experiment
        release.set()
        await wait_until(pilot, lambda: app.keras_ready, what="keras")


async def test_keras_import_failure_is_shown_not_fatal(make_app, fake_launcher):
    class Broken(FakePreviewer):
        def load(self) -> str:
            raise ImportError("No module named 'tensorflow'")

    app = make_app(previewer=Broken())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: bool(app.keras_error), what="keras error")
        assert "tensorflow" in app.keras_error
        assert "previewer failed to load" in status_text(app)
        assert app.is_running


async def test_start_training_refuses_an_invalid_experiment(make_app, fake_run):
    bad = replace(spec.Experiment(dataset="digits"), layers=())
    app = make_app(experiment=bad)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.keras_ready and app.dataset is not None, what="warm-up")
        await pilot.press("ctrl+r")
        await pilot.pause(0.2)
        assert app.current_mode == "build" and not fake_run.calls
        assert any("needs at least one layer" in n.message for n in app._notifications)


async def test_too_small_terminal_is_explained_and_goes_away(make_app):
    app = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TooSmallScreen)
        message = str(app.screen.query_one("#too-small-message", Static).render())
        assert "terminal too small: need at least 80x24, have 60x20" in message
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.1)
        assert isinstance(app.screen, BuildScreen)


async def test_no_too_small_message_at_80x24(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.dataset is not None, what="dataset")
        assert isinstance(app.screen, BuildScreen)
        assert not app.query(TooSmallScreen)
        # The essentials are on screen at the minimum size.
        assert app.screen.query_one("#build-status").region.bottom <= 24
        assert app.screen.query_one("#dataset-table").region.height > 3


async def test_help_lists_the_keys_of_every_screen(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.plain_text()
        for expected in ("Build screen", "Train screen", "Evaluate screen", "Add layer", "Delete layer",
                         "Move up", "MLP preset", "Train", "Stop", "Save", "Open", "Quit", "Command palette",
                         "Filter by cell", "Move between cells", "Evaluate: confusion matrix"):
            assert expected in text, expected
        await pilot.press("escape")
        assert isinstance(app.screen, BuildScreen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)


async def test_mode_keys_switch_screens(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await wait_until(pilot, lambda: app.current_mode == "train", what="train mode")
        await pilot.press("b")
        await wait_until(pilot, lambda: app.current_mode == "build", what="build mode")


async def test_palette_offers_the_main_actions(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)):
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for title in ("Train", "Save experiment", "Open experiment", "Build screen", "Train screen",
                      "Evaluate screen", "Help", "Quit"):
            assert title in titles
        assert titles.count("Quit") == 1


async def test_quit_asks_while_training_and_stops_the_run(make_app, tmp_path):
    fake = FakeRunExperiment(steps=3, pause_at=(0, 1))
    app = make_app(launcher=FakeLauncher(fake, tmp_path / 'runs'))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.keras_ready and app.dataset is not None, what="warm-up")
        app.start_training()
        await wait_until(pilot, fake.paused.is_set, what="training to be under way")
        assert app.is_training
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, QuitWhileTrainingScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, QuitWhileTrainingScreen) and app.is_running
        await pilot.press("ctrl+q")
        await pilot.press("s")
        await pilot.pause(0.2)
        assert not app.is_running
    fake.resume.set()
    app.launcher.threads[app.launcher.launched[0]].join(5)
    assert fake.outcome.status == "stopped"


async def test_ctrl_q_quits_at_once_when_idle(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause(0.1)
        assert not app.is_running


async def test_save_then_open_round_trips_through_the_dialogs(make_app, tmp_path):
    app = make_app()
    path = tmp_path / "saved.toml"
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.dataset is not None, what="dataset")
        # As the build screen does when a field is edited.
        app.post_message(EditExperiment(lambda e: replace(e, fit=replace(e.fit, epochs=7), name="saved")))
        await wait_until(pilot, lambda: app.experiment.name == "saved", what="the edit")
        original = app.experiment

        await pilot.press("ctrl+s")
        assert isinstance(app.screen, PathDialog)
        field = app.screen.query_one("#path-input", Input)
        field.value = str(tmp_path)  # a directory
        await pilot.press("enter")
        assert isinstance(app.screen, PathDialog)  # a directory is refused, at the field
        assert "is a directory" in str(app.screen.query_one("#path-error", Static).render())
        await type_into(pilot, field, str(path))
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, PathDialog), what="the dialog to close")
        await wait_until(pilot, path.is_file, what="the file written")
        assert spec.load(path) == original

        app.post_message(EditExperiment(lambda e: replace(e, fit=replace(e.fit, epochs=2), name="changed")))
        await pilot.press("ctrl+o")
        field = app.screen.query_one("#path-input", Input)
        await type_into(pilot, field, str(tmp_path / "missing.toml"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: "cannot be read" in str(app.screen.query_one("#path-error", Static).render()),
                         what="the error")  # the file is read in a thread
        await type_into(pilot, field, str(path))
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, PathDialog), what="the dialog to close")
        assert app.experiment == original


async def test_open_refuses_a_file_with_bad_values(make_app, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('dataset = "digits"\n[[layers]]\ntype = "Dense"\nunits = 0\n')
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        before = app.experiment
        await pilot.press("ctrl+o")
        app.screen.query_one("#path-input", Input).value = str(bad)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "layers[0]" in str(app.screen.query_one("#path-error", Static).render()),
                         what="the error")
        error = str(app.screen.query_one("#path-error", Static).render())
        assert "layers[0].units" in error and "must be at least 1" in error
        assert app.experiment == before


async def test_no_color_draws_sample_images_in_ascii(make_app, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.no_color
        await wait_until(pilot, lambda: bool(app.screen.query(ImageView)), what="sample images")
        await pilot.pause(0.1)
        rendered = str(app.screen.query(ImageView).first().render())
        assert UPPER_HALF_BLOCK not in rendered
        assert any(ch in rendered for ch in "@%#*+=-:.")


async def test_layer_editor_is_there_at_80x24(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        editor = app.screen.query_one(LayerEditor)
        assert editor.table.region.height >= 5
        assert editor.region.right <= 80
