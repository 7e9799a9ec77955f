"""Store engines chosen by name, as uvicorn chooses its protocols: the optional dependency is imported only
when its engine is used."""

from __future__ import annotations

import importlib
from pathlib import Path

from xhooks.errors import ConfigError
from xhooks.store.base import Store

__all__ = ["STORE_ENGINES", "engine_for", "open_store"]

STORE_ENGINES: dict[str, str] = {
    "sqlite": "xhooks.store.sqlite:SQLiteStore",
    "postgres": "xhooks.store.postgres:PostgresStore",
}


def engine_for(url: str) -> tuple[str, str]:
    """The engine name for `url` and what it opens: `("postgres", url)` or `("sqlite", path)`.

    Raises:
        ConfigError: the URL has a scheme no engine handles.
    """
    if url.startswith(("postgresql://", "postgres://")):
        return "postgres", url
    if url.startswith("sqlite:///"):
        return "sqlite", url.removeprefix("sqlite:///")
    if "://" in url:
        raise ConfigError(f"unknown database URL {url!r}; use a file path, sqlite:///PATH or postgresql://…")
    return "sqlite", url


def open_store(url: str | Path, *, durability: str = "disk") -> Store:
    """Build (not start) the store engine for `url`: a file path, `sqlite:///PATH` or `postgresql://…`.

    `durability` is `"disk"` (every commit flushed to disk: survives a power cut) or `"process"`
    (survives a killed process only; faster).

    Raises:
        ConfigError: unknown URL scheme or durability, or the engine's optional dependency is missing.
    """
    if durability not in ("disk", "process"):
        raise ConfigError(f"durability must be 'disk' or 'process', not {durability!r}")
    engine, target = engine_for(str(url))
    module_name, _, class_name = STORE_ENGINES[engine].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the {engine} store needs an extra: pip install 'xhooks[{engine}]'") from exc
    store: Store = getattr(module, class_name)(target, durability=durability)
    return store
