"""Lazy, configured import of Keras.

Importing Keras with TensorFlow costs ~5 s and ~700 MB, so nothing in kerastui imports it at module
level; every function that needs it calls `import_keras()`. The backend (tensorflow, jax, torch)
must be chosen before the first import, through KERAS_BACKEND.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


class BackendError(RuntimeError):
    """The requested Keras backend cannot be used in this process."""


def installed_backends() -> dict[str, bool]:
    """Which Keras backends are importable here, without importing them."""
    return {name: importlib.util.find_spec(module) is not None for name, module in BACKEND_MODULES.items()}


def select_backend(backend: str | None) -> None:
    """Choose the Keras backend for this process; only possible before keras is imported."""
    if backend is None:
        return
    if backend not in BACKEND_MODULES:
        raise BackendError(f"unknown backend {backend!r}; choose one of {', '.join(BACKEND_MODULES)}")
    if "keras" in sys.modules:
        current = sys.modules["keras"].backend.backend()
        if current != backend:
            raise BackendError(
                f"Keras is already loaded with the {current} backend in this process; "
                f"{backend} needs a new process (run headless or restart kerastui with KERAS_BACKEND={backend})"
            )
        return
    if not installed_backends()[backend]:
        raise BackendError(f"the {backend} backend is not installed: pip install 'kerastui[{backend}]'")
    os.environ["KERAS_BACKEND"] = backend


def import_keras(backend: str | None = None) -> ModuleType:
    """Import and return keras, quietly, with the requested backend."""
    select_backend(backend)
    # TensorFlow's C++ start-up chatter would otherwise spill over the terminal UI.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras

    return keras


def configured_backend() -> str:
    """The backend Keras would pick in this environment (KERAS_BACKEND, else keras.json, else
    tensorflow), read as Keras reads it but without importing it."""
    chosen = os.environ.get("KERAS_BACKEND", "").strip()
    if chosen:
        return chosen
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    try:
        return str(json.loads((home / "keras.json").read_text()).get("backend") or "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"
