"""Following a run another process writes (a headless or Slurm job), for the UI.

`follow_run_dir` runs in a thread worker: it reads the run's metrics.jsonl through
`kerastui.core.runs.follow_metrics` (from the start, tolerating a half-written last line) and
posts each event as the same messages the train screen consumes (kerastui.tui.messages), so the
charts fill exactly as for a run trained in this process. When nothing new arrives for
`quiet_after` seconds it posts `FollowQuiet` and keeps watching, unless `should_end()` says the
writer is gone (a Slurm job that ended, a process that died). It returns a `FollowResult`
whose `outcome` (a RunOutcome read back from the run directory, with its saved evaluation)
the evaluate screen can show.

`poll_job` is the other thread worker: it posts the Slurm job's state every few seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.message import Message
from textual.message_pump import MessagePump

from kerastui.core.events import TrainingEvent, final_status
from kerastui.core.runs import EVALUATION_FILE, RunRecord, follow_metrics, load_run
from kerastui.tui.messages import posting_listener

DEFAULT_QUIET_AFTER = 60.0   # seconds without a new line before the UI says the run is quiet
EVALUATION_WAIT = 60.0       # the writer saves the model and evaluates just after its final event


class FollowQuiet(Message):
    """Nothing new in metrics.jsonl for `seconds`; the follower keeps watching."""

    def __init__(self, seconds: float, status: str, events_seen: int) -> None:
        super().__init__()
        self.seconds = seconds
        self.status = status
        self.events_seen = events_seen


class JobStateChanged(Message):
    """The Slurm job's state (kerastui.core.slurm.JobState) was polled and differs from before."""

    def __init__(self, state: Any) -> None:
        super().__init__()
        self.state = state


@dataclass
class FollowResult:
    run_dir: Path
    ended: str                          # finished | stopped | failed | gone (no final event) | detached
    last_event: TrainingEvent | None
    events_seen: int
    outcome: Any = None                 # kerastui.core.pipeline.RunOutcome, None when not ended
    record: RunRecord | None = None

    @property
    def has_evaluation(self) -> bool:
        return self.outcome is not None and getattr(self.outcome, "evaluation", None) is not None


def outcome_from_record(record: RunRecord) -> Any:
    """A RunOutcome for a run directory read from disk (what the evaluate screen shows)."""
    from kerastui.core.pipeline import RunOutcome

    return RunOutcome(run_dir=record.path, status=record.status, result=None, evaluation=record.evaluation, reason=record.reason)


def follow_run_dir(
    target: MessagePump,
    run_dir: Path,
    *,
    stop: threading.Event,
    quiet_after: float = DEFAULT_QUIET_AFTER,
    should_end: Callable[[], bool] = lambda: False,
    poll_interval: float = 0.2,
    check_every: float = 2.0,
    evaluation_wait: float = EVALUATION_WAIT,
) -> FollowResult:
    """Post every event of `run_dir` to `target` until the run ends, `stop` is set or the writer is gone.

    Blocking: call it in a thread worker. Every `check_every` seconds without a new line it asks
    `should_end()`; after `quiet_after` seconds it posts one FollowQuiet per quiet spell. Each
    check restarts `follow_metrics`, which reads the file from its start again, so the events
    already posted are skipped by count.
    """
    run_dir = Path(run_dir)
    post = posting_listener(target)
    seen = 0
    last: TrainingEvent | None = None
    quiet_since = time.monotonic()
    told_quiet = False
    while True:
        index = 0
        idle = max(poll_interval, min(check_every, quiet_after))
        for event in follow_metrics(run_dir, poll_interval=poll_interval, idle_timeout=idle, stop=stop):
            index += 1
            if index <= seen:
                continue
            seen, last = index, event
            post(event)
            quiet_since, told_quiet = time.monotonic(), False
        if last is not None and final_status(last):
            break
        if stop.is_set():
            return FollowResult(run_dir, "detached", last, seen)
        quiet_for = time.monotonic() - quiet_since
        status = None
        if quiet_for >= quiet_after and not told_quiet:
            status = _status(run_dir)
            target.post_message(FollowQuiet(quiet_for, status, seen))
            told_quiet = True
        if should_end() or status in ("interrupted", "cancelled"):
            record = load_run(run_dir) if run_dir.exists() else None
            outcome = outcome_from_record(record) if record is not None else None
            return FollowResult(run_dir, "gone", last, seen, outcome, record)

    ended = final_status(last) or "finished"
    if ended != "failed":
        _wait_for(run_dir / EVALUATION_FILE, evaluation_wait, stop, poll_interval)
    record = load_run(run_dir)
    return FollowResult(run_dir, ended, last, seen, outcome_from_record(record), record)


def _status(run_dir: Path) -> str:
    if not run_dir.exists():
        return "no run directory yet"
    return load_run(run_dir).status


def _wait_for(path: Path, timeout: float, stop: threading.Event, poll: float) -> bool:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if stop.is_set() or time.monotonic() >= deadline:
            return False
        stop.wait(poll)
    return True


def poll_job(
    target: MessagePump,
    job_id: str,
    job_state: Callable[[str], Any],
    *,
    stop: threading.Event,
    interval: float = 3.0,
) -> Any:
    """Post JobStateChanged whenever the job's state or reason changes; return the final state.

    A Slurm command that fails (controller restarting) is posted as state UNKNOWN with the
    error as reason and retried at the next poll rather than ending the watch.
    """
    from kerastui.core.slurm import JobState, SlurmError

    previous = None
    while not stop.is_set():
        try:
            state = job_state(job_id)
        except SlurmError as error:
            state = JobState(str(job_id), "UNKNOWN", str(error))
        if state != previous:
            target.post_message(JobStateChanged(state))
            previous = state
        if state.finished:
            return state
        stop.wait(interval)
    return previous
