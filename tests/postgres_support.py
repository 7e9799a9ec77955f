"""Throw-away PostgreSQL databases for the tests, on the server at 127.0.0.1:5432 (user postgres, trust auth).

`database()` creates `xhooks_test_<random>` and drops it afterwards. `fresh_schema_url()` gives each store
contract test an empty schema inside one database per test process, dropped when the process exits.
`.ci/run` starts the server when it is not running; `XHOOKS_TEST_POSTGRES` points at another admin URL.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import asyncpg

ADMIN_URL = os.environ.get("XHOOKS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
_run_database: str | None = None
_guard = threading.Lock()


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run `coro` to the end on a fresh event loop in another thread (callers may be inside a running loop)."""
    result: list[Any] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # handed to the caller below
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    if failure:
        raise RuntimeError(f"PostgreSQL at {ADMIN_URL}: {failure[0]!r}; is it running?") from failure[0]
    if not result:
        raise RuntimeError(f"PostgreSQL at {ADMIN_URL} did not answer within 60 s")
    return result[0]


def url_of(name: str, **settings: str) -> str:
    base = ADMIN_URL.rsplit("/", 1)[0]
    query = "&".join(f"{key}={value}" for key, value in settings.items())
    return f"{base}/{name}" + (f"?{query}" if query else "")


async def _admin(*statements: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL, timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def create_database() -> str:
    name = f"xhooks_test_{secrets.token_hex(6)}"
    _run(_admin(f"CREATE DATABASE {name}"))
    return name


def drop_database(name: str) -> None:
    _run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@contextlib.contextmanager
def database() -> Iterator[str]:
    """A new, empty database for the duration of the block; yields its URL."""
    name = create_database()
    try:
        yield url_of(name)
    finally:
        drop_database(name)


def fresh_schema_url(label: str) -> str:
    """The URL of a new, empty schema (its tables stay inside it through `search_path`)."""
    global _run_database
    with _guard:
        if _run_database is None:
            _run_database = create_database()
            atexit.register(drop_database, _run_database)
        name = _run_database
    schema = f"t_{label.lower().replace('-', '_')[:40]}_{secrets.token_hex(4)}"
    schema = "".join(ch for ch in schema if ch.isalnum() or ch == "_")

    async def create() -> None:
        conn = await asyncpg.connect(url_of(name), timeout=10)
        try:
            await conn.execute(f"CREATE SCHEMA {schema}")
        finally:
            await conn.close()

    _run(create())
    return url_of(name, search_path=schema)


# -- stopping and starting the server (outage tests) ---------------------------------------------------------


def _cluster() -> list[str]:
    version = sorted(Path("/etc/postgresql").iterdir())[-1].name
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def server_available_for_outage() -> bool:
    """True when this process may stop and start the local cluster (the outage tests need to)."""
    return shutil.which("pg_ctlcluster") is not None and Path("/etc/postgresql").is_dir()


def stop_server() -> None:
    subprocess.run([*_cluster(), "stop", "-m", "fast"], check=True, capture_output=True, timeout=60)


def start_server() -> None:
    """Start the cluster if it is down and wait until it accepts connections."""
    subprocess.run([*_cluster(), "start"], check=False, capture_output=True, timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            _run(_admin("SELECT 1"))
            return
        time.sleep(0.2)
    raise RuntimeError("PostgreSQL did not come back within 30 s")
