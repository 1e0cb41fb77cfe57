"""One sample drawn as its kind of data reads: an image as a picture, a signal (T, C) as a plotext
line per channel, a text as its words (or word indices), a table row as its features.

Used by the data tab's samples and the mistakes browser. API (stable):

    view = SampleView("signal", feature_names=(), index_words=(), width=None)
    view.configure(kind, feature_names=(), index_words=())   # another dataset
    view.show(sample, caption)                                # sample None: nothing shown

and the pure renderers behind it, usable without a widget: `text_sample`, `tabular_sample`,
`signal_drawing`, `signal_text` (what a signal's chart shows, as text).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from kerastui.tui import image_protocol
from kerastui.tui.widgets.chart_scale import decimate
from kerastui.tui.widgets.image_view import ImageView, colour_allowed, render_image
from kerastui.tui.widgets.picture import SharpImageView
from kerastui.tui.widgets.plotext_chart import Draw, PlotextChart, line

IMAGE = "image"
TABULAR = "tabular"
SIGNAL = "signal"
TEXT = "text"
KINDS = (IMAGE, TABULAR, SIGNAL, TEXT)

MAX_WORDS = 60  # a review of 200 words is cut to what a pane shows
MAX_FEATURES = 40
MAX_CHANNELS = 6  # more lines than this are one colour blur
CHANNEL_COLOURS = ("cyan", "orange", "green", "magenta", "yellow", "blue")
SIGNAL_HEIGHT = 8  # lines of a signal's chart
SIGNAL_WIDTH = 40


def image_width_for(width: int) -> int:
    """Columns to draw an image `width` pixels wide: small images (8x8 digits) are doubled."""
    return width * 2 if width <= 14 else min(width, 32)


def sample_kind(kind: str, sample: np.ndarray) -> str:
    """The kind to draw `sample` as: the dataset's, unless its shape cannot be that (a flat row
    of an "image" set, a (T, C) array of a "tabular" one)."""
    array = np.asarray(sample)
    if kind == IMAGE and array.ndim in (2, 3):
        return IMAGE
    if kind == TEXT:
        return TEXT
    if kind == SIGNAL or (array.ndim == 2 and kind != IMAGE):
        return SIGNAL if array.ndim in (1, 2) else TABULAR
    return TABULAR


def words_of(indices: Sequence[int], index_words: Sequence[str]) -> list[str]:
    """The words of word indices, padding (0) left out; an index without a word shows as #i."""
    words = []
    for index in indices:
        if index == 0:
            continue  # padding: sequences are padded with 0 to their length
        if 0 <= index < len(index_words) and index_words[index]:
            words.append(index_words[index])
        else:
            words.append(f"#{index}")
    return words


def text_sample(sample: np.ndarray, index_words: Sequence[str] = (), max_words: int = MAX_WORDS) -> Text:
    """A sequence of word indices as its words (decoded with `index_words`, where index i's word is
    index_words[i]), else as the indices; cut to `max_words`, saying how many more."""
    indices = [int(v) for v in np.asarray(sample).reshape(-1)]
    tokens = words_of(indices, index_words) if len(index_words) else [str(i) for i in indices if i != 0]
    text = Text(" ".join(tokens[:max_words]))
    if not tokens:
        text = Text("(empty: padding only)", style="dim")
    if len(tokens) > max_words:
        text.append(f" … {len(tokens) - max_words} more words", style="dim")
    if not len(index_words):
        text.append("\n(word indices: no word index for this data)", style="dim")
    return text


def tabular_sample(sample: np.ndarray, feature_names: Sequence[str] = (), max_features: int = MAX_FEATURES) -> Table:
    """A table row as `name: value` pairs (standardised values), two or four to a line."""
    values = np.asarray(sample, dtype=np.float64).reshape(-1)
    names = [feature_names[i] if i < len(feature_names) else f"x{i}" for i in range(len(values))]
    shown = min(len(values), max_features)
    # Long column names ("mean concave points") pair up two to a row to stay in 80 columns.
    per_row = 4 if max((len(n) for n in names[:shown]), default=0) <= 10 else 2
    table = Table(box=None, padding=(0, 1), show_header=False, pad_edge=False)
    for _ in range(per_row):
        table.add_column(no_wrap=True, style="dim")
        table.add_column(justify="right", no_wrap=True)
    for start in range(0, shown, per_row):
        cells: list[str] = []
        for column in range(start, min(start + per_row, shown)):
            cells += [f"{names[column]}:", f"{values[column]:+.2f}"]
        table.add_row(*cells)
    if len(values) > shown:
        table.caption = f"first {shown} of {len(values)} features"
    return table


