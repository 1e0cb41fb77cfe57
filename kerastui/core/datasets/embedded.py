"""The datasets shipped inside scikit-learn: nothing to download, never imports TensorFlow."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kerastui.core.datasets.base import (
    IMAGE,
    TABULAR,
    Dataset,
    DatasetInfo,
    check_test_fraction,
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
    class_names: tuple[str, ...]
    total: int
    loader: str  # the sklearn.datasets function


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
            ("malignant", "benign"),
            569,
            "load_breast_cancer",
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
    )


def load_embedded(name: str, *, seed: int, test_fraction: float) -> Dataset:
    import sklearn.datasets

    check_test_fraction(test_fraction)
    spec = EMBEDDED_SETS[name]
    bunch = getattr(sklearn.datasets, spec.loader)()
    y = bunch.target.astype(np.int64)
    class_names = tuple(str(n) for n in bunch.target_names)
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
            class_names=class_names,
            title=spec.title,
            feature_names=tuple(str(n) for n in bunch.feature_names),
        )
    # Digits: 8x8 grey levels 0..16, kept as images so a CNN can use them.
    images = (bunch.images / 16.0).astype(np.float32)[..., np.newaxis]
    x_train, y_train, x_test, y_test = held_out_split(
        images, y, seed=seed, test_fraction=test_fraction
    )
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=class_names,
        input_shape=spec.input_shape,
        kind=IMAGE,
        source=EMBEDDED_SOURCE,
        title=spec.title,
    )
