"""An Inspection (kerastui.core.datasets.inspect) drawn for the terminal as rich renderables:
`kerastui data` prints them, and the TUI's data tab can show them in a Static.

    inspection_renderables(inspection, width, colour=True) -> list of renderables, top to bottom
    arrays_table(inspection, width)                      -> the arrays: shape, dtype, role, range, NaN/inf
    label_chart(labels, width, colour)                   -> class balance bars, or a histogram of targets
    sample_drawing(sample, width, colour)                -> the sample as its kind, with a caption:
        image_text    half blocks (two pixel rows a line), ASCII shades without colour
        heat_map_text half blocks on a colour ramp with its scale; NaN cells blank
        signal_text   plotext lines per channel (one chart each without colour)
        tabular_text  name: value pairs

Nothing here imports Textual; `colour=False` gives text without any colour (for --plain, pipes
and NO_COLOR), drawn with characters alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from kerastui.core.datasets.inspect import (
    GRID,
    IMAGE,
    SIGNAL,
    TEXT,
    ArraySummary,
    Inspection,
    LabelSummary,
    Sample,
    bytes_text,
    number_text,
)

UPPER_HALF_BLOCK = "▀"
ASCII_SHADES = " .:-=+*#%@"  # dark to bright
BAR = "█"
PARTIAL_BARS = " ▏▎▍▌▋▊▉"  # eighths of a cell, for bars that end mid-cell
# A colour ramp for heat maps (viridis's stops): dark blue through green to yellow, readable on
# dark and light terminals, and in order for people who do not tell red from green.
RAMP = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
MISSING_CELL = (90, 90, 90)  # NaN cells (a land mask): grey
CHANNEL_COLOURS = ("cyan", "orange", "green", "magenta", "yellow", "blue")
MAX_CHANNELS = 6
MAX_CLASSES_SHOWN = 30
MAX_FEATURES = 40
MAX_IMAGE_COLUMNS = 96
SMALL_IMAGE_COLUMNS = 32  # an 8x8 digit is enlarged to about this many columns
SIGNAL_HEIGHT = 12


# ---------------------------------------------------------------- the whole inspection

def inspection_renderables(inspection: Inspection, width: int = 80, colour: bool = True) -> list[RenderableType]:
    """What `kerastui data` prints: a heading, the arrays, each split's labels, the sample, notes."""
    parts: list[RenderableType] = [heading(inspection)]
    if inspection.arrays:
        parts.append(arrays_table(inspection, width))
    for labels in inspection.labels:
        parts.append(label_chart(labels, width, colour))
    if inspection.sample is not None:
        parts.append(sample_drawing(inspection.sample, width, colour))
    if inspection.notes:
        notes = Text()
        for index, note in enumerate(inspection.notes):
            notes.append(("\n" if index else "") + f"note: {note}", style="yellow" if colour else "")
        parts.append(notes)
    return parts


def heading(inspection: Inspection) -> Text:
    text = Text(inspection.source, style="bold")
    size = f", {bytes_text(inspection.size_bytes)}" if inspection.size_bytes else ""
    text.append(f"  {inspection.form_name}{size}")
    roles = [f"{role} = {name}" for role, name in (("x", inspection.x), ("y", inspection.y),
                                                    ("x_test", inspection.x_test), ("y_test", inspection.y_test)) if name]
    if roles:
        text.append("  (" + ", ".join(roles) + ")", style="dim")
    return text


def arrays_table(inspection: Inspection, width: int = 80) -> Table:
    """One row per array; columns a narrow terminal cannot hold are dropped (read, then units)."""
    with_dimensions = any(a.dimensions for a in inspection.arrays)
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold", expand=False)
    table.add_column("name", no_wrap=True, overflow="fold")
    table.add_column("shape", no_wrap=True)
    if with_dimensions and width >= 100:
        table.add_column("dimensions", no_wrap=True, overflow="ellipsis", max_width=28)
    table.add_column("dtype", no_wrap=True)
    table.add_column("role", no_wrap=True)
    table.add_column("range", no_wrap=True)
    table.add_column("NaN", justify="right", no_wrap=True)
    table.add_column("inf", justify="right", no_wrap=True)
    if width >= 90:
        table.add_column("read", no_wrap=True, style="dim")
    for entry in inspection.arrays:
        table.add_row(*_array_cells(entry, with_dimensions and width >= 100, width >= 90))
    return table


