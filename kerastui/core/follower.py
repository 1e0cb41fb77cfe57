"""The one follower of a run directory: training events as they are written, plus lifecycle events.

Every reader of a live run uses it: the app's run monitor (local, re-attached and Slurm runs),
the runs screen's live rows and `kerastui watch`. It reads `metrics.jsonl` incrementally: it keeps
its file offset, holds back a half-written last line until its newline arrives, and never re-reads
from the start (only a file truncated and rewritten is read again from its beginning).

Besides the training events (kerastui.core.events) it yields:
    RunQuiet         nothing new for `quiet_after` seconds (once per quiet spell; it keeps following)
    JobStateChanged  the Slurm job's state changed (runs with a job id, when given `job_state`)
    WriterGone       the writing process (or job) ended without a final event; the run is settled
                     as `interrupted` (a dead local process) or as the job's end, so nothing is
                     left saying `running` for ever
    RunEnded         always last: the run's final status, once its evaluation is written (or the
                     writer is gone, or `evaluation_wait` passed)

`poll()` does one non-blocking step (for callers with their own timer: the runs screen);
`follow()` loops over it until RunEnded or `stop`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from kerastui.core.appended_lines import AppendedLines
from kerastui.core.events import (
    EVENT_NAMES,
    FINAL_EVENTS,
    FinalEvent,
    TrainingEvent,
    TrainingStarted,
    event_from_dict,
    final_status,
)
from kerastui.core.runs import (
    ENDED_STATUSES,
    EVALUATION_FILE,
    METRICS_FILE,
    REQUEUED,
    mark_interrupted,
    read_info,
    read_status,
    writer_alive,
)

# A local run waiting for a slot in the app's queue: its quiet is waiting, not trouble. (A Slurm
# job's wait is known from its PENDING state.)
WAITING_STATUSES = ("queued", REQUEUED)


@dataclass(frozen=True)
class RunQuiet:
    seconds: float
    status: str
    events_seen: int


@dataclass(frozen=True)
class JobStateChanged:
    state: Any  # kerastui.core.slurm.JobState


@dataclass(frozen=True)
class WriterGone:
    status: str  # what the run was settled as: interrupted, cancelled, failed...
    reason: str


@dataclass(frozen=True)
class RunEnded:
    status: str  # finished | stopped | failed | interrupted | cancelled | missing
    has_evaluation: bool
    reason: str = ""


LifecycleEvent = Union[RunQuiet, JobStateChanged, WriterGone, RunEnded]
FollowEvent = Union[TrainingEvent, LifecycleEvent]


# The longest wait between looks at a run that has gone quiet (see RunFollower.follow).
QUIET_POLL_INTERVAL = 1.0


@dataclass
class RunFollower:
    """Follows one run directory; see the module docstring for what it yields."""

    run_dir: Path
    quiet_after: float = 60.0
    liveness_every: float = 1.0  # seconds between checks that the writer still lives (when quiet)
    job_state: Callable[[str], Any] | None = None  # kerastui.core.slurm.job_state, for Slurm runs
    job_id: str | None = None  # the run's Slurm job when info.json does not name it (yet)
    settle_job: Callable[[Path, Any], str] | None = None  # kerastui.core.slurm.sync_run_status
    job_poll_interval: float = 5.0
    evaluation_wait: float = 60.0
    clock: Callable[[], float] = time.monotonic
    events_seen: int = 0
    final_event: FinalEvent | None = None
    ended: RunEnded | None = None
    job: Any = None
    _read: AppendedLines = field(init=False)
    _last_activity: float = 0.0
    _told_quiet: bool = False
    _last_liveness: float = float("-inf")
    _last_job_poll: float = float("-inf")
    _final_seen_at: float | None = None

    skip_events: int = 0  # events already known to the caller: read past, not yielded

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir)
        self._read = AppendedLines(self.run_dir / METRICS_FILE)
        self._last_activity = self.clock()

    @classmethod
    def after(cls, run_dir: Path, events_known: int, **options: Any) -> RunFollower:
        """A follower that yields only the events after the first `events_known` (a caller that
        has read the run already, like load_run's RunRecord)."""
        return cls(Path(run_dir), skip_events=events_known, **options)

    @property
    def metrics_path(self) -> Path:
        return self.run_dir / METRICS_FILE

    # ---- one step ------------------------------------------------------------------------------

    def poll(self) -> list[FollowEvent]:
        """Everything new since the last call; never blocks. Empty once RunEnded was returned."""
        if self.ended is not None:
            return []
        out: list[FollowEvent] = list(self._read_new_events())
        if self.ended is None:
            out.extend(self._lifecycle())
        return out

    def follow(self, stop: threading.Event | None = None, poll_interval: float = 0.25) -> Iterator[FollowEvent]:
        """Yield events until RunEnded (yielded too) or until `stop` is set.

        Looks every `poll_interval` while events arrive; when none come it waits longer, up to
        QUIET_POLL_INTERVAL (a queued run, a long epoch, Keras loading): a run that waits costs a
        stat a second, and the first event after a quiet spell still shows within that second."""
        stop = stop or threading.Event()
        quiet_wait = max(poll_interval, QUIET_POLL_INTERVAL)
        wait = poll_interval
        while not stop.is_set():
            events = self.poll()
            yield from events
            if self.ended is not None:
                return
            if events:
                wait = poll_interval
            else:
                stop.wait(wait)
                wait = min(quiet_wait, wait * 2)

    def follow_job_to_its_end(self, stop: threading.Event | None = None) -> Iterator[JobStateChanged]:
        """After RunEnded: a Slurm job may still be finishing (epilog, COMPLETING); its changes
        until it has ended, so a monitor shows COMPLETED (or how it ended) rather than RUNNING."""
        stop = stop or threading.Event()
        if self.job_state is None or not (self.job_id or read_info(self.run_dir).get("slurm_job_id")):
            return
        while not stop.is_set() and (self.job is None or not self.job.finished):
            yield from self._poll_job(self.clock())
            stop.wait(max(0.05, self.job_poll_interval))

    # ---- reading -------------------------------------------------------------------------------

    def _read_new_events(self) -> Iterator[TrainingEvent]:
        lines = self._read.read()
        if lines is None:
            return
        self._last_activity, self._told_quiet = self.clock(), False
        for line in lines:
            event = _parse_line(line)
            if event is None:
                continue
            self.events_seen += 1
            if self.skip_events:
                self.skip_events -= 1
            else:
                yield event
            if isinstance(event, FINAL_EVENTS):
                self.final_event = event
            elif isinstance(event, TrainingStarted):
                self.final_event = None  # a resumed run: it goes on after its earlier end
        if self.final_event is not None:
            self._final_seen_at = self.clock()

    # ---- lifecycle -----------------------------------------------------------------------------

    def _lifecycle(self) -> Iterator[LifecycleEvent]:
        now = self.clock()
        if not self.run_dir.exists():
            if now - self._last_activity >= self.quiet_after and not self._told_quiet:
                self._told_quiet = True
                yield RunQuiet(now - self._last_activity, "no run directory yet", self.events_seen)
            return
        if self.final_event is not None:
            yield from self._after_final(now)
            return
        yield from self._job(now)
        if self.ended is not None:
            return
        idle = now - self._last_activity
        if idle < min(1.0, self.quiet_after, self.liveness_every):
            return  # lines are arriving: nothing below can apply yet, so no file is read for it
        info = read_info(self.run_dir)
        status = read_status(self.run_dir)
        if status in ENDED_STATUSES:
            # Ended without a final event in the file (killed, then settled by someone else; or a
            # half-written last line that will never be finished): nothing more will come.
            if idle >= min(1.0, self.quiet_after):
                yield from self._end(status, _reason(info))
            return
        # Prepared or submitted runs have no writer yet (their job's state says how they are).
        writer_expected = status in ("running", "queued", "unknown")
        if writer_expected and idle >= self.liveness_every and now - self._last_liveness >= self.liveness_every:
            self._last_liveness = now
            if writer_alive(self.run_dir, info) is False and not self._more_arrived():
                status = mark_interrupted(self.run_dir, "the training process ended without recording its end")
                yield WriterGone(status, "the training process ended without recording its end")
                yield from self._end(status, "the training process ended without recording its end")
                return
        if idle >= self.quiet_after and not self._told_quiet and status not in WAITING_STATUSES:
            self._told_quiet = True
            yield RunQuiet(idle, status, self.events_seen)

    def _more_arrived(self) -> bool:
        return self._read.grew()

    def _poll_job(self, now: float) -> Iterator[JobStateChanged]:
        if self.job_state is None or now - self._last_job_poll < self.job_poll_interval:
            return
        job_id = read_info(self.run_dir).get("slurm_job_id") or self.job_id
        if not job_id:
            return
        self._last_job_poll = now
        from kerastui.core.slurm import JobState, SlurmError

        try:
            state = self.job_state(str(job_id))
        except SlurmError as error:
            state = JobState(str(job_id), "UNKNOWN", str(error))
        if state != self.job:
            self.job = state
            yield JobStateChanged(state)

    def _job(self, now: float) -> Iterator[LifecycleEvent]:
        polled_before = self._last_job_poll
        yield from self._poll_job(now)
        state = self.job
        if state is None or self._last_job_poll == polled_before:
            return
        if state.state == "PENDING":
            self._last_activity = now  # waiting in the queue is not the run going quiet
        if state.finished and not self._more_arrived():
            status = self.settle_job(self.run_dir, state) if self.settle_job is not None else read_status(self.run_dir)
            reason = f"Slurm job {state.job_id} ended {state} without the run recording its end"
            yield WriterGone(status, reason)
            yield from self._end(status, reason)

    def _after_final(self, now: float) -> Iterator[LifecycleEvent]:
        status_now = read_status(self.run_dir)
        if status_now == REQUEUED:
            # Its job waits in the queue to start again and resume; unless the job ends first.
            yield from self._job(now)
            return
        if status_now in ("queued", "running"):
            # Being resumed (or its writer is just writing its status): more is coming, unless
            # the writer died meanwhile.
            if status_now == "running" and writer_alive(self.run_dir) is False and not self._more_arrived():
                yield from self._end(mark_interrupted(self.run_dir, "the training process ended without recording its end"), "")
            return
        final = self.final_event
        if final is None:  # pragma: no cover - called only once a final event was read
            return
        status, reason = final_status(final) or "finished", final.reason
        has_evaluation = (self.run_dir / EVALUATION_FILE).exists()
        waited = now - (self._final_seen_at or now)
        job_open = False
        if self.job_state is not None and (self.job_id or read_info(self.run_dir).get("slurm_job_id")):
            # A Slurm run has ended when its job has: follow the job to COMPLETED (or its end).
            yield from self._poll_job(now)
            job_open = self.job is None or not self.job.finished
        if waited >= self.evaluation_wait or ((status == "failed" or has_evaluation) and not job_open):
            yield from self._end(status, reason)
        elif now - self._last_liveness >= self.liveness_every:
            self._last_liveness = now
            if writer_alive(self.run_dir) is False:
                yield from self._end(status, reason)

    def _end(self, status: str, reason: str) -> Iterator[RunEnded]:
        self.ended = RunEnded(status, (self.run_dir / EVALUATION_FILE).exists(), reason)
        yield self.ended


def is_training_event(event: FollowEvent) -> bool:
    """A training event (kerastui.core.events), not one of the follower's lifecycle events."""
    return type(event) in EVENT_NAMES


def _reason(info: dict[str, Any]) -> str:
    reason = info.get("reason")
    return str(reason) if reason else ""


def _parse_line(line: bytes) -> TrainingEvent | None:
    text = line.decode("utf-8", errors="replace").strip()
    if not text:
        return None
    try:
        return event_from_dict(json.loads(text))
    except (ValueError, TypeError):
        return None  # a corrupt line must not end the stream
