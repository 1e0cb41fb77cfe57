"""Re-evaluate a run's saved model on its dataset's test split and rewrite evaluation.json.

The dataset is loaded as training loaded it (kerastui.core.data.experiment_dataset, through
load_experiment_data), so the experiment's task and its targets apply; the printout is the task's:
binary: ROC AUC, PR AUC, TPR at fixed FPRs, FPR at fixed TPRs and the confusion at the threshold;
multilabel: a per-label table and macro/micro F1; regression: MAE, RMSE, R² (per target where
there are several) and the worst predictions; multiclass: accuracy, top-k accuracy, one-vs-rest
ROC AUC and the per-class table.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kerastui.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    load_experiment_data,
    print_error,
    resolve_run,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.evaluation.common import TaskEvaluation

HELP = "re-evaluate a run's saved model on the test set"
MAX_MISTAKES_SHOWN = 5
# The binary TPR-at-FPR and FPR-at-TPR tables go side by side from this terminal width.
SIDE_BY_SIDE_WIDTH = 84


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
    dataset = load_experiment_data(experiment, path)
    try:
        model = load_model_file(record.model_path, keras)
    except ModelFileError as error:  # a corrupt or incompatible file: say which and why, no traceback
        print_error(str(error))
        return EXIT_FAILED
    try:
        evaluation = evaluate_model(model, dataset, batch_size=args.batch_size)
    except ValueError as error:  # NaN outputs, labels that do not fit the task: the model is kept
        print_error(f"{path}: the evaluation failed: {error}")
        return EXIT_FAILED
    try:
        RunWriter(path).save_evaluation(evaluation)
    except OSError as error:
        print_summary(evaluation, path, saved=False)
        print_error(write_failure(path / EVALUATION_FILE, error) + "; the evaluation above is not saved")
        return EXIT_FAILED
    print_summary(evaluation, path)
    return EXIT_OK


# ---- the printout ------------------------------------------------------------------------------


def number(value: float | None, digits: int = 4) -> str:
    """A metric for printing; an undefined one (None or NaN) as 'undefined'."""
    if value is None or value != value:
        return "undefined"
    return f"{value:.{digits}f}"


def cell(value: float | None, digits: int = 4) -> str:
    """A table cell: an undefined metric as a dash (the reason is printed below the table)."""
    return "—" if value is None or value != value else f"{value:.{digits}f}"


def summary_line(evaluation: TaskEvaluation) -> str:
    """The task's named metrics in one line ('ROC AUC 0.9812  PR AUC 0.9700  ...  test loss 0.1234'),
    for `kerastui evaluate`, and for `train` and `watch` to print after a run."""
    parts = [f"{evaluation.metric_label(name)} {number(value)}" for name, value in evaluation.summary_metrics()]
    line = "  ".join([*parts, f"test loss {number(evaluation.test_loss)}"])
    # Why an AUC or R² is undefined (a test split with one class, a constant target).
    reason = evaluation.undefined_reason
    return f"{line}\n{reason}" if reason else line


def print_summary(evaluation: TaskEvaluation, path: Path, saved: bool = True) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    console.print(f"run: {path}")
    printer = {
        "binary": _print_binary,
        "multilabel": _print_multilabel,
        "regression": _print_regression,
    }.get(evaluation.task, _print_multiclass)
    printer(console, evaluation)
    if saved:
        console.print(f"wrote {path / 'evaluation.json'}")


def _table(*headers: str):
    from rich.table import Table

    table = Table(header_style="bold")
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i == 0 else "right")
    return table


def _print_multiclass(console, evaluation) -> None:
    from rich.markup import escape

    console.print(summary_line(evaluation))  # with the reason an AUC is undefined, if one is
    table = _table("class", "precision", "recall", "f1", "ROC AUC", "support")
    for report in evaluation.per_class:
        table.add_row(escape(report.name), f"{report.precision:.3f}", f"{report.recall:.3f}", f"{report.f1:.3f}",
                      cell(report.roc_auc, 3), str(report.support))
    console.print(table)
    mistakes = evaluation.misclassified[:MAX_MISTAKES_SHOWN]
    if mistakes:
        names = evaluation.class_names
        listed = ", ".join(
            f"#{m.index} {escape(names[m.true])}->{escape(names[m.predicted])} ({m.confidence:.2f})" for m in mistakes
        )
        console.print(f"{len(evaluation.misclassified)} misclassified; most confident: {listed}")


def _print_binary(console, evaluation) -> None:
    from rich.markup import escape
    from rich.table import Table

    negative, positive = (escape(n) for n in evaluation.class_names)
    console.print(f"binary: {evaluation.sample_count} test samples, {evaluation.positives} positive ({positive}), "
                  f"{evaluation.negatives} negative ({negative})")
    console.print(f"ROC AUC {number(evaluation.roc_auc)}  PR AUC (average precision) "
                  f"{number(evaluation.average_precision)}  test loss {number(evaluation.test_loss)}")
    if evaluation.undefined_reason:
        console.print(evaluation.undefined_reason)
    # "got": the rate the threshold gives, at or under the FPR asked for (at or over the TPR).
    at_fpr = _table("FPR ≤", "TPR", "threshold", "got")
    for row in evaluation.tpr_at_fpr:
        at_fpr.add_row(f"{row.fpr:g}", cell(row.tpr), cell(row.threshold), cell(row.actual_fpr))
    at_tpr = _table("TPR ≥", "FPR", "threshold", "got")
    for row in evaluation.fpr_at_tpr:
        at_tpr.add_row(f"{row.tpr:g}", cell(row.fpr), cell(row.threshold), cell(row.actual_tpr))
    if console.width >= SIDE_BY_SIDE_WIDTH:
        side_by_side = Table.grid(padding=(0, 3))
        side_by_side.add_row(at_fpr, at_tpr)
        console.print(side_by_side)
    else:
        console.print(at_fpr, at_tpr)
    (tn, fp), (fn, tp) = evaluation.confusion
    confusion = _table(f"at threshold {evaluation.threshold:g}", f"called {negative}", f"called {positive}")
    confusion.add_row(f"true {negative}", f"{tn} (TN)", f"{fp} (FP)")
    confusion.add_row(f"true {positive}", f"{fn} (FN)", f"{tp} (TP)")
    console.print(confusion)
    console.print(f"precision {number(evaluation.precision)}  recall {number(evaluation.recall)}  "
                  f"F1 {number(evaluation.f1)}  TPR {number(evaluation.tpr)}  FPR {number(evaluation.fpr)}")
    console.print(f"accuracy {number(evaluation.accuracy)} at the threshold (scores >= it are called {positive})")
    if evaluation.has_scores:
        for what, indices in (("false positives", evaluation.false_positives()),
                              ("false negatives", evaluation.false_negatives())):
            if len(indices):
                listed = ", ".join(f"#{i} ({evaluation.scores[i]:.3f})" for i in indices[:MAX_MISTAKES_SHOWN])
                console.print(f"{len(indices)} {what}; the most wrong: {listed}")


def _print_multilabel(console, evaluation) -> None:
    from rich.markup import escape

    console.print(f"multilabel: {evaluation.sample_count} test samples, {len(evaluation.label_names)} labels")
    console.print(summary_line(evaluation))
    table = _table("label", "threshold", "TPR", "FPR", "precision", "F1", "ROC AUC", "support")
    for r in evaluation.per_label:
        table.add_row(escape(r.name), f"{r.threshold:g}", cell(r.tpr, 3), cell(r.fpr, 3), cell(r.precision, 3),
                      cell(r.f1, 3), cell(r.roc_auc, 3), str(r.support))
    console.print(table)
    for r in evaluation.per_label:
        if r.auc_undefined:
            console.print(f"{escape(r.name)}: {r.auc_undefined}")
    if evaluation.has_scores:
        mistakes = evaluation.mistakes()
        if len(mistakes):
            listed = ", ".join(f"#{i}" for i in mistakes[:MAX_MISTAKES_SHOWN])
            console.print(f"{len(mistakes)} samples with a wrong label; the most confident: {listed}")


def _print_regression(console, evaluation) -> None:
    from rich.markup import escape

    console.print(f"regression: {evaluation.sample_count} test samples, "
                  f"{len(evaluation.target_names)} target{'s' if len(evaluation.target_names) != 1 else ''}")
    console.print(f"MAE {number(evaluation.mae)}  RMSE {number(evaluation.rmse)}  R² {number(evaluation.r2)}  "
                  f"test loss {number(evaluation.test_loss)}")
    if evaluation.undefined_reason:
        console.print(evaluation.undefined_reason)
    if evaluation.per_target:
        table = _table("target", "MAE", "RMSE", "R²")
        for r in evaluation.per_target:
            table.add_row(escape(r.name), cell(r.mae), cell(r.rmse), cell(r.r2))
        console.print(table)
    if evaluation.has_values:
        worst = evaluation.worst(MAX_MISTAKES_SHOWN)
        if len(worst):
            console.print("largest errors (true -> predicted):")
            for i in worst:
                true = ", ".join(f"{v:.4g}" for v in evaluation.y_true[i])
                predicted = ", ".join(f"{v:.4g}" for v in evaluation.predictions[i])
                console.print(f"  #{i}  {true} -> {predicted}")
