"""Each package's `__all__` lists exactly its public names (the httpx guard), and the top level offers what
users write first without importing the rest."""

from __future__ import annotations

import ast
import importlib
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

import xhooks
import xhooks.client
from tests.support import ROOT
from xhooks.client.errors import REASONS
from xhooks.protocol import events

PACKAGES = [
    "xhooks",
    "xhooks.client",
    "xhooks.dashboard",
    "xhooks.dispatch",
    "xhooks.emulator",
    "xhooks.errors",
    "xhooks.protocol",
    "xhooks.protocol.events",
    "xhooks.receiver",
    "xhooks.receiver.adapters",
    "xhooks.relay",
    "xhooks.store",
    "xhooks.stream",
    "xhooks.testing",
    "xhooks.watch",
]


def _public(module: ModuleType) -> set[str]:
    """Public names, lazy ones included (`dir` and `getattr` see them); submodules are not exports.

    Names that are not identifiers are left out: pytest's assertion rewriting puts `@py_builtins` and
    `@pytest_ar` into every module it rewrites, and pytest 9.2 rewrites every module of a distribution that
    provides a plugin (ours: `xhooks.testing`), editable installs included."""
    return {
        attr
        for attr in dir(module)
        if attr.isidentifier()
        and not attr.startswith("_")
        and not getattr(getattr(module, attr), "__file__", None)
        and attr not in ("annotations",)
    }


@pytest.mark.parametrize("name", PACKAGES)
def test_all_lists_the_public_names(name: str) -> None:
    module = importlib.import_module(name)
    assert set(module.__all__) - {"__version__"} == _public(module)
    assert list(module.__all__) == sorted(module.__all__, key=lambda name: (not name.isupper(), name))  # RUF022


_GUARD = "typing.TYPE_CHECKING"


def _type_checking_imports() -> dict[str, str]:
    """{name: module} of the imports that type checkers read in `xhooks/__init__.py`."""
    tree = ast.parse(Path(xhooks.__file__).read_text())
    (block,) = [node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == _GUARD]
    imports = [node for node in block.body if isinstance(node, ast.ImportFrom)]
    return {alias.name: node.module or "" for node in imports for alias in node.names}


def test_the_top_level_exports_what_users_write_first() -> None:
    models = {
        name
        for name in events.__all__
        if isinstance(model := getattr(events, name), type) and issubclass(model, events.Event)
    }
    assert len(models) > 40
    first = {"XHooks", "Context", "XClient", "AsyncXClient", "Credentials", "__version__"}
    assert first | models <= set(xhooks.__all__)


def test_type_checkers_and_the_runtime_see_the_same_top_level_names() -> None:
    imports = _type_checking_imports()
    assert set(imports) == set(xhooks.__all__) - {"__version__"}
    for name, module in imports.items():
        assert getattr(xhooks, name) is getattr(importlib.import_module(module), name), name


def test_xhooks_serve_is_the_function_the_command_calls() -> None:
    from xhooks.cli import serve as command

    assert xhooks.serve is vars(command)["serve"]
    assert xhooks.ProcessConfig is vars(command)["ProcessConfig"]


def test_an_unknown_top_level_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="XHook"):
        xhooks.XHook  # type: ignore[attr-defined]  # noqa: B018


def test_import_xhooks_loads_nothing_heavy_and_needs_no_extra() -> None:
    """`import xhooks` (and so the CLI) loads no server, client or model; every export works without the
    optional extras (flask, django, fastapi, postgres)."""
    code = textwrap.dedent(
        """
        import importlib.abc, sys

        class WithoutExtras(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in {"flask", "django", "fastapi", "starlette", "asyncpg"}:
                    raise ModuleNotFoundError(name)
                return None

        sys.meta_path.insert(0, WithoutExtras())
        import xhooks
        print([name for name in ("httpx", "uvicorn", "xhooks.client", "xhooks.protocol.events") if name in sys.modules])
        print(all(getattr(xhooks, name) is not None for name in xhooks.__all__))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "True"]


def test_the_client_errors_the_readme_names_import_from_xhooks_client() -> None:
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"`([A-Z]\w*(?:Failed|Invalid|Exceeded|Error|NotFound))`", readme))
    assert {"CrcValidationFailed", "DuplicateUrlFailed", "WebhookIdInvalid", "XApiError"} <= named
    assert "from `xhooks.client`" in readme
    assert named | set(REASONS) | {"Unauthorized", "Forbidden", "RateLimited"} <= set(xhooks.client.__all__)
