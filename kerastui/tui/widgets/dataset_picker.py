"""Pick the data: built-in sets with shape, classes, sizes, source and availability, or a file path.

A CSV table or IDX folder is loaded to describe it before it is chosen (`Chosen(info)`). A file of
named arrays (HDF5, NetCDF, .npy, .npz) or a folder of images is chosen once its headers read
(`FileChosen(path)`): its keys may still have to be picked in the data tab's [data] form, so it
is loaded afterwards, with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Static
from textual.worker import Worker, WorkerState

from kerastui.core.tasks import TASKS, output_word
from kerastui.tui.widgets.form_fields import FORM_FIELD_CSS

if TYPE_CHECKING:  # pragma: no cover
    from kerastui.core.data import DatasetInfo


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


def count_text(count: int) -> str:
    """A sample count in at most five characters: 1,437, 60k, 16.5k (the detail has it exactly)."""
    if count < 10_000:
        return f"{count:,}"
    thousands = count / 1000
    return f"{thousands:.0f}k" if count % 1000 == 0 or thousands >= 100 else f"{thousands:.1f}k"


def task_cell(info: DatasetInfo) -> str:
    """The task the labels suggest, in the table's few columns: "10 classes", "binary", "3 targets"."""
    task = TASKS.get(info.task)
    if task is None or task.name == "binary":
        return info.task or "?"
    if task.name == "regression" and info.num_classes == 1:
        return "regression"
    return f"{info.num_classes} {task.output_word}"


def outputs_text(info: DatasetInfo) -> str:
    """ "binary, 2 classes", "multiclass, 10 classes", "regression, 3 targets": the task and its outputs."""
    word = output_word(info.task)
    return f"{info.task}, {info.num_classes} {word}" if info.task else f"{info.num_classes} {word}"


def short_reason(info: DatasetInfo) -> str:
    """A few words for the table's source column (the detail below the table has the whole reason).

    The whole reason is a sentence with a path and an address: at 80 columns the column showed
    "✗ mnist is no", cut before it said why.
    """
    reason = info.unavailable_reason or "not available"
    if "not cached" in reason:
        return "not cached"
    clause = reason.removeprefix(f"{info.name} is ").split(":")[0].split("(")[0].strip()
    return clause or "not available"


def describe_info(info: DatasetInfo) -> Text:
    """Two lines about one dataset, with why it cannot be used when it cannot."""
    text = Text()
    text.append(info.title or info.name, style="bold")
    text.append(
        f"  {info.kind}, input {shape_text(info.input_shape)}, {outputs_text(info)}, "
        f"{info.train_size:,} train / {info.test_size:,} test\n"
    )
    text.append(f"source: {info.source}")
    if not info.available:
        text.append("\n✗ not available: ", style="bold red")
        text.append(info.unavailable_reason)
    else:
        names = ", ".join(info.class_names[:10]) + (" …" if len(info.class_names) > 10 else "")
        word = output_word(info.task)
        text.append(f"\n{word}: {names}", style="dim")
    return text


class DatasetTable(DataTable):
    """The list of datasets; enter chooses the highlighted one."""

    BINDINGS = [Binding("enter", "choose", "Use dataset")]

    def action_choose(self) -> None:
        picker = next((a for a in self.ancestors if isinstance(a, DatasetPicker)), None)
        if picker is not None and self.row_count:
            picker.choose_row(self.cursor_row)


