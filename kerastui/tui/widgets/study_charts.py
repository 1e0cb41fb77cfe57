"""A sweep's study views (kerastui.core.study_views) drawn: plotext for the optimisation history,
the value against one parameter and the Pareto front (each a Draw for PlotextChart.plot, or built
to text by `chart_text` for `kerastui sweep --show`), rich text for the importance bars and the
front's table.

Series are told apart by marker as well as colour (NO_COLOR terminals): complete trials "•",
pruned ones "x" at their last reported value, the best so far a braille line, the front "o".
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text

from kerastui.cli.data_drawing import text_bar
from kerastui.tui.widgets.chart_scale import nice_ticks, tick_labels, whole_ticks
from kerastui.tui.widgets.plotext_chart import Draw, axis_ticks, build_figure, line

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.study_views import Importances, ParameterValues, StudyViews

# The views a key steps through, in order, with the words the screen shows for each.
VIEWS = {"history": "optimisation history", "importances": "parameter importances",
         "parameter": "value against a parameter", "pareto": "Pareto front"}
COMPLETE_MARK, PRUNED_MARK, FRONT_MARK = "•", "x", "o"
STATE_MARKS = {"pruned": ("✂ ", "yellow"), "failed": ("✗ ", "red")}  # in the leaderboard's status column
MAX_FRONT_ROWS = 12


def status_text(status: str, style: str) -> Text:
    """A leaderboard's status cell: pruned and failed trials marked so they stand out in any colour."""
    mark, mark_style = STATE_MARKS.get(status, ("", style))
    return Text(mark + status, style=mark_style if mark else style)


def chart_text(draw: Draw, width: int, height: int, colour: bool = True) -> Text:
    """A Draw built to text at width x height cells (the command line's charts)."""
    return Text.from_ansi(build_figure(draw, width, height).string(colorless=not colour).rstrip("\n"), no_wrap=True)


def _message(figure: Any, text: str) -> None:
    figure.draw(figure.text(0.5, 0.5, text, alignment="center"))
    axis_ticks(figure, "x", 0.0, 1.0, [], [])
    axis_ticks(figure, "y", 0.0, 1.0, [], [])


def _value_axis(figure: Any, values: list[float]) -> None:
    low, high = min(values), max(values)
    if low == high:
        low, high = low - 0.5 * (abs(low) or 1), high + 0.5 * (abs(high) or 1)
    ticks = nice_ticks(low, high, most=5)
    axis_ticks(figure, "y", min(ticks[0], low), max(ticks[-1], high), ticks, tick_labels(ticks))


def _padded_x_axis(figure: Any, xs: list[float], label: Any = tick_labels) -> None:
    """An x axis over `xs` with 5% room at each end (a whole cell's half when all are equal)."""
    low, high = min(xs), max(xs)
    pad = (high - low) * 0.05 or 0.5
    ticks = nice_ticks(low - pad, high + pad, most=5)
    axis_ticks(figure, "x", low - pad, high + pad, ticks, label(ticks))


def history_draw(views: StudyViews) -> Draw:
    """Each ended trial's value against its number, the best so far as a line (first objective)."""
    objective, direction = views.objectives[0], views.directions[0]
    complete = [p for p in views.history if p.state == "complete"]
    pruned = [p for p in views.history if p.state == "pruned"]
    best = [p for p in views.history if not math.isnan(p.best)]

    def draw(figure: Any) -> None:
        mark = f" · {PRUNED_MARK} pruned" if pruned else ""
        figure.title(f"{objective} ({direction}) by trial: {COMPLETE_MARK} trial · ⠒ best so far{mark}")
        if not views.history:
            _message(figure, "no trial has ended yet")
            return
        if best:
            # The best-so-far as steps: it holds until a better trial, then jumps.
            xs, ys = [best[0].number], [best[0].best]
            for point in best[1:]:
                xs += [point.number, point.number]
                ys += [ys[-1], point.best]
            line(figure, [float(x) for x in xs], ys, "green", "braille")
        if pruned:
            line(figure, [float(p.number) for p in pruned], [p.value for p in pruned], "orange", PRUNED_MARK, connect=False)
        if complete:
            line(figure, [float(p.number) for p in complete], [p.value for p in complete], "cyan", COMPLETE_MARK,
                 connect=False)
        numbers = [p.number for p in views.history]
        ticks = whole_ticks(min(numbers), max(numbers), most=8)
        axis_ticks(figure, "x", min(numbers) - 0.5, max(numbers) + 0.5, ticks, [str(t) for t in ticks])
        _value_axis(figure, [p.value for p in views.history])
        figure.label("trial", axis="x")

    return draw


