"""A Textual widget that draws a plotext 6 figure at its own size: the project's own, small,
in place of textual-plotext (no release since 2024, pinned to plotext 5).

A chart gives `plot(draw)` a function that fills a cleared plotext figure (signals, title, rulers).
The figure is built when Textual renders the widget, at the widget's size, and kept until the
drawing or the size changes. plotext 6 has one figure per process; charts render one after the
other on the UI thread, each clearing it first, so they never mix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.widget import Widget

Draw = Callable[[Any], None]  # fills plotext.figure


class PlotextChart(Widget):
    """Shows what the last `plot(draw)` drew; a failed build says so for one frame and retries."""

    DEFAULT_CSS = """
    PlotextChart {
        width: 1fr;
        height: 1fr;
        min-height: 6;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._draw: Draw | None = None
        self._version = 0
        self._built: tuple[tuple, Text] | None = None

    def decimation_buckets(self) -> int:
        """Buckets a series is thinned to before plotting (chart_scale.decimate keeps two points
        each): one per cell of the width, two braille dots, all the chart can show."""
        return max(16, self.size.width or 80)

    def plot(self, draw: Draw) -> None:
        self._draw = draw
        self._version += 1
        self.refresh()

    def render(self) -> Text:
        width, height = self.size
        colorless = bool(self.app.no_color)
        key = (self._version, width, height, colorless)
        if self._built is not None and self._built[0] == key:
            return self._built[1]
        if self._draw is None or width < 10 or height < 4:
            return Text("")
        try:
            text = Text.from_ansi(build_figure(self._draw, width, height).string(colorless=colorless), no_wrap=True)
        except (IndexError, ValueError, ZeroDivisionError, TypeError) as error:
            # A chart must never take the app down: say so for this frame, and build afresh at the next.
            return Text(f"chart not drawn: {type(error).__name__}: {error}", style="dim")
        self._built = (key, text)
        return text


def build_figure(draw: Draw, width: int, height: int) -> Any:
    """plotext's figure, cleared, sized, drawn by `draw` and built (a plotext matrix)."""
    import plotext

    figure = plotext.figure
    figure.clear()
    figure.plot_size(width, height)
    figure.theme("simple")  # no backgrounds: the terminal's own shows through, as around the chart
    draw(figure)
    return figure.build()


def line(figure: Any, xs: list[float], ys: list[float], color: str, marker: str = "braille",
         label: str | None = None, connect: bool = True) -> None:
    """One series on `figure`: points joined by a line (or, connect=False, dots)."""
    import plotext

    signal = figure.signal(xs, ys, marker=plotext.marker(marker, pixel=color))
    if connect and len(xs) > 1:
        signal.lines()
    if label:
        signal.label(label)
    figure.draw(signal)


def axis_ticks(figure: Any, axis: str, low: float, high: float, ticks: list[float], labels: list[str]) -> None:
    ruler = figure.ruler(axis)
    ruler.lim(low, high)
    if ticks:
        ruler.ticks(ticks, labels)
