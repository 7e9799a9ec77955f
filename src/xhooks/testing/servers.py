"""A uvicorn server in a thread of its own, for tests: started before the block, stopped after it."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator, Sequence

import uvicorn

__all__ = ["in_thread"]

START_TIMEOUT = 60.0
"""A hang guard, not a wait: a loaded machine may take seconds to start a thread's server."""


@contextlib.contextmanager
def in_thread(server: uvicorn.Server, sockets: Sequence[socket.socket] | None = None) -> Iterator[str]:
    """Run `server` in a thread (uvicorn leaves the signals of a thread alone); yield its base URL once it
    listens; stop it with `should_exit` and wait for its shutdown (lifespan included).

    Bind to port 0, or pass `sockets` already listening: the kernel picks a free port atomically.

    Raises:
        RuntimeError: the server stopped, or did not start within `START_TIMEOUT` seconds.
    """
    thread = threading.Thread(target=server.run, args=(list(sockets) if sockets else None,), daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start; its error is in the log above")
        time.sleep(0.005)
    try:
        host, port = server.servers[0].sockets[0].getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT)
