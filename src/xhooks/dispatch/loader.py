"""Find the user's `XHooks` from a `module:attribute` string, as uvicorn finds an app."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from xhooks.dispatch.registry import XHooks
from xhooks.errors import ConfigError

__all__ = ["load_hooks"]


def load_hooks(spec: str) -> XHooks:
    """Import `module:attribute` (the current directory is importable) and return the `XHooks` it names.

    Raises:
        ConfigError: the spec is malformed, the module or attribute is missing, or it is not an `XHooks`.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"--app must look like module:attribute (e.g. bot:hooks), not {spec!r}")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"cannot import {module_name!r} for --app ({exc}); run from its folder") from exc
    hooks = getattr(module, attribute, None)
    if not isinstance(hooks, XHooks):
        raise ConfigError(f"{spec} is not an XHooks instance; define `{attribute} = XHooks()` in {module_name}")
    return hooks