def parameter_draw(views: StudyViews, parameter: ParameterValues) -> Draw:
    """The first objective of each complete trial against one parameter: a log axis for a log
    range, the choices as ticks for a categorical one; pruned trials at their last value."""
    objective = views.objectives[0]
    to_x = (lambda v: math.log10(v)) if parameter.log and all(v > 0 for v in parameter.xs + parameter.pruned_xs) else float

    def draw(figure: Any) -> None:
        mark = f" · {PRUNED_MARK} pruned" if parameter.pruned_xs else ""
        figure.title(f"{objective} against {parameter.name}{' (log)' if to_x is not float else ''}: "
                     f"{COMPLETE_MARK} trial{mark}")
        xs = [to_x(v) for v in parameter.xs]
        pruned_xs = [to_x(v) for v in parameter.pruned_xs]
        if not xs and not pruned_xs:
            _message(figure, f"no ended trial has set {parameter.name} yet")
            return
        if pruned_xs:
            line(figure, pruned_xs, parameter.pruned_values, "orange", PRUNED_MARK, connect=False)
        if xs:
            line(figure, xs, parameter.values, "cyan", COMPLETE_MARK, connect=False)
        if parameter.numeric:
            powers_of_ten = lambda ticks: [f"{10 ** t:.2g}" for t in ticks]  # noqa: E731
            _padded_x_axis(figure, xs + pruned_xs, powers_of_ten if to_x is not float else tick_labels)
        else:
            count = len(parameter.choices)
            axis_ticks(figure, "x", -0.5, count - 0.5, [float(i) for i in range(count)], list(parameter.choices))
        _value_axis(figure, parameter.values + parameter.pruned_values)
        figure.label(parameter.name, axis="x")

    return draw


def pareto_draw(views: StudyViews) -> Draw:
    """The first two objectives of every complete trial, the front marked o."""

    def draw(figure: Any) -> None:
        if not views.multi_objective:
            figure.title("Pareto front")
            _message(figure, "one objective: the best trial leads the leaderboard")
            return
        (x_name, y_name), (x_dir, y_dir) = views.objectives[:2], views.directions[:2]
        figure.title(f"{y_name} ({y_dir}) against {x_name} ({x_dir}): {COMPLETE_MARK} trial · {FRONT_MARK} front")
        if not views.pareto:
            _message(figure, "no trial has completed yet")
            return
        behind = [p for p in views.pareto if not p.on_front]
        front = sorted((p for p in views.pareto if p.on_front), key=lambda p: p.values[0])
        if behind:
            line(figure, [p.values[0] for p in behind], [p.values[1] for p in behind], "cyan", COMPLETE_MARK, connect=False)
        line(figure, [p.values[0] for p in front], [p.values[1] for p in front], "green", FRONT_MARK, connect=False)
        _padded_x_axis(figure, [p.values[0] for p in views.pareto])
        _value_axis(figure, [p.values[1] for p in views.pareto])
        figure.label(x_name, axis="x")

    return draw


def importance_text(importances: list[Importances], width: int = 80, colour: bool = True) -> Text:
    """One block of bars per evaluator, largest first, with the share in per cent; or the reason
    there are none yet."""
    lines: list[Text] = []
    for found in importances:
        if lines:
            lines.append(Text(""))
        heading = Text(f"parameter importances ({found.evaluator})", style="bold")
        if found.note:
            heading.append(f": {found.note}", style="dim")
        lines.append(heading)
        if not found.values:
            lines.append(Text(f"  {found.reason or 'none yet'}", style="dim"))
        names = [name[:32] for name in found.values]
        name_width = max((len(n) for n in names), default=0)
        bar_width = max(4, min(50, width - name_width - 12))
        largest = max(found.values.values(), default=0.0) or 1.0
        for name, share in zip(names, found.values.values()):
            row = Text(f"  {name:<{name_width}} ")
            row.append(text_bar(share / largest, bar_width), style="cyan" if colour else "")
            row.append(f" {100 * share:5.1f}%")
            lines.append(row)
        for name, why in found.left_out.items():
            lines.append(Text(f"  {name}: left out, {why}", style="dim"))
    return Text("\n").join(lines)


def pareto_table(views: StudyViews) -> Table:
    """The trials on the front, by the first objective best first, with their parameters."""
    front = sorted((p for p in views.pareto if p.on_front), key=lambda p: p.values[0], reverse=views.directions[0] == "max")
    names = sorted({name for p in front for name in p.params})
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold", expand=False,
                  title=f"Pareto front: {len(front)} of {len(views.pareto)} complete trials", title_justify="left")
    table.add_column("trial", justify="right")
    for objective, direction in zip(views.objectives, views.directions):
        table.add_column(f"{objective} ({direction})", justify="right")
    for name in names:
        table.add_column(name)
    for point in front[:MAX_FRONT_ROWS]:
        table.add_row(f"{point.number:03d}", *(f"{v:.4g}" for v in point.values),
                      *(_value(point.params.get(name, "-")) for name in names))
    if len(front) > MAX_FRONT_ROWS:
        table.caption = f"… {len(front) - MAX_FRONT_ROWS} more on the front"
    return table


def _value(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
