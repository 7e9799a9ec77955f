"""Delivery: X's bytes, only 200 counts, the legacy retry schedule on a manual clock, duplicates, the log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulator.conftest import X_DELIVERY_HEADERS, Consumer, Running, start
from tests.support import serve_app
from xhooks.emulator import EmulatorConfig
from xhooks.emulator.delivery import encode
from xhooks.emulator.state import Webhook


def test_encode_is_compact_with_non_ascii_escaped() -> None:
    assert encode({"text": "héllo ☃ 𝕏", "n": [1, 2]}) == b'{"text":"h\\u00e9llo \\u2603 \\ud835\\udd4f","n":[1,2]}'


def test_encode_escapes_slashes_and_angle_brackets_as_x_does() -> None:
    source = '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>'
    expected = (
        b'{"source":"\\u003ca href=\\"https:\\/\\/mobile.twitter.com\\" rel=\\"nofollow\\"'
        b'\\u003eTwitter Web App\\u003c\\/a\\u003e"}'
    )
    assert encode({"source": source}) == expected
    assert json.loads(encode({"a/b": "back\\slash/"})) == {"a/b": "back\\slash/"}


def _subscribed(running: Running, url: str) -> str:
    webhook_id: str = running.register(url)["id"]
    body = {"event_type": "post.create", "filter": {"user_id": running.dev["id"]}, "webhook_id": webhook_id}
    assert running.http.post("/2/activity/subscriptions", json=body, headers=running.bearer).status_code == 200
    return webhook_id


def test_delivered_bytes_are_x_style_and_signed(running: Running, consumer_of: tuple[Consumer, str]) -> None:
    consumer, url = consumer_of
    _subscribed(running, url)
    running.trigger("post.create", text="héllo ☃")
    running.settle()
    (body,) = consumer.received  # the consumer verified the signature over exactly these bytes
    assert b"h\\u00e9llo \\u2603" in body and b": " not in body and body.isascii()
    event = json.loads(body)["data"]
    assert event["event_type"] == "post.create" and event["payload"]["text"] == "héllo ☃"


def test_a_consumer_that_reserialises_the_body_is_refused(running: Running, consumer_of: tuple[Consumer, str]) -> None:
    """Re-encoding the parsed body loses X's `\\/` escapes, so the HMAC no longer matches (issue 17)."""
    consumer, url = consumer_of
    consumer.reserialise = True
    _subscribed(running, url)
    running.trigger("post.create")
    running.settle()
    assert consumer.received == [] and consumer.rejected == 1


def test_deliveries_carry_x_header_set_and_nothing_else(running: Running, consumer_of: tuple[Consumer, str]) -> None:
    consumer, url = consumer_of
    webhook_id = _subscribed(running, url)
    consumer.status = 500
    running.trigger("post.create")
    running.advance(10)  # the first attempt and one retry
    first, retry = consumer.headers
    assert set(first) == set(retry) == X_DELIVERY_HEADERS
    assert first["content-type"] == "application/json" and first["finagle-http-retryable-request"] == ""
    assert (first["finagle-ctx-com.twitter.finagle.retries"], retry["finagle-ctx-com.twitter.finagle.retries"]) == (
        "0",
        "1",
    )
    started, deadline = map(int, first["finagle-ctx-com.twitter.finagle.deadline"].split())
    (entry,) = running.deliveries(webhook_id)
    assert started == round(entry["attempts"][0]["at"] * 1000) * 1_000_000 and deadline - started == 10 * 10**9
    assert first["x-b3-traceid"] == first["x-b3-parentspanid"] != first["x-b3-spanid"]
    assert all(len(first[name]) == 16 and int(first[name], 16) >= 0 for name in ("x-b3-traceid", "x-b3-spanid"))
    assert (first["x-b3-sampled"], first["x-b3-flags"]) == ("false", "2")
    assert first["x-b3-traceid"] != retry["x-b3-traceid"]


def _attempt_times(running: Running, webhook_id: str) -> list[float]:
    (entry,) = running.deliveries(webhook_id)
    return [attempt["at"] - entry["created_at"] for attempt in entry["attempts"]]


