"""The live charts read like a careful plotting library's: whole-epoch x ticks, round y ticks, the
legend in the title (never over a curve), the best validation epoch marked, smoothing and zoom."""

from __future__ import annotations

import pytest
from fakes import FakePreviewer, wait_until
from run_dirs import make_run

from kerastui.core.data import load_dataset
from kerastui.core.runs import load_run
from kerastui.tui.screens.monitor import RunMonitor
from kerastui.tui.watch import WatchApp
from kerastui.tui.widgets.chart_scale import nice_ticks, smooth, tick_labels, whole_ticks


def test_nice_ticks_are_round_and_cover_the_data():
    assert nice_ticks(0.71, 1.04) == [0.7, 0.8, 0.9, 1.0, 1.1]
    assert tick_labels(nice_ticks(0.71, 1.04)) == ["0.7", "0.8", "0.9", "1.0", "1.1"]
    assert nice_ticks(0.3, 2.3) == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert tick_labels([0.7, 0.75, 0.8]) == ["0.70", "0.75", "0.80"]
    for low, high in ((0.0012, 0.0031), (3.0, 700.0), (-2.0, 5.5), (0.5, 0.5)):
        ticks = nice_ticks(low, high)
        assert ticks[0] <= low and ticks[-1] >= high and 2 <= len(ticks) <= 8, (low, high, ticks)
        steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:])}
        assert len(steps) == 1  # evenly spaced


def test_epoch_ticks_are_whole_numbers_also_in_a_zoomed_window():
    assert whole_ticks(0, 10) == [0, 2, 4, 6, 8, 10]
    assert whole_ticks(45, 50) == [45, 46, 47, 48, 49, 50]
    assert all(isinstance(t, int) for t in whole_ticks(0, 500))


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


async def test_the_charts_show_whole_epochs_round_values_the_best_epoch_and_the_latest_in_the_title(tmp_path, digits):
    run = make_run(tmp_path / "runs", "charted", epochs=12, dataset=digits)
    history = load_run(run).metrics_history
    app = WatchApp(run, previewer=FakePreviewer())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.phase == "finished", what="run")
        monitor = app.screen
        loss, accuracy = monitor.loss_chart, monitor.accuracy_chart
        assert loss.x_ticks == [0, 2, 4, 6, 8, 10, 12]
        assert all(float(t).is_integer() for t in loss.x_ticks)
        labels = tick_labels(loss.y_ticks)
        assert all(len(label.split(".")[-1]) <= 2 for label in labels)  # round values
        drawn = loss.series("loss") + loss.series("val_loss")
        assert loss.y_ticks[0] <= min(drawn) and loss.y_ticks[-1] >= max(drawn)
        # The best validation epoch: lowest val_loss, highest val_accuracy (1-based epoch on the axis).
        best_loss = min(history["val_loss"])
        assert loss.best == (history["val_loss"].index(best_loss) + 1.0, best_loss)
        best_accuracy = max(history["val_accuracy"])
        assert accuracy.best[1] == best_accuracy
        assert f"best {best_loss:.3g}@" in loss.title_text
        assert f"val {history['val_loss'][-1]:.3g}" in loss.title_text  # the latest value, in the legend

        await pilot.press("m")  # smoothing: the drawn curve changes, the data does not
        await pilot.pause(0.05)
        assert loss.smoothing == 0.6 and accuracy.smoothing == 0.6 and "smooth 0.6" in loss.title_text
        assert loss.series("loss") == history["loss"]
        assert smooth(history["loss"], 0.6) != history["loss"]
        await pilot.press("z")  # the last 10 epochs, the y range following what is shown
        await pilot.pause(0.05)
        assert loss.zoom_epochs == 10 and loss.x_ticks[0] >= 2 and loss.x_ticks[-1] == 12
        shown = [v for x, v in zip(range(1, 13), history["loss"]) if x >= 2] + \
                [v for x, v in zip(range(1, 13), history["val_loss"]) if x >= 2]
        assert loss.y_ticks[-1] < max(drawn) or max(shown) == max(drawn)
        await pilot.press("z", "z")  # the last 5, then the whole run again
        await pilot.pause(0.05)
        assert loss.zoom_epochs == 0 and loss.x_ticks[0] == 0
        await pilot.press("m", "m")
        assert loss.smoothing == 0.0


async def test_the_charts_are_legible_at_80x24_and_without_colour(tmp_path, digits, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    run = make_run(tmp_path / "runs", "small", epochs=5, dataset=digits)
    app = WatchApp(run, previewer=FakePreviewer())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.phase == "finished", what="run")
        chart = app.screen.loss_chart
        assert chart.size.width >= 30 and len(chart.title_text) <= chart.size.width
        assert chart.x_ticks == [0, 1, 2, 3, 4, 5]


def test_smoothing_is_extended_as_epochs_arrive_and_equals_smoothing_it_all_again():
    from kerastui.tui.widgets.chart_scale import SmoothedSeries

    values = [2.0, 1.5, float("nan"), 1.0, 0.8, 0.9, 0.5]
    kept = SmoothedSeries()
    for end in range(1, len(values) + 1):
        grown = kept.of(values[:end], 0.6)
        assert grown == pytest.approx(smooth(values[:end], 0.6), nan_ok=True)
    running = kept.next(0.4)  # the running batch: shown, not kept
    assert running == pytest.approx(smooth([*values, 0.4], 0.6)[-1]) and len(kept.values) == len(values)
    assert kept.of(values, 0.3) == pytest.approx(smooth(values, 0.3), nan_ok=True)  # another weight: all again
    assert kept.of(values[:2], 0.3) == pytest.approx(smooth(values[:2], 0.3))  # a shorter series: started again
