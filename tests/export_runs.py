"""Tiny finished runs of each preset, task and data form, for the export tests: made in one child
process (a Keras import once), each with the raw test inputs and the saved model's outputs on them
(reference.npz in the run directory), so a submission can be compared without kerastui."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.array_files import signals
from tests.image_files import class_folders

# name -> (preset, dataset (relative to the data folder, or a built-in), [data] table, task)
RUNS = {
    "digits_mlp": ("mlp", "digits", {}, ""),
    "digits_cnn": ("cnn", "digits", {}, ""),
    "signals_resnet": ("resnet1d", "strain.npz", {"x": "strain", "y": "flag", "axes": [0, 2, 1]}, ""),
    "houses_regression": ("regression_mlp", "houses.csv", {}, ""),
    "pictures_rgb_cnn": ("rgb_cnn", "pictures", {"image_size": [12, 12]}, ""),
    "reviews_lstm": ("text_lstm", "reviews.npz", {}, ""),
    "tags_multilabel": ("mlp", "tags.npz", {}, ""),
}


def write_data(folder: Path) -> Path:
    """The data files: signals in an npz under its own keys (channels first), a regression CSV, an
    image folder of colours, word-index reviews and a multi-label table."""
    folder.mkdir(parents=True, exist_ok=True)
    x, y = signals(samples=80, steps=24)
    np.savez(folder / "strain.npz", strain=x, flag=y)
    rng = np.random.default_rng(1)
    features = rng.normal(size=(150, 3))
    price = 3.0 * features[:, 0] - 2.0 * features[:, 1] + 0.1 * rng.normal(size=150) + 50
    with open(folder / "houses.csv", "w") as handle:
        handle.write("rooms,age,area,price\n")
        for row, value in zip(features, price):
            handle.write(",".join(f"{v:.5f}" for v in row) + f",{value:.5f}\n")
    class_folders(folder / "pictures", classes=("red", "green"), per_class=10, suffix=".png")
    words = rng.integers(3, 40, size=(120, 12))
    liked = (words == 7).any(axis=1) | (np.arange(120) % 2 == 0)
    words[liked, 0] = 7
    np.savez(folder / "reviews.npz", x_train=words[:90], y_train=liked[:90].astype(np.int64),
             x_test=words[90:], y_test=liked[90:].astype(np.int64))
    table = rng.normal(size=(160, 5)).astype(np.float32)
    tags = np.stack([table[:, 0] > 0, table[:, 1] > 0, table[:, 2] + table[:, 3] > 0], axis=1).astype(np.int64)
    np.savez(folder / "tags.npz", x_train=table[:120], y_train=tags[:120], x_test=table[120:], y_test=tags[120:])
    return folder


CHILD = r'''
import json, sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from kerastui.core.data import experiment_dataset, load_dataset
from kerastui.core.datasets.settings import settings_from_dict
from kerastui.core.pipeline import run_experiment
from kerastui.core.spec import preset_experiment

runs, data_folder, root = json.loads(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])


def raw_test_inputs(experiment, dataset):
    from kerastui.core.datasets.base import held_out_split
    from kerastui.core.datasets.keyed_arrays import is_streamed
    if is_streamed(dataset):
        return dataset.x_test.raw(np.arange(len(dataset.x_test)))
    if experiment.dataset == "digits":
        from sklearn.datasets import load_digits
        digits = load_digits()
        return held_out_split(digits.images, digits.target, seed=experiment.seed, test_fraction=0.2)[2]
    if experiment.dataset.endswith(".csv"):
        from kerastui.core.datasets.csv_file import encode_labels, read_csv_table
        table = read_csv_table(Path(experiment.dataset))
        (y,), _, _ = encode_labels([table])
        return held_out_split(table.features, y, seed=experiment.seed, test_fraction=0.2)[2]
    with np.load(experiment.dataset) as arrays:
        return arrays["x_test"]


made = {}
for name, (preset, dataset, table, task) in runs.items():
    path = dataset if (data_folder / dataset).exists() is False else str(data_folder / dataset)
    settings = settings_from_dict(table, [])
    data = load_dataset(path, task=task, settings=settings).for_task(task)
    experiment = preset_experiment(preset, path, data.input_shape, data.num_classes, data_task=data.task,
                                   vocabulary_size=data.vocabulary_size, backend="jax", task=task, data=settings)
    experiment = replace(experiment, name=name, fit=replace(experiment.fit, epochs=1, batch_size=16))
    outcome = run_experiment(experiment, experiment_dataset(experiment), runs_root=root, run_name=name)
    assert outcome.status == "finished", (name, outcome.reason)
    made[name] = str(outcome.run_dir)
    # The raw test inputs (as the data file holds them) and the saved model's task output on them.
    trained = experiment_dataset(experiment)
    raw = raw_test_inputs(experiment, trained)
    import keras
    from kerastui.core.data import run_dataset
    model = keras.saving.load_model(outcome.run_dir / "model.keras")
    outputs = model.predict(run_dataset(experiment, outcome.run_dir).x_test[:], verbose=0)
    task = experiment.task_for(trained.task).name
    if task == "multiclass":
        outputs = outputs.argmax(axis=1)
    elif task in ("binary",) or (task == "regression" and outputs.shape[1] == 1):
        outputs = outputs.reshape(len(outputs))
    np.savez(outcome.run_dir / "reference.npz", x=raw, outputs=outputs)
print(json.dumps(made))
print(json.dumps(made))
'''


def make_runs(root: Path, data_folder: Path, names: tuple[str, ...] = tuple(RUNS)) -> dict[str, Path]:
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", CHILD, json.dumps({n: RUNS[n] for n in names}), str(data_folder),
                             str(root)], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return {name: Path(path) for name, path in json.loads(result.stdout.strip().splitlines()[-1]).items()}
