"""What the runs, follow and submit screens do with the app: Slurm calls, evaluation, cloning.

The Slurm calls go through the `SlurmClient` the app was given (its constructor's
`slurm_client`; tests pass fakes), by default the real kerastui.core.slurm functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from textual.app import App

from kerastui.core import slurm


@dataclass
class SlurmClient:
    """The core's Slurm functions the UI calls, replaceable one by one."""

    prepare: Callable[..., Path] = slurm.prepare_submission
    submit: Callable[[Path], str] = slurm.submit
    job_state: Callable[[str], Any] = slurm.job_state
    cancel: Callable[..., None] = slurm.cancel
    settings: Callable[..., Any] = slurm.default_settings
    login_node_guard: Callable[..., str | None] = slurm.login_node_guard
    sync_status: Callable[..., str] = slurm.sync_run_status
    refresh_runs: Callable[[list], list] = slurm.refresh_slurm_runs
    poll_interval: float = 3.0
    calls: list[tuple[str, Any]] = field(default_factory=list)


def outcome_from_record(record: Any) -> Any:
    """A RunOutcome for a run directory read from disk (what the evaluate screen shows)."""
    from kerastui.core.pipeline import RunOutcome

    return RunOutcome(run_dir=record.path, status=record.status, result=None, evaluation=record.evaluation, reason=record.reason)


def slurm_client(app: App) -> SlurmClient:
    return app.slurm_client  # type: ignore[attr-defined]  (KerasTUI and WatchApp carry one)


def runs_root(app: App) -> Path:
    from kerastui.core.runs import default_runs_root

    root = getattr(app, "runs_root", None)
    return Path(root) if root is not None else default_runs_root()


def load_dataset_for(app: App, experiment: Any) -> Any:
    """The data a run was trained on (its dataset, split with its seed): the app's loaded one when
    it is that, else loaded (blocking)."""
    current = getattr(app, "dataset", None)
    if current is not None and (current.name, current.seed) == (experiment.dataset, experiment.seed):
        return current
    loader = getattr(app, "dataset_loader", None)
    if loader is None:
        from kerastui.core.data import load_dataset as loader
    return loader(experiment.dataset, seed=experiment.seed)


async def show_evaluation(app: App, outcome: Any, dataset: Any) -> None:
    """Switch to the evaluate mode showing `outcome` tested on `dataset` (not necessarily app.dataset).

    Escape there comes back to the mode this was called from (the follow view stays on top of its stack)."""
    if hasattr(app, "last_outcome"):
        app.last_outcome = outcome
    came_from = app.current_mode
    await app.switch_mode("evaluate")
    screen = app.mode_screen("evaluate") if hasattr(app, "mode_screen") else app.screen
    screen.show(outcome, dataset, back_to=came_from if came_from != "evaluate" else None)


def clone_experiment(app: App, experiment: Any) -> None:
    """Make `experiment` the design on the build screen (it watches app.experiment) and go there."""
    if experiment.dataset != app.experiment.dataset:
        # As when opening a TOML: the old dataset's shape must not be used for the new layers.
        app.dataset_info = None
    if hasattr(app, "experiment_path"):
        app.experiment_path = None  # ctrl+s must not overwrite the run's own config.toml
    app.experiment = replace(experiment)
    app.run_worker(app.switch_mode("build"), group="switch-mode")
