"""Trainer: event stream, throttling, stop, NaN, early stopping, failures, listeners, determinism."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import replace

import numpy as np
import pytest

from kerastui.core.events import (
    FINAL_EVENTS,
    BatchEnded,
    EpochEnded,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
)
from kerastui.core.spec import CompileSettings, FitSettings, LayerSpec, preset_experiment
from kerastui.core.train import Trainer, split_sizes

pytestmark = pytest.mark.slow  # trains tiny real models


@pytest.fixture(scope="module")
def digits():
    from kerastui.core.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="module")
def small(digits):
    """200 training samples: with split 0.2 and batch 32, 160 train (5 steps) and 40 validation."""
    return replace(digits, x_train=digits.x_train[:200], y_train=digits.y_train[:200])


def tiny(data, *, epochs=2, lr=0.01, optimizer="adam", patience=0, monitor="val_loss", seed=42):
    """Flatten -> Dense 16 -> Dense classes: trains in a blink."""
    layers = (
        LayerSpec("Flatten"),
        LayerSpec("Dense", {"units": 16, "activation": "relu"}),
        LayerSpec("Dense", {"units": data.num_classes, "activation": "softmax"}),
    )
    base = preset_experiment("mlp", data.name, data.input_shape, data.num_classes)
    return replace(
        base,
        layers=layers,
        compile=CompileSettings(optimizer=optimizer, learning_rate=lr),
        fit=FitSettings(epochs=epochs, batch_size=32, validation_split=0.2, early_stopping_patience=patience, monitor=monitor),
        seed=seed,
    )


def finals(events):
    return [e for e in events if isinstance(e, FINAL_EVENTS)]


def test_events_come_in_order_with_the_right_counts(small):
    events = []
    result = Trainer(tiny(small), small, [events.append]).run()

    assert result.status == "finished" and result.reason == "completed"
    started = events[0]
    assert isinstance(started, TrainingStarted)
    assert (started.epochs, started.steps_per_epoch, started.train_samples, started.validation_samples, started.batch_size) == (2, 5, 160, 40, 32)
    batches = [e for e in events if isinstance(e, BatchEnded)]
    assert [(b.epoch, b.step) for b in batches] == [(e, s) for e in range(2) for s in range(1, 6)]
    assert all(b.steps == 5 and isinstance(b.metrics["loss"], float) for b in batches)
    epochs = [e for e in events if isinstance(e, EpochEnded)]
    assert [e.epoch for e in epochs] == [0, 1]
    for epoch in epochs:
        assert set(epoch.metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert all(type(v) is float and math.isfinite(v) for v in epoch.metrics.values())
        assert epoch.seconds > 0
    # Each epoch's batches come before its EpochEnded; the one final event comes last.
    assert events.index(epochs[0]) == 1 + 5 and events.index(epochs[1]) == 1 + 5 + 1 + 5
    assert finals(events) == [events[-1]] and events[-1] == TrainingFinished(2, "completed", time=events[-1].time)
    assert result.history == {k: [e.metrics[k] for e in epochs] for k in epochs[0].metrics}
    assert result.epochs_done == 2


def test_steps_follow_kerases_validation_split():
    assert split_sizes(200, 0.2) == (160, 40)
    assert split_sizes(1437, 0.2) == (1149, 288)
    assert split_sizes(10, 0.0) == (10, 0)


def test_throttled_batch_events_still_report_the_last_batch_of_every_epoch(small):
    events = []
    Trainer(tiny(small, epochs=3), small, [events.append], batch_event_interval=1e9).run()
    batches = [e for e in events if isinstance(e, BatchEnded)]
    assert [(b.epoch, b.step) for b in batches] == [(0, 5), (1, 5), (2, 5)]
    assert len([e for e in events if isinstance(e, EpochEnded)]) == 3


def test_stop_request_mid_epoch_keeps_the_finished_epochs(small):
    events = []
    trainer = Trainer(tiny(small, epochs=4), small)

    def stop_in_second_epoch(event):
        events.append(event)
        if isinstance(event, BatchEnded) and (event.epoch, event.step) == (1, 2):
            trainer.request_stop()

    trainer.add_listener(stop_in_second_epoch)
    result = trainer.run()

    assert result.status == "stopped" and result.epochs_done == 1
    assert [e.epoch for e in events if isinstance(e, EpochEnded)] == [0]
    last_batch = [e for e in events if isinstance(e, BatchEnded)][-1]
    assert (last_batch.epoch, last_batch.step) == (1, 2)  # took effect at the next batch end
    assert finals(events) == [events[-1]] and isinstance(events[-1], TrainingStopped)
    assert events[-1].epochs_done == 1 and events[-1].reason == "stopped by user"
    assert all(len(values) == 1 for values in result.history.values()) and result.history
    assert result.model is not None


def test_a_stop_event_set_before_the_run_stops_after_the_first_batch(small):
    from kerastui.core.train import StopRequest

    stop = StopRequest()
    stop.set()
    events = []
    result = Trainer(tiny(small), small, [events.append], stop_event=stop).run()
    assert result.status == "stopped" and result.epochs_done == 0 and result.history == {}
    assert [type(e) for e in events] == [TrainingStarted, BatchEnded, TrainingStopped]


def test_a_stop_request_with_a_reason_ends_the_run_with_that_reason(small):
    from kerastui.core.train import StopRequest

    stop = StopRequest()
    stop.request("stopped by Slurm: job 7 got SIGTERM")
    events = []
    result = Trainer(tiny(small), small, [events.append], stop_event=stop).run()
    assert result.status == "stopped"
    assert isinstance(events[-1], TrainingStopped) and events[-1].reason == "stopped by Slurm: job 7 got SIGTERM"


def test_a_stop_that_saves_the_state_mid_epoch_leaves_fit_without_validating_the_cut_epoch(small, tmp_path,
                                                                                          monkeypatch):
    # Slurm's SIGTERM gives the grace time to one save: validating the cut-short epoch after it
    # (what Keras does after stop_training) could outlast KillWait on a large validation set.
    from kerastui.core.backend import import_keras
    from kerastui.core.train import StopRequest

    experiment = tiny(small, epochs=3)
    keras = import_keras(experiment.backend)
    validations = []
    evaluate = keras.Model.evaluate
    monkeypatch.setattr(keras.Model, "evaluate", lambda self, *a, **k: validations.append(1) or evaluate(self, *a, **k))
    stop = StopRequest()
    trainer = Trainer(experiment, small, stop_event=stop, backup_dir=tmp_path / "backup",
                      batch_event_interval=0)

    def preempt_in_second_epoch(event):
        if isinstance(event, BatchEnded) and (event.epoch, event.step) == (1, 2):
            stop.request("stopped by Slurm: SIGTERM", save_state=True)

    trainer.add_listener(preempt_in_second_epoch)
    result = trainer.run()
    assert result.status == "stopped" and result.epochs_done == 1 and result.saved_mid_epoch == (1, 2), result.reason
    assert result.reason == "stopped by Slurm: SIGTERM"
    assert len(validations) == 1  # the first epoch's validation only


def test_an_infinite_input_makes_the_loss_nan_and_the_run_fail_with_a_reason(small):
    x = small.x_train.copy()
    x[7] = np.inf  # inf * weights - inf * weights = NaN in the first Dense layer
    events = []
    result = Trainer(tiny(small, epochs=3), replace(small, x_train=x), [events.append]).run()
    assert result.status == "failed"
    assert len(finals(events)) == 1 and isinstance(events[-1], TrainingFailed)
    assert events[-1].reason == result.reason
    assert re.fullmatch(r"loss became NaN at epoch 1, batch [1-5]; try a lower learning rate", result.reason)
    assert result.epochs_done == 0 and not [e for e in events if isinstance(e, EpochEnded)]
    assert all(math.isfinite(e.metrics["loss"]) for e in events if isinstance(e, BatchEnded))  # no bad batch shown


def test_nan_in_a_later_epoch_keeps_the_finished_ones_and_names_where(small):
    events = []
    trainer = Trainer(tiny(small, epochs=3), small)

    def poison_after_first_epoch(event):
        events.append(event)
        if isinstance(event, EpochEnded) and event.epoch == 0:
            model = trainer.model
            model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])

    trainer.add_listener(poison_after_first_epoch)
    result = trainer.run()
    assert result.status == "failed"
    assert result.reason == "loss became NaN at epoch 2, batch 1; try a lower learning rate"
    assert result.epochs_done == 1 and all(len(v) == 1 for v in result.history.values())
    assert [type(e) for e in events[-2:]] == [EpochEnded, TrainingFailed]  # no half epoch reported
    assert events[-1].epochs_done == 1


def test_early_stopping_ends_as_finished_with_the_epoch_and_restores_the_best_weights(small):
    # Validation labels shifted by one class: the better the model learns, the worse val_loss gets.
    y = small.y_train.copy()
    y[160:] = (y[160:] + 1) % 10
    data = replace(small, y_train=y)
    events = []
    result = Trainer(tiny(data, epochs=30, patience=1), data, [events.append]).run()

    assert result.status == "finished"
    assert result.reason == f"early stopping at epoch {result.epochs_done}"
    assert 2 <= result.epochs_done < 30
    assert isinstance(events[-1], TrainingFinished) and events[-1].reason == result.reason
    val_loss = result.model.evaluate(data.x_train[160:], y[160:], verbose=0, return_dict=True)["loss"]
    assert val_loss == pytest.approx(min(result.history["val_loss"]), rel=1e-4)


def test_early_stopping_on_validation_needs_a_validation_split(small):
    experiment = tiny(small, patience=2)
    experiment = replace(experiment, fit=replace(experiment.fit, validation_split=0.0))
    assert any(p.field == "fit.validation_split" and "needs a validation split" in p.message
               for p in experiment.problems())  # bad input, known before training
    result = Trainer(experiment, small).run()  # and the trainer, called directly, refuses it too
    assert result.status == "failed" and "needs a validation split" in result.reason


def test_same_seed_gives_identical_metrics_and_another_seed_differs(small):
    first = Trainer(tiny(small, epochs=1), small).run().history
    second = Trainer(tiny(small, epochs=1), small).run().history
    other = Trainer(tiny(small, epochs=1, seed=7), small).run().history
    assert first == second
    assert first["loss"] != other["loss"]


def test_a_listener_that_raises_is_logged_and_training_goes_on(small, caplog):
    seen = []

    def broken(event):
        raise RuntimeError("chart exploded")

    with caplog.at_level(logging.ERROR, logger="kerastui.core.train"):
        result = Trainer(tiny(small, epochs=1), small, [broken, seen.append]).run()
    assert result.status == "finished"
    assert isinstance(seen[0], TrainingStarted) and isinstance(seen[-1], TrainingFinished)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "chart exploded" in errors[0].exc_text  # logged once, not per batch


def test_layers_that_do_not_fit_fail_before_training_with_the_layer_named(digits):
    experiment = replace(tiny(digits), layers=(LayerSpec("Flatten"), LayerSpec("MaxPooling2D")))
    events = []
    result = Trainer(experiment, digits, [events.append]).run()
    assert result.status == "failed" and result.model is None
    assert [type(e) for e in events] == [TrainingFailed]
    # The shape check refuses it before Keras builds anything, naming the layer and what it needs.
    assert result.reason.startswith("layers[1].type = 'MaxPooling2D': needs image input")
    assert "(64,)" in result.reason


def test_an_output_that_does_not_match_the_classes_fails_clearly(small):
    experiment = replace(tiny(small), layers=(LayerSpec("Flatten"), LayerSpec("Dense", {"units": 3, "activation": "softmax"})))
    result = Trainer(experiment, small).run()
    assert result.status == "failed" and "10 classes" in result.reason


def test_an_error_inside_fit_becomes_a_failed_event_not_an_exception(small):
    y = small.y_train.copy()
    y[:] = 15  # no such class: TensorFlow rejects the labels at run time
    events = []
    result = Trainer(tiny(small), replace(small, y_train=y), [events.append]).run()
    assert result.status == "failed"
    assert "15" in result.reason and len(result.reason) <= 400
    assert len(finals(events)) == 1 and isinstance(events[-1], TrainingFailed)


def test_ctrl_c_during_fit_reports_stopped_keeps_epochs_and_reraises(small):
    events = []
    raised = []

    def interrupt_in_second_epoch(event):
        events.append(event)
        if isinstance(event, BatchEnded) and event.epoch == 1 and not raised:
            raised.append(True)
            raise KeyboardInterrupt

    trainer = Trainer(tiny(small, epochs=3), small, [interrupt_in_second_epoch])
    with pytest.raises(KeyboardInterrupt):
        trainer.run()
    assert isinstance(events[-1], TrainingStopped) and events[-1].reason == "interrupted (Ctrl+C)"
    assert len(finals(events)) == 1 and events[-1].epochs_done == 1
    assert trainer.result.status == "stopped" and trainer.result.epochs_done == 1
    assert len(trainer.result.history["loss"]) == 1
    assert trainer.model is not None and trainer.result.model is trainer.model


def test_the_classic_mlp_learns_digits(digits):
    experiment = preset_experiment("mlp", "digits", digits.input_shape, digits.num_classes)
    experiment = replace(experiment, fit=replace(experiment.fit, epochs=5, batch_size=32))
    result = Trainer(experiment, digits).run()
    assert result.status == "finished"
    scores = result.model.evaluate(digits.x_test, digits.y_test, verbose=0, return_dict=True)
    assert scores["accuracy"] >= 0.90
