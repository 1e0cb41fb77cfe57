"""Loading a run's saved model.keras, with a message that says what is wrong with a bad file.

Keras reports a truncated or corrupt .keras file as "File not found" for a file that exists;
this checks the archive first, so the user hears that the file is damaged.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any


class ModelFileError(Exception):
    """The model file cannot be loaded; the message names it and says why."""


def load_model_file(path: Path, keras: Any) -> Any:
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    try:
        valid = zipfile.is_zipfile(path)
    except OSError as error:
        raise ModelFileError(f"{path}: cannot be read: {error.strerror or error}") from None
    if not valid:
        size = path.stat().st_size
        raise ModelFileError(f"{path}: is damaged (truncated or corrupt: not a .keras archive, {size} bytes); "
                             "train the run again or restore the file")
    try:
        return keras.saving.load_model(str(path))
    except Exception as error:  # an archive Keras cannot use (another version, missing parts)
        raise ModelFileError(f"{path}: cannot be loaded by Keras {keras.__version__}: "
                             f"{type(error).__name__}: {error}") from None
