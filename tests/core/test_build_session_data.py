"""The build session with a file's [data] table: loads carry it, a changed field loads again and
fits the layers to the data once it has loaded, and a failed load is not repeated at every edit."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from kerastui.core.build_session import BuildSession
from kerastui.core.data import load_dataset
from kerastui.core.datasets.settings import DataSettings
from kerastui.core.spec import preset_experiment


def write_keyed(path, classes: int = 3):
    """An HDF5 file whose keys are no default names: "signals" (N, 2, 16) and "flag" (N,)."""
    import h5py

    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as handle:
        handle["signals"] = rng.normal(size=(60, 2, 16)).astype(np.float32)
        handle["flag"] = np.arange(60) % classes
    return path


def load(session: BuildSession, request):
    return load_dataset(request.name, seed=request.seed, settings=request.settings)


def test_a_data_field_loads_again_with_it_and_the_layers_follow(tmp_path):
    path = write_keyed(tmp_path / "keyed.h5")
    session = BuildSession(preset_experiment("mlp", "digits", (8, 8, 1), 10))
    first = session.dataset_to_load()
    assert first.settings == DataSettings() and not first.adapt
    session.dataset_loaded(first, load_dataset("digits", seed=first.seed))

    # Another file: the old data's shape no longer describes it; its keys are still to be picked.
    session.edit(replace(session.experiment, dataset=str(path), data=DataSettings()))
    assert session.dataset_info is None
    request = session.dataset_to_load()
    assert request.adapt and request.settings == DataSettings()
    session.dataset_failed(request, "which array holds the inputs?")
    assert session.dataset_to_load() is None  # not again at the next edit: its error would be notified again
    session.edit(replace(session.experiment, fit=replace(session.experiment.fit, epochs=3)))
    assert session.dataset_to_load() is None

    session.edit(replace(session.experiment, data=DataSettings(x="signals", y="flag", axes=(0, 2, 1))))
    request = session.dataset_to_load()
    assert request.settings.x == "signals" and request.settings.axes == (0, 2, 1) and request.adapt
    assert session.dataset_loaded(request, load(session, request))
    assert session.dataset_info.input_shape == (16, 2)
    assert session.experiment.layers[-1].params["units"] == 3  # fitted to the file's three classes
    assert session.dataset_to_load() is None

    # The same table again loads nothing; another field loads again.
    session.edit(replace(session.experiment, data=replace(session.experiment.data, standardize="per_sample")))
    assert session.dataset_to_load().settings.standardize == "per_sample"


def test_a_failed_load_is_tried_again_once_the_file_has_changed(tmp_path):
    path = write_keyed(tmp_path / "keyed.h5")
    experiment = replace(preset_experiment("mlp", "digits", (8, 8, 1), 10), dataset=str(path),
                         data=DataSettings(x="nope", y="flag"))
    session = BuildSession(experiment)
    request = session.dataset_to_load()
    session.dataset_failed(request, "no array 'nope'")
    assert session.dataset_to_load() is None
    write_keyed(path, classes=2)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    again = session.dataset_to_load()
    assert again is not None and again.settings.x == "nope"
