"""The store contract fixtures: one test body, every engine (the starlette `test_client_factory` idea).

Each engine factory returns a fresh, unstarted store; add an engine by adding a `pytest.param` to ENGINES.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.postgres_support import fresh_schema_url
from xhooks.store import Store
from xhooks.store.sqlite import SQLiteStore

EngineFactory = Callable[[Path], Store]


def _sqlite(tmp_path: Path) -> Store:
    return SQLiteStore(tmp_path / "contract.db")


def _postgres(tmp_path: Path) -> Store:
    from xhooks.store.postgres import PostgresStore

    return PostgresStore(fresh_schema_url(tmp_path.name))


ENGINES = [pytest.param(_sqlite, id="sqlite"), pytest.param(_postgres, id="postgres", marks=pytest.mark.postgres)]


def same_database(store: Store) -> Store:
    """Another, unstarted store of the same engine on the same database (another process, as far as it knows)."""
    if isinstance(store, SQLiteStore):
        return SQLiteStore(store.path)
    from xhooks.store.postgres import PostgresStore

    assert isinstance(store, PostgresStore)
    return PostgresStore(store.url)


@pytest.fixture(params=ENGINES)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> EngineFactory:
    factory: EngineFactory = request.param
    return factory


@pytest.fixture
async def store(make_store: EngineFactory, tmp_path: Path) -> AsyncIterator[Store]:
    engine = make_store(tmp_path)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.close()
