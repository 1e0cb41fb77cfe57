"""SampleView draws each kind of sample: image, signal, text (decoded or as indices), table row."""

from __future__ import annotations

import numpy as np
from rich.console import Console
from textual.app import App, ComposeResult

from kerastui.tui.widgets.image_view import UPPER_HALF_BLOCK, ImageView
from kerastui.tui.widgets.plotext_chart import PlotextChart
from kerastui.tui.widgets.sample_view import (
    SampleView,
    sample_kind,
    signal_text,
    tabular_sample,
    text_sample,
)


def plain(renderable, width: int = 100) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


class OneSample(App):
    def __init__(self, kind: str, **options) -> None:
        super().__init__()
        self.kind, self.options = kind, options

    def compose(self) -> ComposeResult:
        yield SampleView(self.kind, **self.options)


def test_text_decoded_with_the_word_index_padding_left_out():
    words = ("<pad>", "<start>", "<oov>", "this", "film", "was", "great")
    text = text_sample(np.array([0, 0, 1, 3, 4, 5, 6]), words)
    assert text.plain == "<start> this film was great"


def test_text_without_a_word_index_shows_indices_and_says_so():
    text = text_sample(np.array([0, 0, 12, 7, 99]))
    assert text.plain.startswith("12 7 99")
    assert "no word index" in text.plain


def test_text_index_beyond_the_word_index_is_marked_and_long_texts_are_cut():
    text = text_sample(np.array([1, 50]), ("", "hello"))
    assert text.plain == "hello #50"
    long = text_sample(np.arange(1, 101), tuple(f"w{i}" for i in range(101)), max_words=10)
    assert long.plain.endswith("… 90 more words")
    assert long.plain.startswith("w1 w2")


def test_tabular_row_shows_name_and_value():
    out = plain(tabular_sample(np.array([1.5, -0.25]), ("mean radius", "mean texture")))
    assert "mean radius:" in out and "+1.50" in out
    assert "mean texture:" in out and "-0.25" in out
    assert "x0:" in plain(tabular_sample(np.array([3.0])))


def test_signal_chart_draws_one_line_per_channel():
    steps = np.linspace(0, 6.28, 200)
    one = signal_text(np.sin(steps)[:, None])
    two = signal_text(np.stack([np.sin(steps), np.cos(steps) * 3], axis=1))
    assert any(ch in one for ch in "⠁⠂⠄⡀⠈⠐⠠⢀")  # braille dots: a line was drawn
    assert "ch 0" in two and "ch 1" in two  # a legend names each channel
    assert "ch 1" not in one


def test_kind_follows_the_dataset_and_the_shape():
    assert sample_kind("image", np.zeros((8, 8))) == "image"
    assert sample_kind("image", np.zeros(64)) == "tabular"
    assert sample_kind("signal", np.zeros((200, 2))) == "signal"
    assert sample_kind("text", np.zeros(20)) == "text"
    assert sample_kind("tabular", np.zeros(30)) == "tabular"


async def test_widget_draws_each_kind_and_switches_between_them():
    app = OneSample("image")
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(SampleView)
        text = view.query_one(".sample-text")
        chart = view.query_one(PlotextChart)

        view.show(np.full((8, 8), 0.5), "digit 3")
        await pilot.pause()
        assert view.drawn_as == "image"
        assert UPPER_HALF_BLOCK in view.query_one(ImageView).render().plain
        assert len(view.query_one(ImageView).render().plain.split("\n")[0]) == 16  # 8 pixels doubled
        assert not text.display
        assert view.query_one(".sample-caption").render().plain == "digit 3"
        assert not chart.display

        view.configure("signal")
        view.show(np.stack([np.sin(np.linspace(0, 6, 200))] * 2, axis=1), "signal")
        await pilot.pause()
        assert chart.display and view.drawn_as == "signal"
        assert "200 steps × 2 channels" in text.render().plain
        assert "ch 1" in chart.render().plain

        view.configure("text", index_words=("", "<start>", "good"))
        view.show(np.array([0, 1, 2]), "positive")
        await pilot.pause()
        assert not chart.display and not view.query_one(ImageView).display
        assert text.render().plain == "<start> good"

        view.configure("tabular", feature_names=("age", "bmi"))
        view.show(np.array([0.5, -1.0]), "")
        await pilot.pause()
        rendered = plain(view.renderable())
        assert "age:" in rendered and "bmi:" in rendered
        assert not view.query_one(".sample-caption").display

        view.show(None)
        await pilot.pause()
        assert view.drawn_as == ""
