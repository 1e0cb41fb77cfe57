"""Sharper pictures where the terminal can show images: when the terminal is asked, what the
pictures are drawn with, and, in a pseudo-terminal that answers as a Sixel terminal does, that
the app really sends Sixel images (and nothing is asked or sent otherwise)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import numpy as np
import pytest
from fakes import FakeRunExperiment, wait_until

from kerastui.core.pipeline import RunOutcome
from kerastui.tui import image_protocol
from kerastui.tui.image_protocol import setting, should_ask_terminal
from kerastui.tui.screens.evaluate import EvaluateScreen
from kerastui.tui.widgets.image_view import ImageView
from kerastui.tui.widgets.picture import SharpImageView, pil_image

SIXEL_START = b"\x1bP0;0;0q"  # a Sixel image: ESC P <params> q <raster and data> ESC \


@pytest.mark.parametrize(
    ("environ", "asked"),
    [
        ({"TERM": "xterm-256color"}, False),  # most terminals, and every SSH session by default
        ({"TERM": "xterm-kitty"}, True),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}, True),
        ({"TERM": "xterm-256color", "KONSOLE_VERSION": "240202"}, True),
        ({"TERM": "foot"}, True),
        ({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux-0/default,1,0"}, False),  # tmux drops the images
        ({"TERM": "xterm-256color", "KERASTUI_IMAGES": "on"}, True),  # over SSH: the user says so
        ({"TERM": "xterm-kitty", "KERASTUI_IMAGES": "off"}, False),
    ],
)
def test_the_terminal_is_asked_only_where_it_may_answer_yes(environ, asked):
    assert should_ask_terminal(environ, is_terminal=True) is asked
    assert should_ask_terminal(environ, is_terminal=False) is False  # output to a file or pipe


def test_an_unknown_setting_is_said_and_read_as_auto(capsys):
    assert setting({"KERASTUI_IMAGES": "sharp"}) == "auto"
    assert "KERASTUI_IMAGES='sharp' is not one of auto, on, off" in capsys.readouterr().err


def test_a_start_that_does_not_ask_does_not_import_textual_image():
    probe = (
        "import sys\nfrom kerastui.tui import image_protocol\n"
        "print(image_protocol.detect({'TERM': 'xterm-256color'}), 'textual_image' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["half-blocks", "False"], result.stderr


def test_small_images_are_sent_enlarged_by_whole_pixels():
    digit = np.random.default_rng(0).random((8, 8))
    image = pil_image(digit)
    assert image.size == (256, 256)
    sent = np.asarray(image)[:, :, 0]
    assert (sent[:32, :32] == round(digit[0, 0] * 255)).all()  # one pixel: a 32x32 square, not a blur


@pytest.fixture
def sixel_pictures(monkeypatch):
    import io

    # Importing textual-image asks the terminal when stdout is one (pytest run by hand): not here.
    with monkeypatch.context() as patched:
        patched.setattr(sys, "__stdout__", io.StringIO())
        from textual_image.widget import SixelImage

    image_protocol.use(SixelImage)
    yield SixelImage
    image_protocol.use(None)


async def test_with_an_image_protocol_samples_and_mistakes_are_its_pictures_in_the_half_blocks_box(
        sixel_pictures, make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: bool(app.screen.query(".sample-image")), what="sample images")
        await pilot.pause(0.2)
        samples = list(app.screen.query(".sample-image"))
        assert samples
        for view in samples:  # each sample is drawn by the terminal, its half-blocks box hidden
            assert view.query_one(".sample-picture", SharpImageView).display
            assert not view.query_one(".sample-half-blocks", ImageView).display
        picture = samples[0].query_one(".picture")
        assert isinstance(picture, sixel_pictures)
        assert (picture.size.width, picture.size.height) == (12, 6)  # the half-blocks' box for 8x8 at 12 columns
        assert all(view.caption in app.dataset.class_names for view in samples)  # each labelled

        evaluation = FakeRunExperiment(accuracy=0.8).evaluation(app.dataset)
        app.show_evaluation(RunOutcome(tmp_path / "runs" / "r", "finished", None, evaluation))
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen), what="the evaluate screen")
        await pilot.pause(0.2)
        sharp = app.screen.query_one("#browser-picture", SharpImageView)
        assert sharp.display and not app.screen.query_one("#browser-sample").display
        first = evaluation.misclassified[0].index
        assert np.array_equal(sharp._pixels, app.dataset.x_test[first])
        await pilot.press("tab", "right")
        assert not np.array_equal(sharp._pixels, app.dataset.x_test[first])


def _run_in_sixel_terminal(extra_env: dict[str, str], tmp_path, until: bytes, seconds: float = 40.0) -> tuple[bytes, list[bytes]]:
    """Run the app in a pseudo-terminal that answers like a Sixel terminal (foot): device attributes
    with 4 (Sixel), no Kitty graphics, cells of 10x20 pixels. Returns what the app wrote (until
    `until` or `seconds`) and the queries it sent."""
    env = dict(os.environ, TERM="foot", KERASTUI_RUNS_DIR=str(tmp_path / "runs"), KERASTUI_WARM_TRAINER="0",
               TF_CPP_MIN_LOG_LEVEL="3", **extra_env)
    env.pop("TMUX", None)
    env.pop("NO_COLOR", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app on the pseudo-terminal
        os.execvpe(sys.executable, [sys.executable, "-m", "kerastui"], env)
    # 120x40 cells of 10x20 pixels: textual-image reads the cell size from the window size.
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 1200, 800))
    written, queries = b"", []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and until not in written:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            written += chunk
            if b"\x1b[c" in chunk:  # primary device attributes: a VT340-like terminal with Sixel
                queries.append(b"\x1b[c")
                os.write(fd, b"\x1b[?62;4;22c")
            if b"\x1b_G" in chunk and b"a=q" in chunk:  # Kitty's graphics query: no answer, as foot
                queries.append(b"kitty")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    return written, queries


@pytest.mark.slow
def test_in_a_sixel_terminal_the_app_draws_sixel_images_and_elsewhere_asks_nothing(tmp_path):
    written, queries = _run_in_sixel_terminal({}, tmp_path, until=SIXEL_START)
    assert b"\x1b[c" in queries, "the terminal was not asked"
    assert SIXEL_START in written, "no Sixel image was drawn"

    half_block = "▀".encode()
    written, queries = _run_in_sixel_terminal({"KERASTUI_IMAGES": "off"}, tmp_path, until=half_block)
    assert queries == [] and SIXEL_START not in written
    assert half_block in written  # the samples in half-blocks
