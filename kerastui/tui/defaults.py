"""What the app uses when it is not given a collaborator: the design it opens with, the dataset
loader and the model previewer. Each imports its module on first use: numpy and scikit-learn
cost start-up time, and the first frame comes first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kerastui.core.spec import Experiment, preset_experiment

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.data import Dataset
    from kerastui.tui.host import ModelPreviewer


def load_dataset(name_or_path: str, **options: object) -> Dataset:
    """`kerastui.core.data.load_dataset`, imported on first use."""
    from kerastui.core.data import load_dataset as real_load_dataset

    return real_load_dataset(name_or_path, **options)


def default_experiment() -> Experiment:
    """The classic Keras MNIST MLP on the embedded digits: trainable offline in seconds."""
    # The MLP preset starts with Flatten, so the digits' shape (8, 8, 1) only matters for its 10 outputs.
    return preset_experiment("mlp", "digits", (8, 8, 1), 10)


def default_previewer() -> ModelPreviewer:
    # The summary from the layer registry: the UI process never imports a framework (issue 19).
    from kerastui.core.preview import RegistryPreviewer

    return RegistryPreviewer()
