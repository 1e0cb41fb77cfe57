"""The data tab with files of named arrays and folders of images (issue 18), by keys: the arrays
listed with shape, dtype, range and NaN/inf counts, their roles picked with x / y, the axis order
chosen from a list, errors shown in the tab, an image folder's counts and thumbnails; and one real
training run from an HDF5 file whose keys were picked in the tab."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fakes import FakePreviewer, tiny_experiment, wait_until
from PIL import Image
from test_evaluate_screen import shown_text
from textual.widgets import Input, Select

from kerastui.core.datasets.settings import DataSettings
from kerastui.tui.app import KerasTUI
from kerastui.tui.screens.monitor import RunMonitor
from kerastui.tui.widgets.data_file_view import DataFileView
from kerastui.tui.widgets.data_inspector import DataInspector
from kerastui.tui.widgets.data_settings_form import ArrayTable, DataSettingsForm
from kerastui.tui.widgets.sample_images import SampleImages


def write_strain(path: Path, samples: int = 120, steps: int = 64, nan_cells: int = 0) -> Path:
    """An HDF5 file with its own key names: "strain" (N, 2, T) float32, channels first, and
    "label" (N,) 0/1 (positives carry a bump a model can learn), beside an unused "snr"."""
    import h5py

    rng = np.random.default_rng(0)
    label = (np.arange(samples) % 2).astype(np.int64)
    strain = rng.normal(size=(samples, 2, steps)).astype(np.float32)
    strain[label == 1, :, steps // 3: 2 * steps // 3] += 2.0
    strain[:nan_cells, 0, 5] = np.nan  # the first rows, which the inspector always reads
    with h5py.File(path, "w") as handle:
        handle["strain"] = strain
        handle["label"] = label
        handle["snr"] = rng.random(samples).astype(np.float32)
    return path


async def choose_file_by_keys(app, pilot, path: Path, typed: bool = False) -> DataFileView:
    """The file's path in the data tab's path field (typed key by key, or put there: a key press
    each is slow) and enter; the form shows its arrays."""
    await wait_until(pilot, lambda: app.dataset is not None, what="the first data set")
    field = app.screen.query_one("#dataset-path", Input)
    field.focus()
    if typed:
        await pilot.press(*str(path))
    else:
        field.value = str(path)
    await pilot.press("enter")
    view = app.screen.query_one(DataFileView)
    await wait_until(pilot, lambda: view.form and view.look is not None and view.look.name == str(path),
                     timeout=20, what="the file's form")
    await pilot.pause()
    return view


def table_rows(table: ArrayTable) -> dict[str, list[str]]:
    """Array name -> its row's cells as text."""
    return {str(table.get_row_at(i)[1]): [str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)}


async def give_role(pilot, table: ArrayTable, name: str, key: str) -> None:
    table.focus()
    row = next(i for i in range(table.row_count) if str(table.get_row_at(i)[1]) == name)
    table.move_cursor(row=0)
    await pilot.press(*["down"] * row, key)


async def test_the_arrays_are_listed_and_picked_by_keys(make_app, tmp_path):
    path = write_strain(tmp_path / "strain.h5")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await choose_file_by_keys(app, pilot, path)
        assert app.experiment.dataset == str(path)
        # Neither key is a default name for the inputs: the tab says which to pick, at the list.
        await wait_until(pilot, lambda: "which array holds the inputs" in app.dataset_error, what="the load error")
        form = app.screen.query_one(DataSettingsForm)
        await wait_until(pilot, lambda: "which array holds the inputs" in str(form.errors["roles"].render()),
                         what="the error at the list")
        table = app.screen.query_one(ArrayTable)
        assert app.focused is table  # the keys come next
        rows = table_rows(table)
        assert set(rows) == {"label", "snr", "strain"}
        assert rows["strain"][2:4] == ["120×2×64", "float32"]
        assert rows["label"][0] == "y auto" and rows["label"][4] == "0 to 1"  # "label" is a default name for y
        assert app.screen.query_one(SampleImages).display is False  # the inspector draws a file's sample

        await give_role(pilot, table, "strain", "x")
        await wait_until(pilot, lambda: app.experiment.data.x == "strain", what="x picked")
        await give_role(pilot, table, "label", "y")
        await wait_until(pilot, lambda: app.experiment.data.y == "label", what="y picked")
        await wait_until(pilot, lambda: app.dataset is not None and app.dataset_info.input_shape[:2] == (2, 64),
                         what="the data loaded with its keys")
        assert not form.shown_errors
        # Channels first: the axis order is picked from the list of orders, each with its shape.
        axes = app.screen.query_one("#data-axes", Select)
        await pilot.press("tab")
        assert app.focused is axes
        await pilot.press("enter", "down", "enter")
        await wait_until(pilot, lambda: app.experiment.data.axes == (0, 2, 1), what="axes picked")
        await wait_until(pilot, lambda: app.dataset is not None and app.dataset_info.input_shape == (64, 2),
                         what="the data in its new order")
        assert app.dataset_info.task == "binary" and app.experiment.layers[-1].param("units") == 1
        await wait_until(pilot, lambda: "64×2" in str(app.screen.query_one(DataInspector)
                                                     .query_one("#inspect-sample-caption").render()),
                         what="the sample in the new order")

        # x on the labels' row moves the inputs there, and the labels lose their role.
        await give_role(pilot, table, "label", "x")
        await wait_until(pilot, lambda: app.experiment.data.x == "label", what="x moved")
        assert app.experiment.data.y == "" and app.experiment.data.axes == ()  # (N,) takes no axis order
        await give_role(pilot, table, "label", "delete")
        await wait_until(pilot, lambda: app.experiment.data.x == "", what="x taken away")


