"""The steps that reproduce a run, each a heading, a sentence and its code: imports, data,
preparation, model, compile, fit, evaluation. The script, the notebook and the submission are
ways of laying these out (kerastui.core.export.layouts); nothing here imports Keras.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kerastui.core.build import OPTIMIZER_CLASSES
from kerastui.core.datasets.streamed import Preprocessing
from kerastui.core.export.data_code import LAST_ROWS, SEEDED, DataCode, code, data_code, scale_code
from kerastui.core.export.layer_code import RESIDUAL_BLOCK_CODE, keras_code, literal, needs_functional
from kerastui.core.export.source import ExportError, RunSource
from kerastui.core.layers import LayerSpec
from kerastui.core.optimizers import optimizer_arguments


@dataclass(frozen=True)
class Step:
    title: str
    text: str  # one or two sentences of markdown
    code: str


@dataclass(frozen=True)
class Plan:
    """Everything the layouts need: the steps and the pieces a submission reuses."""

    source: RunSource
    data: DataCode
    steps: tuple[Step, ...]
    imports: tuple[str, ...]

    @property
    def experiment(self) -> Any:
        return self.source.experiment


LOSS_CLASSES = {
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "binary_crossentropy": "BinaryCrossentropy",
    "binary_focal_crossentropy": "BinaryFocalCrossentropy",
    "huber": "Huber",
    "mse": "MeanSquaredError",
    "mae": "MeanAbsoluteError",
}
SKLEARN_METRICS = {
    "multiclass": ("accuracy_score", "classification_report", "confusion_matrix"),
    "binary": ("average_precision_score", "classification_report", "confusion_matrix", "roc_auc_score"),
    "multilabel": ("classification_report", "f1_score", "roc_auc_score"),
    "regression": ("mean_absolute_error", "mean_squared_error", "r2_score"),
}


def plan(source: RunSource) -> Plan:
    """The steps for this run; ExportError when something in it cannot be written as Keras code."""
    experiment = source.experiment
    problems = experiment.problems()
    if problems:
        raise ExportError(f"{source.run_dir}: its experiment has problems: " + "; ".join(map(str, problems)))
    data = data_code(source)
    task = source.task.name
    extra = ["from sklearn.utils.class_weight import compute_class_weight"] if experiment.fit.class_weight == "balanced" else []
    steps = [
        Step("Data", f"The data as the run loaded it: {data.about}", f"SEED = {experiment.seed}\n" + data.load),
        Step("Preparation", preparation_words(data.preprocessing),
             prepare_code(data.preprocessing, len(source.dataset.input_shape)) + standardise_code(
                 data.preprocessing, len(source.dataset.input_shape))),
        Step("Model", _model_words(experiment.layers), model_code(source)),
        Step("Compile", "The run's optimizer (its learning rate, and momentum where set), loss and metrics.", compile_code(source)),
        Step("Fit", _fit_words(source, data), fit_code(source, data)),
        Step("Evaluation", f"The test split scored as a {task} task, with scikit-learn.", evaluation_code(source, data)),
    ]
    body = "\n".join(step.code for step in steps)
    imports = import_lines(("import os", *data.imports),
                           ("import keras", "import numpy as np", "from keras import layers",
                            f"from sklearn.metrics import {', '.join(SKLEARN_METRICS[task])}", *extra),
                           experiment.backend, body)
    steps.insert(0, Step("Imports", "Keras alone (with NumPy and scikit-learn); `KERAS_BACKEND` picks its backend "
                         f"(the run used {experiment.backend}).", "\n".join(imports) + "\n"))
    return Plan(source, data, tuple(steps), tuple(imports))


STANDARD_LIBRARY = ("os", "csv", "json", "pathlib", "math")


def import_lines(lines: tuple[str, ...], third_party: tuple[str, ...], backend: str, body: str) -> list[str]:
    """The imports `body` uses, as isort (ruff's I rules) writes them: the standard library, the
    backend's choice (before Keras is imported), then the rest; `import` lines before `from`
    lines, each sorted, a long one wrapped."""
    every = {line for line in (*lines, *third_party) if line and _used(line, body)} | {"import os"}

    def standard(line: str) -> bool:
        return line.split()[1].split(".")[0] in STANDARD_LIBRARY

    def ordered(chosen: set[str]) -> list[str]:
        plain = sorted((line for line in chosen if line.startswith("import ")), key=lambda line: line.split()[1].lower())
        froms = sorted((line for line in chosen if line.startswith("from ")), key=lambda line: line.split()[1].lower())
        return plain + [_wrapped(line) for line in froms]

    return [*ordered({line for line in every if standard(line)}), "",
            f'os.environ.setdefault("KERAS_BACKEND", {literal(backend)})', "",
            *ordered({line for line in every if not standard(line)})]


def _used(line: str, body: str) -> bool:
    """Whether `body` uses a name the import line binds (`np` of `import numpy as np`)."""
    import re

    bound = line.split(" import ")[1] if line.startswith("from ") else line.split()[-1]
    names = [name.strip().split(" as ")[-1] for name in bound.split(",")]
    return any(re.search(rf"(?<![\w.]){re.escape(name)}\b", body) for name in names)


def _wrapped(line: str, width: int = 88) -> str:
    if len(line) <= width:
        return line
    head, names = line.split(" import ")
    return head + " import (\n" + "".join(f"    {name.strip()},\n" for name in names.split(",")) + ")"


# ---- preparation --------------------------------------------------------------------------------


def preparation_words(prep: Preprocessing) -> str:
    parts = []
    if prep.axes:
        parts.append(f"the axes put in the order {list(prep.axes)}")
    if prep.expand_channel:
        parts.append("a channel axis added")
    if prep.dtype != "float32":
        parts.append("word indices kept as whole numbers")
    if prep.scale != 1.0:
        parts.append(f"values scaled by{scale_code(prep.scale).replace('/', '1/')}".replace("1/ ", "1/"))
    if prep.standardize == "per_feature":
        parts.append("each feature standardised with the training split's mean and deviation")
    if prep.standardize == "per_sample":
        parts.append("each sample standardised by its own mean and deviation, channel by channel")
    return ("The raw samples as the model reads them: " + "; ".join(parts) + ".") if parts else \
        "The samples go to the model as they are (as float32)."


def prepare_code(prep: Preprocessing, rank: int, saved: bool = False, apply: bool = True) -> str:
    """`def prepare(x)`: raw samples to the model's inputs; with `saved`, the per-feature
    statistics MEAN and STD (defined by the caller) are applied inside it too."""
    body = []
    if prep.axes:
        body.append(f"x = np.transpose(x, {literal(tuple(prep.axes))})  # the axis order the model reads")
    if prep.expand_channel:
        body.append("x = x[..., np.newaxis]  # a channel axis")
    if prep.dtype != "float32":
        body.append(f'return x.astype("{prep.dtype}")')
    else:
        body.append(f'x = x.astype("float32"){scale_code(prep.scale)}')
        if prep.standardize == "per_sample":
            over = tuple(range(1, rank)) if rank > 1 else (1,)
            body += ["# Each sample, channel by channel, by its own mean and deviation.",
                     f"centre = x.mean(axis={literal(over)}, keepdims=True)",
                     f"spread = x.std(axis={literal(over)}, keepdims=True)",
                     "spread[spread == 0] = 1.0",
                     "x = (x - centre) / spread"]
        if saved and prep.standardize == "per_feature":
            body.append('x = ((x - MEAN) / STD).astype("float32")  # the training split\'s statistics')
        body.append("return x")
    text = "def prepare(x):\n" + "".join(f"    {line}\n" for line in body)
    if apply:
        text += "\n\nx_train, x_test = prepare(x_train), prepare(x_test)\n"
    return text


def standardise_code(prep: Preprocessing, rank: int) -> str:
    if prep.standardize != "per_feature" or prep.dtype != "float32":
        return ""
    over = literal(tuple(range(rank + 1 - 1)))  # every axis but the features' (the last)
    return code(f"""

        # Each feature (the last axis) standardised with the training split's mean and deviation.
        MEAN = x_train.mean(axis={over}, dtype="float64")
        STD = x_train.std(axis={over}, dtype="float64")
        STD[STD == 0] = 1.0
        x_train = ((x_train - MEAN) / STD).astype("float32")
        x_test = ((x_test - MEAN) / STD).astype("float32")
        """)


# ---- the model ----------------------------------------------------------------------------------


def _model_words(layers: tuple[LayerSpec, ...]) -> str:
    if needs_functional(layers):
        return ("The layers of the run, written with the functional API because a residual block adds its "
                "input to its output; the same seed gives the same initial weights.")
    return "The layers of the run, in order, as a Sequential model; the same seed gives the same initial weights."


def model_code(source: RunSource, saved_targets: bool = False) -> str:
    """The model's code: seeded, Sequential (or functional with a residual block). A regression
    model ends with the fixed layer that turns standard units into the targets' own (computed
    from y_train, or TARGET_MEAN and TARGET_STD when `saved_targets`)."""
    experiment = source.experiment
    layers = experiment.layers
    shape = literal(tuple(int(d) for d in source.dataset.input_shape))
    regression = source.task.name == "regression"
    lines: list[str] = []
    if needs_functional(layers):
        lines += [RESIDUAL_BLOCK_CODE, ""]
    if regression and not saved_targets:
        lines += ["# The layers learn the targets in standard units; the last layer turns them into the targets' own.",
                  "TARGET_MEAN = y_train.reshape(len(y_train), -1).mean(axis=0)",
                  "TARGET_STD = y_train.reshape(len(y_train), -1).std(axis=0)",
                  "TARGET_STD[TARGET_STD == 0] = 1.0", ""]
    if not saved_targets:
        lines.append("keras.utils.set_random_seed(SEED)  # the run's initial weights, dropout and shuffling")
    rescale = "layers.Rescaling(scale=TARGET_STD.tolist(), offset=TARGET_MEAN.tolist())"
    if needs_functional(layers):
        lines.append(f"inputs = keras.Input(shape={shape})")
        lines.append("x = inputs")
        for layer in layers:
            lines.append(f"x = {keras_code(layer)}(x)")
        if regression:
            lines.append(f"x = {rescale}(x)")
        lines.append("model = keras.Model(inputs, x)")
    else:
        items = [f"keras.Input(shape={shape})", *(keras_code(layer) for layer in layers)]
        if regression:
            items.append(rescale)
        lines.append("model = keras.Sequential(")
        lines.append("    [")
        lines += [f"        {item}," for item in items]
        lines.append("    ]")
        lines.append(")")
    if not saved_targets:
        lines.append("model.summary()")
    return "\n".join(lines) + "\n"


def compile_code(source: RunSource) -> str:
    c = source.experiment.compile
    task = source.task.name
    # The same arguments the run's optimizer was built with (momentum only where it was set).
    arguments = ", ".join(f"{name}={value!r}" for name, value in optimizer_arguments(c).items())
    optimizer = f"keras.optimizers.{OPTIMIZER_CLASSES[c.optimizer]}({arguments})"
    options = []
    if c.from_logits and c.loss in ("sparse_categorical_crossentropy", "categorical_crossentropy",
                                    "binary_crossentropy", "binary_focal_crossentropy"):
        options.append("from_logits=True")
    if c.loss == "binary_focal_crossentropy":
        options += [f"gamma={float(c.focal_gamma)!r}", f"alpha={float(c.focal_alpha)!r}", "apply_class_balancing=True"]
    if c.loss == "huber" and float(c.huber_delta) != 1.0:
        options.append(f"delta={float(c.huber_delta)!r}")
    loss = f"keras.losses.{LOSS_CLASSES[c.loss]}({', '.join(options)})"
    logits = bool(c.from_logits)
    if task == "multiclass":
        metrics = '["accuracy"]'
    elif task in ("binary", "multilabel"):
        threshold = ", threshold=0.0" if logits else ""
        auc = ['name="auc"']
        if task == "multilabel":
            auc += ["multi_label=True", f"num_labels={len(source.dataset.class_names)}"]
        if logits:
            auc.append("from_logits=True")
        metrics = (f'[keras.metrics.BinaryAccuracy(name="accuracy"{threshold}), '
                   f'keras.metrics.AUC({", ".join(auc)})]')
    else:
        metrics = '[keras.metrics.MeanAbsoluteError(name="mae"), keras.metrics.RootMeanSquaredError(name="rmse")]'
    return code(f"""
        model.compile(
            optimizer={optimizer},
            loss={loss},
            metrics={metrics},
        )
        """)


# ---- fit ----------------------------------------------------------------------------------------


def _fit_words(source: RunSource, data: DataCode) -> str:
    f = source.experiment.fit
    words = f"{f.epochs} epochs of batches of {f.batch_size}"
    if data.validation == LAST_ROWS:
        words += ", validated on val/'s images"
    elif f.validation_split or data.validation_share:
        share = data.validation_share if data.validation_share is not None else f.validation_split
        words += f", {share:.0%} of the training split held out for validation"
    if f.early_stopping_patience:
        words += f", stopping early when {f.monitor} has not improved for {f.early_stopping_patience} epochs"
    if f.class_weight:
        words += ", classes weighted"
    return words[0].upper() + words[1:] + "."


def fit_code(source: RunSource, data: DataCode) -> str:
    experiment, task = source.experiment, source.task.name
    f = experiment.fit
    lines: list[str] = []
    loss = experiment.compile.loss
    if task == "multiclass" and loss == "categorical_crossentropy":
        lines.append(f"fit_targets = keras.utils.to_categorical(y_train, {len(source.dataset.class_names)})  # one-hot for the loss")
    elif task == "binary":
        lines.append('fit_targets = y_train.reshape(-1, 1).astype("float32")')
    elif task == "multilabel":
        lines.append('fit_targets = y_train.astype("float32")')
    elif task == "regression":
        lines.append("fit_targets = y_train.reshape(len(y_train), -1)")
    else:
        lines.append("fit_targets = y_train")
    arguments = ["x_train", "fit_targets", f"batch_size={f.batch_size}", f"epochs={f.epochs}"]
    share = data.validation_share if data.validation_share is not None else f.validation_split
    if data.validation == LAST_ROWS and data.validation_rows:
        lines += [f"validation_rows = {data.validation_rows}  # val/'s images, the last rows of the training split",
                  "x_fit, x_validation = x_train[:-validation_rows], x_train[-validation_rows:]",
                  "y_fit, y_validation = fit_targets[:-validation_rows], fit_targets[-validation_rows:]"]
        arguments = ["x_fit", "y_fit", "validation_data=(x_validation, y_validation)", *arguments[2:]]
    elif data.validation == SEEDED and share:
        lines += ["# A seeded share of the training rows validates (data read from files is often sorted).",
                  f"kept = int(np.floor(len(x_train) * (1 - {share!r})))",
                  "order = np.random.default_rng(SEED).permutation(len(x_train))",
                  "fit_rows, validation_rows = np.sort(order[:kept]), np.sort(order[kept:])",
                  "x_fit, x_validation = x_train[fit_rows], x_train[validation_rows]",
                  "y_fit, y_validation = fit_targets[fit_rows], fit_targets[validation_rows]"]
        arguments = ["x_fit", "y_fit", "validation_data=(x_validation, y_validation)", *arguments[2:]]
    elif share:
        arguments.append(f"validation_split={share!r}")
    weights = f.class_weight
    if weights and source.task.weights_classes:
        if weights == "balanced":
            lines += ["classes = np.unique(y_train)",
                      'weights = compute_class_weight("balanced", classes=classes, y=y_train)',
                      "class_weight = {int(c): float(w) for c, w in zip(classes, weights)}"]
        else:
            lines.append(f"class_weight = {{{', '.join(f'{i}: {float(w)!r}' for i, w in enumerate(weights))}}}")
        arguments.append("class_weight=class_weight")
    if f.early_stopping_patience:
        from kerastui.core.tasks import metric_direction

        lines.append("callbacks = [")
        lines.append(f"    keras.callbacks.EarlyStopping(monitor={literal(f.monitor)}, "
                     f"patience={f.early_stopping_patience}, mode={literal(metric_direction(f.monitor))}, "
                     "restore_best_weights=True),")
        lines.append("]")
        arguments.append("callbacks=callbacks")
    arguments.append("verbose=2")
    lines.append("history = model.fit(")
    lines += [f"    {argument}," for argument in arguments]
    lines.append(")")
    return "\n".join(lines) + "\n"


# ---- evaluation ---------------------------------------------------------------------------------


def evaluation_code(source: RunSource, data: DataCode) -> str:
    task = source.task.name
    names = list(source.dataset.class_names)
    logits = bool(source.experiment.compile.from_logits)
    lines: list[str] = []
    if "CLASS_NAMES =" not in data.load and task in ("multiclass", "binary"):
        lines.append(f"CLASS_NAMES = {literal(names)}")
    if task == "multilabel":
        lines.append(f"LABEL_NAMES = {literal(names)}")
    if task == "regression":
        lines.append(f"TARGET_NAMES = {literal(names)}")
    if task == "multiclass":
        lines += ["probabilities = model.predict(x_test, verbose=0)",
                  "predicted = probabilities.argmax(axis=1)",
                  "classes = list(range(len(CLASS_NAMES)))",
                  'print(f"test accuracy: {accuracy_score(y_test, predicted):.4f}")',
                  'print("confusion matrix (rows: true class, columns: predicted class):")',
                  "print(confusion_matrix(y_test, predicted, labels=classes))",
                  "print(classification_report(y_test, predicted, labels=classes, target_names=CLASS_NAMES, "
                  "zero_division=0))"]
    elif task == "binary":
        lines.append("scores = model.predict(x_test, verbose=0).ravel()")
        if logits:
            lines.append("scores = 1 / (1 + np.exp(-scores))  # the last layer gives logits")
        lines += ["predicted = (scores >= 0.5).astype(int)",
                  'print(f"ROC AUC: {roc_auc_score(y_test, scores):.4f}")',
                  'print(f"PR AUC (average precision): {average_precision_score(y_test, scores):.4f}")',
                  'print("confusion matrix at threshold 0.5 (rows: true class, columns: predicted class):")',
                  "print(confusion_matrix(y_test, predicted, labels=[0, 1]))",
                  "print(classification_report(y_test, predicted, labels=[0, 1], target_names=CLASS_NAMES, "
                  "zero_division=0))"]
    elif task == "multilabel":
        lines.append("scores = model.predict(x_test, verbose=0)")
        if logits:
            lines.append("scores = 1 / (1 + np.exp(-scores))  # the last layer gives logits")
        lines += ["predicted = (scores >= 0.5).astype(int)",
                  'print(f"macro F1: {f1_score(y_test, predicted, average=\'macro\', zero_division=0):.4f}")',
                  'print(f"micro F1: {f1_score(y_test, predicted, average=\'micro\', zero_division=0):.4f}")',
                  "for index, name in enumerate(LABEL_NAMES):",
                  "    if len(np.unique(y_test[:, index])) == 2:",
                  '        print(f"{name} ROC AUC: {roc_auc_score(y_test[:, index], scores[:, index]):.4f}")',
                  "print(classification_report(y_test, predicted, target_names=LABEL_NAMES, zero_division=0))"]
    else:
        lines += ["predictions = model.predict(x_test, verbose=0).reshape(len(y_test), -1)",
                  "targets = y_test.reshape(len(y_test), -1)",
                  'print(f"MAE: {mean_absolute_error(targets, predictions):.4f}")',
                  'print(f"RMSE: {np.sqrt(mean_squared_error(targets, predictions)):.4f}")',
                  'print(f"R²: {r2_score(targets, predictions):.4f}")']
        if len(names) > 1:
            lines += ["for index, name in enumerate(TARGET_NAMES):",
                      "    error = mean_absolute_error(targets[:, index], predictions[:, index])",
                      "    fit = r2_score(targets[:, index], predictions[:, index])",
                      '    print(f"{name}: MAE {error:.4f}, R² {fit:.4f}")']
    return "\n".join(lines) + "\n"


def headline(source: RunSource) -> tuple[str, float] | None:
    """The run's own test score (evaluation.json), to quote beside the code."""
    key = source.task.headline
    value = source.evaluation.get(key)
    if value is None and isinstance(source.evaluation.get("metrics"), dict):
        value = source.evaluation["metrics"].get(key)
    return (key, float(value)) if isinstance(value, (int, float)) else None

