"""The live tail's stream: Server-Sent Events with event ids, resumed exactly where the browser left off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from tests.dashboard.conftest import CONSUMER_SECRET, Stack
from xhooks.protocol import signature


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
