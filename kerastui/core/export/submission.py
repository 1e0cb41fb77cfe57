"""A challenge submission (the Codabench form): a folder with model.py (a `Model` class: load()
reads the weights beside it, predict(X) takes raw samples and returns the task's output), the
run's weights, its preprocessing statistics, requirements.txt, and a zip of the folder.

The weights are the run's own (model.weights.h5, taken out of model.keras without loading
Keras); the model is built by the same code as the script's, so they load into it unchanged.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from kerastui.core.export.data_code import code
from kerastui.core.export.layer_code import RESIDUAL_BLOCK_CODE, literal, needs_functional
from kerastui.core.export.source import ExportError
from kerastui.core.export.steps import Plan, import_lines, model_code, prepare_code

WEIGHTS_FILE = "model.weights.h5"
PREPROCESSING_FILE = "preprocessing.json"
FILES = ("model.py", WEIGHTS_FILE, PREPROCESSING_FILE, "requirements.txt")


def run_weights(model_file: Path) -> bytes:
    """The weights inside a .keras file (a zip holding config.json and model.weights.h5)."""
    if not model_file.is_file():
        raise ExportError(f"{model_file.parent}: no {model_file.name} (the run ended before a model was saved); "
                          "a submission needs the trained weights")
    try:
        with zipfile.ZipFile(model_file) as archive:
            return archive.read(WEIGHTS_FILE)
    except (OSError, KeyError, zipfile.BadZipFile) as error:
        raise ExportError(f"{model_file}: not a readable Keras model file ({error})") from None


def target_units(model_file: Path) -> tuple[list[float], list[float]] | None:
    """A regression model's last fixed layer (standard units to the targets'): (mean, deviation)."""
    try:
        with zipfile.ZipFile(model_file) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    for layer in config.get("config", {}).get("layers", []):
        if layer.get("config", {}).get("name") == "target_units":
            inner = layer["config"]
            scale, offset = inner.get("scale"), inner.get("offset")
            as_list = (lambda v: [float(x) for x in v] if isinstance(v, list) else [float(v)])
            return as_list(offset), as_list(scale)
    return None


def _output_code(plan: Plan) -> tuple[str, str]:
    """(what predict returns in words, the code turning the model's outputs into it)."""
    task = plan.source.task.name
    logits = bool(plan.experiment.compile.from_logits)
    squash = "outputs = 1 / (1 + np.exp(-outputs))  # the last layer gives logits\n        " if logits else ""
    if task == "multiclass":
        return "the class number of each sample (0..K-1, CLASS_NAMES names them)", "return outputs.argmax(axis=1)"
    if task == "binary":
        return "the positive class's score of each sample (0..1)", squash + "return outputs.reshape(len(outputs))"
    if task == "multilabel":
        return "a score (0..1) per sample and label, shape (N, labels)", squash + "return outputs"
    if len(plan.source.dataset.class_names) == 1:
        return "the predicted value of each sample, in the target's units", "return outputs.reshape(len(outputs))"
    return "the predicted values, shape (N, targets), in the targets' units", "return outputs"


def model_py(plan: Plan) -> str:
    source, data = plan.source, plan.data
    experiment = plan.experiment
    prep = data.preprocessing
    rank = len(source.dataset.input_shape)
    returns, output = _output_code(plan)
    constants = ['HERE = Path(__file__).resolve().parent',
                 f'PREPROCESSING = json.loads((HERE / "{PREPROCESSING_FILE}").read_text())']
    if prep.standardize == "per_feature" and prep.dtype == "float32":
        constants += ['MEAN = np.array(PREPROCESSING["mean"], dtype="float32")',
                      'STD = np.array(PREPROCESSING["deviation"], dtype="float32")']
    if source.task.name == "regression":
        constants += ['TARGET_MEAN = np.array(PREPROCESSING["targets"]["mean"])',
                      'TARGET_STD = np.array(PREPROCESSING["targets"]["deviation"])']
    if source.task.name in ("multiclass", "binary"):
        constants.append(f"CLASS_NAMES = {literal(list(source.dataset.class_names))}")
    elif source.task.name == "multilabel":
        constants.append(f"LABEL_NAMES = {literal(list(source.dataset.class_names))}")
    built = model_code(source, saved_targets=True).replace(RESIDUAL_BLOCK_CODE, "").lstrip("\n")
    parts = [
        f'"""kerastui run {source.run_dir.name} ({experiment.name}) as a challenge submission.\n\n'
        "    model = Model()\n    model.load()\n    predictions = model.predict(X)\n\n"
        f"X: {data.raw_input}.\npredict returns {returns}.\n"
        '"""\n\n' + "{imports}",
        "\n".join(constants) + "\n",
    ]
    if data.helpers:
        parts.append(data.helpers)
    if needs_functional(experiment.layers):
        parts.append(RESIDUAL_BLOCK_CODE)
    parts.append(prepare_code(prep, rank, saved=True, apply=False).replace(
        "def prepare(x):\n", 'def prepare(x):\n    """Raw samples as the model reads them (the run\'s preprocessing)."""\n'))
    parts.append("def build_model():\n" + "".join(f"    {line}\n" if line else "\n" for line in built.splitlines())
                 + "    return model\n")
    parts.append(code(f'''
        class Model:
            """The trained model: load() reads the weights beside this file; predict(X) scores raw samples."""

            def __init__(self):
                self.model = None

            def load(self):
                self.model = build_model()
                self.model.load_weights(HERE / "{WEIGHTS_FILE}")
                return self

            def predict(self, X):
                if self.model is None:
                    self.load()
                outputs = self.model.predict(prepare(np.asarray(X)), batch_size=256, verbose=0)
                {output}
        '''))
    body = "\n".join(parts[1:])
    imports = import_lines(("import json", "import os", "from pathlib import Path"),
                           ("import keras", "import numpy as np", *data.helper_imports, "from keras import layers"),
                           experiment.backend, body)
    parts[0] = parts[0].replace("{imports}", "\n".join(imports) + "\n")
    # One blank line after the imports (as isort leaves it), two between the rest.
    return parts[0] + "\n" + "\n\n".join(part.rstrip("\n") + "\n" for part in parts[1:])


def preprocessing_data(plan: Plan) -> dict[str, Any]:
    prep = plan.data.preprocessing
    if prep.standardize == "per_feature" and not prep.mean:
        if plan.data.statistics is None:
            raise ExportError(f"{plan.source.run_dir}: its preprocessing statistics are not saved and cannot be "
                              "computed here; train the run again to save them")
        prep = plan.data.statistics()
    data = prep.to_dict()
    if plan.source.task.name == "regression":
        units = target_units(plan.source.model_file)
        if units is None:
            raise ExportError(f"{plan.source.model_file}: a regression model without its target_units layer; "
                              "it was not saved by this kerastui, so its outputs cannot be put in the targets' units")
        data["targets"] = {"mean": units[0], "deviation": units[1]}
    return data


def requirements(plan: Plan) -> str:
    from importlib.metadata import PackageNotFoundError, version

    def at_least(name: str) -> str:
        try:
            return f"{name}>={'.'.join(version(name).split('.')[:2])}"
        except PackageNotFoundError:
            return name

    names = ["keras", "numpy", {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[plan.experiment.backend]]
    if plan.data.helper_imports:
        names.append("pillow")
    return "".join(at_least(name) + "\n" for name in names)


def submission_files(plan: Plan) -> dict[str, bytes]:
    """Every file of the submission by name (model.py, weights, statistics, requirements)."""
    return {
        "model.py": model_py(plan).encode("utf-8"),
        WEIGHTS_FILE: run_weights(plan.source.model_file),
        PREPROCESSING_FILE: (json.dumps(preprocessing_data(plan), indent=1) + "\n").encode("utf-8"),
        "requirements.txt": requirements(plan).encode("utf-8"),
    }


def zip_bytes(files: dict[str, bytes]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()