@pytest.mark.parametrize("status", [500, 204])
def test_failures_are_retried_at_0_6_36_and_281_seconds(
    running: Running, consumer_of: tuple[Consumer, str], status: int
) -> None:
    consumer, url = consumer_of
    webhook_id = _subscribed(running, url)
    consumer.status = status  # only a 200 is a success
    running.trigger("post.create")
    running.settle()
    assert _attempt_times(running, webhook_id) == [0]
    running.advance(5.9)
    assert _attempt_times(running, webhook_id) == [0]
    running.advance(300)
    assert _attempt_times(running, webhook_id) == [0, 6, 36, 281]
    (entry,) = running.deliveries(webhook_id)
    assert entry["state"] == "failed" and [a["status"] for a in entry["attempts"]] == [status] * 4
    assert all(a["latency_ms"] >= 0 and a["error"] is None for a in entry["attempts"])


@pytest.fixture
def no_retries() -> Iterator[Running]:
    yield from start(EmulatorConfig(allow_local_urls=True, remote_urls=False, retries="none"))


def test_no_retries_means_one_attempt(no_retries: Running) -> None:
    consumer = Consumer(no_retries.app["consumer_secret"], status=500)
    with serve_app(consumer) as url:
        webhook_id = _subscribed(no_retries, url + "/webhook")
        no_retries.trigger("post.create")
        no_retries.advance(600)
    (entry,) = no_retries.deliveries(webhook_id)
    assert entry["state"] == "failed" and len(entry["attempts"]) == 1


def test_duplicate_injection_delivers_the_same_bytes_again() -> None:
    for running in start(EmulatorConfig(allow_local_urls=True, remote_urls=False, duplicate_rate=1.0)):
        consumer = Consumer(running.app["consumer_secret"])
        with serve_app(consumer) as url:
            webhook_id = _subscribed(running, url + "/webhook")
            running.trigger("post.create")
            running.settle()
        assert len(consumer.received) == 2 and consumer.received[0] == consumer.received[1]
        assert [entry["kind"] for entry in running.deliveries(webhook_id)] == ["event", "duplicate"]


def test_replay_redelivers_the_window_and_reports_completion(
    running: Running, consumer_of: tuple[Consumer, str]
) -> None:
    import datetime as dt

    consumer, url = consumer_of
    webhook_id = _subscribed(running, url)
    for text in ("one", "two"):
        running.trigger("post.create", text=text)
    running.settle()
    running.advance(120)
    now = running.http.get("/_emulator/clock").json()["now"]
    minute = dt.datetime.fromtimestamp(now, dt.UTC)
    window = {
        "webhook_id": webhook_id,
        "from_date": (minute - dt.timedelta(minutes=10)).strftime("%Y%m%d%H%M"),
        "to_date": minute.strftime("%Y%m%d%H%M"),
    }
    job_id = running.http.post("/2/webhooks/replay", json=window, headers=running.bearer).json()["data"]["job_id"]
    running.advance(2)
    events = consumer.events()
    assert [e["data"]["payload"]["text"] for e in events[2:4]] == ["one", "two"]
    assert consumer.received[2:4] == consumer.received[:2]
    assert events[4] == {
        "replay_job_status": {
            "webhook_id": webhook_id,
            "job_state": "Complete",
            "job_state_description": "Job completed successfully",
            "job_id": job_id,
        }
    }


def test_state_persists_across_restarts(tmp_path: Path) -> None:
    db = str(tmp_path / "emulator.db")
    config = EmulatorConfig(db=db, allow_local_urls=True, remote_urls=False)
    for running in start(config):
        consumer = Consumer(running.app["consumer_secret"])
        with serve_app(consumer) as url:
            webhook_id = running.register(url + "/webhook")["id"]
        first = running.app
    for running in start(EmulatorConfig(db=db, allow_local_urls=True, remote_urls=False)):
        assert running.app == first
        hooks = running.http.get("/2/webhooks", headers=running.bearer).json()["data"]
        assert [hook["id"] for hook in hooks] == [webhook_id]
    fixed = EmulatorConfig(db=db, consumer_key="fixed-key", consumer_secret="fixed-secret", bearer_token="fixed-bearer")
    for running in start(fixed):
        assert (running.app["consumer_key"], running.app["consumer_secret"]) == ("fixed-key", "fixed-secret")
        assert running.http.get("/2/webhooks", headers={"authorization": "Bearer fixed-bearer"}).status_code == 200


