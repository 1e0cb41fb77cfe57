"""StopRequest: the flag that stops a fit after the batch in progress, and says why and how.

Every stop goes through one (the user's key, Ctrl+C, Slurm's SIGTERM and time-limit warning, a
failed write, a sweep's pruner), so the trainer, its callbacks and the pipeline read its fields
instead of probing what kind of flag they were given. Its own module, light to import: the
pipeline makes one without importing the trainer.
"""

from __future__ import annotations

import threading


class StopRequest(threading.Event):
    """A stop flag that also says why, for the run's final event (e.g. a SIGTERM from Slurm), and
    whether the run is to be requeued (Slurm's time-limit warning) rather than ended. A plain
    `set()` is a stop by the user (or by a write that failed): no reason, no requeue."""

    def __init__(self) -> None:
        super().__init__()
        self.reason = ""
        self.requeue = False
        # Slurm's SIGTERM (preemption) and time-limit warning: the training state is saved at the
        # batch the stop lands on (mid-epoch), and the run ends as `end_status` (the pipeline's
        # quick ending: no model or evaluation in the grace time) instead of "requeued".
        self.save_state = False
        self.end_status = ""
        self.preempted = False

    def request(self, reason: str, requeue: bool = False, save_state: bool = False, end_status: str = "",
                preempted: bool = False) -> None:
        self.reason = reason
        self.requeue = requeue
        self.save_state = save_state
        self.end_status = end_status
        self.preempted = preempted
        self.set()
