"""The run monitor says why a Slurm run was requeued: preempted (SIGTERM) or its time-limit warning."""

from __future__ import annotations

import pytest
from fakes import FakePreviewer, tiny_experiment, wait_until
from run_dirs import scripted_events

from kerastui.core.events import TrainingStopped
from kerastui.core.runs import REQUEUED, RunWriter
from kerastui.tui.screens.monitor import RunMonitor
from kerastui.tui.watch import WatchApp


def requeued_run(root, requeued_for: str):
    """A run whose job was requeued after its first epoch, as kerastui train leaves it."""
    writer = RunWriter.create(tiny_experiment(epochs=3), root=root, name="requeued")
    writer.end_status = REQUEUED  # written with the final event, as the pipeline does
    for event in scripted_events(3)[:5]:  # started, three batches, the first epoch
        writer(event)
    writer(TrainingStopped(epochs_done=1, reason="SIGTERM"))
    writer.update_info(requeued_for=requeued_for, requeued_at_epoch=1)
    writer.close()
    return writer.path


@pytest.mark.parametrize(("requeued_for", "said"), [("preempted", "when Slurm preempted it"),
                                                     ("time limit", "at Slurm's time-limit warning")])
async def test_the_monitor_says_why_the_run_was_requeued(tmp_path, requeued_for, said):
    run_dir = requeued_run(tmp_path / "runs", requeued_for)
    app = WatchApp(run_dir, previewer=FakePreviewer(), quiet_after=30)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.phase == "requeued",
                         what="the requeued run shown")
        text = str(app.screen.status_text())
        assert said in text and "after 1 epoch" in text
