"""The kerastui App: shared state, modes (build, train, evaluate, runs), global keys.

The app never trains: ctrl+r hands the experiment to the injected launcher (by default
kerastui.core.launcher.LocalLauncher: a child process per run, in its own session, queued for a
free slot) and the train mode's run monitor follows the run directory it writes.

The first frame must appear long before TensorFlow has finished importing (~5 s), so nothing heavy
is imported here: Keras (only for the build screen's model summary) loads in a thread worker
through the injected `keras_loader` once the build screen exists, the dataset loader is imported
on first use, and the other screens are imported when their mode is first opened.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import var
from textual.screen import Screen
from textual.worker import get_current_worker

from kerastui.cli.native_stderr import divert_native_stderr_on_terminal
from kerastui.core import spec
from kerastui.core.backend import import_keras
from kerastui.core.presets import PRESETS, PresetError, preset_layers
from kerastui.core.problems import MAX_PROBLEMS_IN_DIALOG, bounded
from kerastui.core.run_summary import plural
from kerastui.core.spec import Experiment, fit_output_to_classes, preset_experiment
from kerastui.tui.run_actions import SlurmClient
from kerastui.tui.screens.build import BuildScreen
from kerastui.tui.screens.confirm import ConfirmScreen, QuitWhileTrainingScreen
from kerastui.tui.screens.help import HelpScreen
from kerastui.tui.screens.path_dialog import PathDialog
from kerastui.tui.screens.too_small import MIN_HEIGHT, MIN_WIDTH, TooSmallScreen

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.data import Dataset, DatasetInfo
    from kerastui.core.pipeline import RunOutcome

MODE_NAMES = ("build", "train", "evaluate", "runs")
QUEUE_PUMP_INTERVAL = 1.0  # seconds between looks at the run queue (reap ended runs, start the next)


class RunLauncher(Protocol):
    """Starts and stops runs as processes of their own (kerastui.core.launcher.LocalLauncher)."""

    queued: Any

    @property
    def active(self) -> list[Path]: ...

    def launch(self, experiment: Experiment) -> Path: ...

    def resume(self, run_dir: Path) -> None: ...

    def enqueue(self, run_dir: Path) -> None: ...

    def pump(self) -> Any: ...

    def stop(self, run_dir: Path) -> str: ...

    def warm_up(self, backend: str) -> None: ...

    def shutdown(self, keep_running: bool = True) -> None: ...


def load_dataset(name_or_path: str, **options: Any) -> Dataset:
    """`kerastui.core.data.load_dataset`, imported on first use (numpy/scikit-learn cost start-up time)."""
    from kerastui.core.data import load_dataset as real_load_dataset

    return real_load_dataset(name_or_path, **options)


def default_experiment() -> Experiment:
    """The classic Keras MNIST MLP on the embedded digits: trainable offline in seconds."""
    # The MLP preset starts with Flatten, so the digits' shape (8, 8, 1) only matters for its 10 outputs.
    return preset_experiment("mlp", "digits", (8, 8, 1), 10)


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

    experiment: var[Experiment] = var(Experiment, always_update=False)
    dataset: var[Dataset | None] = var(None, always_update=True)
    dataset_info: var[DatasetInfo | None] = var(None, always_update=True)
    dataset_error: var[str] = var("")
    keras_ready: var[bool] = var(False)
    keras_error: var[str] = var("")
    # The build screen's latest Keras verdict on the layers ("" when they fit).
    preview_error: var[str] = var("")

    def __init__(
        self,
        experiment: Experiment | None = None,
        runs_root: Path | None = None,
        dataset_loader: Callable[..., Dataset] = load_dataset,
        launcher: RunLauncher | None = None,
        keras_loader: Callable[[], Any] = import_keras,
        load_design_eagerly: bool = True,
        slurm_client: SlurmClient | None = None,
    ) -> None:
        super().__init__()
        # The Slurm calls of the runs, monitor and submit screens (a test passes fakes).
        self.slurm_client = slurm_client if slurm_client is not None else SlurmClient()
        self.set_reactive(KerasTUI.experiment, experiment or default_experiment())
        self.runs_root = runs_root
        self.dataset_loader = dataset_loader
        if launcher is None:
            from kerastui.core.launcher import LocalLauncher

            launcher = LocalLauncher(runs_root=runs_root)
        self.launcher = launcher
        self.keras_loader = keras_loader
        self._keras_requested = False
        # False for a watcher: the dataset and Keras load only once the build screen is opened.
        self._load_design_eagerly = load_design_eagerly
        self._dataset_requested = False
        # How quitting left the runs: kept training in the background, or stopped.
        self.keep_runs_on_exit = True
        self.keras_backend = ""
        self.keras_module: Any = None
        self.last_outcome: RunOutcome | None = None
        self.experiment_path: Path | None = None
        # What start_training is waiting for (keras and/or the dataset), if anything.
        self._training_pending = False
        self._screens: dict[str, Screen] = {}
        self._too_small: TooSmallScreen | None = None
        self._dataset_request = 0
        for mode in MODE_NAMES:
            self.add_mode(mode, lambda mode=mode: self._create_screen(mode))

    # ---- screens ---------------------------------------------------------------------------

    def _create_screen(self, mode: str) -> Screen:
        # Imported here: the train/evaluate screens pull in plotting libraries not needed to paint.
        if mode == "build":
            screen: Screen = BuildScreen()
            self._request_dataset()
            self._request_keras()  # its model summary is the one thing here that needs Keras
        elif mode == "train":
            from kerastui.tui.screens.monitor import RunMonitor

            screen = RunMonitor()
        elif mode == "runs":
            from kerastui.tui.screens.runs import RunsScreen

            screen = RunsScreen()
        else:
            from kerastui.tui.screens.evaluate import EvaluateScreen

            screen = EvaluateScreen()
        self._screens[mode] = screen
        return screen

    def mode_screen(self, mode: str) -> Screen | None:
        """The base screen of `mode`, once that mode has been opened."""
        return self._screens.get(mode)

    @property
    def is_training(self) -> bool:
        """True while a run this app launched trains or waits for a slot."""
        return bool(self.launcher.active)

    async def _switch_then(self, mode: str, then: Callable[[Screen], None] | None = None) -> None:
        await self.switch_mode(mode)
        if then is not None:
            then(self._screens[mode])

    def action_switch_to(self, mode: str) -> None:
        if self._too_small is not None:
            return
        self.run_worker(self._switch_then(mode), group="switch-mode")

    # ---- start-up --------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._check_terminal_size()
        if self._load_design_eagerly:
            self._request_dataset()
        # A trainer process with Keras imported waits for ctrl+r; the queue starts runs as slots free.
        self.launcher.warm_up(self.experiment.backend)
        self.set_interval(QUEUE_PUMP_INTERVAL, self.launcher.pump)

    def _request_dataset(self) -> None:
        if not self._dataset_requested:
            self._dataset_requested = True
            self._load_dataset(self.experiment.dataset, self.experiment.seed, self._dataset_request)

    def _request_keras(self) -> None:
        if not self._keras_requested:
            self._keras_requested = True
            self.sub_title = "loading Keras for the model summary…"
            self._load_keras()

    @work(thread=True, group="warm-up", exit_on_error=False)
    def _load_keras(self) -> None:
        """Import Keras off the UI thread (seconds), for the build screen's summary only."""
        # The run monitor's charting libraries too, so the first ctrl+r does not import them on
        # the event loop while the run starts.
        import kerastui.tui.screens.monitor  # noqa: F401

        try:
            keras = self.keras_loader()
        except Exception as error:  # a broken install must not take the app down
            self._from_thread(self._keras_failed, f"{type(error).__name__}: {error}")
            return
        self._from_thread(self._keras_loaded, keras)

    def _from_thread(self, callback: Callable[..., Any], *args: Any) -> None:
        try:
            self.call_from_thread(callback, *args)
        except RuntimeError:
            pass  # the app closed while the thread worked

    def _keras_loaded(self, keras: Any) -> None:
        self.keras_module = keras
        try:
            self.keras_backend = str(keras.backend.backend())
        except Exception:
            self.keras_backend = "unknown backend"
        self.keras_ready = True
        self.sub_title = f"Keras ready ({self.keras_backend})"

    def _keras_failed(self, message: str) -> None:
        self.keras_error = message
        self.sub_title = "Keras failed to load"
        self.notify(f"Keras could not be imported: {message}", title="Keras", severity="error", timeout=30)

    # ---- dataset ---------------------------------------------------------------------------

    def watch_experiment(self, old: Experiment, new: Experiment) -> None:
        # The seed splits sets without a test part: a run is trained and evaluated on the data as
        # the headless `kerastui train` loads it (core.data.experiment_dataset), so it reloads too.
        if old.backend != new.backend:
            self.launcher.warm_up(new.backend)  # the next run gets the backend chosen, no restart
        if (old.dataset, old.seed) != (new.dataset, new.seed) and self._dataset_requested:
            loaded = self.dataset
            if loaded is None or (loaded.name, loaded.seed) != (new.dataset, new.seed):
                self.dataset = None
                self._dataset_request += 1
                self._load_dataset(new.dataset, new.seed, self._dataset_request)

    @work(thread=True, group="dataset", exclusive=True, exit_on_error=False)
    def _load_dataset(self, name: str, seed: int, request: int) -> None:
        self._load_dataset_now(name, seed, request)

    def _load_dataset_now(self, name: str, seed: int, request: int) -> None:
        try:
            dataset = self.dataset_loader(name, seed=seed)
        except Exception as error:  # DatasetError mostly; anything else is shown the same way
            self._from_thread(self._dataset_failed, name, request, str(error))
            return
        if not get_current_worker().is_cancelled:
            self._from_thread(self._dataset_loaded, name, request, dataset)

    def _dataset_loaded(self, name: str, request: int, dataset: Dataset) -> None:
        if request != self._dataset_request:
            return  # the user chose another dataset meanwhile
        self.dataset_error = ""
        self.dataset = dataset
        self.dataset_info = dataset.info()
        if self._training_pending:
            self.start_training()

    def _dataset_failed(self, name: str, request: int, message: str) -> None:
        if request != self._dataset_request:
            return
        self.dataset = None
        self.dataset_error = message
        self._training_pending = False
        self.notify(message, title=f"Dataset {name}", severity="error", timeout=15)

    def choose_dataset(self, info: DatasetInfo) -> None:
        """Switch the experiment to `info`'s dataset, adapting the layers to its shape and classes."""
        experiment = self.experiment
        layers = fit_output_to_classes(experiment, info.num_classes).layers
        if self._is_unchanged_preset(experiment):
            # Still the preset as made: rebuild it for the new data (the cnn picks its padding by image size).
            try:
                layers = preset_layers(experiment.name, info.input_shape, info.num_classes)
            except PresetError as error:
                self.notify(str(error), title="Preset", severity="warning", timeout=10)
        self.dataset_info = info
        self.experiment = replace(experiment, dataset=info.name, layers=tuple(layers))

    def _is_unchanged_preset(self, experiment: Experiment) -> bool:
        info = self.dataset_info
        if info is None or experiment.name not in PRESETS:
            return False
        try:
            return preset_layers(experiment.name, info.input_shape, info.num_classes) == experiment.layers
        except PresetError:
            return False

    def request_preset(self, name: str, then: Callable[[], None] | None = None) -> None:
        """Apply preset `name`, asking first when that would throw away a hand-edited layer stack.

        `then` runs once the preset is in place (the build screen shows its Model tab)."""
        info = self.dataset_info
        layers = self.experiment.layers
        if info is None or any(layers == preset for preset in self._presets_for(info)):
            # Nothing of the user's to lose (or nothing to compare with yet: apply_preset explains).
            if self.apply_preset(name) and then is not None:
                then()
            return

        def answered(yes: bool | None) -> None:
            if yes and self.apply_preset(name) and then is not None:
                then()

        count = len(layers)
        self.push_screen(
            ConfirmScreen(
                f"Replace your {count} layer{'s' if count != 1 else ''} with the {name.upper()} preset?",
                yes="Replace",
                no="Keep mine",
            ),
            answered,
        )

    @staticmethod
    def _presets_for(info: DatasetInfo) -> list[tuple]:
        """Each preset's layers for `info`'s data (those that fit it)."""
        fitted = []
        for preset in PRESETS:
            try:
                fitted.append(preset_layers(preset, info.input_shape, info.num_classes))
            except PresetError:
                pass
        return fitted

    def _preset_from_palette(self, name: str) -> None:
        # Like m / c on the build screen: the new layers are shown on its Model tab.
        def show_model_tab() -> None:
            self.run_worker(
                self._switch_then("build", lambda screen: screen.action_show_tab("tab-model")),
                group="switch-mode",
            )

        self.request_preset(name, then=show_model_tab)

    def apply_preset(self, name: str) -> bool:
        """Replace the layers with preset `name` fitted to the current data; False (and a message) when it cannot fit."""
        info = self.dataset_info
        if info is None:
            self.notify("The dataset is still loading; try again in a moment.", title="Preset", severity="warning")
            return False
        try:
            layers = preset_layers(name, info.input_shape, info.num_classes)
        except PresetError as error:
            self.notify(str(error), title=f"Preset {name}", severity="error", timeout=10)
            return False
        self.experiment = replace(self.experiment, name=name, layers=layers)
        self.notify(f"{name} preset for {info.name}: {len(layers)} layers", title="Preset")
        return True

    # ---- training and evaluation --------------------------------------------------------------

    def start_training(self, guard: bool = True) -> None:
        """Validate the design, wait for the data if needed, then launch the run and show its monitor.

        The run is its own process (the launcher's); while others train it waits for a free slot.
        With `guard`, a long run on what looks like a login node asks first (train here / Slurm / cancel).
        """
        self._training_pending = False
        refused = self.invalid_fields()
        if refused:
            self.notify(self._refused_message(refused), title="Cannot train yet", severity="error", timeout=15)
            return
        info = self.dataset_info
        if info is not None:
            problems = self.experiment.problems(info.input_shape, info.num_classes)
        else:
            problems = self.experiment.problems()
        if problems:
            listed = "\n".join(f"• {line}" for line in bounded((str(p) for p in problems), MAX_PROBLEMS_IN_DIALOG))
            self.notify(listed, title="Cannot train yet", severity="error", timeout=15)
            return
        if self.preview_error:
            self.notify(self.preview_error, title="The layers do not fit together", severity="error", timeout=15)
            return
        if self.dataset_error:
            self.notify(self.dataset_error, title="Cannot train: dataset", severity="error", timeout=15)
            return
        if self.dataset is None:
            # Its shape and classes are what the experiment is checked against.
            self._request_dataset()
            self._training_pending = True
            self.notify("Training starts as soon as the dataset finished loading…", title="Waiting")
            return
        if guard:
            from kerastui.tui.screens.submit import ask_before_local_training

            if ask_before_local_training(self, lambda: self.start_training(guard=False)):
                return
        busy = len(self.launcher.active)
        try:
            run_dir = self.launcher.launch(self.experiment)
        except (OSError, ValueError) as error:
            why = f"{error.strerror} ({error.filename})" if isinstance(error, OSError) and error.strerror else str(error)
            self.notify(f"Cannot create the run directory: {why}", title="Cannot train", severity="error", timeout=15)
            return
        if busy:
            self.notify(f"{run_dir.name} is queued behind {plural(busy, 'run')}; it starts when a slot is free.",
                        title="Queued", timeout=6)
        self.follow_run(run_dir)

    def on_run_evaluated(self, message: Any) -> None:
        """A followed run saved its evaluation: it is what the evaluate mode shows next (e)."""
        self.last_outcome = message.outcome

    def follow_run(self, run_dir: Path) -> None:
        """Show `run_dir` on the train mode's run monitor."""
        self.run_worker(self._switch_then("train", lambda screen: screen.watch_run(run_dir)), group="switch-mode")

    @property
    def can_preview(self) -> bool:
        """True when the loaded Keras is the real module (a test's stand-in cannot build models)."""
        return isinstance(self.keras_module, ModuleType)

    @property
    def training_pending(self) -> bool:
        """True while a requested run waits for the dataset."""
        return self._training_pending

    def show_evaluation(self, outcome: RunOutcome) -> None:
        """Switch to the evaluate screen and fill it with `outcome`'s evaluation."""
        self.last_outcome = outcome
        dataset = self.dataset
        self.run_worker(
            self._switch_then("evaluate", lambda screen: screen.show(outcome, dataset)),
            group="switch-mode",
        )

    def action_sweep(self) -> None:
        """The sweep form for the current experiment; once its trials are queued, their leaderboard."""
        from kerastui.tui.screens.sweep import SweepScreen
        from kerastui.tui.screens.sweep_form import SweepForm

        refused = self.invalid_fields()
        if refused:
            self.notify(self._refused_message(refused), title="Cannot sweep yet", severity="error", timeout=15)
            return

        def started(sweep_dir: Path | None) -> None:
            if sweep_dir is not None:
                self.notify(f"Sweep {sweep_dir.name} queued.", title="Sweep", timeout=6)
                self.push_screen(SweepScreen(sweep_dir))

        from kerastui.tui.run_actions import runs_root

        self.push_screen(SweepForm(self.experiment, runs_root(self), self.launcher), started)

    def action_submit_to_slurm(self) -> None:
        """The submit dialog for the current experiment; on success the follow view of the job."""
        from kerastui.tui.screens.submit import open_submit

        open_submit(self)

    def invalid_fields(self) -> list[str]:
        """The build screen's fields that show a refused value (see BuildScreen.invalid_fields)."""
        build = self._screens.get("build")
        if not isinstance(build, BuildScreen) or not build.is_mounted:
            return []
        return build.invalid_fields()

    @staticmethod
    def _refused_message(refused: list[str]) -> str:
        listed = "\n".join(f"• {field}" for field in bounded(refused, MAX_PROBLEMS_IN_DIALOG))
        return f"Fix the fields marked ✗ on the build screen first (the experiment still has their last valid values):\n{listed}"

    # ---- experiment files ----------------------------------------------------------------------

    def _suggested_path(self) -> str:
        if self.experiment_path is not None:
            return str(self.experiment_path)
        return f"{self.experiment.name}-{Path(self.experiment.dataset).stem}.toml"

    def action_save_experiment(self) -> None:
        refused = self.invalid_fields()
        if refused:
            self.notify(self._refused_message(refused), title="Not saved", severity="error", timeout=15)
            return
        self.push_screen(PathDialog("Save experiment as TOML", self._suggested_path(), self.save_experiment_to, "Save"))

    def action_load_experiment(self) -> None:
        self.push_screen(PathDialog("Open experiment TOML", self._suggested_path(), self.load_experiment_from, "Open"))

    def save_experiment_to(self, path: str) -> str | None:
        """Save the experiment; the reason it failed, or None."""
        if not path.strip():
            return "enter a file name, e.g. experiment.toml"
        target = Path(path).expanduser()
        if target.is_dir():
            return f"{target} is a directory; add a file name, e.g. {target / 'experiment.toml'}"
        try:
            spec.save(self.experiment, target)
        except OSError as error:
            return f"cannot write {target}: {error.strerror or error}"
        self.experiment_path = target
        self.notify(f"Saved {target}", title="Experiment")
        return None

    async def load_experiment_from(self, path: str) -> str | None:
        """Load an experiment; the reason it cannot be used, or None. The file is read and checked
        in a thread: a huge or slow file must not freeze the app."""
        if not path.strip():
            return "enter the path of an experiment .toml file"
        target = Path(path).expanduser()
        experiment, problems = await asyncio.to_thread(_read_experiment, target)
        if problems:
            return "\n".join(bounded(problems, limit=MAX_PROBLEMS_IN_DIALOG))
        self.experiment_path = target
        if experiment.dataset != self.experiment.dataset:
            self.dataset_info = None
        self.experiment = experiment
        build = self._screens.get("build")
        if isinstance(build, BuildScreen) and build.is_mounted:
            # Also when the file equals the current experiment: its values replace any refused text.
            build.show_experiment(experiment)
        self.notify(f"Opened {target}", title="Experiment")
        return None

    # ---- help, quit, palette -------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_request_quit(self) -> None:
        active = self.launcher.active
        if not active:
            self.exit()
            return

        def answered(choice: str | None) -> None:
            if choice in ("keep", "stop"):
                self.keep_runs_on_exit = choice == "keep"
                self.exit()

        self.push_screen(QuitWhileTrainingScreen(len(active), len(self.launcher.queued)), answered)

    def on_unmount(self) -> None:
        # Runs already training go on in their own sessions unless the user chose to stop them.
        self.launcher.shutdown(keep_running=self.keep_runs_on_exit)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Train", "Validate the experiment and start training it", self.start_training)
        yield SystemCommand("Save experiment", "Write the experiment as TOML (ctrl+s)", self.action_save_experiment)
        yield SystemCommand("Open experiment", "Load an experiment TOML file (ctrl+o)", self.action_load_experiment)
        yield SystemCommand("Build screen", "Dataset, layers and hyperparameters (b)", lambda: self.action_switch_to("build"))
        yield SystemCommand("Train screen", "Charts and progress of the current run (t)", lambda: self.action_switch_to("train"))
        yield SystemCommand("Evaluate screen", "Test accuracy, confusion matrix, mistakes (e)", lambda: self.action_switch_to("evaluate"))
        yield SystemCommand("Runs screen", "All runs: open, compare, clone, delete (r)", lambda: self.action_switch_to("runs"))
        yield SystemCommand("Submit to Slurm", "Send the experiment to the cluster as a batch job (ctrl+b)", self.action_submit_to_slurm)
        yield SystemCommand("MLP preset", "Replace the layers with the MLP preset", lambda: self._preset_from_palette("mlp"))
        yield SystemCommand("CNN preset", "Replace the layers with the CNN preset", lambda: self._preset_from_palette("cnn"))
        yield SystemCommand("Help", "All keys of all screens (F1)", self.action_help)
        yield SystemCommand("Quit", "Quit kerastui (ctrl+q; asks while training)", self.action_request_quit)
        for command in super().get_system_commands(screen):
            if command.title not in ("Quit", "Keys"):
                yield command

    # ---- terminal size -----------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._check_terminal_size(event.size.width, event.size.height)

    def _check_terminal_size(self, width: int | None = None, height: int | None = None) -> None:
        if width is None or height is None:
            width, height = self.size
        too_small = width < MIN_WIDTH or height < MIN_HEIGHT
        if too_small:
            if self._too_small is None:
                self._too_small = TooSmallScreen()
                self.push_screen(self._too_small)
            self._too_small.show_size(width, height)
        elif self._too_small is not None:
            screen, self._too_small = self._too_small, None
            if screen in self.screen_stack:
                screen.dismiss()


def _read_experiment(target: Path) -> tuple[spec.Experiment | None, list[str]]:
    """The experiment in a TOML file, or the problems that make it unusable (shape problems are
    fine: the summary explains them; bad values are not)."""
    try:
        experiment = spec.load(target)
    except spec.SpecError as error:
        return None, [str(p) if p.field not in ("file", "toml") else f"{target}: {p.message}" for p in error.problems]
    return experiment, [f"{target}: {p}" for p in experiment.problems()]


def run_app(experiment_path: str | None = None) -> int:
    """Run the terminal app (optionally opening an experiment TOML); returns the exit code."""
    experiment = None
    if experiment_path is not None:
        try:
            experiment = spec.load(experiment_path)
        except spec.SpecError as error:
            print(f"kerastui: {error}", file=sys.stderr)
            return 2
    app = KerasTUI(experiment)
    if experiment_path is not None:
        app.experiment_path = Path(experiment_path)
    with divert_native_stderr_on_terminal():
        app.run()
    return app.return_code or 0
