"""Waiting on a real Slurm job, for the tests against the local cluster."""

from __future__ import annotations


def wait_for_job(job_id: str, *, timeout: float, poll_interval: float = 1.0, until=None):
    """Poll a real Slurm job's state until `until` holds (default: a final state) or `timeout`
    seconds pass; the state last seen. For the tests against the local cluster."""
    import time

    from kerastui.core import slurm

    until = until or (lambda state: state.finished)
    deadline = time.monotonic() + timeout
    while True:
        state = slurm.job_state(job_id)
        if until(state) or time.monotonic() >= deadline:
            return state
        time.sleep(poll_interval)
