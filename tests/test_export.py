"""kerastui export: every preset, task and data form exported and run without kerastui.

The heavy test makes seven tiny runs in one child process (tests.export_runs), exports each as a
script, a notebook and a submission here (no Keras in this process), then runs them all in ONE
isolated child where kerastui cannot be imported: each script reaches its run's test score and
each submission's predictions equal the run's saved model's on the raw test inputs.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from kerastui.cli import main
from kerastui.core import spec
from kerastui.core.export import ExportError, destination_problem, export, load_run_source
from kerastui.core.export.layer_code import KERAS_DEFAULTS, REQUIRED, keras_code
from kerastui.core.layers import LAYERS, LayerSpec
from tests.export_runs import RUNS, make_runs, write_data

SCORE = re.compile(r"^(test accuracy|ROC AUC|macro F1|R²): (-?[0-9.]+)$", re.M)
HEADLINES = {"test accuracy": "test_accuracy", "ROC AUC": "roc_auc", "macro F1": "macro_f1", "R²": "r2"}

# Runs each exported script (a notebook: its code cells in order) and each submission, in a
# process where kerastui is not importable: site-packages on the path without their .pth files
# (the editable install is one), the checkout nowhere on it.
ISOLATED = r'''
import contextlib, importlib.util, inspect, io, json, runpy, sys
sys.path[:0] = SITE
try:
    import kerastui  # noqa: F401
    raise SystemExit("kerastui is importable in the isolated child")
except ImportError:
    pass
import keras
import numpy as np

jobs = json.loads(sys.argv[1])
results = {}
for name, job in jobs.items():
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        if job["notebook"]:
            cells = json.load(open(job["notebook"]))["cells"]
            namespace = {"__name__": "__main__"}
            for cell in cells:
                if cell["cell_type"] == "code":
                    exec(compile("".join(cell["source"]), job["notebook"], "exec"), namespace)
        else:
            runpy.run_path(job["script"], run_name="__main__")
    spec = importlib.util.spec_from_file_location(f"submission_{name}", job["submission"] + "/model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.Model()
    model.load()
    reference = np.load(job["reference"])
    predicted = np.asarray(model.predict(reference["x"]))
    results[name] = {"printed": printed.getvalue(), "shape_ok": predicted.shape == reference["outputs"].shape,
                     "difference": float(np.max(np.abs(predicted.astype("float64") - reference["outputs"])))}
# Keras's own defaults, for the table that decides which arguments are left out.
defaults = {}
for name, arguments in json.loads(sys.argv[2]).items():
    signature = inspect.signature(getattr(keras.layers, name).__init__)
    defaults[name] = {a: (None if signature.parameters[a].default is inspect.Parameter.empty else
                          repr(signature.parameters[a].default)) for a in arguments if a in signature.parameters}
print(json.dumps({"results": results, "defaults": defaults}))
'''


def _isolated_child(jobs: dict, defaults: dict) -> dict:
    import site

    code = ISOLATED.replace("SITE", repr(site.getsitepackages()))
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), "KERAS_BACKEND": "jax",
           "JAX_PLATFORMS": "cpu", "KERAS_HOME": os.environ.get("KERAS_HOME", "")}
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code, json.dumps(jobs), json.dumps(defaults)],
                            capture_output=True, text=True, env=env, timeout=600, cwd="/")
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_every_preset_task_and_data_form_runs_as_plain_keras(tmp_path):
    data = write_data(tmp_path / "data")
    runs = make_runs(tmp_path / "runs", data)
    out = tmp_path / "exported"
    out.mkdir()
    jobs = {}
    for name, run_dir in runs.items():
        script, book, folder = out / f"{name}.py", out / f"{name}.ipynb", out / f"{name}_submission"
        assert main(["export", str(run_dir), "--script", str(script), "--notebook", str(book),
                     "--submission", str(folder)]) == 0
        for text in (script.read_text(), book.read_text(), (folder / "model.py").read_text()):
            assert not re.search(r"^\s*(import|from) kerastui", text, re.M)
        assert sorted(p.name for p in folder.iterdir()) == ["model.py", "model.weights.h5", "preprocessing.json",
                                                             "requirements.txt"]
        assert (out / f"{name}_submission.zip").stat().st_size > 0
        nbformat.validate(nbformat.read(book, as_version=4))
        jobs[name] = {"script": str(script), "notebook": str(book) if name == "digits_mlp" else "",
                      "submission": str(folder), "reference": str(run_dir / "reference.npz")}
    files = [str(p) for p in out.glob("*.py")] + [str(p) for p in out.glob("*/model.py")]
    for path in files:
        compiled = subprocess.run([sys.executable, "-m", "py_compile", path], capture_output=True, text=True)
        assert compiled.returncode == 0, compiled.stderr
    linted = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--output-format", "concise", *files],
                            capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout
    arguments = {name: list(values) for name, values in KERAS_DEFAULTS.items() if values and name != "Bidirectional"}
    child = _isolated_child(jobs, arguments)
    for name, result in child["results"].items():
        evaluation = json.loads((runs[name] / "evaluation.json").read_text())
        (label, printed), = [m for m in SCORE.findall(result["printed"]) if m[0] in HEADLINES][:1] or [("", "")]
        assert label, (name, result["printed"][-800:])
        # Same data, seed, backend and layer order: the run repeats itself (a tolerance for noise).
        assert abs(float(printed) - evaluation[HEADLINES[label]]) <= 0.05, (name, label, printed)
        assert result["shape_ok"] and result["difference"] < 1e-4, (name, result)
    for name, arguments in child["defaults"].items():
        for argument, keras_default in arguments.items():
            ours = KERAS_DEFAULTS[name][argument]
            assert (keras_default is None) == (ours is REQUIRED), (name, argument, keras_default)
            if ours is not REQUIRED:
                theirs = ast.literal_eval(keras_default)
                # Keras writes 2-D sizes as pairs (strides=(1, 1)); kerastui's one number means both.
                if isinstance(theirs, tuple) and not isinstance(ours, tuple):
                    theirs = theirs[0] if len(set(theirs)) == 1 else theirs
                assert theirs == ours, (name, argument, theirs, ours)


# ---- fast: the layer code, the paths and the messages ---------------------------------------------


def test_layer_code_writes_keywords_and_leaves_keras_defaults_out():
    assert keras_code(LayerSpec("Dense", {"units": 10, "activation": "softmax"})) == \
        'layers.Dense(units=10, activation="softmax")'
    assert keras_code(LayerSpec("Dense", {"units": 1, "activation": "linear"})) == "layers.Dense(units=1)"
    assert keras_code(LayerSpec("Conv2D", {"filters": 8, "padding": "same"})) == \
        'layers.Conv2D(filters=8, kernel_size=3, padding="same", activation="relu")'
    assert keras_code(LayerSpec("MaxPooling2D")) == "layers.MaxPooling2D()"
    assert keras_code(LayerSpec("Dropout")) == "layers.Dropout(rate=0.5)"  # required by Keras: kept
    assert keras_code(LayerSpec("Reshape", {"target_shape": "200,2"})) == "layers.Reshape(target_shape=(200, 2))"
    assert keras_code(LayerSpec("Bidirectional", {"layer": "GRU", "units": 8, "merge_mode": "sum"})) == \
        'layers.Bidirectional(layers.GRU(units=8), merge_mode="sum")'
    assert keras_code(LayerSpec("ResidualBlock", {"filters": 64, "strides": 2})) == \
        "residual_block(x.shape[1:], filters=64, strides=2)"
    assert set(KERAS_DEFAULTS) | {"ResidualBlock"} == set(LAYERS)  # every type knows its code


def _config_only_run(tmp_path: Path, **changes) -> Path:
    run_dir = tmp_path / "run"
    spec.save(spec.Experiment(**changes), run_dir / "config.toml")
    return run_dir


@pytest.mark.parametrize("what", ["fifo", "folder", "no_parent", "wrong_suffix", "exists"])
def test_a_bad_destination_is_refused_before_anything_is_read(tmp_path, capsys, what):
    run_dir = _config_only_run(tmp_path)
    target = {"fifo": tmp_path / "pipe.py", "folder": tmp_path, "no_parent": tmp_path / "nowhere" / "x.py",
              "wrong_suffix": tmp_path / "x.txt", "exists": tmp_path / "old.py"}[what]
    if what == "fifo":
        os.mkfifo(target)
    if what == "exists":
        target.write_text("keep me\n")
    assert main(["export", str(run_dir), "--script", str(target)]) == 2
    message = capsys.readouterr().err
    assert {"fifo": "FIFO", "folder": "is a folder", "no_parent": "no folder", "wrong_suffix": ".py file",
            "exists": "--force"}[what] in message
    assert "Traceback" not in message
    if what == "exists":
        assert target.read_text() == "keep me\n"


def test_missing_run_nothing_asked_and_unwritable_folder_exit_2(tmp_path, capsys):
    assert main(["export", str(tmp_path / "no-such-run"), "--script", str(tmp_path / "x.py"),
                 "--runs-dir", str(tmp_path)]) == 2
    assert "no run" in capsys.readouterr().err
    run_dir = _config_only_run(tmp_path)
    assert main(["export", str(run_dir)]) == 2
    assert "--script" in capsys.readouterr().err
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who may write anywhere (root)")
        assert main(["export", str(run_dir), "--script", str(locked / "x.py")]) == 2
        assert "cannot be written" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_a_submission_needs_the_trained_model(tmp_path, capsys):
    run_dir = _config_only_run(tmp_path)
    assert main(["export", str(run_dir), "--submission", str(tmp_path / "entry")]) == 2
    assert "no model.keras" in capsys.readouterr().err
    assert not (tmp_path / "entry").exists()


def test_a_script_needs_no_model_and_says_where_the_data_came_from(tmp_path):
    run_dir = _config_only_run(tmp_path, dataset="iris", layers=(LayerSpec("Dense", {"units": 3, "activation": "softmax"}),),
                               fit=spec.FitSettings(epochs=3, class_weight="balanced", early_stopping_patience=2))
    [written] = export(load_run_source(run_dir), "script", tmp_path / "iris.py")
    text = written.read_text()
    assert "load_iris()" in text and "StandardScaler" not in text and "MEAN = x_train.mean(axis=(0,)" in text
    assert 'compute_class_weight("balanced"' in text
    assert 'keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, mode="min", restore_best_weights=True)' in text
    assert destination_problem(written, "script") and not destination_problem(written, "script", overwrite=True)


def test_data_it_cannot_write_is_named(tmp_path):
    folder = tmp_path / "idx"
    folder.mkdir()
    run_dir = _config_only_run(tmp_path, dataset=str(folder))
    with pytest.raises(ExportError, match="cannot be loaded|IDX"):
        export(load_run_source(run_dir), "script", tmp_path / "x.py")
    assert not (tmp_path / "x.py").exists()


def test_a_reference_table_entry_per_keras_argument_name():
    for name, layer_type in LAYERS.items():
        if name in ("ResidualBlock", "Bidirectional"):
            continue
        assert set(layer_type.params) <= set(KERAS_DEFAULTS[name]), name
    assert np.isclose(KERAS_DEFAULTS["LayerNormalization"]["epsilon"], 0.001)
    assert sorted(RUNS) == sorted(RUNS)  # the runs module imports cheaply (no Keras here)