def test_retries_survive_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "emulator.db")
    config = EmulatorConfig(db=db, allow_local_urls=True, remote_urls=False, consumer_secret="s")
    consumer = Consumer("s", status=500)
    with serve_app(consumer) as url:
        for running in start(config):
            webhook_id = _subscribed(running, url + "/webhook")
            running.trigger("post.create")
            running.settle()
        consumer.status = 200
        for running in start(config):
            running.advance(300)
            (entry,) = running.deliveries(webhook_id)
    assert entry["state"] == "delivered" and [a["status"] for a in entry["attempts"]] == [500, 200]
    assert len(consumer.received) == 1


def test_a_replay_that_cannot_deliver_is_incomplete_and_not_retried(
    running: Running, consumer_of: tuple[Consumer, str]
) -> None:
    import datetime as dt

    consumer, url = consumer_of
    webhook_id = _subscribed(running, url)
    running.trigger("post.create")
    running.settle()
    minute = dt.datetime.fromtimestamp(running.http.get("/_emulator/clock").json()["now"], dt.UTC)
    window = {
        "webhook_id": webhook_id,
        "from_date": minute.strftime("%Y%m%d%H%M"),
        "to_date": minute.strftime("%Y%m%d%H%M"),
    }
    assert running.http.post("/2/webhooks/replay", json=window, headers=running.bearer).status_code == 200
    consumer.status = 503
    running.advance(2)
    consumer.status = 200
    running.advance(10)  # the status event is retried like any delivery; replayed events are not
    replayed = [entry for entry in running.deliveries(webhook_id) if entry["kind"] == "replay"]
    assert [len(entry["attempts"]) for entry in replayed] == [1] and replayed[0]["state"] == "failed"
    assert consumer.events()[-1]["replay_job_status"]["job_state"] == "Incomplete"


def test_an_attempt_that_fails_in_an_unexpected_way_is_a_failed_attempt_and_retried(
    running: Running, consumer_of: tuple[Consumer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error no HTTP client should raise (anyio once raised AttributeError for a connection reset mid-connect)
    ended the delivery job before: no attempt logged, no retry, the event lost for the webhook."""
    consumer, url = consumer_of
    webhook_id = _subscribed(running, url)
    http = running.emulator.deliverer.http
    send, broken = http.send, list[httpx.Request]()

    async def broken_once(request: httpx.Request, **kwargs: Any) -> httpx.Response:
        if not broken:
            broken.append(request)
            raise AttributeError("'NoneType' object has no attribute 'getpeername'")
        return await send(request, **kwargs)

    monkeypatch.setattr(http, "send", broken_once)
    running.trigger("post.create")
    running.settle()
    running.advance(6)
    (entry,) = running.deliveries(webhook_id)
    assert entry["state"] == "delivered" and [a["status"] for a in entry["attempts"]] == [None, 200]
    assert entry["attempts"][0]["error"].startswith("AttributeError: ")
    assert len(consumer.received) == 1


def test_the_default_emulator_contacts_local_hosts_only() -> None:
    """`EmulatorConfig()` as `xhooks emulator` runs without `--remote-urls`: the CRC of a public URL is refused
    without contacting it, and a delivery due to one is logged as not sent (issue 17)."""
    for running in start(EmulatorConfig()):
        url = "https://example.com/webhook"
        refused = running.http.post("/2/webhooks", json={"url": url}, headers=running.bearer)
        assert refused.status_code == 400
        assert refused.json()["type"] == "https://api.twitter.com/2/problems/invalid-request"
        (error,) = refused.json()["errors"]
        assert error["message"] == "CrcValidationFailed: Unreachable: this emulator contacts local hosts only"
        assert running.http.get("/2/webhooks", headers=running.bearer).json()["data"] == []
        # a webhook a run with --remote-urls registered in the same database
        now = running.emulator.clock.now()
        webhook_id = running.emulator.new_id()
        running.emulator.state.add_webhook(Webhook(webhook_id, running.app["id"], url, True, now, now, now))
        body = {"event_type": "post.create", "filter": {"user_id": running.dev["id"]}, "webhook_id": webhook_id}
        assert running.http.post("/2/activity/subscriptions", json=body, headers=running.bearer).status_code == 200
        running.trigger("post.create")
        running.settle()
        (entry,) = running.deliveries(webhook_id)
        assert [(attempt["status"], attempt["error"]) for attempt in entry["attempts"]] == [
            (None, "not sent: this emulator contacts local hosts only")
        ]
        assert entry["state"] == "pending"  # retried on X's schedule, each attempt refused the same way
