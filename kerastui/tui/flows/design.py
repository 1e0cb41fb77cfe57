"""The build flow: the app's build session (kerastui.core.build_session) kept in step with the screens.

The session holds the experiment being designed and its rules; this applies the screens' intents
to it, loads the data it wants in a thread worker, and publishes the session's state as the app's
reactives, which the screens watch.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.screen import Screen
from textual.worker import get_current_worker

from kerastui.core.build_session import DatasetRequest, Refusal
from kerastui.core.run_summary import plural
from kerastui.tui.flows import call_from_thread_if_open
from kerastui.tui.intents import PresetApplied
from kerastui.tui.screens.build import BuildScreen
from kerastui.tui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.data import Dataset, DatasetInfo
    from kerastui.core.spec import Experiment
    from kerastui.tui.host import Shell


class DesignFlow:
    """The build session's side of the app: intents in, reactives out, the data loaded."""

    def __init__(self, app: Shell) -> None:
        self.app = app
        self.session = app.session
        # False until the build screen (or a run) needs the data: a watcher never loads it.
        self.dataset_requested = False

    # ---- publishing --------------------------------------------------------------------------

    def publish(self) -> None:
        """Show the session's state: set the reactives the screens watch, each only when it changed."""
        app, session = self.app, self.session
        # The data first: the build screen reads the shape when the experiment's layers change.
        if app.dataset_info is not session.dataset_info:
            app.dataset_info = session.dataset_info
        if app.dataset is not session.dataset:
            app.dataset = session.dataset
        app.dataset_error = session.dataset_error
        app.experiment = session.experiment
        app.preview_error = session.preview_error
        app.training_pending = session.training_pending

    def changed(self) -> None:
        """After any change of the experiment: reload its data if that changed, then publish."""
        if self.session.experiment.backend != self.app.experiment.backend:
            self.app.launcher.warm_up(self.session.experiment.backend)  # the next run gets the backend chosen
        if self.dataset_requested:
            self._load_wanted_dataset()
        self.publish()

    def refuse(self, refusal: Refusal) -> None:
        self.app.notify(refusal.message, title=refusal.title, severity="error", timeout=15)

    # ---- the data ----------------------------------------------------------------------------

    def request_dataset(self) -> None:
        if not self.dataset_requested:
            self.dataset_requested = True
            self._load_wanted_dataset()

    def _load_wanted_dataset(self) -> None:
        # The seed splits sets without a test part: a run is trained and evaluated on the data as
        # the headless `kerastui train` loads it (core.data.experiment_dataset), so it reloads too.
        request = self.session.dataset_to_load()
        if request is not None:
            self.app.run_worker(partial(self._load_dataset, request), thread=True, group="dataset",
                                exclusive=True, exit_on_error=False)

    def _load_dataset(self, request: DatasetRequest) -> None:
        try:
            dataset = self.app.dataset_loader(request.name, seed=request.seed, settings=request.settings)
        except Exception as error:  # DatasetError mostly; anything else is shown the same way
            call_from_thread_if_open(self.app, self._dataset_failed, request, str(error))
            return
        if not get_current_worker().is_cancelled:
            call_from_thread_if_open(self.app, self._dataset_loaded, request, dataset)

    def _dataset_loaded(self, request: DatasetRequest, dataset: Dataset) -> None:
        if self.session.dataset_loaded(request, dataset):
            self.publish()
            if self.session.training_pending:
                self.app.start_training()

    def _dataset_failed(self, request: DatasetRequest, message: str) -> None:
        if self.session.dataset_failed(request, message):
            self.publish()
            self.app.notify(message, title=f"Dataset {request.name}", severity="error", timeout=15)

    # ---- the screens' intents ----------------------------------------------------------------

    def edit(self, change: Callable[[Experiment], Experiment]) -> None:
        self.session.edit(change(self.session.experiment))
        self.changed()

    def use_dataset(self, info: DatasetInfo) -> None:
        warning = self.session.choose_dataset(info)
        if warning:
            self.app.notify(warning, title="Preset", severity="warning", timeout=10)
        self.changed()

    def record_preview(self, problem: str) -> None:
        self.session.record_preview(problem)
        self.publish()

    def clone(self, experiment: Experiment) -> None:
        # No file: ctrl+s must not overwrite the run's own config.toml.
        self.session.replace_design(experiment, path=None)
        self.changed()
        self.app.switch_to_mode("build")

    def choose_task(self, *tasks: str) -> None:
        """Train the data as the first of `tasks` it can be; say why when it can be none of them."""
        refused: list[str] = []
        for task in tasks:
            problem = self.session.choose_task(task)
            if not problem:
                break
            refused.append(problem)
        else:
            self.app.notify(refused[0] if refused else "no task given", title="Task not changed", severity="error",
                            timeout=10)
            build = self.build_screen()
            if build is not None:
                build.show_task()  # the dropdown goes back to the task kept
            return
        self.changed()
        experiment = self.session.experiment
        last = experiment.layers[-1] if experiment.layers else None
        output = f"last layer {last.describe()}, " if last is not None else ""
        message = f"{self.session.task_name()}: {output}loss {experiment.compile.loss}, monitor {experiment.fit.monitor}"
        if refused:
            message += "\n(skipped: " + "; ".join(refused) + ")"
        self.app.notify(message, title="Task", timeout=8)

    def choose_preset(self) -> None:
        """The preset list on the build screen (from the palette too)."""

        def open_list(screen: Screen) -> None:
            if isinstance(screen, BuildScreen):
                screen.action_choose_preset()

        self.app.switch_to_mode("build", open_list)

    def request_preset(self, name: str) -> None:
        """Apply preset `name`, asking first when that would throw away a hand-edited layer stack;
        then the build screen shows the new layers on its Model tab (from the palette too)."""

        def apply() -> None:
            info_known = self.session.dataset_info is not None
            result = self.session.apply_preset(name)
            if not result.applied:
                self.app.notify(result.message, title=f"Preset {name}", severity="error" if info_known else "warning",
                                timeout=10)
                return
            self.changed()
            self.app.notify(result.message, title="Preset")
            self.app.switch_to_mode("build", lambda screen: screen.post_message(PresetApplied(name)))

        if not self.session.preset_would_discard_edits():
            apply()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                apply()

        count = len(self.session.experiment.layers)
        self.app.push_screen(
            ConfirmScreen(
                f"Replace your {plural(count, 'layer')} with the {name.upper()} preset?", yes="Replace", no="Keep mine"
            ),
            answered,
        )

    # ---- the build screen --------------------------------------------------------------------

    def build_screen(self) -> BuildScreen | None:
        build = self.app.mode_screen("build")
        return build if isinstance(build, BuildScreen) and build.is_mounted else None

    def invalid_fields(self) -> list[str]:
        """The build screen's fields that show a refused value (see BuildScreen.invalid_fields)."""
        build = self.build_screen()
        return build.invalid_fields() if build is not None else []
