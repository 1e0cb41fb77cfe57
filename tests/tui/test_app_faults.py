"""The app under bad input and faults: it never exits on a user error, says what is wrong, and
keeps what it had (the experiment, the runs). The headless cases are in tests/test_faults.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from fakes import wait_until
from textual.widgets import Input, Static

from kerastui.core import spec
from kerastui.core.launcher import LocalLauncher
from kerastui.tui.screens.path_dialog import PathDialog


def dialog_error(app) -> str:
    return str(app.screen.query_one("#path-error", Static).render())


async def open_file(app, pilot, path: Path) -> None:
    await pilot.press("ctrl+o")
    await wait_until(pilot, lambda: isinstance(app.screen, PathDialog), what="the open dialog")
    app.screen.query_one("#path-input", Input).value = str(path)
    await pilot.press("enter")


async def test_opening_a_toml_with_non_utf8_bytes_says_so_and_keeps_the_experiment(make_app, tmp_path):
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(b'name = "caf\xe9"\n')
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        before = app.experiment
        await open_file(app, pilot, latin1)
        await wait_until(pilot, lambda: "not UTF-8" in dialog_error(app), what="the error")
        assert str(latin1) in dialog_error(app)
        assert app.is_running and isinstance(app.screen, PathDialog)
        assert app.experiment == before


async def test_opening_a_toml_with_700000_unknown_keys_stays_responsive_and_shows_a_count(make_app, tmp_path):
    huge = tmp_path / "huge.toml"
    huge.write_text('name = "x"\ndataset = "digits"\n' + "".join(f"k{i} = 1\n" for i in range(700_000)))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        before = app.experiment
        await open_file(app, pilot, huge)
        # The file is read in a thread: the app answers a key while it is parsed.
        started = time.monotonic()
        await pilot.press("end")
        assert time.monotonic() - started < 1.0
        await wait_until(pilot, lambda: "more problems" in dialog_error(app), timeout=60, what="the problems")
        error = dialog_error(app)
        assert "k0 = 1: unknown setting" in error and "... and 699994 more problems" in error
        assert len(error.splitlines()) <= 12  # six problems (wrapped) and the count, not 700,000
        assert app.experiment == before and app.is_running


async def test_the_runs_screen_says_when_the_runs_directory_is_a_file(make_app, tmp_path):
    runs_file = tmp_path / "runs-file"
    runs_file.write_text("x")
    app = make_app(runs_root=runs_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: "is a file, not a directory" in _runs_header(app), what="the runs header")
        assert str(runs_file) in _runs_header(app)
        assert runs_file.read_text() == "x" and app.is_running


async def test_the_runs_screen_shows_a_broken_run_beside_the_good_ones(make_app, tmp_path):
    from kerastui.core.events import TrainingFinished, TrainingStarted
    from kerastui.core.runs import RunWriter

    root = tmp_path / "runs"
    good = RunWriter.create(spec.Experiment(), root=root, name="good")
    good(TrainingStarted(epochs=1, steps_per_epoch=1, train_samples=1, validation_samples=0, batch_size=1))
    good(TrainingFinished(1))
    good.close()
    broken = root / "20260101-000000-broken"
    broken.mkdir()
    (broken / "config.toml").write_bytes(b"\xff\xfe")
    (broken / "info.json").write_text("{")
    odd = root / "20261399-256199-odd"
    odd.mkdir()
    (odd / "status").write_text("finished\n")
    app = make_app(runs_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: len(app.screen.all_records) == 3 if hasattr(app.screen, "all_records") else False,
                         what="three rows")
        names = {r.name for r in app.screen.all_records}
        assert names == {good.path.name, broken.name, odd.name}
        assert any(r.errors for r in app.screen.all_records if r.name == broken.name)


@pytest.fixture
def read_only_dir():
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a read-only file system is a tmpfs mounted read-only, which needs root")
    point = Path(tempfile.mkdtemp(prefix="kerastui-ro-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()})")
    yield point
    subprocess.run(["umount", "-l", str(point)], capture_output=True)
    point.rmdir()


async def test_training_into_a_read_only_runs_directory_is_a_message_not_an_exit(make_app, read_only_dir):
    launcher = LocalLauncher(runs_root=read_only_dir / "runs", keep_warm=False)
    app = make_app(runs_root=read_only_dir / "runs", launcher=launcher)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.dataset is not None, what="the dataset")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: any("Read-only file system" in n.message for n in app._notifications),
                         what="the message")
        assert app.is_running and not launcher.running and not launcher.queued


def _runs_header(app) -> str:
    try:
        return str(app.screen.query_one("#runs-header", Static).render())
    except Exception:
        return ""
