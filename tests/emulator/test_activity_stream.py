"""`GET /2/activity/stream` and `/2/connections` as X serves them, and the control switches that break the stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.emulator.conftest import Consumer, Running
from xhooks.clock import ManualClock
from xhooks.emulator.activity_stream import (
    CONNECTION_LIMIT,
    CREDITS_DEPLETED,
    OPERATIONAL_DISCONNECT,
    ActivityStreams,
)

STREAM = "/2/activity/stream"


def _subscribe(running: Running, event_type: str = "profile.update.bio", webhook_id: str | None = None) -> str:
    body: dict[str, Any] = {"event_type": event_type, "filter": {"user_id": running.dev["id"]}}
    if webhook_id is not None:
        body["webhook_id"] = webhook_id
    response = running.http.post("/2/activity/subscriptions", json=body, headers=running.bearer)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["subscription_id"])


def _events(lines: Iterator[str], count: int) -> list[dict[str, Any]]:
    """The next `count` events of a stream, keep-alives skipped."""
    events: list[dict[str, Any]] = []
    while len(events) < count:
        line = next(lines)
        if line.strip():
            events.append(json.loads(line))
    return events


def _control(running: Running, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = running.http.post(f"/_emulator/stream/{path}", json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def quiet(running: Running) -> Running:
    running.emulator.activity_streams.keep_alive = 3600.0  # no keep-alive between the lines a test waits for
    return running


def test_stream_carries_subscriptions_with_and_without_a_webhook(
    quiet: Running, consumer_of: tuple[Consumer, str]
) -> None:
    consumer, url = consumer_of
    webhook_id = quiet.register(url)["id"]
    _subscribe(quiet)  # stream only
    _subscribe(quiet, "follow.follow", webhook_id)  # webhook and stream
    with quiet.http.stream("GET", STREAM, headers=quiet.bearer) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        quiet.trigger("profile.update.bio")
        quiet.trigger("follow.follow")
        bio, follow = _events(lines, 2)
    assert bio["data"]["event_type"] == "profile.update.bio"
    assert follow["data"]["event_type"] == "follow.follow"
    quiet.settle()
    assert consumer.events() == [follow]  # the webhook got the same event, byte for byte the same JSON


def test_backfill_minutes_sends_the_recent_past_first(quiet: Running) -> None:
    _subscribe(quiet)
    early = quiet.trigger("profile.update.bio")["routed"][0]["event_uuid"]
    quiet.advance(90)
    late = quiet.trigger("profile.update.bio")["routed"][0]["event_uuid"]
    with quiet.http.stream("GET", STREAM, params={"backfill_minutes": 1}, headers=quiet.bearer) as response:
        lines = response.iter_lines()
        backfilled = _events(lines, 1)
        live = quiet.trigger("profile.update.bio")["routed"][0]["event_uuid"]
        (now,) = _events(lines, 1)
    assert [backfilled[0]["data"]["event_uuid"], now["data"]["event_uuid"]] == [late, live]
    assert early not in {backfilled[0]["data"]["event_uuid"], now["data"]["event_uuid"]}


@pytest.mark.parametrize("value", ["6", "-1", "two"])
def test_backfill_minutes_outside_0_to_5_is_refused(running: Running, value: str) -> None:
    response = running.http.get(STREAM, params={"backfill_minutes": value}, headers=running.bearer)
    assert response.status_code == 400 and "backfill_minutes" in response.text


def test_keep_alives_arrive_while_nothing_happens(running: Running) -> None:
    running.emulator.activity_streams.keep_alive = 0.01
    with running.http.stream("GET", STREAM, headers=running.bearer) as response:
        chunks = response.iter_raw()
        assert next(chunks).startswith(b"\r\n")


def test_a_third_connection_is_too_many_and_connections_can_be_killed(running: Running) -> None:
    ghosts = _control(running, "ghosts", {"count": 2})["data"]
    refused = running.http.get(STREAM, headers=running.bearer)
    assert refused.status_code == 429 and refused.json() == CONNECTION_LIMIT
    listed = running.http.get("/2/connections", params={"status": "active"}, headers=running.bearer).json()
    assert sorted(item["id"] for item in listed["data"]) == sorted(ghost["id"] for ghost in ghosts)
    assert {item["endpoint_name"] for item in listed["data"]} == {"activity_stream"}
    killed = running.http.request(
        "DELETE", "/2/connections", json={"uuids": [ghosts[0]["id"], "no-such-id"]}, headers=running.bearer
    ).json()["data"]
    assert (killed["successful_kills"], killed["failed_kills"]) == (1, 1)
    with running.http.stream("GET", STREAM, headers=running.bearer) as response:
        assert response.status_code == 200
        assert running.http.get(STREAM, headers=running.bearer).status_code == 429  # one ghost, one live: full
        everything = running.http.delete("/2/connections/all", headers=running.bearer).json()["data"]
        assert everything["successful_kills"] == 2
        assert list(response.iter_lines()) == []  # the live one was ended too
    inactive = running.http.get("/2/connections", params={"status": "inactive"}, headers=running.bearer).json()
    assert [item["disconnect_reason"] for item in inactive["data"]] == ["KilledByClient"] * 3


def test_credits_exhausted_answers_402_and_closes_the_stream_while_webhooks_go_on(
    quiet: Running, consumer_of: tuple[Consumer, str]
) -> None:
    consumer, url = consumer_of
    _subscribe(quiet, webhook_id=quiet.register(url)["id"])
    with quiet.http.stream("GET", STREAM, headers=quiet.bearer) as response:
        _control(quiet, "credits", {"exhausted": True})
        assert list(response.iter_lines()) == []  # ended
    refused = quiet.http.get(STREAM, headers=quiet.bearer)
    assert refused.status_code == 402 and refused.json() == CREDITS_DEPLETED
    quiet.trigger("profile.update.bio")
    quiet.settle()
    assert len(consumer.received) == 1
    _control(quiet, "credits", {"exhausted": False})
    with quiet.http.stream("GET", STREAM, headers=quiet.bearer) as response:
        assert response.status_code == 200


def test_operational_disconnect_ends_with_xs_error_line(quiet: Running) -> None:
    with quiet.http.stream("GET", STREAM, headers=quiet.bearer) as response:
        lines = response.iter_lines()
        _control(quiet, "disconnect", {"reason": "operational"})
        assert [json.loads(line) for line in lines if line] == [OPERATIONAL_DISCONNECT]


def test_a_buffer_full_drop_loses_the_queued_events_and_backfill_recovers_them(quiet: Running) -> None:
    _subscribe(quiet)
    with quiet.http.stream("GET", STREAM, headers=quiet.bearer) as response:
        lines = response.iter_lines()
        _control(quiet, "stall", {"stalled": True})
        queued = quiet.trigger("profile.update.bio")["routed"][0]["event_uuid"]
        _control(quiet, "disconnect", {"reason": "buffer_full"})
        _control(quiet, "stall", {"stalled": False})
        assert [line for line in lines if line] == []
    with quiet.http.stream("GET", STREAM, params={"backfill_minutes": 1}, headers=quiet.bearer) as response:
        (again,) = _events(response.iter_lines(), 1)
    assert again["data"]["event_uuid"] == queued


def test_a_slow_reader_overflows_its_buffer_and_is_dropped(quiet: Running) -> None:
    quiet.emulator.activity_streams.buffer_size = 2
    _subscribe(quiet)
    with quiet.http.stream("GET", STREAM, headers=quiet.bearer) as response:
        _control(quiet, "stall", {"stalled": True})
        for _ in range(4):  # two queued, perhaps one in the writer's hand: the fourth overflows at the latest
            quiet.trigger("profile.update.bio")
        _control(quiet, "stall", {"stalled": False})
        assert [line for line in response.iter_lines() if line] == []
    reasons = [item["disconnect_reason"] for item in quiet.http.get("/_emulator/stream/connections").json()["data"]]
    assert reasons == ["BufferFull"]


def test_the_stream_needs_the_bearer_token(running: Running) -> None:
    assert running.http.get(STREAM).status_code == 401
    assert running.http.get(STREAM, headers=running.user_bearer(running.dev)).status_code == 403


def test_xdk_reads_the_stream_and_manages_connections_unchanged(quiet: Running) -> None:
    xdk = pytest.importorskip("xdk")
    from xdk.connections.models import DeleteByUuidsRequest

    _subscribe(quiet)
    uuid = quiet.trigger("profile.update.bio")["routed"][0]["event_uuid"]
    client = xdk.Client(base_url=quiet.url, bearer_token=quiet.app["bearer_token"])
    items = client.stream.activity(backfill_minutes=1)
    first = next(items)
    assert first.data.event_type == "profile.update.bio" and first.data.model_dump()["event_uuid"] == uuid
    pages = list(client.connections.get_connection_history(status="active"))
    (active,) = pages[0].data
    assert active.endpoint_name == "activity_stream"
    killed = client.connections.delete_by_uuids(body=DeleteByUuidsRequest(uuids=[active.id]))
    assert killed.data.successful_kills == 1
    items.close()


def test_an_unknown_stream_control_is_404(running: Running) -> None:
    assert running.http.post("/_emulator/stream/nothing", json={}).status_code == 404
    with pytest.raises(httpx.HTTPStatusError):
        running.http.post("/_emulator/stream/stall", json={"stalled": "yes"}).raise_for_status()


def test_connections_of_one_endpoint_can_be_killed(running: Running) -> None:
    _control(running, "ghosts", {"count": 1})
    other = running.http.delete("/2/connections/filtered_stream", headers=running.bearer).json()["data"]
    assert (other["successful_kills"], other["failed_kills"]) == (0, 0)
    ours = running.http.delete("/2/connections/activity_stream", headers=running.bearer).json()["data"]
    assert ours["successful_kills"] == 1
    assert running.http.get("/2/connections", params={"status": "active"}, headers=running.bearer).json() == {
        "meta": {"result_count": 0}
    }


def test_a_reader_cancelled_just_as_an_event_arrives_still_ends_its_connection() -> None:
    """The connection's writer is cancelled when its client goes away. If that cancellation lands in the loop step
    where an event has just been taken off the connection's queue, the writer must still stop and the connection
    must be ended; otherwise a killed client leaves a connection that counts against X's two forever (under
    `asyncio.wait_for` on Python 3.11 the cancellation was swallowed there and the writer went on alone)."""

    async def scenario() -> tuple[bool, bool]:
        streams = ActivityStreams(ManualClock(), keep_alive=3600)
        conn = streams.connect("app")
        lines = streams.lines(conn, [])

        async def pump() -> None:
            async for _ in lines:
                pass

        writer = asyncio.ensure_future(pump())
        for _ in range(3):
            await asyncio.sleep(0)  # the writer now waits on the connection's queue
        conn.lines.put_nowait(b"{}\r\n")
        for _ in range(100):  # until the queue's getter has taken the event (its waiter not yet run)
            if conn.lines.empty():
                break
            await asyncio.sleep(0)
        writer.cancel()
        done, _ = await asyncio.wait([writer], timeout=5)  # a hang guard: the writer ends in a few loop steps
        if not done:
            writer.cancel()
        return bool(done), conn.active

    ended, still_active = asyncio.run(scenario())
    assert ended and not still_active
