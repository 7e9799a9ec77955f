"""Serve a dashboard under a path prefix next to another ASGI app (the receiver, the emulator).

`Mount` sends requests under `prefix` to the dashboard and everything else, the lifespan included, to the
app it sits in front of. In front of the receiver it also watches CRC answers (a GET carrying
`crc_token`) and keeps the last few in a `CrcLog`, so the overview can show when X last checked the
webhook, what was answered and how long it took. POSTs (the hot path) pass straight through.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass

from xhooks._types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CrcCheck", "CrcLog", "Mount"]


@dataclass(frozen=True)
class CrcCheck:
    path: str
    at: float
    status: int
    latency_ms: float


class CrcLog:
    """The last `size` CRC requests answered by this process (kept in memory: lost on restart)."""

    def __init__(self, size: int = 200) -> None:
        self._checks: collections.deque[CrcCheck] = collections.deque(maxlen=size)

    def record(self, check: CrcCheck) -> None:
        self._checks.append(check)

    def recent(self) -> list[CrcCheck]:
        """Newest first."""
        return list(reversed(self._checks))

    def last(self, path: str) -> CrcCheck | None:
        return next((check for check in reversed(self._checks) if check.path == path), None)


class Mount:
    """Route `prefix` (and everything below it) to `app`; everything else to `fallback`.

    ```python
    app = Mount("/_xhooks", Dashboard(store, DashboardConfig()), receiver, crc_log=crc_log)
    ```
    """

    def __init__(
        self,
        prefix: str,
        app: ASGIApp,
        fallback: ASGIApp,
        crc_log: CrcLog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.prefix = "/" + prefix.strip("/")
        self.app = app
        self.fallback = fallback
        self.crc_log = crc_log
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.fallback(scope, receive, send)
            return
        path: str = scope["path"]
        if path == self.prefix or path.startswith(self.prefix + "/"):
            await self.app(scope, receive, send)
        elif self.crc_log is not None and scope["method"] == "GET" and b"crc_token=" in scope["query_string"]:
            await self._observed(scope, receive, send, self.crc_log)
        else:
            await self.fallback(scope, receive, send)

    async def _observed(self, scope: Scope, receive: Receive, send: Send, log: CrcLog) -> None:
        started = time.perf_counter()
        at = self.clock()

        async def observe(message: Message) -> None:
            if message["type"] == "http.response.start":
                latency_ms = (time.perf_counter() - started) * 1000
                log.record(CrcCheck(scope["path"], at, int(message["status"]), latency_ms))
            await send(message)

        await self.fallback(scope, receive, observe)
