"""The live tail's stream: Server-Sent Events with event ids, resumed exactly where the browser left off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.dashboard.conftest import CONSUMER_SECRET, Stack
from xhooks.dashboard.live import events_after
from xhooks.protocol import signature
from xhooks.store.base import Delivery, EventQuery
from xhooks.store.sqlite import SQLiteStore


def _deliver(stack: Stack, dm_id: str) -> None:
    body = json.dumps({"for_user_id": "42", "direct_message_events": [{"id": dm_id, "type": "message_create"}]})
    response = httpx.post(
        stack.webhook_url,
        content=body.encode(),
        headers={"x-twitter-webhooks-signature": signature(body.encode(), CONSUMER_SECRET)},
    )
    assert response.status_code == 200


def _read(lines: Iterator[str], count: int) -> list[dict[str, Any]]:
    """The next `count` events from an SSE response's lines, each as its `id` and decoded `data`."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for line in lines:
        if line.startswith("id: "):
            current["id"] = int(line[4:])
        elif line.startswith("data: "):
            current["data"] = json.loads(line[6:])
        elif line == "" and current:
            events.append(current)
            current = {}
            if len(events) == count:
                return events
    raise AssertionError(f"the stream ended after {events}")


def test_stream_resumes_after_last_event_id(stack: Stack) -> None:
    for dm_id in ("1", "2", "3"):
        _deliver(stack, dm_id)
    first, second, third = sorted(event.id for event in stack.events())
    with httpx.stream("GET", f"{stack.dashboard}/live/stream", headers={"last-event-id": str(first)}, timeout=10) as s:
        assert s.headers["content-type"] == "text/event-stream"
        events = _read(s.iter_lines(), 2)
    assert [event["id"] for event in events] == [second, third]
    assert events[0]["data"]["type"] == "direct_message_events"
    assert events[0]["data"]["user"] == "42"


def test_stream_without_an_id_sends_only_what_arrives_next(stack: Stack) -> None:
    _deliver(stack, "1")
    with httpx.stream("GET", f"{stack.dashboard}/live/stream", timeout=10) as s:
        lines = s.iter_lines()
        assert next(lines) == "retry: 1000"  # the stream is open: anything stored from now on is new
        _deliver(stack, "2")
        (event,) = _read(lines, 1)
    assert event["id"] == max(e.id for e in stack.events())


async def test_catching_up_is_bounded_and_says_what_it_left_out(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "x.db")
    await store.start()
    try:
        for n in range(1010):
            body = json.dumps({"for_user_id": "7", "direct_message_events": [{"id": str(n)}]}).encode()
            await store.record(Delivery.received("/webhook", body, float(n)))
        newest = max(event.id for event in await store.events(EventQuery(limit=1)))
        recent, gap = await events_after(store, newest - 5)
        assert [event.id for event in recent] == list(range(newest - 4, newest + 1)) and not gap
        everything, gap = await events_after(store, 0)
        assert gap and len(everything) == 1000 and everything[-1].id == newest
        assert [event.id for event in everything] == sorted(event.id for event in everything)
    finally:
        await store.close()
