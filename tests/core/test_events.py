"""Training events: every kind round-trips through the JSON lines of metrics.jsonl."""

from __future__ import annotations

import json
import math

import pytest

from kerastui.core.events import (
    BatchEnded,
    EpochEnded,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
    event_from_dict,
    event_to_dict,
    final_status,
)

EVENTS = [
    TrainingStarted(epochs=2, steps_per_epoch=5, train_samples=100, validation_samples=20, batch_size=20, time=1.0),
    BatchEnded(epoch=0, step=3, steps=5, metrics={"loss": 0.5, "accuracy": 0.8}, time=2.0),
    EpochEnded(epoch=0, epochs=2, metrics={"loss": 0.4, "val_loss": 0.45}, seconds=1.5, time=3.0),
    TrainingFinished(epochs_done=2, time=4.0),
    TrainingStopped(epochs_done=1, time=5.0),
    TrainingFailed(epochs_done=1, reason="loss became NaN", time=6.0),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_round_trips_through_a_json_line(event):
    assert event_from_dict(json.loads(json.dumps(event_to_dict(event)))) == event


def test_final_status_names_the_run_outcome():
    assert [final_status(e) for e in EVENTS] == [None, None, None, "finished", "stopped", "failed"]


def test_unknown_or_malformed_records_are_refused():
    with pytest.raises(ValueError, match="unknown event"):
        event_from_dict({"event": "exploded"})
    with pytest.raises(ValueError, match="malformed epoch_end"):
        event_from_dict({"event": "epoch_end", "epoch": 1})


def test_a_nan_metric_is_written_as_strict_json_and_read_back_as_nan():
    event = BatchEnded(epoch=1, step=3, steps=10, metrics={"loss": math.nan, "accuracy": 0.5}, time=1.0)
    line = json.dumps(event_to_dict(event), allow_nan=False)  # raises on NaN
    assert '"loss": null' in line
    back = event_from_dict(json.loads(line))
    assert math.isnan(back.metrics["loss"]) and back.metrics["accuracy"] == 0.5
