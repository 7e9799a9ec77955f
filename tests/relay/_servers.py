"""Private Redis and NATS servers for the fault tests, on free ports of 127.0.0.1, killed and started again at will.

The shared servers of the machine are never stopped: a test that needs an outage starts its own. Both keep what
they acknowledged across a kill (Redis: an append-only file written before each reply; NATS: JetStream's file
store), so "nothing lost" can be checked after the restart.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support import free_port


class PrivateServer:
    """A server process on `port`, started by `start()` and killed (SIGKILL, no goodbye) by `kill()`."""

    def __init__(self, args: list[str], port: int, scheme: str) -> None:
        self.args = args
        self.port = port
        self.url = f"{scheme}://127.0.0.1:{port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60  # a hang guard; the server is usually up in milliseconds
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.args[0]} did not start on port {self.port}")
            time.sleep(0.02)

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(30)


@contextlib.contextmanager
def running(server: PrivateServer) -> Iterator[PrivateServer]:
    server.start()
    try:
        yield server
    finally:
        server.kill()


def private_redis(data: Path) -> PrivateServer:
    port = free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(data)]
    args += ["--appendonly", "yes", "--appendfsync", "always"]  # what it acknowledged survives SIGKILL
    return PrivateServer(args, port, "redis")


def private_nats(data: Path) -> PrivateServer:
    port = free_port()
    return PrivateServer(["nats-server", "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(data)], port, "nats")
