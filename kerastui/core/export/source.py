"""What an export is made from: the run's experiment (its config.toml), its data as training
loaded it, and the saved preprocessing; ExportError says why a run cannot be exported."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ExportError(ValueError):
    """The run cannot be written as code (or the place to write it is wrong): what and why."""


@dataclass(frozen=True)
class RunSource:
    run_dir: Path
    experiment: Any  # kerastui.core.spec.Experiment
    dataset: Any  # kerastui.core.data.Dataset, split and prepared as the run's training had it
    evaluation: dict[str, Any]  # evaluation.json as saved (empty before the run was evaluated)

    @property
    def model_file(self) -> Path:
        from kerastui.core.runs import MODEL_FILE

        return self.run_dir / MODEL_FILE

    @property
    def task(self) -> Any:
        return self.experiment.task_for(self.dataset.task)


def load_run_source(run_dir: Path) -> RunSource:
    """The run at `run_dir` with its data; ExportError when its experiment or data cannot be read."""
    import json

    from kerastui.core.data import DatasetError, run_dataset
    from kerastui.core.runs import EVALUATION_FILE, load_run

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ExportError(f"{run_dir}: not a run directory")
    record = load_run(run_dir)
    if record.experiment is None:
        raise ExportError(f"{run_dir}: {'; '.join(record.errors) or 'no readable config.toml'}; "
                          "an export is written from the run's experiment")
    try:
        dataset = run_dataset(record.experiment, run_dir)
    except DatasetError as error:
        raise ExportError(f"{run_dir}: its data cannot be loaded to write the export: {error}") from None
    evaluation: dict[str, Any] = {}
    try:
        evaluation = json.loads((run_dir / EVALUATION_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    return RunSource(run_dir, record.experiment, dataset, evaluation if isinstance(evaluation, dict) else {})
