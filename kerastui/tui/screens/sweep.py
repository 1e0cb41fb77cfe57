"""One sweep as a leaderboard: its trials best first by the sweep's objective, the varied fields
as columns, live trials updating, and for each varied field the mean objective per value.

Under it, the sweep's Optuna study (kerastui.tui.widgets.study_panel): v steps through the
optimisation history, the parameter importances, the objective against a parameter (p: the next
one) and, for several objectives, the Pareto front; read and computed in a thread worker.

enter opens a trial like any run (the run monitor), c overlays the top trials on one chart
(the compare view), escape goes back to the runs list.
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from kerastui.core.run_summary import STATUS_STYLES
from kerastui.core.sweep_runs import LeaderboardRow, leaderboard, mean_objective_by_value
from kerastui.tui.widgets.study_charts import status_text
from kerastui.tui.widgets.study_panel import StudyPanel

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.sweep import Sweep

LIVE_REFRESH = 2.0  # seconds between re-reads of the trials while some still train
TOP_TRIALS = 5  # overlaid by c
LIVE = ("running", "queued", "requeued", "submitted", "prepared", "not started")


class SweepScreen(Screen):
    """The leaderboard of the sweep in `sweep_dir`."""

    BINDINGS = [
        Binding("enter", "open_trial", "Open trial"),
        Binding("c", "compare_top", f"Overlay top {TOP_TRIALS}"),
        Binding("v", "next_view", "Study view"),
        Binding("p", "next_parameter", "Parameter"),
        Binding("escape", "close", "Back"),
    ]
    DEFAULT_CSS = """
    SweepScreen #sweep-title { height: auto; padding: 0 1; background: $boost; text-style: bold; }
    SweepScreen #sweep-board { height: 1fr; }
    SweepScreen #sweep-means { height: auto; max-height: 12; padding: 0 1; }
    """

    def __init__(self, sweep_dir: Path, load_study: Callable[[Path], Any] | None = None) -> None:
        super().__init__()
        self.sweep_dir = Path(sweep_dir)
        self._load_study = load_study  # None: kerastui.core.sweep_study's, imported in the worker
        self._study_key: tuple | None = None
        self.sweep: Sweep | None = None
        self.rows: list[LeaderboardRow] = []
        self._quiet_stamp: tuple[float, ...] | None = None  # the sweep's stamp when last read with no live trial

    def compose(self) -> ComposeResult:
        yield Static(id="sweep-title")
        yield DataTable(id="sweep-board", cursor_type="row", zebra_stripes=True)
        yield StudyPanel(id="sweep-study")
        yield Static(id="sweep-means")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self._timer = self.set_interval(LIVE_REFRESH, self._refresh_if_live)
        self._read()
        self._read_study()

    def _refresh_if_live(self) -> None:
        # Live trials: re-read. None live (the budget met, or a sweep stopped with trials failed for
        # good, or workers that have yet to start, e.g. Slurm tasks pending): re-read only when the
        # study or the trials' directory changed, a stat or two instead of every trial's files.
        if self.sweep is not None and not any(row.status in LIVE for row in self.rows):
            stamp = self._stamp()
            if stamp == self._quiet_stamp:
                return
            self._quiet_stamp = stamp
        self._read()
        self._read_study()

    def _stamp(self) -> tuple[float, ...]:
        stamps = []
        for path in (self.sweep_dir, self.sweep_dir / "study.journal"):
            try:
                stamps.append(path.stat().st_mtime)
            except OSError:
                stamps.append(0.0)
        return tuple(stamps)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sweep-read")
    def _read(self) -> None:
        sweep, rows = leaderboard(self.sweep_dir)  # reads every trial's files: off the UI thread
        self.app.call_from_thread(self._show, sweep, rows)

    def _show(self, sweep: Sweep, rows: list[LeaderboardRow]) -> None:
        self.sweep, self.rows = sweep, rows
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        paths = list(sweep.paths)
        for header in ("rank", "trial", "status", *paths, sweep.objective, "test", "epochs"):
            table.add_column(header)
        for rank, row in enumerate(rows, start=1):
            record = row.record
            table.add_row(
                str(rank) if row.objective is not None else "-",
                f"{row.trial:03d}",
                status_text(row.status, STATUS_STYLES.get(row.status, "dim")),  # pruned, failed marked
                *(_value(row.params.get(path)) for path in paths),
                f"{row.objective:.4f}" if row.objective is not None else "-",
                record.headline_text if record is not None else "-",  # the task's test metric
                f"{record.epochs_done}/{record.epochs_planned}" if record is not None else "-",
                key=str(row.trial),
            )
        if rows:
            table.move_cursor(row=min(max(cursor, 0), len(rows) - 1))
        done = sum(row.status == "finished" for row in rows)
        live = sum(row.status in LIVE and row.status != "not started" for row in rows)
        self.query_one("#sweep-title", Static).update(
            f"Sweep {self.sweep_dir.name}: {len(rows)} trials ({sweep.method}), {done} finished, {live} live · "
            f"best {sweep.objective} ({sweep.direction}) first"
        )
        self.query_one("#sweep-means", Static).update(means_text(sweep, rows))

    def _current(self) -> LeaderboardRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row is None or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_open_trial(self) -> None:
        from kerastui.tui.screens.monitor import RunMonitor

        row = self._current()
        if row is None or row.record is None:
            self.notify("That trial has not started: it has no run directory yet.")
            return
        self.app.push_screen(RunMonitor(row.record.path, closable=True))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_trial()

    def action_compare_top(self) -> None:
        from kerastui.tui.screens.compare import CompareScreen

        top = [row.record for row in self.rows if row.record is not None and row.objective is not None][:TOP_TRIALS]
        if len(top) < 2:
            self.notify("Fewer than two trials have a value of the objective yet.", severity="warning")
            return
        self.app.push_screen(CompareScreen(top))

    def action_close(self) -> None:
        self.dismiss()

    @work(thread=True, exclusive=True, exit_on_error=False, group="sweep-study")
    def _read_study(self) -> None:
        """The study's views, off the UI thread (the journal's replay, the importances' forest);
        recomputed only when a trial has changed since the last read."""
        from kerastui.core.study_views import study_views, views_key

        load = self._load_study
        try:
            if load is None:
                from kerastui.core.sweep_study import load_study as load
            study = load(self.sweep_dir)
            key = views_key(study)
            if key == self._study_key:
                return
            views = study_views(study)
        except ImportError:
            self.app.call_from_thread(self.query_one(StudyPanel).show_views, None,
                                      "This kerastui's sweeps have no Optuna study to show.")
            return
        except Exception as error:  # noqa: BLE001 - an unreadable study is a line in the panel, never a crash
            self.app.call_from_thread(self.query_one(StudyPanel).show_views, None,
                                      f"The study cannot be read: {type(error).__name__}: {error}")
            return
        self._study_key = key
        self.app.call_from_thread(self.query_one(StudyPanel).show_views, views)

    def action_next_view(self) -> None:
        self.query_one(StudyPanel).next_view()

    def action_next_parameter(self) -> None:
        if self.query_one(StudyPanel).next_parameter() is None:
            self.notify("No trial has set a parameter yet.", severity="warning")


def means_text(sweep: Sweep, rows: list[LeaderboardRow]) -> Text:
    """'mean val_accuracy by compile.learning_rate: 0.01 0.9253 (2) │ 0.001 0.7622 (2)', a line per field."""
    text = Text()
    for path, values in mean_objective_by_value(sweep, rows).items():
        if text:
            text.append("\n")
        text.append(f"mean {sweep.objective} by {path}: ", style="bold")
        ordered = sorted(values, key=lambda v: v[1], reverse=sweep.direction == "max")
        text.append("  │  ".join(f"{_value(value)} {mean:.4f} ({count})" for value, mean, count in ordered) or "no values yet")
    return text


def _value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