class DatasetPicker(Vertical):
    """Posts `DatasetPicker.Chosen` when the user picks an available dataset or a readable file."""

    DEFAULT_CSS = FORM_FIELD_CSS + """
    DatasetPicker {
        height: auto;
    }

    #dataset-table {
        height: auto;
        max-height: 10;  /* under the task line, whole at 80x24 */
        scrollbar-size-vertical: 1;  /* every column fits in 80 */
    }

    #dataset-detail {
        height: auto;
        margin: 1 0 0 0;
    }

    DatasetPicker .field-label {
        width: 100%;
        margin-top: 1;
    }

    #dataset-path {
        width: 100%;
    }

    #dataset-path-error {
        padding-left: 0;
    }
    """

    class Chosen(Message):
        def __init__(self, info: DatasetInfo) -> None:
            super().__init__()
            self.info = info

    class FileChosen(Message):
        """A file of named arrays or a folder of images: its [data] table is set in the data tab."""

        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.infos: list[DatasetInfo] = []
        self.current: str | None = None
        self._listed: set[str] = set()  # the built-ins' names

    def compose(self) -> ComposeResult:
        table = DatasetTable(id="dataset-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("  dataset", "input", "task", "train/test", "source")
        yield table
        yield Static("listing datasets…", id="dataset-detail")
        yield Label("or a data file (.h5, .nc, .npy, .npz, .csv) or folder (images, IDX); enter loads it:",
                    classes="field-label")
        yield Input(placeholder="path/to/data.h5", id="dataset-path")
        yield Static("", id="dataset-path-error", classes="field-error")

    def on_mount(self) -> None:
        self._list_datasets()

    # ---- listing --------------------------------------------------------------------------

    @work(thread=True, group="dataset-list", exit_on_error=False)
    def _list_datasets(self) -> list[DatasetInfo]:
        from kerastui.core.data import list_datasets

        return list_datasets()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "dataset-list":
            if worker.state == WorkerState.SUCCESS:
                self._listed = {info.name for info in worker.result}
                self.set_infos(list(worker.result), keep_files=True)
            elif worker.state == WorkerState.ERROR:
                self.query_one("#dataset-detail", Static).update(Text(f"cannot list datasets: {worker.error}", style="red"))
        elif worker.group == "dataset-file":
            if worker.state == WorkerState.SUCCESS:
                self._file_described(worker.result)
            elif worker.state == WorkerState.ERROR:
                self._show_path_error(str(worker.error))

    def set_infos(self, infos: list[DatasetInfo], keep_files: bool = False) -> None:
        if keep_files:
            known = {info.name for info in infos}
            infos = infos + [info for info in self.infos if info.name not in known]
        self.infos = infos
        self._fill_table()

    def _fill_table(self) -> None:
        table = self.query_one(DatasetTable)
        cursor = table.cursor_row
        table.clear()
        for info in self.infos:
            current = info.name == self.current
            if info.available:
                source = Text(info.source.split(" (")[0], overflow="ellipsis", no_wrap=True)
            else:
                source = Text("✗ " + short_reason(info), style="red", overflow="ellipsis", no_wrap=True)
            table.add_row(
                Text(("● " if current else "  ") + info.name, style="bold" if current else ""),
                f"{info.kind} {shape_text(info.input_shape)}",
                task_cell(info),
                f"{count_text(info.train_size)}/{count_text(info.test_size)}",
                source,
                key=info.name,
            )
        if self.current is not None and any(info.name == self.current for info in self.infos):
            table.move_cursor(row=self._row_of(self.current))
        elif self.infos:
            table.move_cursor(row=min(cursor, len(self.infos) - 1))
        self._show_detail()

    def _row_of(self, name: str) -> int:
        return next(i for i, info in enumerate(self.infos) if info.name == name)

    def remember(self, info: DatasetInfo) -> None:
        """A file loaded for the experiment joins the list (with its shape and classes)."""
        known = next((i for i, existing in enumerate(self.infos) if existing.name == info.name), None)
        if known is not None and (self.infos[known] == info or info.name in self._listed):
            return  # a built-in keeps the row it was listed with
        if known is None and not self.infos:
            return  # the built-ins are still being listed; they come first
        if known is None:
            self.infos = self.infos + [info]
        else:
            self.infos = [*self.infos[:known], info, *self.infos[known + 1:]]
        self._fill_table()

    def set_current(self, name: str) -> None:
        """Mark `name` as the experiment's dataset."""
        if name == self.current:
            return
        self.current = name
        if self.infos:
            self._fill_table()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # A mouse click on a row chooses it, like enter.
        event.stop()
        self.choose_row(event.cursor_row)

    def _show_detail(self) -> None:
        table = self.query_one(DatasetTable)
        detail = self.query_one("#dataset-detail", Static)
        if not self.infos or table.cursor_row >= len(self.infos):
            detail.update("")
            return
        detail.update(describe_info(self.infos[table.cursor_row]))

    def choose_row(self, row: int) -> None:
        if not 0 <= row < len(self.infos):
            return
        info = self.infos[row]
        if not info.available:
            self.notify(info.unavailable_reason or f"{info.name} is not available", title=f"{info.name} not available", severity="error", timeout=15)
            return
        self.post_message(self.Chosen(info))

    # ---- a file path ------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "dataset-path":
            return
        event.stop()
        path = event.value.strip()
        if not path:
            self._show_path_error("enter the path of a data file (.h5, .nc, .npy, .npz, .csv) or a folder")
            return
        self._show_path_error("")
        self.query_one("#dataset-path-error", Static).update(Text("checking…", style="dim"))
        self._describe_file(path)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "dataset-path":
            event.stop()
            self._show_path_error("")

    @work(thread=True, group="dataset-file", exclusive=True, exit_on_error=False)
    def _describe_file(self, path: str) -> DatasetInfo | str:
        """The file's info (a CSV table, IDX folder), or the path itself when it is a file of
        named arrays (its headers read) or a folder of images. DatasetError says why not."""
        from pathlib import Path

        from kerastui.core.data import dataset_info
        from kerastui.tui.widgets.data_look import ARRAYS, IMAGES, data_form

        form = data_form(path)
        if form == ARRAYS:
            from kerastui.core.datasets.array_files import describe_arrays

            describe_arrays(Path(path).expanduser())  # a damaged or foreign file is refused here
            return path
        if form == IMAGES:
            return path  # its listing is the data tab's to show, errors included
        return dataset_info(path)

    def _file_described(self, info: DatasetInfo | str) -> None:
        self._show_path_error("")
        if isinstance(info, str):
            self.post_message(self.FileChosen(info))
            return
        if not info.available:
            self._show_path_error(info.unavailable_reason or "not available")
            return
        self.infos = [existing for existing in self.infos if existing.name != info.name] + [info]
        self._fill_table()
        self.query_one(DatasetTable).move_cursor(row=self._row_of(info.name))
        self.post_message(self.Chosen(info))

    def _show_path_error(self, message: str) -> None:
        field = self.query_one("#dataset-path", Input)
        field.set_class(bool(message), "-invalid")
        self.query_one("#dataset-path-error", Static).update(Text(message))
