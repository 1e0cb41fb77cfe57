"""A first look at the data: a row of sample images with their labels, or the first rows of a table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from kerastui.tui.widgets.picture import picture

if TYPE_CHECKING:  # pragma: no cover
    from kerastui.core.data import Dataset

SAMPLE_COUNT = 6
IMAGE_WIDTH = 12  # columns per image: 8x8 digits are enlarged to read
IMAGE_GAP = 2  # columns between images (.sample-image margin-right in kerastui.tcss)
TABLE_ROWS = 6
TABLE_FEATURES = 6


def sample_indices(labels: np.ndarray, count: int = SAMPLE_COUNT) -> list[int]:
    """The first example of as many different classes as possible, in class order, then fill up."""
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


def feature_table(dataset: Dataset, rows: int = TABLE_ROWS, features: int = TABLE_FEATURES) -> Table:
    """The first rows of a tabular training set: a few standardised features and the label."""
    x, y = dataset.x_train, dataset.y_train
    shown = min(features, x.shape[1])
    table = Table(box=None, padding=(0, 1), header_style="bold")
    names = dataset.feature_names or tuple(f"x{column}" for column in range(x.shape[1]))
    for column in range(shown):
        table.add_column(names[column], justify="right")
    if x.shape[1] > shown:
        table.add_column(f"… {x.shape[1] - shown} more", justify="center")
    table.add_column("label")
    for row in range(min(rows, len(x))):
        cells = [f"{x[row, column]:.2f}" for column in range(shown)]
        if x.shape[1] > shown:
            cells.append("…")
        label = int(y[row])
        cells.append(dataset.class_names[label] if label < len(dataset.class_names) else str(label))
        table.add_row(*cells)
    return table


class SampleImages(Vertical):
    """Shows a Dataset: images for image data, a feature table for tabular data.

    Only as many images as fit the width are shown: at 80 columns six (84 columns with their gaps)
    cut the last one in half.
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

    .sample-image {
        margin-right: 2;
    }
    """

    def on_resize(self) -> None:
        self._fit_images()

    def _fit_images(self) -> None:
        width = self.content_region.width
        if width <= 0:
            return
        fitting = max(1, (width + IMAGE_GAP) // (IMAGE_WIDTH + IMAGE_GAP))
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
        if dataset.kind == "image":
            title.update(Text(f"Samples from {dataset.name} (training set)", style="bold"))
            views = []
            for index in sample_indices(dataset.y_train):
                label = int(dataset.y_train[index])
                name = dataset.class_names[label] if label < len(dataset.class_names) else str(label)
                views.append(picture(dataset.x_train[index], name[:IMAGE_WIDTH], width=IMAGE_WIDTH, classes="sample-image"))
            row.mount_all(views)
            self.call_after_refresh(self._fit_images)
        else:
            title.update(Text(f"First rows of {dataset.name} (standardised features)", style="bold"))
            row.mount(Static(feature_table(dataset), classes="sample-table"))