def _array_cells(entry: ArraySummary, dimensions: bool, read: bool) -> list[str]:
    shape = "(" + ", ".join(f"{d:,}" for d in entry.shape) + ("," if len(entry.shape) == 1 else "") + ")"
    values = entry.values
    if values is None:
        cells = [entry.note or "-", "", ""]
    else:
        units = f" {entry.units}" if entry.units else ""
        floats = np.dtype(entry.dtype).kind == "f" if _parses(entry.dtype) else False
        cells = [values.range_text() + units, f"{values.nan_count:,}" if floats else "-",
                 f"{values.infinite_count:,}" if floats else "-"]
    row = [entry.name, shape]
    if dimensions:
        row.append(", ".join(entry.dimensions))
    row += [entry.dtype, entry.role, *cells]
    if read:
        row.append(values.extent_text() if values is not None else "")
    return row


def _parses(dtype: str) -> bool:
    try:
        np.dtype(dtype)
        return True
    except TypeError:
        return False


# ---------------------------------------------------------------- labels

def label_chart(labels: LabelSummary, width: int = 80, colour: bool = True) -> Text:
    """Class balance as one bar per class (count and share), or the targets' histogram."""
    title = Text(f"{labels.array} ({labels.role})", style="bold")
    if labels.task:
        title.append(f": {labels.task}")
    title.append(f", {labels.rows_total:,} labels" if labels.whole else
                 f", counted on {labels.rows_read:,} of {labels.rows_total:,}", style="dim")
    if labels.note:
        title.append(f" ({labels.note})", style="dim")
    if labels.classes:
        return Text("\n").join([title, _class_bars(labels, width, colour)])
    if labels.histogram is not None:
        return Text("\n").join([title, _histogram_bars(labels, width, colour)])
    return title


def _class_bars(labels: LabelSummary, width: int, colour: bool) -> Text:
    shown = sorted(labels.classes, key=lambda c: -c.count)[:MAX_CLASSES_SHOWN] \
        if len(labels.classes) > MAX_CLASSES_SHOWN else list(labels.classes)
    total = sum(c.count for c in labels.classes) or 1
    names = [c.name[:20] for c in shown]
    name_width = max(len(n) for n in names)
    count_width = max(len(f"{c.count:,}") for c in shown)
    bar_width = max(4, min(60, width - name_width - count_width - 12))
    largest = max(c.count for c in shown) or 1
    lines = []
    for name, count in zip(names, (c.count for c in shown)):
        line = Text(f"  {name:<{name_width}} ")
        line.append(text_bar(count / largest, bar_width), style="cyan" if colour else "")
        line.append(f" {count:>{count_width},} {100 * count / total:5.1f}%")
        lines.append(line)
    if len(labels.classes) > len(shown):
        lines.append(Text(f"  … {len(labels.classes) - len(shown)} more classes (the {len(shown)} largest shown)",
                          style="dim"))
    return Text("\n").join(lines)


def _histogram_bars(labels: LabelSummary, width: int, colour: bool) -> Text:
    histogram = labels.histogram
    edges = [number_text(e) for e in histogram.edges]
    edge_width = max(len(e) for e in edges)
    count_width = max(len(f"{c:,}") for c in histogram.counts)
    bar_width = max(4, min(60, width - 2 * edge_width - count_width - 10))
    largest = max(histogram.counts) or 1
    lines = []
    for index, count in enumerate(histogram.counts):
        line = Text(f"  {edges[index]:>{edge_width}} – {edges[index + 1]:<{edge_width}} ")
        line.append(text_bar(count / largest, bar_width), style="green" if colour else "")
        line.append(f" {count:>{count_width},}")
        lines.append(line)
    return Text("\n").join(lines)


