"""Drive the ASGI `Receiver` with one request already read, from async code or from a synchronous framework.

Sync frameworks (Flask, Django) cannot await the store. `SyncReceiver` runs the store and the receiver on
a private event loop in a daemon thread; each request blocks only its own thread until the receiver has
answered, so a 200 still means the delivery is committed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from xhooks._types import Message, Scope
from xhooks.errors import StoreError
from xhooks.receiver.app import Receiver

__all__ = ["LifespanDriver", "Reply", "SyncReceiver", "call_receiver"]

_T = TypeVar("_T")
_HOP_BY_HOP = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive"})


@dataclass(frozen=True)
class Reply:
    """The receiver's answer, for the framework to send."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def framework_headers(self) -> list[tuple[str, str]]:
        """The headers a framework response may carry (WSGI forbids hop-by-hop ones; it sets the length itself)."""
        return [(name, value) for name, value in self.headers if name.lower() not in _HOP_BY_HOP]


def _scope(method: str, path: str, query_string: bytes, headers: Iterable[tuple[str, str]]) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8"),
        "root_path": "",
        "query_string": query_string,
        "headers": [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers],
        "client": None,
        "server": None,
    }


async def call_receiver(
    receiver: Receiver, method: str, path: str, query_string: bytes, headers: Iterable[tuple[str, str]], body: bytes
) -> Reply:
    """Run one request through `receiver` and collect its answer."""
    delivered = False
    status = 500
    reply_headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            reply_headers.extend((k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await receiver(_scope(method, path, query_string, headers), receive, send)
    return Reply(status, reply_headers, b"".join(chunks))


class LifespanDriver:
    """Run an ASGI app's lifespan from outside a server: the receiver opens its store and beats its heartbeat
    (span `up`, which the watcher reads) exactly as under `xhooks serve`."""

    def __init__(self, app: Receiver) -> None:
        self.app = app
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        """Raises `StoreError` when the app reports that startup failed."""
        self._task = asyncio.get_running_loop().create_task(
            self.app({"type": "lifespan", "asgi": {"version": "3.0"}}, self._inbox.get, self._outbox.put)
        )
        await self._inbox.put({"type": "lifespan.startup"})
        answer = await self._outbox.get()
        if answer["type"] != "lifespan.startup.complete":
            await self._task
            raise StoreError(str(answer.get("message", "the receiver could not start")))

    async def shutdown(self) -> None:
        if self._task is None:
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        await self._outbox.get()
        await self._task
        self._task = None


def read_limited(read: Callable[[int], bytes], declared: int | None, max_body: int) -> bytes:
    """Read a request body, but never more than `max_body + 1` bytes (the receiver then answers 413)."""
    if declared is not None and declared > max_body:
        return b""  # the receiver refuses it from the declared length alone; the body is never read
    limit = max_body + 1 if declared is None else declared
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = read(min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class SyncReceiver:
    """A `Receiver` callable from synchronous code; runs its lifespan (store, heartbeat) from now until `close()`.

    Raises:
        StoreError: the store could not be started.
    """

    def __init__(self, receiver: Receiver, timeout: float = 30.0) -> None:
        self.receiver = receiver
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="xhooks-receiver", daemon=True)
        self._thread.start()
        self._lifespan = LifespanDriver(receiver)
        self._run(self._lifespan.startup())

    @property
    def paths(self) -> list[str]:
        return list(self.receiver.routes)

    def _run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(self.timeout)

    def handle(
        self,
        method: str,
        path: str,
        query_string: bytes,
        headers: Iterable[tuple[str, str]],
        read: Callable[[int], bytes],
        content_length: int | None,
    ) -> Reply:
        """Answer one request; blocks until the receiver answered (after the commit, for a delivery)."""
        body = read_limited(read, content_length, self.receiver.max_body) if method.upper() == "POST" else b""
        headers = list(headers)
        try:
            return self._run(call_receiver(self.receiver, method, path, query_string, headers, body))
        except (concurrent.futures.TimeoutError, StoreError):
            return Reply(503, [("content-type", "application/json"), ("retry-after", "1")], b'{"error":"store busy"}')

    def close(self) -> None:
        """Close the store and stop the loop thread."""
        if self._loop.is_closed():
            return
        try:
            self._run(self._lifespan.shutdown())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(self.timeout)
            self._loop.close()
