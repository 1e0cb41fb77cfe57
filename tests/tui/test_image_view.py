from __future__ import annotations

import math

import numpy as np
import pytest
from textual.app import App, ComposeResult

from kerastui.tui.widgets.image_view import ASCII_SHADES, UPPER_HALF_BLOCK, ImageView, render_image


def _cells(text):
    """(character, style) for every cell of every line."""
    lines = []
    for line in text.split("\n"):
        styles = {span.start: span.style for span in line.spans}
        lines.append([(char, styles.get(i)) for i, char in enumerate(line.plain)])
    return lines


def test_grey_pixels_map_to_grey_colours_top_as_foreground_bottom_as_background():
    image = np.array([[0.0, 1.0], [0.5, 0.25]], dtype=np.float32)
    (line,) = _cells(render_image(image, colour=True))
    (char0, style0), (char1, style1) = line
    assert char0 == char1 == UPPER_HALF_BLOCK
    assert style0.color.get_truecolor() == (0, 0, 0)
    assert style0.bgcolor.get_truecolor() == (128, 128, 128)
    assert style1.color.get_truecolor() == (255, 255, 255)
    assert style1.bgcolor.get_truecolor() == (64, 64, 64)


@pytest.mark.parametrize("height", [1, 2, 7, 8, 28])
def test_row_count_is_ceil_of_half_the_height(height):
    text = render_image(np.random.default_rng(0).random((height, 5)), colour=True)
    lines = text.plain.split("\n")
    assert len(lines) == math.ceil(height / 2)
    assert all(len(line) == 5 for line in lines)


def test_odd_height_pads_last_line_with_black_background():
    text = render_image(np.ones((3, 1)), colour=True)
    last = _cells(text)[-1][0][1]
    assert last.color.get_truecolor() == (255, 255, 255)
    assert last.bgcolor.get_truecolor() == (0, 0, 0)


def test_rgb_and_single_channel_images():
    rgb = np.zeros((2, 1, 3), dtype=np.float32)
    rgb[0, 0] = (1.0, 0.0, 0.0)
    (line,) = _cells(render_image(rgb, colour=True))
    assert line[0][1].color.get_truecolor() == (255, 0, 0)
    channel = np.full((2, 3, 1), 1.0)
    assert render_image(channel, colour=True).plain == UPPER_HALF_BLOCK * 3


def test_no_colour_uses_ascii_shades_by_brightness():
    image = np.array([[0.0, 1.0, 0.5], [0.0, 1.0, 0.5]])
    text = render_image(image, colour=False)
    assert text.plain == ASCII_SHADES[0] + ASCII_SHADES[-1] + ASCII_SHADES[round(0.5 * (len(ASCII_SHADES) - 1))]
    assert not text.spans  # no colour at all


def test_no_color_environment_variable_is_honoured(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert UPPER_HALF_BLOCK not in render_image(np.ones((4, 4))).plain
    monkeypatch.delenv("NO_COLOR")
    assert UPPER_HALF_BLOCK in render_image(np.ones((4, 4))).plain


def test_width_resizes_keeping_aspect():
    text = render_image(np.zeros((28, 28)), width=14, colour=True)
    lines = text.plain.split("\n")
    assert len(lines) == 7 and len(lines[0]) == 14


def test_bad_shape_is_explained():
    with pytest.raises(ValueError, match="expected an image"):
        render_image(np.zeros((2, 2, 2, 2)))


async def test_image_view_shows_image_and_caption():
    class Demo(App):
        def compose(self) -> ComposeResult:
            yield ImageView(np.ones((8, 8)), "label: 7", id="view")

    async with Demo().run_test(size=(40, 10)) as pilot:
        view = pilot.app.query_one("#view", ImageView)
        rendered = str(view.render())
        assert "label: 7" in rendered
        assert UPPER_HALF_BLOCK * 8 in rendered
        view.show(np.zeros((4, 4)), "label: 1")
        await pilot.pause()
        assert "label: 1" in str(view.render())
        assert view.caption == "label: 1"
