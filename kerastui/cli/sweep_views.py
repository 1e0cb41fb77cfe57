"""What `kerastui sweep --show DIR` prints below the leaderboard: the study's trial counts, the
optimisation history, the parameter importances, the objective against each parameter (the most
important first) and, for several objectives, the Pareto front. Drawn by
kerastui.tui.widgets.study_charts, the same drawings the app's leaderboard shows.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rich.console import RenderableType

    from kerastui.core.study_views import StudyViews

MAX_CHART_WIDTH = 100
HISTORY_HEIGHT = 16
PARAMETER_HEIGHT = 12
MAX_PARAMETER_CHARTS = 4  # the most important ones; the rest are named


def study_renderables(views: StudyViews, width: int = 80, colour: bool = True) -> list[RenderableType]:
    from rich.text import Text

    from kerastui.tui.widgets.study_charts import (
        chart_text,
        history_draw,
        importance_text,
        parameter_draw,
        pareto_draw,
        pareto_table,
    )

    chart_width = max(40, min(width, MAX_CHART_WIDTH))
    heading = Text("study: ", style="bold")
    heading.append(f"{views.counts_text()}; {views.best_text()}")
    parts: list[RenderableType] = [heading, chart_text(history_draw(views), chart_width, HISTORY_HEIGHT, colour)]
    parts.append(importance_text(views.importances, chart_width, colour))
    ranked = next((i.values for i in views.importances if i.values), {})
    parameters = sorted(views.parameters, key=lambda p: -ranked.get(p.name, -1.0))
    for parameter in parameters[:MAX_PARAMETER_CHARTS]:
        parts.append(chart_text(parameter_draw(views, parameter), chart_width, PARAMETER_HEIGHT, colour))
    if len(parameters) > MAX_PARAMETER_CHARTS:
        rest = ", ".join(p.name for p in parameters[MAX_PARAMETER_CHARTS:])
        parts.append(Text(f"not drawn (less important): {rest}", style="dim"))
    if views.multi_objective:
        parts += [chart_text(pareto_draw(views), chart_width, HISTORY_HEIGHT, colour), pareto_table(views)]
    return parts


def print_study_views(sweep_dir: Path, plain: bool | None = None) -> None:
    """The study's views for the sweep in `sweep_dir`; a sweep without a readable study says so in
    a line (the leaderboard above is already printed)."""
    from rich.console import Console

    from kerastui.cli.common import plain_output

    from kerastui.core.study_views import study_views
    from kerastui.core.sweep_study import load_study

    try:
        views = study_views(load_study(sweep_dir))
    except Exception as error:  # noqa: BLE001 - any unreadable study costs a line, never the printed leaderboard
        print(f"kerastui: note: no study views for {sweep_dir}: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        return
    plain = plain_output(False) if plain is None else plain
    console = Console(color_system=None if plain else "auto", highlight=False, emoji=False, soft_wrap=False)
    for part in study_renderables(views, console.width, colour=not plain):
        console.print()
        console.print(part)
    sys.stdout.flush()
