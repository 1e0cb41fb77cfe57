"""The layers of the package, checked by reading its source (AST), not by remembering them:
core imports neither the CLI nor the UI, and the UI does not reach into the CLI.

Every import counts: at the top, inside functions, under TYPE_CHECKING. The entry points at the
package's top (kerastui/__main__.py, warm_trainer.py) sit above all three and may use any.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kerastui

PACKAGE = Path(kerastui.__file__).parent
# kerastui.tui modules may import these CLI modules: plain rich/plotext drawing shared by
# `kerastui data` and the data tab (no argparse, no Textual).
TUI_MAY_USE_FROM_CLI = {"kerastui.cli.data_drawing"}


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "kerastui" or name.startswith("kerastui.")}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def violations(layer: str, forbidden: tuple[str, ...], allowed: set[str] = frozenset()) -> list[str]:
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in sorted(imports_of(path)):
            if name in allowed or any(name.startswith(f"{a}.") for a in allowed):
                continue
            if any(name == f or name.startswith(f"{f}.") for f in forbidden):
                found.append(f"{module_name(path)} imports {name}")
    return found


def test_core_imports_neither_cli_nor_tui_nor_the_entry_points():
    assert (PACKAGE / "core" / "spec.py").is_file()  # the walk looks where the code is
    forbidden = ("kerastui.cli", "kerastui.tui", "kerastui.__main__", "kerastui.warm_trainer")
    assert violations("core", forbidden) == []


def test_tui_does_not_import_the_cli():
    assert violations("tui", ("kerastui.cli", "kerastui.__main__", "kerastui.warm_trainer"),
                      TUI_MAY_USE_FROM_CLI) == []


def test_the_check_sees_imports_hidden_in_functions(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from kerastui.cli import main\n    import kerastui.tui.app\n")
    assert imports_of(source) >= {"kerastui.cli", "kerastui.cli.main", "kerastui.tui.app"}
