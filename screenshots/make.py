"""Regenerate screenshots/ from a real training run on the digits data.

    python screenshots/make.py            # 120x40, SVG + PNG (PNG needs: pip install -e '.[screenshots]')

Drives the real app with the same keys a user presses: build screen, train (screenshot mid-run),
evaluate, the misclassified browser filtered to the most confused pair, help, and the runs screen
with a second (CNN) run beside the first. Runs go to a temporary folder, not ./runs.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZE = (120, 40)


async def wait_until(pilot, predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def most_confused_pair(confusion) -> tuple[int, int]:
    """The off-diagonal cell with the most mistakes: the most telling filter to show."""
    cells = [(count, t, p) for t, row in enumerate(confusion) for p, count in enumerate(row) if t != p]
    _, true, predicted = max(cells)
    return true, predicted


async def capture(runs_root: Path) -> list[str]:
    from kerastui.core.spec import Experiment, FitSettings
    from kerastui.tui.app import KerasTUI
    from kerastui.tui.screens.evaluate import EvaluateScreen
    from kerastui.tui.screens.monitor import RunMonitor

    saved: list[str] = []

    def shot(app, name: str) -> None:
        app.save_screenshot(f"{name}.svg", str(HERE))
        saved.append(name)

    # Batch 4: about a second an epoch on digits, like a real workload's pace, so the mid-run
    # picture shows what a user watches; 12 epochs stay short enough to wait for.
    experiment = replace(Experiment(), name="mlp-digits", fit=FitSettings(epochs=12, batch_size=4))
    app = KerasTUI(experiment=experiment, runs_root=runs_root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.keras_ready and app.dataset is not None, 180, "Keras and the data")
        await pilot.pause(0.5)
        shot(app, "data")
        await pilot.press("f3")  # the Model tab: layer editor and the live Keras summary
        await pilot.pause(1.5)
        shot(app, "build")

        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.run_dir is not None, 60, "the train screen")
        train = app.screen
        await wait_until(pilot, lambda: train.progress_state.epoch >= 5 and train.progress_state.step > 100, 300, "epoch 6")
        await pilot.pause(1.2)  # charts redraw at a paced rate (at most 1 s behind)
        shot(app, "train")
        await wait_until(pilot, lambda: train.phase == "finished" and app.last_outcome is not None, 300, "the end of training")

        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen), 60, "the evaluate screen")
        await pilot.pause(0.5)
        shot(app, "evaluate")

        true, predicted = most_confused_pair(app.last_outcome.evaluation.confusion)
        await pilot.press(*(["down"] * true), *(["right"] * predicted), "enter")
        await pilot.pause(0.5)
        shot(app, "misclassified")

        await pilot.press("f1")
        await pilot.pause(0.5)
        shot(app, "help")
        await pilot.press("escape")

        # A second run, the CNN preset, so the runs screen has something to compare.
        await pilot.press("b")
        await pilot.pause(0.3)
        await pilot.press("c")
        await pilot.pause(0.5)
        app.experiment = replace(app.experiment, name="cnn-digits", fit=FitSettings(epochs=4, batch_size=32))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.phase == "finished", 300, "the CNN run")

        await pilot.press("r")
        await pilot.pause(1.5)
        shot(app, "runs")

    # The other tasks' evaluate screens, each from its data chosen by keys and a short real run:
    # breast_cancer (binary, the threshold moved to TPR at FPR 0.05), diabetes (regression).
    for dataset, name, keys in (("breast_cancer", "evaluate-binary", ("f", "f", "f")),
                                ("diabetes", "evaluate-regression", ())):
        saved.append(await task_evaluation(runs_root, dataset, name, keys))
    return saved


async def task_evaluation(runs_root: Path, dataset: str, name: str, keys: tuple[str, ...]) -> str:
    from kerastui.tui.app import KerasTUI
    from kerastui.tui.screens.evaluate import EvaluateScreen
    from kerastui.tui.screens.monitor import RunMonitor
    from kerastui.tui.widgets.dataset_picker import DatasetPicker

    app = KerasTUI(runs_root=runs_root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.keras_ready and app.dataset is not None, 180, "Keras and the data")
        picker = app.screen.query_one(DatasetPicker)
        await wait_until(pilot, lambda: dataset in [info.name for info in picker.infos], 30, "the dataset list")
        await pilot.press("f2", "ctrl+home", *["down"] * [info.name for info in picker.infos].index(dataset), "enter")
        await wait_until(pilot, lambda: app.dataset is not None and app.dataset.name == dataset, 60, dataset)
        app.experiment = replace(app.experiment, name=f"mlp-{dataset}",
                                 fit=replace(app.experiment.fit, epochs=30, batch_size=16))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.phase == "finished", 300,
                         f"the {dataset} run")
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen), 60, "the evaluate screen")
        await pilot.pause(0.5)
        for key in keys:
            await pilot.press(key)
        await pilot.pause(1.0)
        app.save_screenshot(f"{name}.svg", str(HERE))
    return name


def to_png(names: list[str]) -> None:
    try:
        import cairosvg
    except ImportError:
        print("cairosvg is not installed: SVGs only (pip install -e '.[screenshots]' for PNGs)")
        return
    for name in names:
        svg = one_cell_per_glyph((HERE / f"{name}.svg").read_text(encoding="utf-8"))
        cairosvg.svg2png(bytestring=svg.encode("utf-8"), write_to=str(HERE / f"{name}.png"))


TEXT_RUN = re.compile(r'<text ([^>]*?)x="([\d.]+)"([^>]*?)textLength="([\d.]+)"([^>]*)>([^<]*)</text>')


def one_cell_per_glyph(svg: str) -> str:
    """Each word of a text run placed at its own cell, and each braille or box-drawing glyph in its
    own cell, as a terminal places them.

    cairosvg ignores the runs' textLength, and the fonts here are proportional (braille comes from
    a fallback font): a chart's right border drifted into its curves and its tick labels bunched up.
    """
    def split(match: re.Match) -> str:
        before, x, middle, length, after, content = match.groups()
        text = html.unescape(content).replace("\u00a0", " ")
        if len(text) < 2:
            return match.group(0)
        cell = float(length) / len(text)
        pieces = []
        for word in re.finditer(r"\S+", text):
            glyphs = [word.group()] if not GRID_GLYPHS.search(word.group()) else list(word.group())
            start = word.start()
            for glyph in glyphs:
                pieces.append(f'<text {before}x="{float(x) + start * cell:.1f}"{middle}'
                              f'textLength="{len(glyph) * cell:.1f}"{after}>{html.escape(glyph)}</text>')
                start += len(glyph)
        return "".join(pieces)

    return TEXT_RUN.sub(split, svg)


GRID_GLYPHS = re.compile("[\u2500-\u259f\u2800-\u28ff]")  # box drawing, blocks, braille


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory(prefix="kerastui-screenshots-") as runs_root:
        names = asyncio.run(capture(Path(runs_root)))
    to_png(names)
    for name in names:
        print(HERE / f"{name}.svg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