async def test_a_missing_key_is_named_in_the_tab_with_the_keys_there_are(make_app, tmp_path):
    path = write_strain(tmp_path / "strain.h5")
    experiment = replace(tiny_experiment(dataset=str(path)), data=DataSettings(x="nope", y="label"))
    app = make_app(experiment=experiment)
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.screen.query_one(DataSettingsForm)
        await wait_until(pilot, lambda: "nope" in form.shown_errors, timeout=20, what="the missing key's error")
        shown = form.shown_errors
        assert "[data] x" in shown and "listed above" in shown  # what there is instead: the list
        assert form.errors["roles"].display  # at the list of arrays, where it is fixed
        assert set(table_rows(app.screen.query_one(ArrayTable))) == {"label", "snr", "strain"}
        assert "nope" in app.dataset_error and app.dataset is None
        assert "the data does not load" in str(app.screen.query_one("#build-status").render())

        await pilot.press("ctrl+r")  # refused, with the reason; nothing crashes
        await pilot.pause()
        assert not isinstance(app.screen, RunMonitor)

        await give_role(pilot, app.screen.query_one(ArrayTable), "strain", "x")
        await wait_until(pilot, lambda: app.dataset is not None, what="the data with a key that is there")
        await wait_until(pilot, lambda: not form.shown_errors, what="the error gone")


async def test_the_inspector_counts_nan_values(make_app, tmp_path):
    path = write_strain(tmp_path / "strain.h5", nan_cells=7)
    experiment = replace(tiny_experiment(dataset=str(path)), data=DataSettings(x="strain", y="label"))
    app = make_app(experiment=experiment)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.screen.query_one(DataFileView)
        await wait_until(pilot, lambda: view.look is not None and view.look.inspection is not None, timeout=20,
                         what="the inspection")
        await pilot.pause()
        rows = table_rows(app.screen.query_one(ArrayTable))
        assert rows["strain"][0] == "x" and rows["strain"][5] == "7 NaN"
        assert rows["snr"][5] == "0"
        inspector = app.screen.query_one(DataInspector)
        labels = str(inspector.query_one("#inspect-labels").render())
        assert "binary" in labels and "60" in labels  # the class balance: 60 of each
        caption = str(inspector.query_one("#inspect-sample-caption").render())
        assert "sample 0 of strain" in caption and "signal" in caption


async def test_a_labels_file_that_is_not_there_is_shown_and_typed_text_must_be_applied(make_app, tmp_path):
    path = write_strain(tmp_path / "strain.h5")
    experiment = replace(tiny_experiment(dataset=str(path)), data=DataSettings(x="strain", y="label"))
    app = make_app(experiment=experiment)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.dataset is not None, timeout=20, what="the data")
        form = app.screen.query_one(DataSettingsForm)
        field = form.query_one("#data-labels", Input)
        field.focus()
        await pilot.press(*"missing.csv")
        assert any("press enter" in line for line in app.screen.invalid_fields())  # not applied yet
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.experiment.data.labels == "missing.csv", what="labels applied")
        await wait_until(pilot, lambda: "no such file" in form.shown_errors, timeout=20, what="the labels error")
        assert "missing.csv" in form.shown_errors and not app.screen.invalid_fields()


