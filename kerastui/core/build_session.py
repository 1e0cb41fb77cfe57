"""The experiment being designed and everything its rules need: the build screen's state, no UI.

A BuildSession holds the experiment, the dataset loaded for it (or why it is not), Keras's latest
verdict on its layers and whether a requested run waits for the data. Its methods are the rules
of editing: a new dataset adapts the layers, a preset replaces them, training is refused with a
reason until everything fits. The app shows what the session holds and sends it the user's
intents; tests drive it without an app.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kerastui.core import spec
from kerastui.core.datasets.settings import DataSettings
from kerastui.core.presets import PRESETS, PresetError, preset_layers
from kerastui.core.problems import MAX_PROBLEMS_IN_DIALOG, bounded
from kerastui.core.spec import Experiment, fit_to_task

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.data import Dataset, DatasetInfo


@dataclass(frozen=True)
class DatasetRequest:
    """One load of the experiment's data; a later request makes this one's result stale."""

    name: str
    seed: int
    number: int
    # The experiment's [data] table: which keys of a file hold the inputs and labels, and how
    # they are prepared. The app loads with them, as the headless `kerastui train` does.
    settings: DataSettings = field(default_factory=DataSettings)
    # Fit the layers to the data once it has loaded (a file chosen before it could be read, or
    # a [data] field changed: its shape and classes were not known when the change was made).
    adapt: bool = False

    @property
    def key(self) -> tuple[str, int, DataSettings]:
        return (self.name, self.seed, self.settings)


@dataclass(frozen=True)
class Refusal:
    """Why the experiment cannot train (or sweep, or be saved) now, worded for a dialog."""

    title: str
    message: str


# What start_training answers while the data it is checked against still loads.
WAIT_FOR_DATASET = Refusal("Waiting", "Training starts as soon as the dataset finished loading…")


@dataclass(frozen=True)
class PresetResult:
    """What applying a preset did: applied (and how many layers), or why not."""

    applied: bool
    message: str


class BuildSession:
    """The experiment under design, its dataset and what is pending; see the module docstring."""

    def __init__(self, experiment: Experiment, path: Path | None = None) -> None:
        self.experiment = experiment
        # The TOML file the experiment came from or was saved to (what ctrl+s suggests).
        self.path = path
        self.dataset: Dataset | None = None
        # The shape and classes the layers are checked against: the loaded dataset's, or the
        # chosen one's before it has loaded.
        self.dataset_info: DatasetInfo | None = None
        self.dataset_error = ""
        # Keras's latest verdict on the layers ("" when they fit, or before it has looked).
        self.preview_error = ""
        self.training_pending = False
        self._request: DatasetRequest | None = None
        self._requests = 0
        # (dataset, seed, [data]) of the data loaded, and of the last load that failed (with its
        # file's time and size): a failed load is not tried again at every edit (each would
        # notify its error anew), only once the data wanted or the file itself has changed.
        self._loaded_key: tuple | None = None
        self._failed_key: tuple | None = None
        # The next load fits the layers to the data (see DatasetRequest.adapt), rebuilding the
        # preset when the layers were the unedited preset for the data known before the change.
        self._adapt_on_load = False
        self._rebuild_preset = False

    # ---- the dataset ---------------------------------------------------------------------------

    def _wanted_key(self) -> tuple[str, int, DataSettings]:
        experiment = self.experiment
        return (experiment.dataset, experiment.seed, experiment.data)

    def _failed_again(self, key: tuple) -> bool:
        """True when `key` is the load that failed last and its file has not changed since."""
        return self._failed_key == (*key, _file_stamp(key[0]))

    def dataset_to_load(self) -> DatasetRequest | None:
        """The load the experiment needs now (its dataset, seed and [data] table), or None when
        that data is loaded, already loading, or failed to load as it is. Asking makes any
        earlier request stale."""
        wanted = self._wanted_key()
        if self.dataset is not None and self._loaded_key == wanted:
            return None
        request = self._request
        if request is not None and request.key == wanted:
            return None
        if request is None and self._failed_again(wanted):
            return None
        self._requests += 1
        self.dataset = None
        name, seed, settings = wanted
        self._request = DatasetRequest(name, seed, self._requests, settings, self._adapt_on_load)
        return self._request

    def dataset_loaded(self, request: DatasetRequest, dataset: Dataset) -> bool:
        """Take a finished load; False when it is stale (another dataset was chosen meanwhile).
        A load asked for by a new file or a changed [data] field fits the layers to the data."""
        if request != self._request:
            return False
        self._request = None
        self.dataset = dataset
        self._loaded_key, self._failed_key = request.key, None
        previous = self.dataset_info
        self.dataset_info = dataset.info()
        self.dataset_error = ""
        if request.adapt:
            self._adapt_on_load = False
            rebuild, self._rebuild_preset = self._rebuild_preset, False
            self._fit_layers_to(self.dataset_info, rebuild or self._is_unchanged_preset(previous))
        return True

    def dataset_failed(self, request: DatasetRequest, message: str) -> bool:
        """Take a failed load (a run waiting for it is given up); False when it is stale."""
        if request != self._request:
            return False
        self._request = None
        self.dataset = None
        self._loaded_key, self._failed_key = None, (*request.key, _file_stamp(request.name))
        self.dataset_error = message
        self.training_pending = False
        return True

    def problems(self) -> list:
        """Every problem with the experiment, checked against the chosen data and its task."""
        info = self.dataset_info
        if info is None:
            return self.experiment.problems()
        task = self.experiment.task_for(info.task).name
        return self.experiment.problems(info.input_shape, info.outputs_for(task), info.task,
                                        info.vocabulary_size)

    def task_name(self) -> str:
        """The task the experiment trains on the chosen data."""
        return self.experiment.task_for(self.dataset_info.task if self.dataset_info else None).name

    # ---- edits ---------------------------------------------------------------------------------

    def edit(self, experiment: Experiment) -> None:
        """The user changed a field or the layers. Keras has not looked at the new layers yet.

        Another data file, or a changed field of its [data] table, is loaded again; its shape and
        classes are not known until it has, so the layers are fitted to them then (and a new
        file's old data no longer describes it meanwhile)."""
        old = self.experiment
        if experiment.dataset != old.dataset or experiment.data != old.data:
            self._expect_new_shape()
            if experiment.dataset != old.dataset:
                self.dataset_info = None
        self._set_experiment(experiment)

    def _set_experiment(self, experiment: Experiment) -> None:
        if experiment.layers != self.experiment.layers:
            self.preview_error = ""
        self.experiment = experiment

    def record_preview(self, problem: str) -> None:
        """Keras's verdict on the current layers for the data ("" when they fit)."""
        self.preview_error = problem

    def replace_design(self, experiment: Experiment, path: Path | None) -> None:
        """Another whole experiment (an opened file, a cloned run): the old data's shape no longer applies."""
        if experiment.dataset != self.experiment.dataset:
            self.dataset_info = None
        # Its layers are its own (not fitted to the data), and its data is tried again.
        self._adapt_on_load, self._failed_key = False, None
        self.path = path
        self.preview_error = ""
        self.experiment = experiment

    def choose_dataset(self, info: DatasetInfo) -> str:
        """Switch to `info`'s dataset, fitting the output layer to its classes, and rebuilding a
        preset the user has not edited (the cnn picks its padding by image size). Returns a
        warning, or ""."""
        experiment = self.experiment
        unchanged_preset = self._is_unchanged_preset(self.dataset_info)
        data = experiment.data if info.name == experiment.dataset else DataSettings()
        # New data: its labels say the task again (a task chosen for the old data may not fit).
        self.experiment = replace(experiment, task="", data=data)
        warning = self._fit_layers_to(info, unchanged_preset)
        self._set_experiment(replace(self.experiment, dataset=info.name))
        return warning

    def _expect_new_shape(self) -> None:
        if not self._adapt_on_load:  # a change already waiting for its load judged the preset first
            self._rebuild_preset = self._is_unchanged_preset(self.dataset_info)
        self._adapt_on_load = True

    def _fit_layers_to(self, info: DatasetInfo, unchanged_preset: bool) -> str:
        """The output layer fitted to `info`'s classes (the experiment's task kept, else the
        labels'), and a preset the user had not edited rebuilt for the new data. Returns a
        warning, or ""."""
        experiment, warning = self.experiment, ""
        task = experiment.task_for(info.task).name
        adapted = fit_to_task(experiment, info.outputs_for(task), info.task)
        layers = adapted.layers
        if unchanged_preset:
            try:
                layers = _preset_layers(experiment.name, info, task)
            except PresetError as error:
                warning = str(error)
        self.dataset_info = info
        self._set_experiment(replace(adapted, layers=tuple(layers)))
        return warning

    def choose_task(self, task: str) -> str:
        """The user chose `task` for the data (or "" for the one its labels suggest): the output
        layer, loss and monitor follow. Returns why the data cannot be that task, or ""."""
        experiment, info = self.experiment, self.dataset_info
        if info is None:
            self.edit(replace(experiment, task=task))
            return ""
        outputs = info.num_classes
        if self.dataset is not None:
            from kerastui.core.datasets.base import DatasetError

            try:
                outputs = self.dataset.for_task(task or info.task).num_classes
            except DatasetError as error:
                return str(error)
        self.edit(fit_to_task(replace(experiment, task=task), outputs, info.task))
        return ""

    def _is_unchanged_preset(self, info: DatasetInfo | None) -> bool:
        experiment = self.experiment
        if info is None or experiment.name not in PRESETS:
            return False
        try:
            return _preset_layers(experiment.name, info, experiment.task_for(info.task).name) == experiment.layers
        except PresetError:
            return False

    def preset_would_discard_edits(self) -> bool:
        """True when the layers are the user's own (no preset's for this data): replacing them asks first."""
        info = self.dataset_info
        if info is None:
            return False  # nothing to compare with yet: apply_preset explains
        fitted = []
        for preset in PRESETS:
            try:
                fitted.append(_preset_layers(preset, info, self.experiment.task_for(info.task).name))
            except PresetError:
                pass
        return not any(self.experiment.layers == layers for layers in fitted)

    def apply_preset(self, name: str) -> PresetResult:
        """Replace the layers with preset `name` fitted to the data, or say why it cannot fit."""
        info = self.dataset_info
        if info is None:
            return PresetResult(False, "The dataset is still loading; try again in a moment.")
        try:
            layers = _preset_layers(name, info, self.experiment.task_for(info.task).name)
        except PresetError as error:
            return PresetResult(False, str(error))
        self.edit(replace(self.experiment, name=name, layers=layers))
        return PresetResult(True, f"{name} preset for {info.name}: {len(layers)} layers")

    # ---- training ------------------------------------------------------------------------------

    def training_refusal(self, refused_fields: list[str]) -> Refusal | None:
        """Why training cannot start now, or None. `refused_fields` are the fields whose text was
        refused (the experiment still holds their last valid value). WAIT_FOR_DATASET means the
        run is pending: it starts once the data has loaded."""
        self.training_pending = False
        if refused_fields:
            return refused_fields_refusal("Cannot train yet", refused_fields)
        problems = self.problems()
        if problems:
            return Refusal("Cannot train yet", _bullets(str(p) for p in problems))
        if self.preview_error:
            return Refusal("The layers do not fit together", self.preview_error)
        if self.dataset_error:
            return Refusal("Cannot train: dataset", self.dataset_error)
        if self.dataset is None:
            # Its shape and classes are what the experiment is checked against.
            self.training_pending = True
            return WAIT_FOR_DATASET
        return None

    # ---- files ---------------------------------------------------------------------------------

    def suggested_path(self) -> str:
        if self.path is not None:
            return str(self.path)
        return f"{self.experiment.name}-{Path(self.experiment.dataset).stem}.toml"

    def save(self, path: str) -> str | None:
        """Save the experiment as TOML at `path`; the reason it failed, or None."""
        if not path.strip():
            return "enter a file name, e.g. experiment.toml"
        target = Path(path).expanduser()
        if target.is_dir():
            return f"{target} is a directory; add a file name, e.g. {target / 'experiment.toml'}"
        try:
            spec.save(self.experiment, target)
        except OSError as error:
            return f"cannot write {target}: {error.strerror or error}"
        self.path = target
        return None


def _file_stamp(name: str) -> tuple[int, int] | None:
    """A data file's (or folder's) modification time and size; None for a built-in name. os.stat
    opens nothing, so a FIFO cannot block it."""
    try:
        status = os.stat(Path(name).expanduser())
    except (OSError, ValueError):
        return None
    return (status.st_mtime_ns, status.st_size)


def refused_fields_refusal(title: str, refused_fields: list[str]) -> Refusal:
    return Refusal(
        title,
        "Fix the fields marked ✗ on the build screen first (the experiment still has their last valid "
        f"values):\n{_bullets(refused_fields)}",
    )


def _bullets(lines: Iterable[str]) -> str:
    """Lines as a bulleted list for a dialog, bounded like every list of problems."""
    return "\n".join(f"• {line}" for line in bounded(lines, MAX_PROBLEMS_IN_DIALOG))


def read_experiment(target: Path) -> tuple[Experiment | None, list[str]]:
    """The experiment in a TOML file, or the problems that make it unusable (shape problems are
    fine: the summary explains them; bad values are not). Blocking: the app calls it in a thread."""
    try:
        experiment = spec.load(target)
    except spec.SpecError as error:
        return None, [str(p) if p.field not in ("file", "toml") else f"{target}: {p.message}" for p in error.problems]
    return experiment, [f"{target}: {p}" for p in experiment.problems()]


def _preset_layers(name: str, info: DatasetInfo, task: str) -> tuple:
    """Preset `name` fitted to the chosen data read as `task` (PresetError when it cannot fit)."""
    return preset_layers(name, info.input_shape, info.outputs_for(task), task,
                         vocabulary_size=info.vocabulary_size)
