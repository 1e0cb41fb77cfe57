"""What the screens may use of the app they run in (kerastui.tui.app's KerasTUI), as Protocols.

Named here so that no screen imports the app (which imports the screens): a screen declares
`app: Host` and sees the collaborators the app was given, typed, instead of probing for them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:  # pragma: no cover - typing only
    from textual.app import App
    from textual.screen import Screen

    from kerastui.core.build import PreviewResult
    from kerastui.core.build_session import BuildSession
    from kerastui.core.data import Dataset, DatasetInfo
    from kerastui.core.layers import LayerSpec
    from kerastui.core.pipeline import RunOutcome
    from kerastui.core.spec import Experiment
    from kerastui.core.tasks import Task
    from kerastui.tui.slurm_client import SlurmClient


class RunLauncher(Protocol):
    """Starts and stops runs as processes of their own (kerastui.core.launcher.LocalLauncher)."""

    @property
    def active(self) -> list[Path]: ...

    @property
    def queued(self) -> Collection[Path]: ...

    @property
    def slots(self) -> int: ...

    def launch(self, experiment: Experiment) -> Path: ...

    def resume(self, run_dir: Path) -> None: ...

    def enqueue(self, run_dir: Path) -> None: ...

    def pump(self) -> object: ...

    def stop(self, run_dir: Path) -> str: ...

    def move(self, run_dir: Path, delta: int) -> int: ...

    def warm_up(self, backend: str) -> None: ...

    def shutdown(self, keep_running: bool = True) -> None: ...


class ModelPreviewer(Protocol):
    """The build screen's model summary (kerastui.core.build.KerasPreviewer by default)."""

    def load(self) -> str:
        """Import what previews need (blocking, seconds); the Keras backend's name."""
        ...

    def preview(self, layers: tuple[LayerSpec, ...], input_shape: tuple[int, ...], num_classes: int,
                task: Task | None = None) -> PreviewResult:
        """Keras's summary of the layers, and whether their output fits `task` (None: multiclass)
        on data with `num_classes` classes, labels or targets."""
        ...


class Host(Protocol):
    """The app as the screens see it. The build session's state is published as reactives to
    watch and read (set by the app alone: a screen posts an intent, kerastui.tui.intents)."""

    session: BuildSession
    experiment: Experiment
    dataset: Dataset | None
    dataset_info: DatasetInfo | None
    dataset_error: str
    preview_error: str
    training_pending: bool
    keras_ready: bool
    keras_error: str
    previewer: ModelPreviewer
    runs_root: Path | None
    launcher: RunLauncher
    slurm_client: SlurmClient
    dataset_loader: Callable[..., Dataset]
    # The Keras backend the build screen's summary loaded ("" before it has).
    keras_backend: str
    # The last run whose evaluation was saved: what the evaluate mode shows.
    last_outcome: RunOutcome | None

    def mode_screen(self, mode: str) -> Screen | None: ...


class Shell(Host, Protocol):
    """The app as its flows (kerastui.tui.flows) see it: a Host, and what only the app shell does."""

    keep_runs_on_exit: bool
    sub_title: str

    def switch_to_mode(self, mode: str, then: Callable[[Screen], None] | None = None) -> None: ...

    def start_training(self, guard: bool = True) -> None: ...

    def follow_run(self, run_dir: Path) -> None: ...

    # Textual's App methods that the flows call.
    def notify(self, message: str, *, title: str = "", severity: Literal["information", "warning", "error"] = "information",
               timeout: float | None = None) -> None: ...

    def push_screen(self, screen: Screen[Any], callback: Callable[[Any], Any] | None = None) -> Any: ...

    def run_worker(self, work: Callable[[], Any], **options: Any) -> Any: ...

    def call_from_thread(self, callback: Callable[..., Any], *args: Any) -> Any: ...

    def exit(self) -> None: ...


def host(app: App) -> Host:
    """`app` as a Host (every kerastui screen runs in a KerasTUI)."""
    return app  # type: ignore[return-value]
