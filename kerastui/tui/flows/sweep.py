"""The sweep flow (ctrl+g): the sweep form for the design, then the leaderboard of its trials."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kerastui.core.build_session import refused_fields_refusal

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.tui.flows.design import DesignFlow
    from kerastui.tui.host import Shell


def open_sweep(app: Shell, design: DesignFlow) -> None:
    """The sweep form for the current experiment; once its workers have started, its leaderboard."""
    # Imported here: the sweep screens are not needed to paint the first frame.
    from kerastui.tui.run_actions import runs_root
    from kerastui.tui.screens.sweep import SweepScreen
    from kerastui.tui.screens.sweep_form import SweepForm

    refused = design.invalid_fields()
    if refused:
        design.refuse(refused_fields_refusal("Cannot sweep yet", refused))
        return

    def started(sweep_dir: Path | None) -> None:
        if sweep_dir is not None:
            app.notify(f"Sweep {sweep_dir.name} started.", title="Sweep", timeout=6)
            app.push_screen(SweepScreen(sweep_dir))

    session = app.session
    app.push_screen(SweepForm(session.experiment, runs_root(app), app.launcher, session.task_name()), started)
