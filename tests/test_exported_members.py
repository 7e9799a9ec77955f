"""Each package's `__all__` lists exactly its public names (the httpx guard)."""

from __future__ import annotations

import importlib

import pytest

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
    "xhooks.store",
    "xhooks.watch",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_lists_the_public_names(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_") and not getattr(value, "__file__", None)  # submodules are not exports
        and attr not in ("annotations",)
    }
    assert set(module.__all__) - {"__version__"} == public
    assert list(module.__all__) == sorted(module.__all__, key=lambda name: (not name.isupper(), name))  # RUF022
