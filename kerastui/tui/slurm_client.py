"""The Slurm calls the runs, monitor and submit screens make, as one injectable object.

The app takes it in its constructor (`slurm_client`); tests pass fakes for some calls. By
default each is the real kerastui.core.slurm function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from kerastui.core import slurm
from kerastui.core.slurm_settings import SlurmSettings


@dataclass
class SlurmClient:
    """The core's Slurm functions the UI calls, replaceable one by one."""

    prepare: Callable[..., Path] = slurm.prepare_submission
    submit: Callable[[Path], str] = slurm.submit
    job_state: Callable[[str], slurm.JobState] = slurm.job_state
    cancel: Callable[..., None] = slurm.cancel
    settings: Callable[..., SlurmSettings] = slurm.default_settings
    login_node_guard: Callable[..., str | None] = slurm.login_node_guard
    sync_status: Callable[..., str] = slurm.sync_run_status
    refresh_runs: Callable[[list], list] = slurm.refresh_slurm_runs
    poll_interval: float = 3.0  # seconds between looks at a followed job's state