def write_image_folder(root: Path) -> Path:
    """Two classes of small PNGs, one colour each."""
    for index, name in enumerate(("cat", "dog")):
        for number in range(4):
            pixels = np.zeros((12, 10, 3), dtype=np.uint8)
            pixels[...] = (200 * index, 80, 40)
            (root / name).mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(root / name / f"{number}.png")
    return root


async def test_an_image_folder_shows_class_counts_thumbnails_and_its_size(make_app, tmp_path):
    folder = write_image_folder(tmp_path / "pets")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        view = await choose_file_by_keys(app, pilot, folder)
        assert view.form == "images"
        form = app.screen.query_one(DataSettingsForm)
        size_field = form.query_one("#data-image-size", Input)
        assert app.focused is size_field
        inspector = app.screen.query_one(DataInspector)
        counts = shown_text(inspector.query_one("#inspect-labels"))
        assert "cat" in counts and "dog" in counts
        thumbnails = inspector.query(".thumbnail")
        assert len(thumbnails) == 2 and [t.caption for t in thumbnails] == ["cat", "dog"]
        await wait_until(pilot, lambda: app.dataset is not None, timeout=20, what="the folder loaded")
        assert app.dataset_info.input_shape == (12, 10, 3)

        await pilot.press("ctrl+u", *"8x8", "enter")
        await wait_until(pilot, lambda: app.experiment.data.image_size == (8, 8), what="image size applied")
        await wait_until(pilot, lambda: app.dataset is not None and app.dataset_info.input_shape == (8, 8, 3),
                         what="the images at their new size")
        color = form.query_one("#data-color", Select)
        color.focus()
        await pilot.press("enter", "down", "enter")
        await wait_until(pilot, lambda: app.experiment.data.color == "grayscale", what="grayscale")
        await wait_until(pilot, lambda: app.dataset is not None and app.dataset_info.input_shape == (8, 8, 1),
                         what="one channel")
        await pilot.press("tab")
        field = form.query_one("#data-validation-split", Input)
        assert app.focused is field
        await pilot.press(*"1.5")
        assert "less than 1" in str(form.errors["validation_split"].render())
        assert any("validation split" in line for line in app.screen.invalid_fields())


@pytest.mark.slow
async def test_an_hdf5_file_with_keys_picked_in_the_tab_trains(tmp_path):
    """The whole path with real Keras, as issue 18 asks: an HDF5 file of its own key names is chosen,
    its inputs, labels and axis order picked by keys, and a tiny model trains on it for an epoch
    in a child process; the run's config.toml holds the [data] table."""
    path = write_strain(tmp_path / "strain.h5")
    runs_root = tmp_path / "runs"
    # The model summary is not what this test is about: a stand-in keeps TensorFlow out of this process.
    app = KerasTUI(experiment=tiny_experiment(epochs=1), runs_root=runs_root, previewer=FakePreviewer())
    async with app.run_test(size=(120, 40)) as pilot:
        await choose_file_by_keys(app, pilot, path, typed=True)
        table = app.screen.query_one(ArrayTable)
        await give_role(pilot, table, "strain", "x")
        await give_role(pilot, table, "label", "y")
        await pilot.press("tab", "enter", "down", "enter")  # the axis order 0, 2, 1
        await wait_until(pilot, lambda: app.experiment.data.axes == (0, 2, 1), what="axes picked")
        await wait_until(pilot, lambda: app.dataset is not None and app.dataset_info.input_shape == (64, 2),
                         timeout=20, what="the data loaded")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.run_dir is not None,
                         timeout=30, what="train screen")
        screen = app.screen
        await wait_until(pilot, lambda: screen.phase in ("finished", "failed"), timeout=300, what="the run")
        run_dir = screen.run_dir
        assert (run_dir / "status").read_text().strip() == "finished", (run_dir / "metrics.jsonl").read_text()[-2000:]
        config = tomllib.loads((run_dir / "config.toml").read_text())
        assert config["dataset"] == str(path)
        assert config["data"]["x"] == "strain" and config["data"]["y"] == "label"
        assert config["data"]["axes"] == [0, 2, 1]
        assert json.loads((run_dir / "evaluation.json").read_text())
