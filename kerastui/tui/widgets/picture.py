"""A picture of one image with its caption: drawn by the terminal's image protocol where
kerastui.tui.image_protocol found one before the app started, else in half-blocks (ImageView).

Both take the same box (the half-blocks' columns and lines), so a screen lays out alike either way.
"""

from __future__ import annotations

import numpy as np
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from kerastui.tui import image_protocol
from kerastui.tui.widgets.image_view import ImageView, as_rgb, image_box

# Small images (8x8 digits) are enlarged by whole pixels before the terminal scales them, so
# each pixel stays a sharp square instead of a blur.
MIN_SENT_WIDTH = 256


def pil_image(pixels: np.ndarray):
    """An image in [0, 1] ((H, W) or (H, W, C)) as an RGB PIL image, enlarged by whole pixels."""
    from PIL import Image  # textual-image's own dependency: only loaded where a protocol is used

    rgb = (as_rgb(pixels) * 255).round().astype(np.uint8)
    image = Image.fromarray(rgb, "RGB")
    factor = max(1, -(-MIN_SENT_WIDTH // image.width))
    return image.resize((image.width * factor, image.height * factor), Image.Resampling.NEAREST)


class SharpImageView(Vertical):
    """One image drawn by a textual-image widget, with its caption underneath."""

    DEFAULT_CSS = """
    SharpImageView { width: auto; height: auto; }
    SharpImageView > .caption { width: auto; height: auto; }
    """

    def __init__(self, widget_class: type[Widget], pixels: np.ndarray, caption: str = "", *, width: int | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._widget_class = widget_class
        self._pixels = pixels
        self._caption = caption
        self._image_width = width

    def compose(self) -> ComposeResult:
        yield self._widget_class(pil_image(self._pixels), classes="picture")
        yield Static(self._caption, classes="caption")

    def on_mount(self) -> None:
        self._size_picture()

    def _size_picture(self) -> None:
        columns, lines = image_box(np.shape(self._pixels), self._image_width)
        picture = self.query_one(".picture")
        picture.styles.width, picture.styles.height = columns, lines

    @property
    def caption(self) -> str:
        return self._caption

    def show(self, pixels: np.ndarray, caption: str = "", width: int | None = None) -> None:
        """Replace the image and caption (and the width in columns, when given)."""
        self._pixels, self._caption = pixels, caption
        if width is not None:
            self._image_width = width
        if self.is_mounted:
            self.query_one(".picture").image = pil_image(pixels)  # type: ignore[attr-defined]
            self.query_one(".caption", Static).update(caption)
            self._size_picture()


def picture(pixels: np.ndarray, caption: str = "", *, width: int | None = None, classes: str | None = None) -> Widget:
    """The widget that draws `pixels` best on this terminal."""
    sharp = image_protocol.sharp_image_widget()
    if sharp is None:
        return ImageView(pixels, caption, width=width, classes=classes)
    return SharpImageView(sharp, pixels, caption, width=width, classes=classes)