def channels_of(sample: np.ndarray) -> np.ndarray:
    """A signal as (T, C) float: (T,) is one channel."""
    array = np.asarray(sample, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    return np.nan_to_num(array.reshape(array.shape[0], -1))


def signal_drawing(sample: np.ndarray, title: str = "", buckets: int = 160) -> Draw:
    """The plotext drawing of a signal (T, C): one line per channel (at most MAX_CHANNELS),
    thinned to `buckets` for long series."""
    channels = channels_of(sample)
    steps = list(range(channels.shape[0]))

    def draw(figure: Any) -> None:
        for channel in range(min(channels.shape[1], MAX_CHANNELS)):
            xs, ys = decimate(steps, channels[:, channel].tolist(), buckets)
            line(figure, xs, ys, CHANNEL_COLOURS[channel % len(CHANNEL_COLOURS)],
                 label=f"ch {channel}" if channels.shape[1] > 1 else None)
        if title:
            figure.title(title)
    return draw


def signal_summary(sample: np.ndarray) -> str:
    """One line saying what the chart shows: steps, channels and the value range."""
    channels = channels_of(sample)
    shown = min(channels.shape[1], MAX_CHANNELS)
    more = f" ({shown} drawn)" if shown < channels.shape[1] else ""
    low, high = (float(channels.min()), float(channels.max())) if channels.size else (0.0, 0.0)
    return f"{channels.shape[0]} steps × {channels.shape[1]} channels{more}, {low:+.2f} to {high:+.2f}"


def signal_text(sample: np.ndarray, width: int = SIGNAL_WIDTH, height: int = SIGNAL_HEIGHT) -> str:
    """The signal's chart as plain text (what SampleView draws; for tests and plain output)."""
    from kerastui.tui.widgets.plotext_chart import build_figure

    return build_figure(signal_drawing(sample, buckets=max(16, width)), width, height).string(colorless=True)


class SampleView(Vertical):
    """One sample of a dataset of `kind`, drawn as that kind reads, with a caption underneath."""

    DEFAULT_CSS = """
    SampleView { width: auto; height: auto; }
    SampleView > .sample-text { width: auto; height: auto; max-width: 100%; }
    SampleView > .sample-half-blocks { width: auto; height: auto; }
    SampleView > PlotextChart { height: 8; min-height: 6; width: 40; }
    SampleView > .sample-caption { width: auto; height: auto; }
    """

    def __init__(self, kind: str = IMAGE, *, feature_names: Sequence[str] = (), index_words: Sequence[str] = (),
                 width: int | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.kind = kind
        self.feature_names = tuple(feature_names)
        self.index_words = tuple(index_words)
        self.image_width = width  # columns for images and signals; None: image_width_for / SIGNAL_WIDTH
        self.sample: np.ndarray | None = None
        self.caption = ""
        self._sharp = image_protocol.sharp_image_widget()
        self._ready = False

    def compose(self) -> ComposeResult:
        yield ImageView(classes="sample-half-blocks")  # images where the terminal shows none
        yield Static(classes="sample-text")
        yield PlotextChart(classes="sample-signal")
        if self._sharp is not None:  # the terminal shows images: image samples are drawn by it
            yield SharpImageView(self._sharp, np.zeros((1, 1)), classes="sample-picture")
        yield Static(classes="sample-caption")

    def on_mount(self) -> None:
        self._ready = True  # (is_mounted is still False inside on_mount)
        self._refresh()

    def configure(self, kind: str, feature_names: Sequence[str] = (), index_words: Sequence[str] = ()) -> None:
        """Draw samples of another dataset from now on (the shown sample is drawn again)."""
        self.kind, self.feature_names, self.index_words = kind, tuple(feature_names), tuple(index_words)
        self._refresh()

    def show(self, sample: np.ndarray | None, caption: str = "") -> None:
        """Draw `sample` (None: nothing) with `caption` under it."""
        self.sample = None if sample is None else np.asarray(sample)
        self.caption = caption
        self._refresh()

    @property
    def drawn_as(self) -> str:
        """The kind the current sample is drawn as ("" with no sample)."""
        return "" if self.sample is None else sample_kind(self.kind, self.sample)

    def renderable(self) -> Any:
        """What the text part shows for the current sample (images in half-blocks)."""
        sample, kind = self.sample, self.drawn_as
        if sample is None:
            return Text("")
        if kind == IMAGE:
            colour = not (self.is_mounted and self.app.no_color) and colour_allowed()
            return render_image(sample, self.image_width or image_width_for(sample.shape[1]), colour=colour)
        if kind == TEXT:
            return text_sample(sample, self.index_words)
        if kind == SIGNAL:
            return Text(signal_summary(sample), style="dim")
        return tabular_sample(sample, self.feature_names)

    def _refresh(self) -> None:
        if not self._ready:
            return
        kind = self.drawn_as
        text = self.query_one(".sample-text", Static)
        chart = self.query_one(".sample-signal", PlotextChart)
        sharp = next(iter(self.query(".sample-picture").results(SharpImageView)), None)
        sharp_image = sharp is not None and kind == IMAGE
        width = self.image_width or (image_width_for(self.sample.shape[1]) if kind == IMAGE and self.sample is not None else None)
        if sharp is not None:
            sharp.display = sharp_image
            if sharp_image:
                assert self.sample is not None
                sharp.show(self.sample, width=width)
        half_blocks = self.query_one(".sample-half-blocks", ImageView)
        half_blocks.display = kind == IMAGE and not sharp_image
        if half_blocks.display:
            half_blocks._image_width = width  # ImageView.show keeps its width; each sample sets its own
            half_blocks.show(self.sample)
        chart.display = kind == SIGNAL
        if kind == SIGNAL:
            assert self.sample is not None
            chart.styles.width = self.image_width or SIGNAL_WIDTH
            chart.plot(signal_drawing(self.sample, buckets=max(16, self.image_width or SIGNAL_WIDTH)))
        text.display = kind not in ("", IMAGE)
        if text.display:
            text.update(self.renderable())
        caption = self.query_one(".sample-caption", Static)
        caption.display = bool(self.caption)
        caption.update(self.caption)
