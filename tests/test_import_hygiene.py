"""The core stays pure and start-up stays fast because a test fails otherwise.

Each check runs in a fresh interpreter, since this test process may already have Keras loaded.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import kerastui.core

HEAVY = ("tensorflow", "keras", "jax", "torch")


def loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def core_modules() -> list[str]:
    return sorted(f"kerastui.core.{m.name}" for m in pkgutil.iter_modules(kerastui.core.__path__))


def test_core_imports_neither_textual_nor_keras():
    modules = core_modules()
    assert "kerastui.core.spec" in modules and "kerastui.core.events" in modules
    loaded = loaded_after("\n".join(f"import {m}" for m in modules))
    assert not loaded & {"textual", *HEAVY}, loaded & {"textual", *HEAVY}


def test_cli_help_does_not_import_keras():
    loaded = loaded_after(
        "import contextlib, io\nfrom kerastui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['--help'])\n    except SystemExit:\n        pass"
    )
    assert not loaded & set(HEAVY)


def test_tui_app_module_does_not_import_keras():
    loaded = loaded_after("import kerastui.tui.app")
    assert "textual" in loaded
    assert not loaded & set(HEAVY)
