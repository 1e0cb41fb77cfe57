"""Textual messages that carry the core's TrainingEvents from the training thread to the UI.

The training thread posts them with `post_message` (thread-safe, non-blocking). Batch updates
are replaceable: when several are queued, Textual keeps only the newest, so a slow terminal never
backs up training. Every other event (started, epoch end, final) is delivered, in order.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message import Message
from textual.message_pump import MessagePump

from kerastui.core.events import BatchEnded, TrainingEvent


class TrainingBatch(Message):
    """A batch finished; superseded by any newer batch message still in the queue."""

    def __init__(self, event: BatchEnded) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        # Textual asks the queued message whether the next one may take its place.
        return isinstance(message, TrainingBatch)


class TrainingUpdate(Message):
    """Any non-batch training event (started, epoch ended, finished, stopped, failed); never dropped."""

    def __init__(self, event: TrainingEvent) -> None:
        super().__init__()
        self.event = event


def message_for(event: TrainingEvent) -> Message:
    return TrainingBatch(event) if isinstance(event, BatchEnded) else TrainingUpdate(event)


def posting_listener(target: MessagePump) -> Callable[[TrainingEvent], None]:
    """A core Listener that forwards each event to `target` as a message, from any thread."""

    def listener(event: TrainingEvent) -> None:
        target.post_message(message_for(event))

    return listener
