"""Draw a small image in the terminal with half-block characters.

Each text line carries two pixel rows: the upper half block '▀' takes the top pixel as its
foreground colour and the bottom pixel as its background. Terminal cells are about twice as tall
as wide, so this keeps the image's aspect ratio. Without colour (NO_COLOR) the same grid is drawn
with ASCII shades, one character per pair of pixel rows.
"""

from __future__ import annotations

import math
import os

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.widgets import Static

UPPER_HALF_BLOCK = "▀"
# From dark to bright; a space is black on a dark terminal.
ASCII_SHADES = " .:-=+*#%@"


def colour_allowed() -> bool:
    """True unless the user asked for no colour (https://no-color.org)."""
    return "NO_COLOR" not in os.environ


def as_rgb(pixels: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1) or (H, W, 3|4) in [0, 1] -> (H, W, 3) float in [0, 1]."""
    image = np.asarray(pixels, dtype=np.float32)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected an image of shape (H, W) or (H, W, C) with C in 1, 3, 4; got {np.shape(pixels)}")
    image = image[:, :, :3]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.clip(np.nan_to_num(image), 0.0, 1.0)


def _resized(height: int, current: int, width: int | None) -> tuple[int, int]:
    """(rows, columns) of an image `height` x `current` pixels resized to `width` columns (None or
    0: as it is), keeping the aspect ratio."""
    if width is None or width <= 0 or width == current:
        return height, current
    return max(1, round(height * width / current)), width


def _resize_to_width(image: np.ndarray, width: int | None) -> np.ndarray:
    """Nearest-neighbour resize to `width` columns, keeping the aspect ratio."""
    height, current = image.shape[:2]
    new_height, width = _resized(height, current, width)
    if (new_height, width) == (height, current):
        return image
    rows = np.minimum((np.arange(new_height) * height / new_height).astype(int), height - 1)
    cols = np.minimum((np.arange(width) * current / width).astype(int), current - 1)
    return image[rows][:, cols]


def _rgb(values: np.ndarray) -> tuple[int, int, int]:
    r, g, b = (int(round(float(v) * 255)) for v in values)
    return r, g, b


def render_image(pixels: np.ndarray, width: int | None = None, *, colour: bool | None = None) -> Text:
    """Render one image in [0, 1] as ceil(H/2) lines of half blocks (or ASCII shades).

    `width` resizes to that many columns first; `colour=None` follows NO_COLOR.
    """
    image = _resize_to_width(as_rgb(pixels), width)
    if colour is None:
        colour = colour_allowed()
    height = image.shape[0]
    if height % 2:
        # Pad with black so the last line has a bottom pixel.
        image = np.concatenate([image, np.zeros((1, *image.shape[1:]), dtype=image.dtype)])
    text = Text(no_wrap=True, overflow="crop")
    for row in range(0, height, 2):
        if row:
            text.append("\n")
        top, bottom = image[row], image[row + 1]
        if colour:
            for upper, lower in zip(top, bottom):
                style = Style(color=_rgb_string(upper), bgcolor=_rgb_string(lower))
                text.append(UPPER_HALF_BLOCK, style)
        else:
            # Grey level of the cell = mean brightness of its two pixels.
            brightness = (top.mean(axis=1) + bottom.mean(axis=1)) / 2
            last = len(ASCII_SHADES) - 1
            text.append("".join(ASCII_SHADES[int(round(b * last))] for b in brightness))
    return text


def _rgb_string(values: np.ndarray) -> str:
    r, g, b = _rgb(values)
    return f"rgb({r},{g},{b})"


def rendered_lines(height: int) -> int:
    """Lines `render_image` uses for an image `height` pixels tall."""
    return math.ceil(height / 2)


def image_box(shape: tuple[int, ...], width: int | None) -> tuple[int, int]:
    """(columns, lines) `render_image` fills for an image of `shape` drawn `width` columns wide:
    the box a sharper picture of it takes too, so both lay out alike."""
    rows, columns = _resized(int(shape[0]), int(shape[1]), width)
    return columns, rendered_lines(rows)


class ImageView(Static):
    """One image with a caption underneath (e.g. its label)."""

    DEFAULT_CSS = """
    ImageView { width: auto; height: auto; }
    """

    def __init__(
        self,
        pixels: np.ndarray | None = None,
        caption: str = "",
        *,
        width: int | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._pixels = pixels
        self._caption = caption
        self._image_width = width

    def on_mount(self) -> None:
        self._refresh_content()

    def show(self, pixels: np.ndarray | None, caption: str = "") -> None:
        """Replace the image and caption."""
        self._pixels = pixels
        self._caption = caption
        if self.is_mounted:
            self._refresh_content()

    @property
    def caption(self) -> str:
        return self._caption

    def _refresh_content(self) -> None:
        if self._pixels is None:
            self.update(Text(self._caption or "(no image)", style="dim"))
            return
        # Textual removes NO_COLOR from the environment once the app starts and keeps it as app.no_color.
        colour = not self.app.no_color and colour_allowed()
        text = render_image(self._pixels, self._image_width, colour=colour)
        if self._caption:
            text.append("\n")
            text.append(self._caption)
        self.update(text)
