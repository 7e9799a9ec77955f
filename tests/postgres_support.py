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
import tempfile
import threading
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


# -- a server of the test's own (outage tests) -----------------------------------------------------------------


def _binaries() -> Path | None:
    """The directory of Debian's newest PostgreSQL server binaries (`initdb`, `pg_ctl`), if any."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def private_server_available() -> bool:
    """True when a test can run a PostgreSQL server of its own (as root, through the `postgres` user)."""
    if _binaries() is None:
        return False
    return os.geteuid() != 0 or shutil.which("runuser") is not None


class PrivateServer:
    """A PostgreSQL server of the test's own: a fresh cluster in a temporary directory, on a free port of
    127.0.0.1, that the test may stop and start at will. The shared server on 5432 is never touched.

    ```python
    with PrivateServer() as server:
        server.stop()   # an outage
        server.start()  # and back
    ```
    """

    def __init__(self) -> None:
        from tests.support import free_port

        binaries = _binaries()
        assert binaries is not None, "no PostgreSQL server binaries (Debian's postgresql package)"
        self.binaries = binaries
        self.port = free_port()
        self.data = Path(tempfile.mkdtemp(prefix="xhooks-pg-"))
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.binaries / tool), *args]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def __enter__(self) -> PrivateServer:
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data / "db"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self.stop()
        shutil.rmtree(self.data, ignore_errors=True)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data / "db"),
            "-o",
            options,
            "-l",
            str(self.data / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        """Stop the server at once (`-m fast`: open connections are cut, as in a crash of the database host)."""
        self._run("pg_ctl", "-D", str(self.data / "db"), "-m", "fast", "-w", "-t", "60", "stop")
