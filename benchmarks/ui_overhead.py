"""Does drawing slow training down? The same fit headless and inside the app, side by side.

    python benchmarks/ui_overhead.py [--epochs 8] [--batch-size 8] [--rounds 3]

Trains the classic MLP on digits through the real pipeline (the code path `kerastui train` and the
UI share), once with no listener and once inside the running app (Textual's headless driver,
the train screen charting every event it receives), alternating, in one process. Small batches
mean many batch events: the worst case for a UI. Prints the median seconds of training (from the
TrainingStarted event to the final one) for each, and the ratio app / headless.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from kerastui.core.events import FINAL_EVENTS, TrainingStarted


class FitClock:
    """A listener that times the fit itself: start event to final event."""

    def __init__(self) -> None:
        self.started = self.ended = 0.0
        self.batch_events = 0

    def __call__(self, event) -> None:
        if isinstance(event, TrainingStarted):
            self.started = time.perf_counter()
        elif isinstance(event, FINAL_EVENTS):
            self.ended = time.perf_counter()
        else:
            self.batch_events += 1

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def headless(experiment, dataset, runs_root: Path) -> FitClock:
    from kerastui.core.pipeline import run_experiment

    clock = FitClock()
    run_experiment(experiment, dataset, runs_root=runs_root, listeners=[clock])
    return clock


def in_app(experiment, dataset, runs_root: Path) -> FitClock:
    from kerastui.core.pipeline import run_experiment
    from kerastui.tui.app import KerasTUI
    from kerastui.tui.screens.train import TrainScreen

    clock = FitClock()

    def timed_run(*args, listeners=(), **kwargs):
        return run_experiment(*args, listeners=[*listeners, clock], **kwargs)

    async def drive() -> None:
        app = KerasTUI(experiment=experiment, runs_root=runs_root, run_experiment=timed_run)
        async with app.run_test(size=(120, 40)) as pilot:
            while not (app.keras_ready and app.dataset is not None):
                await pilot.pause(0.05)
            await pilot.press("ctrl+r")
            while not (isinstance(app.screen, TrainScreen) and app.screen.phase == "finished"):
                await pilot.pause(0.05)

    asyncio.run(drive())
    return clock


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from kerastui.core.backend import import_keras
    from kerastui.core.data import load_dataset
    from kerastui.core.spec import Experiment, FitSettings

    import_keras()  # both sides start with Keras loaded
    dataset = load_dataset("digits")
    experiment = replace(Experiment(name="bench"), fit=FitSettings(epochs=args.epochs, batch_size=args.batch_size))
    times: dict[str, list[float]] = {"headless": [], "in app": []}
    events = 0
    with tempfile.TemporaryDirectory() as tmp:
        headless(experiment, dataset, Path(tmp) / "warm-up")  # graph tracing, caches
        for round_ in range(args.rounds):
            for name, runner in (("headless", headless), ("in app", in_app)):
                clock = runner(experiment, dataset, Path(tmp) / f"{name}-{round_}")
                times[name].append(clock.seconds)
                events = max(events, clock.batch_events)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"digits MLP, {args.epochs} epochs, batch {args.batch_size} (up to {events} events per fit), {args.rounds} rounds")
    for name, values in times.items():
        print(f"  {name:<9} median {median[name]:.2f} s   ({', '.join(f'{v:.2f}' for v in values)})")
    print(f"  ratio in app / headless: {median['in app'] / median['headless']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