def text_bar(share: float, width: int) -> str:
    """A bar `share` (0..1) of `width` cells, to an eighth of a cell; a non-zero share shows."""
    eighths = int(round(max(0.0, min(1.0, share)) * width * 8))
    if share > 0 and eighths == 0:
        eighths = 1
    whole, part = divmod(eighths, 8)
    return (BAR * whole + (PARTIAL_BARS[part] if part else "")).ljust(width)


# ---------------------------------------------------------------- the sample

def sample_drawing(sample: Sample, width: int = 80, colour: bool = True) -> Group:
    """The sample as its kind, under a caption naming where it comes from and its label."""
    caption = Text(f"sample {sample.row:,} of {sample.array}", style="bold")
    if sample.label:
        caption.append(f"  label {sample.label}")
    caption.append(f"  ({sample.kind}{_shape_words(sample)})", style="dim")
    parts: list[RenderableType] = [caption]
    for note in sample.notes:
        parts.append(Text(f"  {note}", style="dim"))
    parts.append(sample_body(sample, width, colour))
    return Group(*parts)


def sample_body(sample: Sample, width: int = 80, colour: bool = True) -> RenderableType:
    if sample.kind == IMAGE:
        return image_text(sample, width, colour)
    if sample.kind == GRID:
        return heat_map_text(sample, width, colour)
    if sample.kind == SIGNAL:
        return signal_text(sample, width, colour=colour)
    return tabular_text(sample, width)


def _shape_words(sample: Sample) -> str:
    shape = sample.values.shape
    if sample.kind == SIGNAL:
        return f": {shape[0]:,} steps × {shape[1]} channel{'s' if shape[1] != 1 else ''}"
    if sample.kind in (IMAGE, GRID):
        channels = f" × {shape[2]}" if len(shape) == 3 else ""
        return f": {shape[0]} × {shape[1]}{channels}"
    return f": {shape[0]:,} {'values' if sample.kind != TEXT else 'positions'}"


def _unit(sample: Sample) -> np.ndarray:
    """The values mapped to 0..1 by the sample's low..high (NaN stays NaN)."""
    values = np.asarray(sample.values, dtype=np.float64)
    span = sample.high - sample.low
    scaled = (values - sample.low) / span if span > 0 else np.zeros_like(values)
    return np.clip(scaled, 0.0, 1.0, out=scaled, where=~np.isnan(scaled))


