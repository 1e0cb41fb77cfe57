"""The confusion matrix as a rich Table, with a keyboard cursor over its cells.

Rows are true classes, columns predicted ones (sklearn's convention). Each cell's background
intensity is its row-normalised share: a green scale on the diagonal (correct), red elsewhere,
so a glance finds the classes that get confused. Cells stay narrow (names truncated) so ten
classes with row totals fit in 80 columns. Enter on a cell posts `CellChosen(true, predicted)`.
"""

from __future__ import annotations

import math

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

BACKGROUND = (32, 32, 36)
CORRECT = (30, 150, 70)
WRONG = (200, 45, 45)
MAX_LABEL_WIDTH = 10
MAX_HEADER_WIDTH = 4


def short_name(name: str, width: int) -> str:
    """`name` cut to `width` characters (class names label narrow columns)."""
    return name if len(name) <= width else name[:width]


def _blend(low: tuple[int, int, int], high: tuple[int, int, int], amount: float) -> str:
    amount = min(1.0, max(0.0, amount))
    r, g, b = (round(a + (c - a) * amount) for a, c in zip(low, high))
    return f"rgb({r},{g},{b})"


def cell_style(count: int, row_total: int, diagonal: bool) -> Style:
    """Background by row share: green scale on the diagonal, red scale off it."""
    share = count / row_total if row_total else 0.0
    # sqrt lifts the small off-diagonal shares (a 5% confusion is worth seeing).
    intensity = math.sqrt(share)
    if count == 0:
        return Style(color="grey42", bgcolor=_blend(BACKGROUND, BACKGROUND, 0), bold=diagonal)
    target = CORRECT if diagonal else WRONG
    return Style(color="white", bgcolor=_blend(BACKGROUND, target, 0.25 + 0.75 * intensity), bold=diagonal)


class ConfusionTable(Widget, can_focus=True):
    """Confusion counts with totals; arrows move the cursor, enter chooses a (true, predicted) cell."""

    DEFAULT_CSS = """
    ConfusionTable {
        width: auto;
        height: auto;
    }

    ConfusionTable:focus {
        background: $boost;
    }
    """

    BINDINGS = [
        Binding("up", "move(-1, 0)", "Move between cells", show=False),
        Binding("down", "move(1, 0)", "Move between cells", show=False),
        Binding("left", "move(0, -1)", "Move between cells", show=False),
        Binding("right", "move(0, 1)", "Move between cells", show=False),
        Binding("enter", "choose", "Filter by cell"),
    ]

    cursor: reactive[tuple[int, int]] = reactive((0, 0))
    chosen: reactive[tuple[int, int] | None] = reactive(None)

    class CellChosen(Message):
        """Enter on a cell: show misclassified samples of true class `true` predicted as `predicted`."""

        def __init__(self, table: ConfusionTable, true: int, predicted: int) -> None:
            super().__init__()
            self.table = table
            self.true = true
            self.predicted = predicted

        @property
        def control(self) -> ConfusionTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.matrix: tuple[tuple[int, ...], ...] = ()
        self.class_names: tuple[str, ...] = ()

    def set_matrix(self, matrix: tuple[tuple[int, ...], ...] | list, class_names: tuple[str, ...] | list) -> None:
        self.matrix = tuple(tuple(int(v) for v in row) for row in matrix)
        self.class_names = tuple(str(n) for n in class_names)
        self.set_reactive(ConfusionTable.chosen, None)
        self.cursor = (0, 0)
        self.refresh(layout=True)

    @property
    def size_classes(self) -> int:
        return len(self.matrix)

    def action_move(self, rows: int, cols: int) -> None:
        if not self.matrix:
            return
        last = self.size_classes - 1
        row, col = self.cursor
        self.cursor = (min(last, max(0, row + rows)), min(last, max(0, col + cols)))

    def action_choose(self) -> None:
        if not self.matrix:
            return
        true, predicted = self.cursor
        self.chosen = None if true == predicted else (true, predicted)
        self.post_message(self.CellChosen(self, true, predicted))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def watch_cursor(self) -> None:
        self.refresh()
        if self.is_mounted and self.has_focus:
            self.scroll_visible(animate=False)

    def watch_chosen(self) -> None:
        self.refresh()

    # ---- rendering ------------------------------------------------------------------------------

    def build_table(self) -> Table:
        names = self.class_names
        k = len(self.matrix)
        row_totals = [sum(row) for row in self.matrix]
        col_totals = [sum(self.matrix[r][c] for r in range(k)) for c in range(k)]
        biggest = max([0, *(v for row in self.matrix for v in row)])
        cell_width = max(2, len(str(biggest)), min(MAX_HEADER_WIDTH, max((len(n) for n in names), default=1)))
        label_width = min(MAX_LABEL_WIDTH, max([len("true\\pred"), *(len(n) for n in names)]))
        total_width = max(5, len(str(sum(row_totals))))
        table = Table(
            # No box: the shaded cells touch, and each carries its own leading space.
            box=None, padding=(0, 0), pad_edge=False, collapse_padding=True, expand=False,
        )
        cursor_row, cursor_col = self.cursor if self.has_focus else (-1, -1)
        table.add_column(Text("true\\pred", style="dim"), justify="left", width=label_width, no_wrap=True)
        for c, name in enumerate(names):
            header = Text(" " + short_name(name, cell_width).rjust(cell_width), style="bold underline" if c == cursor_col else "bold")
            table.add_column(header, justify="right", width=cell_width + 1, no_wrap=True)
        table.add_column(Text("total".rjust(total_width + 1), style="dim"), justify="right", width=total_width + 1, no_wrap=True)
        for r, row in enumerate(self.matrix):
            label = Text(short_name(names[r], label_width), style="bold underline" if r == cursor_row else "bold")
            cells: list[Text] = [label]
            for c, count in enumerate(row):
                style = cell_style(count, row_totals[r], r == c)
                if (r, c) == self.chosen:
                    style += Style(underline=True)
                if (r, c) == (cursor_row, cursor_col):
                    style += Style(reverse=True, bold=True)
                cells.append(Text(" " + str(count).rjust(cell_width), style=style))
            cells.append(Text(str(row_totals[r]), style="dim"))
            table.add_row(*cells)
        totals_row = [Text("total", style="dim")] + [Text(str(t), style="dim") for t in col_totals]
        totals_row.append(Text(str(sum(row_totals)), style="dim bold"))
        table.add_row(*totals_row, end_section=False)
        return table

    def render(self) -> Table | Text:
        if not self.matrix:
            return Text("no evaluation yet", style="dim")
        return self.build_table()

    # ---- what the user sees, as numbers (tests compare these with sklearn) ----------------------

    def displayed_counts(self) -> list[list[int]]:
        """The count cells of the rendered table, rows = true, columns = predicted."""
        columns = self.build_table().columns
        k = len(self.matrix)
        return [[int(str(columns[c + 1]._cells[r]).strip()) for c in range(k)] for r in range(k)]

    def displayed_totals(self) -> tuple[list[int], list[int]]:
        """(row totals, column totals) as rendered."""
        columns = self.build_table().columns
        k = len(self.matrix)
        rows = [int(str(columns[k + 1]._cells[r]).strip()) for r in range(k)]
        cols = [int(str(columns[c + 1]._cells[k]).strip()) for c in range(k)]
        return rows, cols
