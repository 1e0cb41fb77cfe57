"""The data tab's inspector: what is in a data file, seen cheaply (kerastui.core.datasets.inspect,
run in a thread worker by DataFileView), or an image folder's classes and thumbnails.

For a file of arrays (their shapes, dtypes, ranges and NaN/inf counts are in the form's list
above): the labels' class balance or a histogram of the targets, one sample drawn as its kind (an
image by the terminal's image protocol where there is one, else in half blocks; a signal as a
line per channel; a 2-D grid as a heat map; a table row as its features) and the inspector's
notes (channels first? NaN in the sample?). For a folder of images: images per class and split,
a thumbnail of each class as the model sees it, and the files that cannot be read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from kerastui.tui.widgets.data_look import ARRAYS, IMAGES, DataLook
from kerastui.tui.widgets.image_view import colour_allowed
from kerastui.tui.widgets.picture import picture

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.datasets.inspect import Sample

THUMBNAIL_WIDTH = 12  # columns per thumbnail, as the data tab's samples
SAMPLE_IMAGE_WIDTH = 32  # columns for an image sample
SIGNAL_WIDTH = 60  # columns of the plain chart, where the inspector's drawing fails
MAX_DRAWING_WIDTH = 100  # columns for a signal's chart or a heat map
MAX_CHART_WIDTH = 64  # columns for the labels' bars
MAX_SPLIT_CLASSES = 20  # class rows in a folder's counts table


def unit_image(sample: Sample) -> np.ndarray:
    """An image sample's values mapped to 0..1 by its low..high (NaN black)."""
    values = np.asarray(sample.values, dtype=np.float64)
    span = sample.high - sample.low
    unit = (values - sample.low) / span if span > 0 else np.zeros_like(values)
    return np.clip(np.nan_to_num(unit), 0.0, 1.0)


def check_styles(drawing: object) -> None:
    """Raise where a drawing's text names a style Textual cannot parse (it would fail at paint)."""
    if isinstance(drawing, Text):
        for span in drawing.spans:
            if isinstance(span.style, str) and span.style:
                Style.parse(span.style)


def folder_counts(folder: dict, limit: int = MAX_SPLIT_CLASSES) -> Table:
    """Images per class (rows) and split (columns), with each split's total."""
    counts: dict[str, dict[str, int]] = folder.get("counts", {})
    splits = list(counts)
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    table.add_column("class")
    for split in splits:
        table.add_column(split, justify="right")
    names = list(dict.fromkeys(name for per_class in counts.values() for name in per_class))
    for name in names[:limit]:
        table.add_row(name, *(f"{counts[split].get(name, 0):,}" for split in splits))
    if len(names) > limit:
        table.add_row(Text(f"… {len(names) - limit} more", style="dim"), *("" for _ in splits))
    table.add_row(Text("total", style="bold"), *(f"{sum(counts[s].values()):,}" for s in splits))
    return table


