"""The data tab's task line: the task the experiment trains (inferred from the labels, or chosen)
and how the field scores it, with a dropdown to choose another. The build screen's T cycles it.

The picker holds no state: it shows what it is given and posts `TaskPicker.Chosen(task)` ("" for
the task the labels suggest); the app applies it through the build session, which says when the
data cannot be that task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Select, Static

from kerastui.core.tasks import TASKS, TASK_NAMES

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.data import DatasetInfo
    from kerastui.core.spec import Experiment

INFERRED = ""  # the Select's value for "the task the labels suggest"


def task_text(chosen: str, data_task: str | None) -> Text:
    """"Task: binary (inferred) — scored by …", or "(chosen; the labels suggest …)"."""
    name = chosen or data_task or "multiclass"
    task = TASKS.get(name, TASKS["multiclass"])
    text = Text()
    text.append("Task: ", style="bold")
    text.append(task.name, style="bold cyan")
    if data_task is None:
        text.append(" (the data is loading)" if not chosen else " (chosen)", style="dim")
    elif not chosen or chosen == data_task:
        text.append(" (inferred from the labels)" if not chosen else " (chosen, as the labels suggest)", style="dim")
    else:
        text.append(f" (chosen; the labels suggest {data_task})", style="yellow")
    text.append(f" — scored by {task.scored_by}", style="dim")
    return text


def task_options(data_task: str | None) -> list[tuple[str, str]]:
    inferred = f"task: {data_task} (inferred)" if data_task else "task: as the labels say"
    return [(inferred, INFERRED), *((f"task: {name}", name) for name in TASK_NAMES)]


def next_tasks(current: str) -> tuple[str, ...]:
    """The tasks after `current`, in registry order, wrapping round (what T tries, in turn)."""
    start = TASK_NAMES.index(current) if current in TASK_NAMES else -1
    return tuple(TASK_NAMES[(start + step) % len(TASK_NAMES)] for step in range(1, len(TASK_NAMES)))


class TaskPicker(Vertical):
    """Shows the experiment's task on its data; posts `TaskPicker.Chosen` when another is picked."""

    DEFAULT_CSS = """
    TaskPicker {
        height: auto;
        margin-bottom: 1;
    }

    TaskPicker #task-row {
        height: auto;
    }

    TaskPicker #task-select {
        width: 30;
        margin-right: 2;
    }

    TaskPicker #task-line {
        width: 1fr;
        height: auto;
    }
    """

    class Chosen(Message):
        """The user picked `task` ("" for the task the labels suggest)."""

        def __init__(self, task: str) -> None:
            super().__init__()
            self.task = task

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.chosen = INFERRED
        self.data_task: str | None = None
        self._options_for: str | None = None  # the data task the dropdown's first option names

    def compose(self) -> ComposeResult:
        # The dropdown first, the line beside it: at 80 columns the line wraps, the box stays put.
        with Horizontal(id="task-row"):
            yield Select(task_options(None), value=INFERRED, allow_blank=False, compact=True, id="task-select",
                         tooltip="The task the data is trained as (T cycles through those that fit)")
            yield Static(task_text(self.chosen, self.data_task), id="task-line")

    def show(self, experiment: Experiment, info: DatasetInfo | None) -> None:
        """Show `experiment`'s task on the data `info` describes (None: not known yet)."""
        self.chosen = experiment.task
        data_task = info.task if info is not None else None
        if not self.is_mounted:
            self.data_task = data_task
            return
        self.query_one("#task-line", Static).update(task_text(self.chosen, data_task))
        select = self.query_one("#task-select", Select)
        with select.prevent(Select.Changed):
            if data_task != self._options_for:
                select.set_options(task_options(data_task))
                self._options_for = data_task
                # The first option's words changed but not its value: the box would keep the old words.
                select.value = TASK_NAMES[0]
            wanted = self.chosen if self.chosen in TASK_NAMES else INFERRED
            if select.value != wanted:
                select.value = wanted
        self.data_task = data_task

    @property
    def line(self) -> str:
        """The task line as plain text (tests, the screenshot's reader)."""
        return task_text(self.chosen, self.data_task).plain

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "task-select" or event.value is Select.NULL:
            return
        event.stop()
        if event.value != self.chosen:
            self.post_message(self.Chosen(str(event.value)))
