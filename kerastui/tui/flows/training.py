"""The train flow: ctrl+r's path from the design to a run followed on the run monitor.

The experiment is checked (refused with its reasons, or held until its data has loaded), the
login-node guard may ask first, then the app's launcher adds the run to the runs directory's queue,
whose runner starts it as its own process when a slot is free, and the train mode follows its
run directory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kerastui.core.build_session import WAIT_FOR_DATASET
from kerastui.core.run_summary import plural

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.tui.flows.design import DesignFlow
    from kerastui.tui.host import Shell


def start_training(app: Shell, design: DesignFlow, guard: bool = True) -> None:
    """Validate the design, wait for the data if needed, then launch the run and show its monitor.

    With `guard`, a long run on what looks like a login node asks first (train here / Slurm / cancel).
    """
    refusal = app.session.training_refusal(design.invalid_fields())
    design.publish()  # training_pending, for the build screen's status line
    if refusal is WAIT_FOR_DATASET:
        design.request_dataset()
        app.notify(refusal.message, title=refusal.title)
        return
    if refusal is not None:
        design.refuse(refusal)
        return
    if guard:
        from kerastui.tui.screens.submit import ask_before_local_training

        if ask_before_local_training(app, lambda: app.start_training(guard=False)):
            return
    busy = len(app.launcher.active)
    try:
        run_dir = app.launcher.launch(app.session.experiment)
    except (OSError, ValueError) as error:
        why = f"{error.strerror} ({error.filename})" if isinstance(error, OSError) and error.strerror else str(error)
        app.notify(f"Cannot create the run directory: {why}", title="Cannot train", severity="error", timeout=15)
        return
    if busy:
        app.notify(f"{run_dir.name} is queued behind {plural(busy, 'run')}; the queue's runner starts it when a slot "
                   "is free, also after this app quits.", title="Queued", timeout=6)
    app.follow_run(run_dir)


def settled_message(settled: list) -> str:
    """What the app says on start-up about runs a killed queue runner left behind (settled
    interrupted, their saved state kept)."""
    names = ", ".join(path.name for path in settled[:3]) + (" ..." if len(settled) > 3 else "")
    return (f"The local queue's runner ended while {plural(len(settled), 'run')} trained or waited: {names} "
            "marked interrupted. On the runs screen, u resumes one from its last saved epoch.")
