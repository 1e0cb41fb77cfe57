"""The datasets shipped inside scikit-learn: nothing to download, never imports TensorFlow.

Each set declares its task, so that a picker knows it without loading (a test checks that
kerastui.core.tasks.infer_task agrees):
  digits         image 8x8x1, multiclass (10 digits)
  iris, wine     tabular, multiclass (3 species / cultivars)
  breast_cancer  tabular (30 features), binary: 1 is malignant, the positive class a screening
                 test looks for (scikit-learn numbers it the other way: 0 malignant, 1 benign)
  diabetes       tabular (10 features), regression: disease progression a year on (25..346)
  linnerud       tabular (3 exercises: Chins, Situps, Jumps), regression of 3 body measurements
                 (Weight, Waist, Pulse)
Features are standardised with the training split's statistics; regression targets keep their
raw units, so MAE and RMSE read in the field's units (points of progression, pounds, beats).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kerastui.core.datasets.base import (
    IMAGE,
    TABULAR,
    Dataset,
    DatasetInfo,
    check_test_fraction,
    checked_targets,
    held_out_split,
    split_sizes,
    tabular_dataset,
)

EMBEDDED_SOURCE = "embedded (scikit-learn)"


@dataclass(frozen=True)
class EmbeddedSet:
    """What a picker shows about an embedded set without loading it (checked against sklearn by a test)."""

    name: str
    title: str
    kind: str
    input_shape: tuple[int, ...]
    class_names: tuple[str, ...]  # the outputs' names: classes, or regression targets
    total: int
    loader: str  # the sklearn.datasets function
    task: str = "multiclass"
    # Class numbers as kerastui numbers them, indexed by scikit-learn's (None: the same).
    relabel: tuple[int, ...] | None = None


EMBEDDED_SETS: dict[str, EmbeddedSet] = {
    s.name: s
    for s in (
        EmbeddedSet(
            "digits",
            "Digits (8x8 handwritten)",
            IMAGE,
            (8, 8, 1),
            tuple(str(i) for i in range(10)),
            1797,
            "load_digits",
        ),
        EmbeddedSet(
            "iris",
            "Iris flowers",
            TABULAR,
            (4,),
            ("setosa", "versicolor", "virginica"),
            150,
            "load_iris",
        ),
        EmbeddedSet(
            "wine",
            "Wine cultivars",
            TABULAR,
            (13,),
            ("class_0", "class_1", "class_2"),
            178,
            "load_wine",
        ),
        EmbeddedSet(
            "breast_cancer",
            "Breast cancer (Wisconsin)",
            TABULAR,
            (30,),
            ("benign", "malignant"),
            569,
            "load_breast_cancer",
            task="binary",
            relabel=(1, 0),  # scikit-learn's 0 (malignant) becomes 1, the positive class
        ),
        EmbeddedSet(
            "diabetes",
            "Diabetes progression",
            TABULAR,
            (10,),
            ("progression",),
            442,
            "load_diabetes",
            task="regression",
        ),
        EmbeddedSet(
            "linnerud",
            "Linnerud (exercise -> body)",
            TABULAR,
            (3,),
            ("Weight", "Waist", "Pulse"),
            20,
            "load_linnerud",
            task="regression",
        ),
    )
}


def embedded_info(name: str, test_fraction: float = 0.2) -> DatasetInfo:
    spec = EMBEDDED_SETS[name]
    train_size, test_size = split_sizes(spec.total, test_fraction)
    return DatasetInfo(
        name=name,
        title=spec.title,
        kind=spec.kind,
        input_shape=spec.input_shape,
        num_classes=len(spec.class_names),
        class_names=spec.class_names,
        train_size=train_size,
        test_size=test_size,
        source=EMBEDDED_SOURCE,
        available=True,
        task=spec.task,
    )


def embedded_targets(name: str, bunch: object) -> np.ndarray:
    """The set's targets as kerastui uses them: classes renumbered where `relabel` says, regression
    targets as float (raw units)."""
    spec = EMBEDDED_SETS[name]
    target = np.asarray(bunch.target)  # type: ignore[attr-defined]
    if spec.task == "regression":
        return target.astype(np.float64)
    y = target.astype(np.int64)
    if spec.relabel is not None:
        y = np.asarray(spec.relabel, dtype=np.int64)[y]
    return y


def load_embedded(name: str, *, seed: int, test_fraction: float) -> Dataset:
    import sklearn.datasets

    check_test_fraction(test_fraction)
    spec = EMBEDDED_SETS[name]
    bunch = getattr(sklearn.datasets, spec.loader)()
    y = embedded_targets(name, bunch)
    if spec.kind == TABULAR:
        x_train, y_train, x_test, y_test = held_out_split(
            bunch.data, y, seed=seed, test_fraction=test_fraction
        )
        return tabular_dataset(
            name,
            x_train,
            y_train,
            x_test,
            y_test,
            source=EMBEDDED_SOURCE,
            origin=name,
            class_names=spec.class_names,
            title=spec.title,
            feature_names=tuple(str(n) for n in bunch.feature_names),
            task=spec.task,
        )
    # Digits: 8x8 grey levels 0..16, kept as images so a CNN can use them.
    images = (bunch.images / 16.0).astype(np.float32)[..., np.newaxis]
    x_train, y_train, x_test, y_test = held_out_split(
        images, y, seed=seed, test_fraction=test_fraction
    )
    targets = checked_targets(name, x_train, y_train, x_test, y_test, names=spec.class_names, task=spec.task)
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=targets.y_train,
        x_test=x_test,
        y_test=targets.y_test,
        class_names=targets.names,
        input_shape=spec.input_shape,
        kind=IMAGE,
        source=EMBEDDED_SOURCE,
        title=spec.title,
        task=spec.task,
    )
