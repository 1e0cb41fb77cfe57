"""The thread worker that feeds a screen from the core's run follower.

`follow_into` runs `kerastui.core.follower.RunFollower.follow` in a thread worker and posts
each training event as the messages of kerastui.tui.messages (batch updates replaceable, the rest
never dropped) and each lifecycle event (quiet, job state, writer gone, ended) as a
`RunLifecycle` message. The follower does the reading; this only forwards, so the UI shows
exactly what `kerastui watch` prints.
"""

from __future__ import annotations

import threading

from textual.message import Message
from textual.message_pump import MessagePump

from kerastui.core.follower import (
    FollowEvent,
    LifecycleEvent,
    RunEnded,
    RunFollower,
    is_training_event,
)
from kerastui.tui.messages import message_for

DEFAULT_QUIET_AFTER = 60.0  # seconds without a new line before the UI says the run is quiet


class RunLifecycle(Message):
    """The follower says something about the run itself (kerastui.core.follower's lifecycle events)."""

    def __init__(self, event: LifecycleEvent) -> None:
        super().__init__()
        self.event = event


def message_for_follow_event(event: FollowEvent) -> Message:
    if is_training_event(event):
        return message_for(event)  # type: ignore[arg-type]
    return RunLifecycle(event)  # type: ignore[arg-type]


def follow_into(target: MessagePump, follower: RunFollower, stop: threading.Event) -> RunEnded | None:
    """Post every event of `follower` to `target` until the run ends or `stop` is set (blocking:
    run it in a thread worker); returns how the run ended, or None when stopped first."""
    for event in follower.follow(stop):
        target.post_message(message_for_follow_event(event))
    for event in follower.follow_job_to_its_end(stop):
        target.post_message(message_for_follow_event(event))
    return follower.ended