def _columns_for(image_width: int, width: int) -> int:
    """Columns to draw an image of `image_width` pixels: small ones enlarged by whole pixels,
    large ones shrunk to the terminal."""
    columns = image_width * max(1, SMALL_IMAGE_COLUMNS // image_width) if image_width < SMALL_IMAGE_COLUMNS else image_width
    return max(1, min(columns, width - 2, MAX_IMAGE_COLUMNS))


def _resized(grid: np.ndarray, columns: int) -> np.ndarray:
    """Nearest-neighbour resize to `columns`, keeping the aspect ratio (a text cell is two pixel rows)."""
    height, current = grid.shape[:2]
    rows = max(1, round(height * columns / current))
    row_index = np.minimum((np.arange(rows) * height / rows).astype(int), height - 1)
    column_index = np.minimum((np.arange(columns) * current / columns).astype(int), current - 1)
    return grid[row_index][:, column_index]


def image_text(sample: Sample, width: int = 80, colour: bool = True) -> Text:
    """An image in half blocks (two pixel rows a line; greys and RGB), else in ASCII shades."""
    unit = _unit(sample)
    rgb = np.repeat(unit[:, :, None], 3, axis=2) if unit.ndim == 2 else unit[:, :, :3]
    if rgb.shape[2] == 1:
        rgb = np.repeat(rgb, 3, axis=2)
    rgb = np.nan_to_num(_resized(rgb, _columns_for(rgb.shape[1], width)))
    return _half_blocks(rgb, np.zeros(rgb.shape[:2], dtype=bool), colour)


def heat_map_text(sample: Sample, width: int = 80, colour: bool = True) -> Text:
    """A 2-D grid on the colour ramp (ASCII shades without colour), NaN cells grey (blank),
    with a scale line: low, the ramp, high."""
    unit = _resized(_unit(sample), _columns_for(sample.values.shape[1], width))
    missing = np.isnan(unit)
    rgb = ramp_colours(np.nan_to_num(unit))
    rgb[missing] = np.asarray(MISSING_CELL) / 255
    text = _half_blocks(rgb, missing, colour, shades_of=np.nan_to_num(unit))
    scale = Text("\n" + f"{number_text(sample.low)} ")
    steps = 16
    if colour:
        for step in range(steps):
            r, g, b = (int(round(c * 255)) for c in ramp_colours(np.array([step / (steps - 1)]))[0])
            scale.append("█", style=f"rgb({r},{g},{b})")
    else:
        scale.append("".join(ASCII_SHADES[1 + int(round(step / (steps - 1) * (len(ASCII_SHADES) - 2)))]
                             for step in range(steps)))
    scale.append(f" {number_text(sample.high)}")
    if missing.any():
        scale.append("   NaN: " + ("grey" if colour else "blank"), style="dim")
    text.append_text(scale)
    return text


def ramp_colours(unit: np.ndarray) -> np.ndarray:
    """Values in 0..1 -> RGB in 0..1 along RAMP (linear between its stops)."""
    stops = np.asarray(RAMP, dtype=np.float64) / 255
    position = np.clip(unit, 0.0, 1.0) * (len(stops) - 1)
    low = np.minimum(position.astype(int), len(stops) - 2)
    fraction = (position - low)[..., None]
    return stops[low] * (1 - fraction) + stops[low + 1] * fraction


def _half_blocks(rgb: np.ndarray, missing: np.ndarray, colour: bool, shades_of: np.ndarray | None = None) -> Text:
    """(H, W, 3) in 0..1 as ceil(H/2) lines: '▀' in the top pixel's colour on the bottom's. Without
    colour, one shade per cell from the mean brightness of its two pixels (missing cells blank)."""
    height = rgb.shape[0]
    if height % 2:  # the last line needs a bottom pixel: black, or a missing cell
        rgb = np.concatenate([rgb, np.zeros((1, *rgb.shape[1:]))])
        missing = np.concatenate([missing, np.ones((1, missing.shape[1]), dtype=bool)])
        if shades_of is not None:
            shades_of = np.concatenate([shades_of, shades_of[-1:]])
    text = Text(no_wrap=True, overflow="crop")
    brightness = (shades_of if shades_of is not None else rgb.mean(axis=2))
    last = len(ASCII_SHADES) - 1
    for row in range(0, height, 2):
        if row:
            text.append("\n")
        if colour:
            for top, bottom in zip(rgb[row], rgb[row + 1]):
                text.append(UPPER_HALF_BLOCK, style=f"{_rgb(top)} on {_rgb(bottom)}")
            continue
        cells = []
        for column in range(rgb.shape[1]):
            gone = missing[row, column] and missing[row + 1, column]
            pair = [brightness[r, column] for r in (row, row + 1) if not missing[r, column]]
            level = sum(pair) / len(pair) if pair else 0.0
            # A present cell is never blank (shade 1 at least), so blank means missing.
            cells.append(" " if gone else ASCII_SHADES[max(1 if shades_of is not None else 0,
                                                           int(round(level * last)))])
        text.append("".join(cells))
    return text


def _rgb(values: np.ndarray) -> str:
    r, g, b = (int(round(float(v) * 255)) for v in values)
    return f"rgb({r},{g},{b})"


def decimated(values: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of a long series thinned to each bucket's min and max, in order, so a
    spike still shows (two points per bucket)."""
    count = len(values)
    if count <= 2 * buckets:
        return np.arange(count), values
    edges = np.linspace(0, count, buckets + 1).astype(int)
    steps, kept = [], []
    for start, stop in zip(edges[:-1], edges[1:]):
        part = values[start:stop]
        low, high = int(np.nanargmin(part)) if np.isfinite(part).any() else 0, \
            int(np.nanargmax(part)) if np.isfinite(part).any() else 0
        for index in sorted({low, high}):
            steps.append(start + index)
            kept.append(part[index])
    return np.asarray(steps), np.asarray(kept)


def signal_text(sample: Sample, width: int = 80, height: int = SIGNAL_HEIGHT, colour: bool = True) -> Text:
    """A signal (T, C) as plotext lines, one colour per channel (at most MAX_CHANNELS) with a key;
    without colour, one small chart per channel, one above the other."""
    channels = np.asarray(sample.values, dtype=np.float64)
    shown = min(channels.shape[1], MAX_CHANNELS)
    names = [sample.names[c] if c < len(sample.names) else f"ch {c}" for c in range(shown)]
    chart_width = max(20, min(width - 1, 120))
    if colour:
        chart = _plot(channels, range(shown), chart_width, height, colour=True)
        key = Text("  ")
        for channel, name in enumerate(names):
            key.append("━━ ", style=CHANNEL_COLOURS[channel % len(CHANNEL_COLOURS)])
            key.append(f"{name}  ")
        text = Text.from_ansi(chart, no_wrap=True)
        text.append("\n")
        text.append_text(key)
    else:
        lines = []
        for channel, name in enumerate(names):
            lines.append(Text(f"  {name}"))
            lines.append(Text(_plot(channels, [channel], chart_width, max(8, height * 2 // 3), colour=False),
                              no_wrap=True))
        text = Text("\n").join(lines)
    if channels.shape[1] > shown:
        text.append(f"\n  ({shown} of {channels.shape[1]} channels drawn)", style="dim")
    return text


def _plot(channels: np.ndarray, which: Any, width: int, height: int, colour: bool) -> str:
    import plotext

    figure = plotext.figure
    figure.clear()
    figure.plot_size(width, height)
    figure.theme("simple")
    for channel in which:
        steps, values = decimated(channels[:, channel], max(16, width))
        finite = np.isfinite(values)
        if not finite.any():
            continue
        pixel = CHANNEL_COLOURS[channel % len(CHANNEL_COLOURS)] if colour else None
        signal = figure.signal(steps[finite].tolist(), values[finite].tolist(),
                               marker=plotext.marker("braille", pixel=pixel) if pixel else plotext.marker("braille"))
        if finite.sum() > 1:
            signal.lines()
        figure.draw(signal)
    return figure.build().string(colorless=not colour).rstrip("\n")


def tabular_text(sample: Sample, width: int = 80) -> Text:
    """A row as `name: value` pairs, as many to a line as the width holds (the first MAX_FEATURES)."""
    values = np.asarray(sample.values).reshape(-1)
    shown = min(len(values), MAX_FEATURES)
    if sample.kind == TEXT:
        words = " ".join(str(int(v)) for v in values[:shown * 4] if v != 0)
        return Text(f"  word indices: {words or '(padding only)'}" + (" …" if len(values) > shown * 4 else ""))
    names = [sample.names[i] if i < len(sample.names) else f"x{i}" for i in range(shown)]
    cells = [f"{name[:16]}: {number_text(float(v))}" for name, v in zip(names, values[:shown])]
    cell_width = max(len(c) for c in cells) + 2 if cells else 1
    per_line = max(1, (width - 2) // cell_width)
    lines = ["  " + "".join(c.ljust(cell_width) for c in cells[start:start + per_line]).rstrip()
             for start in range(0, len(cells), per_line)]
    text = Text("\n".join(lines))
    if len(values) > shown:
        text.append(f"\n  … the first {shown} of {len(values):,} values", style="dim")
    return text
