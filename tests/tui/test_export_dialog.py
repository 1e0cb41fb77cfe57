"""The export dialog by keys: x on a run in the runs screen, the preview, a bad path named at the
field, then the script written (no Keras: the dialog only reads the run and writes text)."""

from __future__ import annotations

import os
from pathlib import Path

from fakes import FakePreviewer, tiny_experiment, wait_until
from run_dirs import make_run

from kerastui.tui.app import KerasTUI
from kerastui.tui.screens.export_dialog import ExportDialog, default_destination
from kerastui.tui.screens.runs import RunsScreen


async def test_x_on_a_run_previews_and_writes_its_script(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_dir = make_run(tmp_path / "runs", "digits-mlp", epochs=2)
    app = KerasTUI(experiment=tiny_experiment(), runs_root=tmp_path / "runs", previewer=FakePreviewer())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.listed, what="runs screen")
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog), what="export dialog")
        dialog = app.screen
        await wait_until(pilot, lambda: dialog.preview_text, what="the preview")
        assert "keras.Sequential(" in dialog.preview_text
        assert "import kerastui" not in dialog.preview_text and "from kerastui" not in dialog.preview_text
        field = dialog.query_one("#export-path")
        assert field.value == str(default_destination(run_dir, "script", tmp_path))
        # A FIFO is named at the field, never opened.
        os.mkfifo(tmp_path / "pipe.py")
        field.value = str(tmp_path / "pipe.py")
        await pilot.pause()
        assert "FIFO" in dialog.path_problem
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ExportDialog)
        # The notebook is the next kind; its default path follows once the field holds a default.
        field.value = str(default_destination(run_dir, "script", tmp_path))
        await pilot.press("ctrl+t")
        assert field.value.endswith(".ipynb")
        await pilot.press("ctrl+t", "ctrl+t")  # round to the script again
        await pilot.press("ctrl+s")
        target = Path(default_destination(run_dir, "script", tmp_path))
        await wait_until(pilot, lambda: target.exists() and not isinstance(app.screen, ExportDialog), what="written")
    text = target.read_text()
    assert "model.fit(" in text and "load_digits()" in text
