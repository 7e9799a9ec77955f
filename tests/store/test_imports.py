"""The store's modules form no import cycle, and each one imports on its own in a fresh interpreter (issue 13)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import xhooks.store

PACKAGE = "xhooks.store"
FOLDER = Path(xhooks.store.__file__).parent
MODULES = sorted(f"{PACKAGE}.{path.stem}" for path in FOLDER.glob("*.py") if path.stem != "__init__")


def _file(module: str) -> Path:
    return FOLDER / "__init__.py" if module == PACKAGE else FOLDER / f"{module.rpartition('.')[2]}.py"


def _imported(module: str) -> set[str]:
    """The modules of the store that `module` imports anywhere in its text: at the top, in functions, when type
    checking. (Importing `xhooks.store.x` runs the package first; that edge is Python's, not a cycle of ours.)"""
    found: set[str] = set()
    for node in ast.walk(ast.parse(_file(module).read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*PACKAGE.split(".")[: len(PACKAGE.split(".")) - node.level + 1], base]).rstrip(".")
            submodules = {f"{base}.{alias.name}" for alias in node.names} & {*MODULES}
            found |= submodules or {base}
    return found & {PACKAGE, *MODULES}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of `graph` as the modules along it (first one repeated at the end), or []."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str]:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return []
        for target in sorted(graph[module]):
            if found := visit(target, [*path, module]):
                return found
        done.add(module)
        return []

    for module in sorted(graph):
        if found := visit(module, []):
            return found
    return []


def test_the_store_has_no_import_cycle() -> None:
    graph = {module: _imported(module) - {module} for module in [PACKAGE, *MODULES]}
    assert _cycle(graph) == []


def test_a_cycle_is_found_when_there_is_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


_IMPORT_EACH_ALONE = """
import importlib, sys
for module in sys.argv[1:]:
    for name in [name for name in sys.modules if name == "xhooks" or name.startswith("xhooks.")]:
        del sys.modules[name]
    importlib.import_module(module)
"""


def test_each_store_module_imports_alone() -> None:
    """Each module imported first, with no module of xhooks loaded before it (one interpreter, emptied each time)."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH_ALONE, *MODULES], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
