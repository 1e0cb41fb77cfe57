"""A first look at the data, drawn by kind (kerastui.tui.widgets.sample_view): a row of images
or signals with their labels, a few texts as their words, or the first rows of a table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from kerastui.tui.widgets.sample_view import IMAGE, SIGNAL, TEXT, SampleView

if TYPE_CHECKING:  # pragma: no cover
    from kerastui.core.data import Dataset

SAMPLE_COUNT = 6
IMAGE_WIDTH = 12  # columns per image: 8x8 digits are enlarged to read
SIGNAL_WIDTH = 36  # columns per signal chart
IMAGE_GAP = 2  # columns between images (.sample-image margin-right)
TEXT_SAMPLES = 3
TABLE_ROWS = 6
TABLE_FEATURES = 6


def sample_indices(labels: np.ndarray, count: int = SAMPLE_COUNT) -> list[int]:
    """The first example of as many different classes as possible, in class order, then fill up.
    Targets that are not one class per sample (a label matrix, regression values): the first ones."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind == "f":
        return list(range(min(count, len(labels))))
    chosen: list[int] = []
    for label in np.unique(labels):
        if len(chosen) == count:
            break
        chosen.append(int(np.argmax(labels == label)))
    for index in range(len(labels)):
        if len(chosen) >= count:
            break
        if index not in chosen:
            chosen.append(index)
    return chosen


def label_text(dataset: Dataset, index: int) -> str:
    """Sample `index`'s training label as its task reads it: a class name, the labels that are on
    (multi-label), or the target values (regression)."""
    y = np.asarray(dataset.y_train[index])
    names = dataset.class_names
    if dataset.task == "regression" or y.dtype.kind == "f":
        values = np.atleast_1d(y).astype(float)
        return ", ".join(f"{v:.3g}" for v in values)
    if y.ndim == 1:  # a 0/1 row: the labels that are on
        on = [names[i] if i < len(names) else str(i) for i in np.flatnonzero(y)]
        return ", ".join(on) if on else "(none)"
    label = int(y)
    return names[label] if label < len(names) else str(label)


def feature_table(dataset: Dataset, rows: int = TABLE_ROWS, features: int = TABLE_FEATURES) -> Table:
    """The first rows of a tabular training set: a few standardised features and the label."""
    x = dataset.x_train
    shown = min(features, x.shape[1])
    table = Table(box=None, padding=(0, 1), header_style="bold")
    names = dataset.feature_names or tuple(f"x{column}" for column in range(x.shape[1]))
    for column in range(shown):
        table.add_column(names[column], justify="right")
    if x.shape[1] > shown:
        table.add_column(f"… {x.shape[1] - shown} more", justify="center")
    table.add_column("target" if dataset.task == "regression" else "label")
    for row in range(min(rows, len(x))):
        cells = [f"{x[row, column]:.2f}" for column in range(shown)]
        if x.shape[1] > shown:
            cells.append("…")
        cells.append(label_text(dataset, row))
        table.add_row(*cells)
    return table


class SampleImages(Vertical):
    """Shows a Dataset by its kind: images or signals in a row, texts one under another, a
    feature table for tabular data.

    Only as many pictures as fit the width are shown: at 80 columns six images (84 columns with
    their gaps) cut the last one in half.
    """

    DEFAULT_CSS = """
    SampleImages {
        height: auto;
        margin-top: 1;
    }

    .pane-title {
        text-style: bold;
        height: auto;
    }

    #samples-row {
        height: auto;
    }

    #samples-row.-texts {
        layout: vertical;
    }

    .sample-image {
        margin-right: 2;
    }

    .sample-words {
        width: 100%;
        margin-bottom: 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._width_each = IMAGE_WIDTH

    def on_resize(self) -> None:
        self._fit_images()

    def _fit_images(self) -> None:
        width = self.content_region.width
        if width <= 0:
            return
        fitting = max(1, (width + IMAGE_GAP) // (self._width_each + IMAGE_GAP))
        for position, view in enumerate(self.query(".sample-image")):
            view.display = position < fitting

    def compose(self) -> ComposeResult:
        yield Static("", id="samples-title", classes="pane-title")
        yield Horizontal(id="samples-row")

    def show_message(self, message: str, style: str = "dim") -> None:
        self.query_one("#samples-title", Static).update(Text(message, style=style))
        self.query_one("#samples-row", Horizontal).remove_children()

    def show(self, dataset: Dataset) -> None:
        title = self.query_one("#samples-title", Static)
        row = self.query_one("#samples-row", Horizontal)
        row.remove_children()
        kind = dataset.kind
        row.set_class(kind == TEXT, "-texts")
        if kind in (IMAGE, SIGNAL):
            what = "Samples" if kind == IMAGE else "Signals (a line per channel)"
            title.update(Text(f"{what} from {dataset.name} (training set)", style="bold"))
            self._width_each = IMAGE_WIDTH if kind == IMAGE else SIGNAL_WIDTH
            views = []
            for index in sample_indices(dataset.y_train):
                caption = label_text(dataset, index)[: self._width_each]
                view = SampleView(kind, width=self._width_each if kind == SIGNAL else IMAGE_WIDTH, classes="sample-image")
                view.sample, view.caption = np.asarray(dataset.x_train[index]), caption
                views.append(view)
            row.mount_all(views)
            self.call_after_refresh(self._fit_images)
        elif kind == TEXT:
            words = dataset.index_words
            how = "decoded with its word index" if words else "as word indices (no word index cached)"
            title.update(Text(f"Texts from {dataset.name} (training set, {how})", style="bold"))
            views = []
            for index in sample_indices(dataset.y_train, TEXT_SAMPLES):
                view = SampleView(TEXT, index_words=words, classes="sample-words")
                view.sample, view.caption = np.asarray(dataset.x_train[index]), f"label: {label_text(dataset, index)}"
                views.append(view)
            row.mount_all(views)
        else:
            title.update(Text(f"First rows of {dataset.name} (standardised features)", style="bold"))
            row.mount(Static(feature_table(dataset), classes="sample-table"))
