"""The kerastui App: the shell. It holds the build session, the modes (build, train, evaluate, runs),
the global keys and the collaborators it was given (launcher, previewer, dataset loader, Slurm
client). Screens post intents (kerastui.tui.intents); the app hands each to the flow that owns it
(kerastui.tui.flows: design, training, sweep, experiment files, quit), and the design flow
publishes the session's state as the reactives below, which the screens watch.

The app never trains: a run is the launcher's process, followed through its run directory. The
first frame comes first: nothing heavy is imported here (see kerastui.tui.defaults and modes).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import var
from textual.screen import Screen

from kerastui.native_stderr import divert_native_stderr_on_terminal
from kerastui.core import spec
from kerastui.core.build_session import BuildSession
from kerastui.core.spec import Experiment
from kerastui.tui import image_protocol
from kerastui.tui.flows import sweep as sweep_flow
from kerastui.tui.flows import quit as quit_flow
from kerastui.tui.flows import training as training_flow
from kerastui.tui.defaults import default_experiment, default_previewer, load_dataset
from kerastui.tui.modes import MODE_NAMES, mode_base_screen
from kerastui.tui.flows.design import DesignFlow
from kerastui.tui.flows.experiment_files import ExperimentFiles
from kerastui.tui.flows.preview import PreviewerWarmUp
from kerastui.tui.host import ModelPreviewer, RunLauncher
from kerastui.tui.palette import PALETTE
from kerastui.tui.intents import (
    ApplyPreset,
    ChooseTask,
    CloneExperiment,
    EditExperiment,
    FollowRun,
    PreviewVerdict,
    TrainExperiment,
    UseDataset,
)
from kerastui.tui.slurm_client import SlurmClient
from kerastui.tui.screens.help import HelpScreen
from kerastui.tui.screens.too_small import SizeGuard

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.data import Dataset, DatasetInfo
    from kerastui.core.pipeline import RunOutcome
    from kerastui.tui.screens.monitor import RunEvaluated


class KerasTUI(App):
    """Design, train and evaluate a Keras model by keys."""

    TITLE = "kerastui"
    # Absolute, so subclasses defined elsewhere (tests, benchmarks) find it too.
    CSS_PATH = Path(__file__).parent / "kerastui.tcss"
    DEFAULT_MODE = "build"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("ctrl+q", "request_quit", "Quit", priority=True),
        Binding("b", "switch_to('build')", "Build", show=False),
        Binding("t", "switch_to('train')", "Train screen", show=False),
        Binding("e", "switch_to('evaluate')", "Evaluate screen", show=False),
        Binding("r", "switch_to('runs')", "Runs screen", show=False),
        Binding("ctrl+b", "submit_to_slurm", "Submit to Slurm"),
        Binding("ctrl+g", "sweep", "Sweep", tooltip="Vary fields of this experiment over a grid or at random"),
        Binding("ctrl+s", "save_experiment", "Save"),
        Binding("ctrl+o", "load_experiment", "Open"),
    ]

    # The build session's state, published for the screens to watch (see DesignFlow.publish); the session
    # (self.session) is the one place it is kept and changed. Screens post intents to change it.
    experiment: var[Experiment] = var(Experiment, always_update=False)
    # Set only when it is another object (always_update: a Dataset holds arrays, never compared).
    dataset: var[Dataset | None] = var(None, always_update=True)
    dataset_info: var[DatasetInfo | None] = var(None, always_update=True)
    dataset_error: var[str] = var("")
    preview_error: var[str] = var("")
    training_pending: var[bool] = var(False)
    keras_ready: var[bool] = var(False)
    keras_error: var[str] = var("")

    def __init__(
        self,
        experiment: Experiment | None = None,
        runs_root: Path | None = None,
        dataset_loader: Callable[..., Dataset] = load_dataset,
        launcher: RunLauncher | None = None,
        previewer: ModelPreviewer | None = None,
        load_design_eagerly: bool = True,
        slurm_client: SlurmClient | None = None,
        experiment_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.session = BuildSession(experiment or default_experiment(), experiment_path)
        self.design = DesignFlow(self)
        self.experiment_files = ExperimentFiles(self, self.design)
        self.set_reactive(KerasTUI.experiment, self.session.experiment)
        # The Slurm calls of the runs, monitor and submit screens (a test passes fakes).
        self.slurm_client = slurm_client if slurm_client is not None else SlurmClient()
        self.runs_root = runs_root
        self.dataset_loader = dataset_loader
        if launcher is None:
            from kerastui.core.launcher import LocalLauncher

            launcher = LocalLauncher(runs_root=runs_root)
        self.launcher: RunLauncher = launcher
        self.previewer: ModelPreviewer = previewer if previewer is not None else default_previewer()
        self.previewer_warm_up = PreviewerWarmUp(self)
        # False for a watcher: the dataset and Keras load only once the build screen is opened.
        self._load_design_eagerly = load_design_eagerly
        # How quitting left the runs: kept training in the background, or stopped.
        self.keep_runs_on_exit = True
        self.keras_backend = ""
        self.last_outcome: RunOutcome | None = None
        self._screens: dict[str, Screen] = {}
        self._size_guard = SizeGuard()
        for mode in MODE_NAMES:
            self.add_mode(mode, lambda mode=mode: self._create_screen(mode))

    # ---- screens ---------------------------------------------------------------------------

    def _create_screen(self, mode: str) -> Screen:
        if mode == "build":
            self.design.request_dataset()
            self.previewer_warm_up.request()  # the model summary's previewer
        screen = self._screens[mode] = mode_base_screen(mode)
        return screen

    def mode_screen(self, mode: str) -> Screen | None:
        """The base screen of `mode`, once that mode has been opened."""
        return self._screens.get(mode)

    @property
    def is_training(self) -> bool:
        """True while the local queue (any app's, on disk) has a run training or waiting for a slot."""
        return bool(self.launcher.active)

    async def _switch_then(self, mode: str, then: Callable[[Screen], None] | None = None) -> None:
        await self.switch_mode(mode)
        if then is not None:
            then(self._screens[mode])

    def switch_to_mode(self, mode: str, then: Callable[[Screen], None] | None = None) -> None:
        self.run_worker(self._switch_then(mode, then), group="switch-mode")

    def action_switch_to(self, mode: str) -> None:
        if self._size_guard.covering:
            return
        self.switch_to_mode(mode)

    # ---- start-up --------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._size_guard.check(self, *self.size)
        if self._load_design_eagerly:
            self.design.request_dataset()
        # The queue's runner (its own process) starts runs as slots free: no timer here. A runner
        # killed since the last app left runs behind: settled now, and said.
        self.launcher.warm_up(self.session.experiment.backend)
        if settled := self.launcher.pump():
            self.notify(training_flow.settled_message(settled), title="Runs interrupted", severity="warning", timeout=20)

    # ---- the screens' intents: the build flow applies them to the session -----------------------

    @on(EditExperiment)
    def _edit_experiment(self, intent: EditExperiment) -> None:
        self.design.edit(intent.change)

    @on(UseDataset)
    def _use_dataset(self, intent: UseDataset) -> None:
        self.design.use_dataset(intent.info)

    @on(ChooseTask)
    def _choose_task_intent(self, intent: ChooseTask) -> None:
        self.design.choose_task(*intent.tasks)

    @on(PreviewVerdict)
    def _preview_verdict(self, intent: PreviewVerdict) -> None:
        self.design.record_preview(intent.problem)

    @on(ApplyPreset)
    def _apply_preset_intent(self, intent: ApplyPreset) -> None:
        self.design.request_preset(intent.name)

    @on(TrainExperiment)
    def _train_intent(self) -> None:
        self.start_training()

    @on(CloneExperiment)
    def _clone(self, intent: CloneExperiment) -> None:
        self.design.clone(intent.experiment)

    @on(FollowRun)
    def _follow_intent(self, intent: FollowRun) -> None:
        self.follow_run(intent.run_dir)

    def action_choose_task(self, task: str) -> None:
        self.design.choose_task(task)

    def action_choose_preset(self) -> None:
        self.design.choose_preset()

    def action_preset(self, name: str) -> None:
        self.design.request_preset(name)

    # ---- training and evaluation --------------------------------------------------------------

    def action_start_training(self) -> None:
        self.start_training()

    def start_training(self, guard: bool = True) -> None:
        """Check the design and launch it as a run of its own, followed on the train mode (flows/training.py)."""
        training_flow.start_training(self, self.design, guard)

    def on_run_evaluated(self, message: RunEvaluated) -> None:
        """A followed run saved its evaluation: it is what the evaluate mode shows next (e)."""
        self.last_outcome = message.outcome

    def follow_run(self, run_dir: Path) -> None:
        """Show `run_dir` on the train mode's run monitor."""
        self.switch_to_mode("train", lambda screen: screen.watch_run(run_dir))

    def show_evaluation(self, outcome: RunOutcome) -> None:
        """Switch to the evaluate screen and fill it with `outcome`'s evaluation."""
        self.last_outcome = outcome
        dataset = self.session.dataset
        self.switch_to_mode("evaluate", lambda screen: screen.show(outcome, dataset))

    def action_sweep(self) -> None:
        sweep_flow.open_sweep(self, self.design)

    def action_submit_to_slurm(self) -> None:
        """The submit dialog for the current experiment; on success the follow view of the job."""
        from kerastui.tui.screens.submit import open_submit

        open_submit(self)

    # ---- experiment files ----------------------------------------------------------------------

    def action_save_experiment(self) -> None:
        self.experiment_files.ask_where_to_save()

    def action_load_experiment(self) -> None:
        self.experiment_files.ask_what_to_open()

    # ---- help, quit, palette -------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_request_quit(self) -> None:
        quit_flow.request_quit(self)

    def on_unmount(self) -> None:
        # Runs already training go on in their own sessions unless the user chose to stop them.
        self.launcher.shutdown(keep_running=self.keep_runs_on_exit)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for title, help_text, action in PALETTE:
            yield SystemCommand(title, help_text, lambda action=action: self.run_action(action))
        for command in super().get_system_commands(screen):
            if command.title not in ("Quit", "Keys"):
                yield command

    # ---- terminal size -----------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._size_guard.check(self, event.size.width, event.size.height)


def run_app(experiment_path: str | None = None) -> int:
    """Run the terminal app (optionally opening an experiment TOML); returns the exit code."""
    experiment = None
    if experiment_path is not None:
        try:
            experiment = spec.load(experiment_path)
        except spec.SpecError as error:
            print(f"kerastui: {error}", file=sys.stderr)
            return 2
    app = KerasTUI(experiment, experiment_path=Path(experiment_path) if experiment_path is not None else None)
    image_protocol.detect()  # before Textual reads the keyboard: the terminal is asked, if worth it
    with divert_native_stderr_on_terminal():
        app.run()
    return app.return_code or 0
