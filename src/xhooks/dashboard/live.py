"""The live tail: stored events as Server-Sent Events, resumable from the last event id the browser saw.

Each event is sent with `id: <event id>`, so a browser that reconnects (network blip, server restart,
the stream's own age limit) sends `Last-Event-ID` and gets exactly what it missed, oldest first. The store
has no change feed that every engine shares, so the stream polls it (one indexed query per `poll` seconds
while a tab is open). A stream ends after `max_seconds` on its own; EventSource reconnects at once and
resumes, which also keeps proxies from holding a connection forever.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence

import msgspec

from xhooks.store.base import EventQuery, Store, StoredEvent

__all__ = ["event_row", "events_after", "newest_id", "tail"]

_PAGE = 200
_MAX_CATCH_UP = 1000


def event_row(event: StoredEvent) -> dict[str, object]:
    """What the live tail shows for one event."""
    return {
        "id": event.id,
        "app": event.app,
        "type": event.event_type,
        "user": event.for_user_id,
        "status": event.status,
        "received_at": event.received_at,
        "duplicates": event.duplicates,
    }


async def events_after(store: Store, last_id: int) -> tuple[list[StoredEvent], bool]:
    """Events with an id above `last_id`, oldest first, at most `_MAX_CATCH_UP` of them (the newest), and
    whether older ones were left out."""
    found: list[StoredEvent] = []
    before: int | None = None
    while len(found) < _MAX_CATCH_UP:
        page = await store.events(EventQuery(limit=_PAGE, after_id=before))
        newer = [event for event in page if event.id > last_id]
        found += newer
        if len(newer) < len(page) or len(page) < _PAGE:
            return found[::-1], False
        before = page[-1].id
    return found[::-1], True


def newest_id(events: Sequence[StoredEvent]) -> int:
    return max((event.id for event in events), default=0)


async def tail(
    store: Store,
    last_id: int,
    stop: Sequence[asyncio.Event],
    poll: float = 0.5,
    max_seconds: float = 300.0,
    keep_alive: float = 15.0,
) -> AsyncIterator[bytes]:
    """The SSE byte stream of events after `last_id`, until one of `stop` is set or `max_seconds` pass."""
    yield b"retry: 1000\n\n"
    started = last_sent = time.monotonic()
    while not any(event.is_set() for event in stop) and time.monotonic() - started < max_seconds:
        events, gap = await events_after(store, last_id)
        if gap:
            yield b"event: gap\ndata: {}\n\n"
        for event in events:
            last_id = event.id
            yield b"id: %d\ndata: %s\n\n" % (event.id, msgspec.json.encode(event_row(event)))
        if events or gap:
            last_sent = time.monotonic()
        elif time.monotonic() - last_sent >= keep_alive:
            last_sent = time.monotonic()
            yield b": keep-alive\n\n"
        await _wait_any(stop, poll)


async def _wait_any(events: Sequence[asyncio.Event], timeout: float) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
