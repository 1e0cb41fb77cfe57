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


def _import_graph() -> dict[str, set[str]]:
    """Which kerastui modules each kerastui module imports, anywhere in it (top level, inside
    functions, under TYPE_CHECKING): a circle is one whichever way it is hidden."""
    import ast
    from pathlib import Path

    root = Path(kerastui.core.__file__).parents[1]
    modules = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kerastui"):
                for alias in node.names:  # `from kerastui.core import spec` imports the module spec
                    found.add(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name.startswith("kerastui"))
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_no_module_imports_itself_through_others():
    graph = _import_graph()
    assert {"kerastui.core.spec", "kerastui.tui.app"} <= graph.keys()
    circles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            module, path = stack.pop()
            for target in graph[module]:
                if target == start:
                    circles.append(" -> ".join([*path, start]))
                elif target not in seen:
                    seen.add(target)
                    stack.append((target, [*path, target]))
    assert circles == [], "\n".join(sorted(set(circles)))
