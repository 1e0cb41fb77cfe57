"""What a screen asks of the app, as messages: screens post these and the app (with its build
session) decides. A screen never writes the app's state or calls its methods by name.

They bubble from the posting widget through its screen to the app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pathlib import Path

    from kerastui.core.data import DatasetInfo
    from kerastui.core.spec import Experiment


class EditExperiment(Message):
    """The user changed a field or the layers: `change` makes the new experiment from the
    current one. A change, not a copy of the whole experiment: two edits in quick succession
    each apply to what the one before left, so neither is lost."""

    def __init__(self, change: Callable[[Experiment], Experiment]) -> None:
        super().__init__()
        self.change = change


class UseDataset(Message):
    """Train on this dataset (the layers adapt to its shape and classes)."""

    def __init__(self, info: DatasetInfo) -> None:
        super().__init__()
        self.info = info


class ChooseTask(Message):
    """Train the data as the first of `tasks` it can be ("" for the task its labels suggest): the
    last layer, the loss and the monitor follow. One task from the dropdown; from the T key, the
    tasks after the current one, in turn, so that a task the data cannot be is skipped."""

    def __init__(self, tasks: tuple[str, ...]) -> None:
        super().__init__()
        self.tasks = tasks


class ApplyPreset(Message):
    """Replace the layers with this preset (asking first if that discards the user's own)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class PresetApplied(Message):
    """The app's answer to ApplyPreset, posted to the build screen: the new layers are in place."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class TrainExperiment(Message):
    """Train the experiment now (validated first; it may wait for the data or a free slot)."""


class PreviewVerdict(Message):
    """Keras's verdict on the layers for the data: "" when they fit (or before it has looked)."""

    def __init__(self, problem: str) -> None:
        super().__init__()
        self.problem = problem


class CloneExperiment(Message):
    """Make this (a run's) experiment the design on the build screen, and show it."""

    def __init__(self, experiment: Experiment) -> None:
        super().__init__()
        self.experiment = experiment


class FollowRun(Message):
    """Show this run directory on the train mode's run monitor."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = run_dir