class DataInspector(Vertical):
    """Shows a DataLook's labels, sample and notes (arrays) or classes and thumbnails (images)."""

    DEFAULT_CSS = """
    DataInspector {
        height: auto;
        margin-top: 1;
    }

    DataInspector > .inspect-title {
        text-style: bold;
        height: auto;
    }

    DataInspector > Static {
        height: auto;
    }

    DataInspector #inspect-sample, DataInspector #inspect-thumbnails {
        height: auto;
    }

    DataInspector .thumbnail {
        margin-right: 2;
    }

    DataInspector #inspect-notes {
        color: $warning;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.look: DataLook | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="inspect-title", classes="inspect-title")
        yield Static("", id="inspect-labels")
        yield Static("", id="inspect-sample-caption")
        yield Horizontal(id="inspect-sample")
        yield Horizontal(id="inspect-thumbnails")
        yield Static("", id="inspect-notes")

    def show(self, look: DataLook) -> None:
        if look is self.look:
            return
        self.look = look
        if not self.is_mounted:
            return
        self.query_one("#inspect-sample", Horizontal).remove_children()
        self.query_one("#inspect-thumbnails", Horizontal).remove_children()
        if look.form == ARRAYS:
            self._show_arrays(look)
        elif look.form == IMAGES:
            self._show_folder(look)

    def _static(self, id: str, content: object = "") -> None:
        widget = self.query_one(f"#{id}", Static)
        widget.update(content)
        widget.display = bool(content.plain if isinstance(content, Text) else content)

    @property
    def colour(self) -> bool:
        return not self.app.no_color and colour_allowed()

    # ---- a file of arrays ---------------------------------------------------------------------

    def _show_arrays(self, look: DataLook) -> None:
        from kerastui.cli.data_drawing import label_chart

        inspection = look.inspection
        title = Text("Inspector", style="bold")
        if inspection is None:
            title.append("  nothing to inspect until the file reads (see above)", style="dim")
            for id in ("inspect-labels", "inspect-sample-caption", "inspect-notes"):
                self._static(id)
            self._static("inspect-title", title)
            return
        from kerastui.core.datasets.inspect import bytes_text

        read = inspection.bytes_read
        title.append(f"  {bytes_text(inspection.size_bytes)} file, {bytes_text(read)} read in {look.seconds:.2f} s",
                     style="dim")
        self._static("inspect-title", title)
        charts = Text("\n").join([label_chart(labels, min(self.drawing_width, MAX_CHART_WIDTH), self.colour) for labels in inspection.labels])
        self._static("inspect-labels", charts)
        sample = inspection.sample
        if sample is None:
            self._static("inspect-sample-caption")
        else:
            self._static("inspect-sample-caption", self._caption(sample))
            self._draw_sample(sample)
        notes = Text("\n").join([Text(f"• {note}") for note in inspection.notes])
        self._static("inspect-notes", notes)

    @staticmethod
    def _caption(sample: Sample) -> Text:
        caption = Text(f"sample {sample.row:,} of {sample.array}", style="bold")
        if sample.label:
            caption.append(f", label {sample.label}")
        shape = "×".join(str(d) for d in sample.values.shape)
        kind = "heat map" if sample.kind == "grid" else sample.kind
        caption.append(f"  ({kind}, {shape})", style="dim")
        for note in sample.notes:
            caption.append(f"\n  {note}", style="dim")
        return caption

    def _draw_sample(self, sample: Sample) -> None:
        row = self.query_one("#inspect-sample", Horizontal)
        if sample.kind == "image":  # by the terminal's image protocol where it has one
            pixels = unit_image(sample)
            row.mount(picture(pixels, width=min(SAMPLE_IMAGE_WIDTH, max(8, pixels.shape[1] * 2)),
                              classes="inspect-picture"))
            return
        from kerastui.cli.data_drawing import sample_body

        # A signal's lines per channel, a grid's heat map, a row's features: as `kerastui data` draws them.
        try:
            drawing = sample_body(sample, self.drawing_width, self.colour)
            check_styles(drawing)
        except Exception as error:  # noqa: BLE001 - a drawing that fails must not take the app down
            row.mount(self._sample_view(sample, error))
            return
        row.mount(Static(drawing, classes="inspect-drawing"))

    @staticmethod
    def _sample_view(sample: Sample, error: Exception) -> Vertical:
        """The app's own SampleView, where the inspector's drawing failed (and why, dimly)."""
        from kerastui.tui.widgets.sample_view import SIGNAL, TABULAR, TEXT, SampleView

        kind = {"signal": SIGNAL, "text": TEXT}.get(sample.kind, TABULAR)
        view = SampleView(kind, feature_names=sample.names, width=SIGNAL_WIDTH if kind == SIGNAL else None,
                          classes="inspect-sample-view")
        view.sample, view.caption = np.asarray(sample.values), f"(drawn plainly: {error})"
        return view

    @property
    def drawing_width(self) -> int:
        width = self.content_region.width or self.app.size.width - 4
        return max(30, min(MAX_DRAWING_WIDTH, width - 1))

    # ---- a folder of images -------------------------------------------------------------------

    def _show_folder(self, look: DataLook) -> None:
        folder = look.folder
        self._static("inspect-sample-caption")
        if not folder:
            self._static("inspect-title", Text("Inspector  nothing to inspect until the folder reads (see above)",
                                               style="dim"))
            for id in ("inspect-labels", "inspect-notes"):
                self._static(id)
            return
        title = Text("Images per class", style="bold")
        height, width = folder.get("image_size", (0, 0))
        title.append(f"  each read as {height}x{width} {folder.get('color', 'rgb')}, in {look.seconds:.2f} s",
                     style="dim")
        self._static("inspect-title", title)
        self.query_one("#inspect-labels", Static).update(folder_counts(folder))
        self.query_one("#inspect-labels", Static).display = True
        thumbnails = self.query_one("#inspect-thumbnails", Horizontal)
        widgets = []
        for thumb in look.thumbnails:
            caption = thumb.class_name[:THUMBNAIL_WIDTH]
            if thumb.pixels is None:
                widgets.append(Static(Text(f"{caption}\n(unreadable)", style="dim"), classes="thumbnail"))
            else:
                widgets.append(picture(thumb.pixels, caption, width=THUMBNAIL_WIDTH, classes="thumbnail"))
        thumbnails.mount_all(widgets)
        notes = []
        if folder.get("skipped_count"):
            notes.append(f"• {folder['skipped_count']:,} files skipped (unreadable): "
                         + ", ".join(f"{file} ({why})" for file, why in folder.get("skipped", [])[:3]))
        self._static("inspect-notes", Text("\n".join(notes)))
