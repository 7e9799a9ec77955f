"""Helpers shared by the test suite: real servers on 127.0.0.1, started and stopped deterministically."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn

from xhooks.store import SyncReader, open_reader
from xhooks.testing.servers import in_thread

_T = TypeVar("_T")

ROOT = Path(__file__).resolve().parents[1]
X_API = Path(__file__).resolve().parent / "fixtures" / "x-api"  # X's published examples and OpenAPI subset
EXAMPLES = X_API / "examples"
OPENAPI = X_API / "openapi-webhooks.json"
VECTORS = Path(__file__).resolve().parent / "vectors"


def documented_deliveries() -> list[Path]:
    """Every documented delivery body: the aaa/xaa/xchat/fs examples that are not API responses or CRC answers."""
    return sorted(
        path
        for path in EXAMPLES.glob("*.json")
        if path.name.split(".")[0] in ("aaa", "aaa-ent", "xaa", "xchat", "fs")
        and ".api." not in path.name
        and "crc-response" not in path.name
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_server(server: uvicorn.Server) -> contextlib.AbstractContextManager[str]:
    """Run a uvicorn server in a thread; yield its base URL once it listens; stop it with `should_exit` (the
    plugin users test with does the same: `xhooks.testing.servers.in_thread`).

    Bind to port 0 where possible: the kernel picks a free port atomically, so parallel runs cannot collide.
    """
    return in_thread(server)


@contextlib.contextmanager
def serve_app(app: Any, port: int = 0, **config: Any) -> Iterator[str]:
    """Run an ASGI app under uvicorn in a thread; yield its base URL once it accepts connections."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    with run_server(server) as url:
        yield url


def wait_ready(url: str, timeout: float = 60.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll `url` until it answers at all (any status), or fail with the process's output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise RuntimeError(f"process exited with {proc.returncode}: {out}")
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.02)
    raise RuntimeError(f"{url} did not come up in {timeout}s")


def read_store(db: str | Path, read: Callable[[SyncReader], _T]) -> _T:
    """One synchronous read of the store at `db` (opened, read, closed), also from inside a running event loop,
    where a `SyncReader` cannot run: it runs on a thread of its own and blocks the caller, as a sync read would.
    For test conditions that are polled synchronously."""

    def once() -> _T:
        with open_reader(db) as reader:
            return read(reader)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(once).result()


def xhooks_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "xhooks", *args]


@contextlib.contextmanager
def spawn(
    args: list[str], ready_url: str | None = None, env: dict[str, str] | None = None, cwd: str | Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a process (its output merged), wait for `ready_url`, and always reap it."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=full_env, cwd=cwd)
    try:
        if ready_url:
            wait_ready(ready_url, proc=proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout:
            proc.stdout.close()


def copy_tree(dest: Path) -> Path:
    """Copy every file git knows or would add (tracked, or untracked but not ignored) into `dest`."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing tells the repository's files from build leftovers")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not part of it
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest
