"""`GET /2/activity/stream` and `/2/connections`: the X Activity stream as X serves it (docs/x-platform.md §13).

Every X Activity event `routing.route_xaa` matches to a subscription of an app is published to that app's stream,
whether or not the subscription names a `webhook_id` (the same bytes as the webhook POST, when there is one). An
open connection writes each event as one line ending in `\\r\\n`, and a keep-alive `\\r\\n` after `keep_alive`
seconds without one. The last `BACKFILL_LIMIT` minutes of each app's events are kept (on the emulator's clock), so a
connection opened with `backfill_minutes=n` first gets the events of the past n minutes, oldest first and not
deduplicated, then the live ones.

X's limits: two open connections per app; a third gets X's `TooManyConnections` problem (HTTP 429). A client
that reads too slowly overflows its connection's queue (`buffer_size` lines): the connection is closed and the
queued lines are lost to it (a reconnect with backfill gets them back). While the credits switch says they
are exhausted, the stream answers 402 and open connections are closed; webhook deliveries go on.

The control API makes the faults happen on purpose:

| method | path | body | does |
|---|---|---|---|
| POST | `/_emulator/stream/disconnect` | `{"reason": "operational"}` | end every open connection with X's line |
| POST | `/_emulator/stream/disconnect` | `{"reason": "buffer_full"}` | drop every open connection, its queue lost |
| POST | `/_emulator/stream/credits` | `{"exhausted": bool}` | 402 for new connections while true |
| POST | `/_emulator/stream/stall` | `{"stalled": bool}` | write nothing while true, not even keep-alives |
| POST | `/_emulator/stream/ghosts` | `{"count": n}` | n connections whose client is gone (they count) |
| POST | `/_emulator/stream/raw` | `{"line": str}` | publish one line as it is (a bad line, on purpose) |
| GET | `/_emulator/stream/connections` | | every connection, open and closed |
"""

from __future__ import annotations

import asyncio
import collections
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xhooks.clock import Clock
from xhooks.emulator.auth import Principal
from xhooks.emulator.delivery import encode
from xhooks.emulator.errors import ApiError, invalid_value, malformed
from xhooks.emulator.state import iso
from xhooks.emulator.web import Request, Response
from xhooks.protocol.activity_stream import (
    BACKFILL_LIMIT,
    ENDPOINT_NAME,
    KEEP_ALIVE_INTERVAL,
    MAX_CONNECTIONS,
    TOO_MANY_CONNECTIONS,
)

if TYPE_CHECKING:
    from xhooks.emulator.app import Emulator

__all__ = [
    "CONNECTION_LIMIT",
    "CREDITS_DEPLETED",
    "OPERATIONAL_DISCONNECT",
    "ActivityStreams",
    "Connection",
    "connections",
    "control",
    "kill_all",
    "kill_by_endpoint",
    "kill_by_uuids",
    "stream",
]

LINE_END = b"\r\n"
CONNECTION_LIMIT: dict[str, Any] = {
    "title": "ConnectionException",
    "detail": "This stream is currently at the maximum allowed connection limit.",
    "connection_issue": TOO_MANY_CONNECTIONS,
    "type": "https://api.x.com/2/problems/streaming-connection",
}
"""X's answer (HTTP 429) to a connection past `MAX_CONNECTIONS`."""
OPERATIONAL_DISCONNECT: dict[str, Any] = {
    "errors": [
        {
            "title": "operational-disconnect",
            "disconnect_type": "UpstreamOperationalDisconnect",
            "detail": "This stream has been disconnected upstream for operational reasons.",
            "type": "https://api.x.com/2/problems/operational-disconnect",
        }
    ]
}
CREDITS_DEPLETED: dict[str, Any] = {"title": "CreditsDepleted", "detail": "Your account has no credits."}
_CONNECTION_STATUSES = ("active", "inactive", "all")


@dataclass
class Connection:
    """One stream connection of an app; `lines` is what waits to be written (None: close after the rest). Ending
    a connection swaps in a new queue, so whatever the old one held, or its writer held in hand, is dropped."""

    id: str
    app_id: str
    connected_at: float
    lines: asyncio.Queue[bytes | None]
    ghost: bool = False
    disconnected_at: float | None = None
    disconnect_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.disconnected_at is None

    def json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"id": self.id, "endpoint_name": ENDPOINT_NAME, "connected_at": iso(self.connected_at)}
        if self.disconnected_at is not None:
            item["disconnected_at"] = iso(self.disconnected_at)
            item["disconnect_reason"] = self.disconnect_reason
        return item


@dataclass
class ActivityStreams:
    """The stream of every app: its open connections, its recent events, and the fault switches."""

    clock: Clock
    keep_alive: float = KEEP_ALIVE_INTERVAL
    """Seconds (wall time) without a line before a keep-alive is written."""
    buffer_size: int = 10_000
    """Lines a connection may hold unwritten before X drops it as too slow."""
    credits_exhausted: bool = False
    connections: dict[str, Connection] = field(default_factory=dict)
    _recent: dict[str, collections.deque[tuple[float, bytes]]] = field(default_factory=dict)
    _flowing: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._flowing.set()

    # events --------------------------------------------------------------------------------------------

    def publish(self, app_id: str, body: bytes) -> None:
        """Send one event of `app_id` to its open connections and keep it for backfill."""
        now = self.clock.now()
        recent = self._recent.setdefault(app_id, collections.deque())
        recent.append((now, body))
        while recent and recent[0][0] < now - BACKFILL_LIMIT * 60:
            recent.popleft()
        for conn in self.open(app_id):
            if conn.ghost:
                continue
            if conn.lines.qsize() >= self.buffer_size:
                self.end(conn, "BufferFull")
            else:
                conn.lines.put_nowait(body + LINE_END)

    def backfill(self, app_id: str, minutes: int) -> list[bytes]:
        since = self.clock.now() - minutes * 60
        return [body + LINE_END for at, body in self._recent.get(app_id, ()) if minutes and at >= since]

    # connections ---------------------------------------------------------------------------------------

    def open(self, app_id: str) -> list[Connection]:
        return [conn for conn in self.connections.values() if conn.app_id == app_id and conn.active]

    def connect(self, app_id: str, *, ghost: bool = False) -> Connection:
        """A new connection of `app_id`, or X's refusal: 402 without credits, 429 past two connections."""
        if self.credits_exhausted and not ghost:
            raise ApiError(402, dict(CREDITS_DEPLETED))
        if len(self.open(app_id)) >= MAX_CONNECTIONS:
            raise ApiError(429, dict(CONNECTION_LIMIT))
        conn = Connection(str(uuid.uuid4()), app_id, self.clock.now(), asyncio.Queue(), ghost=ghost)
        self.connections[conn.id] = conn
        return conn

    def end(self, conn: Connection, reason: str, last_line: bytes = b"") -> bool:
        """Close `conn`: drop what it had queued, write `last_line` (if any), then end the response."""
        if not conn.active:
            return False
        conn.disconnected_at, conn.disconnect_reason = self.clock.now(), reason
        dropped, conn.lines = conn.lines, asyncio.Queue()
        dropped.put_nowait(None)  # wakes a writer waiting on the old queue
        if last_line:
            conn.lines.put_nowait(last_line + LINE_END)
        conn.lines.put_nowait(None)
        return True

    @property
    def stalled(self) -> bool:
        return not self._flowing.is_set()

    def stall(self, stalled: bool) -> None:
        if stalled:
            self._flowing.clear()
        else:
            self._flowing.set()

    async def lines(self, conn: Connection, backfill: list[bytes]) -> AsyncGenerator[bytes, None]:
        """What the response of `conn` writes: the backfill, then events and keep-alives until it is ended."""
        try:
            for old in backfill:
                await self._flowing.wait()
                yield old
            while True:
                queue = conn.lines
                line: bytes | None
                try:
                    async with asyncio.timeout(self.keep_alive):  # not wait_for: on 3.11 it can swallow a cancel
                        line = await queue.get()
                except TimeoutError:
                    line = LINE_END
                if line is not None:
                    await self._flowing.wait()
                if queue is not conn.lines:  # ended meanwhile: what the old queue held is lost
                    continue
                if line is None:
                    return
                yield line
        finally:
            self.end(conn, "ClientDisconnect")


# X's endpoints ----------------------------------------------------------------------------------------------


def _backfill_minutes(req: Request) -> int:
    raw = req.arg("backfill_minutes")
    if raw is None:
        return 0
    if not raw.isdigit() or not 0 <= int(raw) <= BACKFILL_LIMIT:
        raise invalid_value("backfill_minutes", raw, f"is not a valid integer between 0 and {BACKFILL_LIMIT}")
    return int(raw)


async def stream(emu: Emulator, req: Request, who: Principal) -> Response:
    """`GET /2/activity/stream`: the app's events as newline-delimited JSON, for as long as the client reads."""
    minutes = _backfill_minutes(req)
    streams = emu.activity_streams
    conn = streams.connect(who.app.id)
    return Response(None, chunks=streams.lines(conn, streams.backfill(who.app.id, minutes)))


async def connections(emu: Emulator, req: Request, who: Principal) -> Response:
    """`GET /2/connections`: the app's stream connections, newest first (`status` active, inactive or all)."""
    status = req.arg("status") or "all"
    if status not in _CONNECTION_STATUSES:
        raise invalid_value("status", status, f"is not one of [{','.join(_CONNECTION_STATUSES)}]")
    wanted = {name for raw in req.query.get("endpoints", []) for name in raw.split(",") if name}
    if wanted and ENDPOINT_NAME not in wanted:
        return Response({"meta": {"result_count": 0}})
    data = [
        conn.json()
        for conn in sorted(emu.activity_streams.connections.values(), key=lambda c: c.connected_at, reverse=True)
        if conn.app_id == who.app.id and (status == "all" or conn.active == (status == "active"))
    ]
    return Response({"data": data, "meta": {"result_count": len(data)}} if data else {"meta": {"result_count": 0}})


def _kills(emu: Emulator, who: Principal, ids: list[str]) -> Response:
    results = []
    for conn_id in ids:
        conn = emu.activity_streams.connections.get(conn_id)
        if conn is not None and conn.app_id == who.app.id and emu.activity_streams.end(conn, "KilledByClient"):
            results.append({"uuid": conn_id, "success": True})
        else:
            results.append({"uuid": conn_id, "success": False, "error_message": "No active connection with this id"})
    ok = sum(1 for result in results if result["success"])
    return Response({"data": {"successful_kills": ok, "failed_kills": len(results) - ok, "results": results}})


def _active_ids(emu: Emulator, who: Principal) -> list[str]:
    return [conn.id for conn in emu.activity_streams.open(who.app.id)]


async def kill_by_uuids(emu: Emulator, req: Request, who: Principal) -> Response:
    """`DELETE /2/connections` with `{"uuids": [...]}` (1 to 100)."""
    uuids = req.json().get("uuids")
    if not isinstance(uuids, list) or not 1 <= len(uuids) <= 100 or not all(isinstance(u, str) for u in uuids):
        raise malformed("`uuids` must be a list of 1 to 100 connection ids")
    return _kills(emu, who, uuids)


async def kill_all(emu: Emulator, req: Request, who: Principal) -> Response:
    """`DELETE /2/connections/all`: every active connection of the app."""
    return _kills(emu, who, _active_ids(emu, who))


async def kill_by_endpoint(emu: Emulator, req: Request, who: Principal) -> Response:
    """`DELETE /2/connections/{endpoint_id}`: the app's active connections to one streaming endpoint."""
    return _kills(emu, who, _active_ids(emu, who) if req.params["endpoint_id"] == ENDPOINT_NAME else [])


# the control API --------------------------------------------------------------------------------------------


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise malformed(f"`{name}` must be true or false")
    return value


async def control(emu: Emulator, req: Request, route: tuple[str, str]) -> Response:
    """The `/_emulator/stream/…` requests (see the module's docstring)."""
    streams = emu.activity_streams
    if route == ("GET", "/stream/connections"):
        return Response({"data": [conn.json() | {"app_id": conn.app_id} for conn in streams.connections.values()]})
    body = req.json()
    if route == ("POST", "/stream/disconnect"):
        reason = body.get("reason")
        if reason not in ("operational", "buffer_full"):
            raise malformed('`reason` must be "operational" or "buffer_full"')
        last = encode(OPERATIONAL_DISCONNECT) if reason == "operational" else b""
        ended = [conn.id for conn in list(streams.connections.values()) if not conn.ghost and conn.active]
        for conn_id in ended:
            streams.end(streams.connections[conn_id], "OperationalDisconnect" if last else "BufferFull", last)
        return Response({"ended": ended})
    if route == ("POST", "/stream/credits"):
        streams.credits_exhausted = _flag(body, "exhausted")
        if streams.credits_exhausted:
            for conn in list(streams.connections.values()):
                if not conn.ghost:
                    streams.end(conn, "CreditsDepleted")
        return Response({"exhausted": streams.credits_exhausted})
    if route == ("POST", "/stream/stall"):
        streams.stall(_flag(body, "stalled"))
        return Response({"stalled": streams.stalled})
    if route == ("POST", "/stream/raw"):
        line = body.get("line")
        if not isinstance(line, str) or "\n" in line:
            raise malformed("`line` must be a string without a newline")
        streams.publish(emu.state.apps()[0].id, line.encode())
        return Response({"published": True})
    if route == ("POST", "/stream/ghosts"):
        count = body.get("count")
        if not isinstance(count, int) or count < 1:
            raise malformed("`count` must be a positive number")
        app = emu.state.apps()[0]
        return Response({"data": [streams.connect(app.id, ghost=True).json() for _ in range(count)]}, status=201)
    raise ApiError(404, {"title": "Not Found", "detail": f"No control endpoint {req.method} {req.path}"})
