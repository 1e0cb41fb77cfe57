"""The runs screen: every run directory under the runs root, to open, compare, clone or delete.

Reading the runs (each one's metrics file) happens in a thread worker, on opening, on r and after
a delete. While the screen is shown, live runs update incrementally: each active run has a core
RunFollower that reads only what was appended since its last look (once a second), and only the
Slurm runs among them are asked about, in one batched query every SLURM_REFRESH seconds, so a job
cancelled or dead without writing its end is shown (and recorded) as such. Nothing is read while
another screen is in front.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from kerastui.core.follower import RunEnded, RunFollower, is_training_event
from kerastui.core.resources import efficiency_line
from kerastui.core.run_queue import RunQueue
from kerastui.core.run_summary import format_duration
from kerastui.core.runs import RunRecord, list_runs, load_run, metric_value_text
from kerastui.core.sweep_runs import SweepRecord, group_sweeps
from kerastui.tui.host import host
from kerastui.tui.intents import CloneExperiment, FollowRun
from kerastui.tui.run_actions import runs_root, slurm_client
from kerastui.tui.screens.confirm import ConfirmScreen
from kerastui.tui.widgets.backend_notice import BackendNotice
from kerastui.tui.widgets.chart_scale import next_level
from kerastui.tui.widgets.run_compare_chart import SMOOTHING_LEVELS
from kerastui.tui.widgets.runs_table import (
    SORT_KEYS,
    RunsTable,
    filter_records,
    sort_column,
    sort_records,
)

ACTIVE_STATUSES = ("running", "queued", "prepared", "submitted", "requeued")
LIVE_REFRESH = 1.0  # seconds between incremental looks at the live runs
SLURM_REFRESH = 15.0  # seconds between batched squeue calls for live Slurm runs


class RunsScreen(Screen):
    """All runs, newest first; keys sort, filter, select, compare, open, clone and delete."""

    CSS_PATH = "runs.tcss"
    BINDINGS = [
        Binding("enter", "open_run", "Open"),
        Binding("space", "toggle_select", "Select"),
        Binding("c", "compare", "Compare"),
        Binding("m", "cycle_smoothing", "Smoothing"),
        Binding("l", "clone", "Clone to build"),
        Binding("x", "export", "Export", tooltip="Write the run as a plain Keras script, notebook or submission"),
        Binding("u", "resume", "Resume", tooltip="Continue a stopped or interrupted run from its last saved epoch"),
        # The local queue (any app's, from any terminal: it is on disk, run by its runner process).
        Binding("k", "stop_run", "Stop/cancel", show=False,
                tooltip="Stop a local run after its batch, or cancel it while it waits in the queue"),
        Binding("shift+up,K", "move_queued(-1)", "Queue earlier", show=False),  # as the layer editor moves
        Binding("shift+down,J", "move_queued(1)", "Queue later", show=False),
        Binding("d,delete", "delete", "Delete"),
        Binding("r", "refresh", "Refresh"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort"),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear", "Clear filter/selection", show=False),
    ]

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.all_records: list[RunRecord] = []
        self.sort_key = "created"
        self.sort_reversed = False
        self.filter_text = ""
        self.smoothing = 0.0
        self.listed = False  # True once the runs root has been read
        self._followers: dict[Path, RunFollower] = {}
        self._last_slurm_refresh = 0.0

    def compose(self) -> ComposeResult:
        yield Static(id="runs-header")
        yield Input(placeholder="filter: words that must all appear (!word excludes); enter keeps it, escape clears",
                    id="runs-filter")
        yield RunsTable(id="runs-table")
        with Vertical(id="runs-details-pane"):
            yield Static(id="run-details")
            yield BackendNotice(id="backend-notice")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(RunsTable).focus()
        self._live_timer = self.set_interval(LIVE_REFRESH, self._follow_live, pause=True)  # from a live run
        self.refresh_runs()

    def on_screen_resume(self) -> None:
        self._pace_live_timer()
        self._show_backend()
        if self.listed:
            self.refresh_runs()  # back from a run or the build screen: runs may have changed

    def on_screen_suspend(self) -> None:
        self._live_timer.pause()  # nothing is read for a screen nobody sees

    def _pace_live_timer(self) -> None:
        # Ticking only while a listed run is live and the screen is seen: idle, it wakes for nothing.
        if self._followers and self.is_current:
            self._live_timer.resume()
        else:
            self._live_timer.pause()

    @property
    def table(self) -> RunsTable:
        return self.query_one(RunsTable)

    # ---- reading ------------------------------------------------------------------------------

    def refresh_runs(self) -> None:
        self._load(runs_root(self.app))

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-load")
    def _load(self, root: Path) -> None:
        # Off the UI thread: Slurm may take seconds to answer (runs whose job ended unrecorded).
        records = group_sweeps(slurm_client(self.app).refresh_runs(list_runs(root)))  # a sweep is one row
        places = RunQueue(root).positions()  # a waiting run's place in the local queue, shown as "queued 2"
        for record in records:
            if record.status == "queued" and record.name in places:
                record.info["queue_position"] = places[record.name]  # in memory only, never written
        self.app.call_from_thread(self._loaded, records)

    def _loaded(self, records: list[RunRecord]) -> None:
        self.all_records = records
        self.listed = True
        # A sweep's row is read again with the list; its live trials are followed on its leaderboard.
        live = {r.path for r in records if r.status in ACTIVE_STATUSES and not isinstance(r, SweepRecord)}
        for path in list(self._followers):
            if path not in live:
                del self._followers[path]
        for record in records:
            if record.path in live and record.path not in self._followers:
                # From where load_run read up to: the follower then reads only what is appended.
                self._followers[record.path] = RunFollower.after(record.path, len(record.events))
        self._pace_live_timer()
        self._show()

    def _follow_live(self) -> None:
        """Append what live runs wrote since the last look; settle those that ended."""
        changed = False
        for record in self.all_records:
            follower = self._followers.get(record.path)
            if follower is None:
                continue
            events = follower.poll()
            if not events:
                continue
            changed = True
            record.absorb([e for e in events if is_training_event(e)])
            ended = next((e for e in events if isinstance(e, RunEnded)), None)
            if ended is not None:
                record.status = ended.status
                del self._followers[record.path]
                self._reload_one(record.path)
                self._pace_live_timer()
        if self._followers and any(r.slurm_job_id for r in self.all_records if r.path in self._followers):
            now = time.monotonic()
            if now - self._last_slurm_refresh >= SLURM_REFRESH:
                self._last_slurm_refresh = now
                self._refresh_slurm([r for r in self.all_records if r.path in self._followers and r.slurm_job_id])
        if changed:
            self._show()

    @work(thread=True, exit_on_error=False, group="runs-reload")
    def _reload_one(self, path: Path) -> None:
        record = load_run(path)  # its model and evaluation are written now
        self.app.call_from_thread(self._replace_record, record)

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-slurm")
    def _refresh_slurm(self, records: list[RunRecord]) -> None:
        settled = [r for r in slurm_client(self.app).refresh_runs(records) if r.status not in ACTIVE_STATUSES]
        for record in settled:
            self.app.call_from_thread(self._replace_record, record)

    def _replace_record(self, record: RunRecord) -> None:
        self.all_records = [record if r.path == record.path else r for r in self.all_records]
        if record.status not in ACTIVE_STATUSES:
            self._followers.pop(record.path, None)
        self._show()

    @property
    def shown_records(self) -> list[RunRecord]:
        return sort_records(filter_records(self.all_records, self.filter_text), self.sort_key, self.sort_reversed)

    def _show(self) -> None:
        self.table.show(self.shown_records)
        self._show_header()
        self._show_details()
        self._show_backend()

    def _show_header(self) -> None:
        root = runs_root(self.app)
        shown, total = len(self.table.records), len(self.all_records)
        text = Text()
        if total == 0 and root.exists() and not root.is_dir():
            text.append(f"The runs directory {root} is a file, not a directory: set KERASTUI_RUNS_DIR to a directory.",
                        style="bold red")
        elif total == 0:
            text.append(f"No runs in {root} yet: train one on the build screen (b, then ctrl+r) or with `kerastui train`.")
        else:
            noun = "run" if total == 1 else "runs"
            text.append(f"{shown} of {total} {noun}" if shown != total else f"{total} {noun}", style="bold")
            text.append(f" in {root}")
            arrow = "↑" if (sort_column(self.sort_key).descending == self.sort_reversed) else "↓"
            text.append(f"  │  sorted by {sort_column(self.sort_key).title} {arrow}")
            if self.filter_text:
                text.append(f"  │  filter: {self.filter_text!r}", style="yellow")
            selected = len(self.table.selected)
            if selected:
                text.append(f"  │  {selected} selected", style="bold cyan")
            if self.smoothing:
                text.append(f"  │  smoothing {self.smoothing:g}")
        self.query_one("#runs-header", Static).update(text)

    def _show_details(self) -> None:
        record = self.table.current_record
        details = self.query_one("#run-details", Static)
        if record is None:
            details.update("")
            return
        text = Text()
        text.append(record.name, style="bold")
        text.append(f"  {record.path}\n", style="dim")
        experiment = record.experiment
        if experiment is not None:
            c, f = experiment.compile, experiment.fit
            text.append(f"{experiment.name} on {experiment.dataset}: {record.architecture}\n")
            text.append(f"{c.optimizer} lr {c.learning_rate:g}, batch {f.batch_size}, {f.epochs} epochs, "
                        f"validation {f.validation_split:g}, seed {experiment.seed}, {experiment.strategy} strategy, "
                        f"{experiment.backend} backend\n", style="dim")
        if record.sweep:
            varied = ", ".join(f"{k} = {v}" for k, v in (record.info.get("trial_params") or {}).items())
            text.append(f"trial {record.info.get('trial', '?')} of sweep {record.sweep}: {varied}\n", style="cyan")
        if isinstance(record, SweepRecord):
            best = f", best {record.objective} {record.best:.4f} ({record.best_trial.name})" if record.best_trial else ""
            finished = sum(t.status == "finished" for t in record.trials)
            pruned = record.epochs_done - finished  # the budget counts both as ended
            text.append(f"sweep: {finished} finished{f' · {pruned} pruned' if pruned else ''} of {record.planned} "
                        f"trials{best}. enter opens its leaderboard.", style="cyan")
            details.update(text)
            return
        text.append(f"status {record.status}")
        if record.reason:
            text.append(f" ({record.reason})")
        text.append(f", {record.epochs_done} epochs, {format_duration(record.duration)}, {record.location}")
        host = record.info.get("host")
        if host:
            text.append(f" on {host}")
        evaluation = record.evaluation
        if evaluation is not None:
            # The task's own test metrics (ROC AUC and TPR at FPR, R² and MAE...), as evaluate prints them.
            shown = ", ".join(f"{evaluation.metric_label(name)} {'undefined' if value is None else metric_value_text(value)}"
                              for name, value in evaluation.summary_metrics())
            text.append(f"\n{record.task} test: {shown}")
        used = efficiency_line(record.resources)
        if used:
            text.append(f"\nresources: {used}", style="dim")
        for error in record.errors:
            text.append(f"\n! {error}", style="yellow")
        details.update(text)

    def _show_backend(self) -> None:
        record = self.table.current_record if self.is_mounted else None
        wanted = record.experiment.backend if record is not None and record.experiment is not None else ""
        self.query_one(BackendNotice).show(host(self.app).keras_backend, wanted)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_details()
        self._show_backend()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        # enter on a DataTable row arrives as RowSelected: open it like the binding does.
        self.action_open_run()

    # ---- filtering and sorting ------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#runs-filter", Input)
        box.add_class("-visible")
        box.value = self.filter_text
        box.focus()

    @on(Input.Changed, "#runs-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.table.show(self.shown_records)
        self._show_header()
        self._show_details()

    @on(Input.Submitted, "#runs-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not self.filter_text:
            self.query_one("#runs-filter", Input).remove_class("-visible")
        self.table.focus()

    def on_key(self, event) -> None:
        # escape in the filter box leaves it (keeping the filter); the binding below handles the table.
        box = self.query_one("#runs-filter", Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            if not self.filter_text:
                box.remove_class("-visible")
            self.table.focus()

    def action_clear(self) -> None:
        if self.filter_text:
            self.filter_text = ""
            box = self.query_one("#runs-filter", Input)
            box.value = ""
            box.remove_class("-visible")
            self._show()
        elif self.table.selected:
            self.table.clear_selection()
            self._show_header()

    def action_cycle_sort(self) -> None:
        index = SORT_KEYS.index(self.sort_key)
        self.sort_key = SORT_KEYS[(index + 1) % len(SORT_KEYS)]
        self.sort_reversed = False
        self._show()

    def action_reverse_sort(self) -> None:
        self.sort_reversed = not self.sort_reversed
        self._show()

    # ---- selection, compare ----------------------------------------------------------------------

    def action_toggle_select(self) -> None:
        if self.table.toggle_selected() is not None:
            self.table.action_cursor_down()
            self._show_header()

    def action_cycle_smoothing(self) -> None:
        self.smoothing = next_level(SMOOTHING_LEVELS, self.smoothing)
        self._show_header()
        self.notify(f"comparison smoothing {self.smoothing:g}" if self.smoothing else "comparison smoothing off", timeout=2)

    def action_compare(self) -> None:
        from kerastui.tui.screens.compare import CompareScreen

        records = [trial for record in self.table.selected_records
                   for trial in (record.trials if isinstance(record, SweepRecord) else [record])]
        if len(records) < 2:
            self.notify("Select two or more runs (or a sweep) with space, then press c.", severity="warning")
            return

        def closed(smoothing: float | None) -> None:
            if smoothing is not None:
                self.smoothing = smoothing
                self._show_header()

        self.app.push_screen(CompareScreen(records, self.smoothing), closed)

    # ---- one run -------------------------------------------------------------------------------

    def action_open_run(self) -> None:
        from kerastui.tui.screens.monitor import RunMonitor

        record = self.table.current_record
        if record is None:
            self.notify("No run to open yet.")
            return
        if isinstance(record, SweepRecord):
            from kerastui.tui.screens.sweep import SweepScreen

            self.app.push_screen(SweepScreen(record.path), lambda _: self.refresh_runs())
            return
        # Live or ended, local or Slurm: the same monitor re-attaches to it.
        self.app.push_screen(RunMonitor(record.path, closable=True))

    def action_resume(self) -> None:
        from kerastui.core.runs import RESUMABLE_STATUSES, has_saved_state

        record = self.table.current_record
        if record is None:
            return
        if isinstance(record, SweepRecord):
            self.notify(f"{record.name} is a sweep: `kerastui sweep --continue {record.path}` runs the trials "
                        "it has not finished.", severity="warning")
            return
        if record.status == "finished":
            self.notify(f"{record.name} has finished; there is nothing to resume.", severity="warning")
            return
        if record.status not in RESUMABLE_STATUSES or record.slurm_job_id:
            self.notify(f"{record.name} is {record.status} ({record.location}); only a stopped, interrupted or failed "
                        "local run can be resumed here.", severity="warning")
            return
        if not has_saved_state(record.path):
            self.notify(f"{record.name} has no saved training state (it ended before its first epoch finished).",
                        severity="warning")
            return
        host(self.app).launcher.resume(record.path)
        self.notify(f"Resuming {record.name} from epoch {record.epochs_done + 1}.", title="Resume")
        self.post_message(FollowRun(record.path))

    # ---- the local queue ------------------------------------------------------------------------

    def action_stop_run(self) -> None:
        record = self.table.current_record
        if record is None:
            return
        if isinstance(record, SweepRecord) or record.slurm_job_id or record.status not in ("queued", "running"):
            self.notify(f"{record.name} is not a local run training or waiting (a Slurm job: c on its monitor).",
                        severity="warning")
            return
        outcome = host(self.app).launcher.stop(record.path)
        self.notify(f"{record.name}: {outcome}.", title="Stop")
        self.refresh_runs()

    def action_move_queued(self, delta: int) -> None:
        record = self.table.current_record
        if record is None:
            return
        try:
            place = host(self.app).launcher.move(record.path, delta)
        except ValueError:
            self.notify(f"{record.name} is not waiting in the local queue; only a waiting run can be moved.",
                        severity="warning")
            return
        self.notify(f"{record.name}: place {place} in the queue.", title="Queue")
        self.refresh_runs()

    def action_export(self) -> None:
        from kerastui.tui.screens.export_dialog import ExportDialog

        record = self.table.current_record
        if record is None:
            self.notify("No run to export yet.")
            return
        if isinstance(record, SweepRecord):
            self.notify(f"{record.name} is a sweep: open it (enter) and export one of its trials.", severity="warning")
            return
        self.app.push_screen(ExportDialog(record.path))

    def action_clone(self) -> None:
        record = self.table.current_record
        if record is None:
            return
        if record.experiment is None:
            self.notify(f"{record.name} has no readable config.toml to clone.", severity="error")
            return
        self.post_message(CloneExperiment(record.experiment))
        self.notify(f"Experiment of {record.name} loaded into the build screen.", title="Cloned")

    def action_delete(self) -> None:
        records = self.table.selected_records or ([self.table.current_record] if self.table.current_record else [])
        if not records:
            return
        active = [r for r in records if r.status in ACTIVE_STATUSES]
        if active:
            names = ", ".join(f"{r.name} ({r.status})" for r in active)
            self.notify(f"Not deleting runs that may still be written: {names}. Stop or cancel them first.",
                        severity="error", timeout=10)
            return
        listed = "\n".join(f"  {r.name}" for r in records[:8]) + (f"\n  … and {len(records) - 8} more" if len(records) > 8 else "")
        question = f"Delete {len(records)} run director{'y' if len(records) == 1 else 'ies'} and everything in them (model, metrics, evaluation)?\n{listed}"

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(records)

        self.app.push_screen(ConfirmScreen(question, yes="Delete", no="Keep"), answered)

    def _delete(self, records: list[RunRecord]) -> None:
        root = runs_root(self.app).resolve()
        deleted = 0
        for record in records:
            path = record.path.resolve()
            if path.parent != root:  # never follow a path outside the runs root
                self.notify(f"{path} is not inside {root}; not deleted.", severity="error")
                continue
            try:
                shutil.rmtree(path)
                deleted += 1
            except OSError as error:
                self.notify(f"Cannot delete {path}: {error.strerror or error}", severity="error", timeout=10)
        self.table.selected.clear()
        self.notify(f"Deleted {deleted} run{'s' if deleted != 1 else ''}.", title="Runs")
        self.refresh_runs()

    def action_refresh(self) -> None:
        self.refresh_runs()
        self.notify("Runs re-read.", timeout=1)
