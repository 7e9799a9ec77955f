"""The one boundary where asyncpg and network errors become `StoreError`, shared by the engine and its migrations."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import asyncpg

from xhooks.errors import StoreError

__all__ = ["FOREIGN_ERRORS", "mapped"]

FOREIGN_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,
    TimeoutError,
)
"""What asyncpg and the network raise; each becomes `StoreError` at the store's boundary."""


@contextlib.contextmanager
def mapped(what: str) -> Iterator[None]:
    """Translate asyncpg and network errors into `StoreError`, keeping the cause."""
    try:
        yield
    except FOREIGN_ERRORS as exc:
        raise StoreError(f"{what}: {type(exc).__name__}: {exc}".rstrip(": ")) from exc
