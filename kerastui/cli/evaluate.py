"""Re-evaluate a run's saved model on its dataset's test split and rewrite evaluation.json."""

from __future__ import annotations

import argparse
from pathlib import Path

from kerastui.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    load_experiment_data,
    print_error,
    resolve_run,
)

HELP = "re-evaluate a run's saved model on the test set"
MAX_MISTAKES_SHOWN = 5


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN", help="run directory, its name under the runs dir, a unique part of it, or 'latest'")
    parser.add_argument("--runs-dir", type=Path, metavar="DIR", help="default $KERASTUI_RUNS_DIR or ./runs")
    parser.add_argument("--batch-size", type=int, default=256, metavar="N")


def run(args: argparse.Namespace) -> int:
    from kerastui.core.backend import BackendError, import_keras
    from kerastui.core.evaluate import evaluate_model
    from kerastui.core.model_file import ModelFileError, load_model_file
    from kerastui.core.runs import EVALUATION_FILE, MODEL_FILE, RunWriter, load_run, write_failure

    if args.batch_size < 1:
        raise UsageError(f"--batch-size {args.batch_size}: must be at least 1")
    path = resolve_run(args.run, args.runs_dir)
    record = load_run(path)
    if record.experiment is None:
        raise UsageError(f"{path}: {'; '.join(record.errors) or 'no readable config.toml'}")
    if record.model_path is None:
        raise UsageError(f"{path}: no {MODEL_FILE} (the run {record.status} before a model was saved)")
    experiment = record.experiment
    try:
        keras = import_keras(experiment.backend)
    except BackendError as error:
        raise UsageError(str(error)) from None
    dataset = load_experiment_data(experiment)
    try:
        model = load_model_file(record.model_path, keras)
    except ModelFileError as error:  # a corrupt or incompatible file: say which and why, no traceback
        print_error(str(error))
        return EXIT_FAILED
    evaluation = evaluate_model(model, dataset, batch_size=args.batch_size)
    try:
        RunWriter(path).save_evaluation(evaluation)
    except OSError as error:
        print_summary(evaluation, path, saved=False)
        print_error(write_failure(path / EVALUATION_FILE, error) + "; the evaluation above is not saved")
        return EXIT_FAILED
    print_summary(evaluation, path)
    return EXIT_OK


def print_summary(evaluation, path: Path, saved: bool = True) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(f"run: {path}")
    console.print(f"test accuracy {evaluation.test_accuracy:.4f}  test loss {evaluation.test_loss:.4f}")
    table = Table(header_style="bold")
    for header in ("class", "precision", "recall", "f1", "support"):
        table.add_column(header, justify="left" if header == "class" else "right")
    for report in evaluation.per_class:
        table.add_row(report.name, f"{report.precision:.3f}", f"{report.recall:.3f}", f"{report.f1:.3f}", str(report.support))
    console.print(table)
    mistakes = evaluation.misclassified[:MAX_MISTAKES_SHOWN]
    if mistakes:
        names = evaluation.class_names
        listed = ", ".join(
            f"#{m.index} {names[m.true]}->{names[m.predicted]} ({m.confidence:.2f})" for m in mistakes
        )
        console.print(f"{len(evaluation.misclassified)} misclassified; most confident: {listed}")
    if saved:
        console.print(f"wrote {path / 'evaluation.json'}")
