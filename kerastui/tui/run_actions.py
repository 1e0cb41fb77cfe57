"""What the runs, follow and submit screens do with the app: Slurm calls, evaluation.

The Slurm calls go through the `SlurmClient` the app was given (kerastui.tui.slurm_client).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App

from kerastui.tui.host import host

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.data import Dataset
    from kerastui.core.pipeline import RunOutcome
    from kerastui.core.runs import RunRecord
    from kerastui.core.spec import Experiment
    from kerastui.tui.slurm_client import SlurmClient


def outcome_from_record(record: RunRecord) -> RunOutcome:
    """A RunOutcome for a run directory read from disk (what the evaluate screen shows)."""
    from kerastui.core.pipeline import RunOutcome

    return RunOutcome(run_dir=record.path, status=record.status, result=None, evaluation=record.evaluation, reason=record.reason)


def slurm_client(app: App) -> SlurmClient:
    return host(app).slurm_client


def runs_root(app: App) -> Path:
    from kerastui.core.runs import default_runs_root

    root = host(app).runs_root
    return Path(root) if root is not None else default_runs_root()


def load_dataset_for(app: App, experiment: Experiment) -> Dataset:
    """The data a run was trained on (its dataset, split with its seed): the app's loaded one when
    it is that, else loaded (blocking)."""
    session = host(app).session
    current = session.dataset
    same_table = session.experiment.data == experiment.data  # which keys, axes, image size
    if current is not None and same_table and (current.name, current.seed) == (experiment.dataset, experiment.seed):
        return current
    return host(app).dataset_loader(experiment.dataset, seed=experiment.seed, settings=experiment.data)


async def show_evaluation(app: App, outcome: RunOutcome, dataset: Dataset) -> None:
    """Switch to the evaluate mode showing `outcome` tested on `dataset` (not necessarily the app's).

    Escape there comes back to the mode this was called from (the follow view stays on top of its stack)."""
    host(app).last_outcome = outcome
    came_from = app.current_mode
    await app.switch_mode("evaluate")
    screen = host(app).mode_screen("evaluate")
    screen.show(outcome, dataset, back_to=came_from if came_from != "evaluate" else None)  # type: ignore[union-attr]
