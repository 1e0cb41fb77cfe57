"""Typed training events: the one stream that charts, logs and run files consume.

The live trainer emits them through a Keras callback; a run directory written by another process
yields the same events by following its metrics.jsonl (each event is one JSON line).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Union


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class TrainingStarted:
    epochs: int
    steps_per_epoch: int
    train_samples: int
    validation_samples: int
    batch_size: int  # per step, over all replicas (fit.batch_size x replicas)
    time: float = field(default_factory=_now)
    replicas: int = 1  # model copies kept in sync (devices x workers) under a distribution strategy
    workers: int = 1  # processes training together (a multi-worker job's tasks)
    initial_epoch: int = 0  # > 0: a resumed run, continuing from its saved state at this (0-based) epoch


@dataclass(frozen=True)
class BatchEnded:
    epoch: int  # 0-based
    step: int  # 1-based count of batches done in this epoch
    steps: int  # batches per epoch
    metrics: dict[str, float]
    time: float = field(default_factory=_now)


@dataclass(frozen=True)
class EpochEnded:
    epoch: int  # 0-based
    epochs: int
    metrics: dict[str, float]  # loss, accuracy, val_loss, val_accuracy (whatever Keras logged)
    seconds: float
    time: float = field(default_factory=_now)


@dataclass(frozen=True)
class TrainingFinished:
    epochs_done: int
    reason: str = "completed"  # "completed" or "early stopping"
    time: float = field(default_factory=_now)


@dataclass(frozen=True)
class TrainingStopped:
    epochs_done: int
    reason: str = "stopped by user"
    time: float = field(default_factory=_now)


@dataclass(frozen=True)
class TrainingFailed:
    epochs_done: int
    reason: str
    time: float = field(default_factory=_now)


TrainingEvent = Union[TrainingStarted, BatchEnded, EpochEnded, TrainingFinished, TrainingStopped, TrainingFailed]
FinalEvent = Union[TrainingFinished, TrainingStopped, TrainingFailed]  # each says why: `reason`
Listener = Callable[[TrainingEvent], None]

EVENT_NAMES: dict[type, str] = {
    TrainingStarted: "started",
    BatchEnded: "batch_end",
    EpochEnded: "epoch_end",
    TrainingFinished: "finished",
    TrainingStopped: "stopped",
    TrainingFailed: "failed",
}
EVENT_TYPES = {name: cls for cls, name in EVENT_NAMES.items()}
# Events after which nothing more comes; their name is also the run's final status.
FINAL_EVENTS = (TrainingFinished, TrainingStopped, TrainingFailed)


def event_to_dict(event: TrainingEvent) -> dict[str, Any]:
    """Plain, strict-JSON data: a NaN or infinite metric (a diverged loss) becomes null."""
    data = {"event": EVENT_NAMES[type(event)], **asdict(event)}
    if "metrics" in data:
        data["metrics"] = {name: _finite_or_none(value) for name, value in data["metrics"].items()}
    return data


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def event_from_dict(data: dict[str, Any]) -> TrainingEvent:
    """Inverse of event_to_dict; raises ValueError for an unknown or malformed record."""
    data = dict(data)
    if isinstance(data.get("metrics"), dict):
        # null is how a NaN metric is written (strict JSON); in memory it is NaN again.
        data["metrics"] = {k: math.nan if v is None else v for k, v in data["metrics"].items()}
    name = data.pop("event", None)
    cls = EVENT_TYPES.get(name)
    if cls is None:
        raise ValueError(f"unknown event {name!r}")
    try:
        return cls(**data)
    except TypeError as error:
        raise ValueError(f"malformed {name} event: {error}") from None


def final_status(event: TrainingEvent) -> str | None:
    """'finished', 'stopped' or 'failed' for a final event, else None."""
    if isinstance(event, FINAL_EVENTS):
        return EVENT_NAMES[type(event)]
    return None
