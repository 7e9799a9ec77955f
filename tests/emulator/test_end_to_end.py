"""The whole loop over real HTTP: the emulator (in a thread, manual clock) and `xhooks serve` (a subprocess).

They meet only over HTTP: register (CRC), subscribe, trigger every event type, and every event arrives
verified and stored by the receiver; retries after downtime; a wrong secret fails the CRC; a scheduled CRC
invalidates a webhook, nothing is delivered while it is invalid, and a PUT brings deliveries back.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.conftest import Running, start
from tests.support import free_port, spawn, xhooks_cmd
from xhooks.emulator import EmulatorConfig
from xhooks.emulator.events import AAA_TYPES, STREAM_TYPES, XAA_TYPES
from xhooks.emulator.subscriptions import SUBSCRIBABLE


@contextlib.contextmanager
def receiver(secret: str, db: Path, port: int) -> Iterator[str]:
    args = xhooks_cmd("serve", "--consumer-secret", secret, "--db", str(db), "--port", str(port), "--path", "/webhook")
    with spawn(args, ready_url=f"http://127.0.0.1:{port}/healthz"):
        yield f"http://127.0.0.1:{port}/webhook"


def stored(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0])


@pytest.fixture
def running() -> Iterator[Running]:
    yield from start(EmulatorConfig(allow_local_urls=True, remote_urls=False, max_webhooks=2, seed=7))


def subscribe_everything(running: Running, webhook_id: str) -> None:
    for user in (running.dev, running.friend):
        path = f"/2/account_activity/webhooks/{webhook_id}/subscriptions/all"
        assert running.http.post(path, headers=running.user_bearer(user)).status_code == 200
    for event_type in SUBSCRIBABLE:
        if event_type == "chat.conversation_join":
            continue
        flt = {"keyword": "xhooks"} if event_type == "news.new" else {"user_id": running.dev["id"]}
        body = {"event_type": event_type, "filter": flt, "tag": event_type, "webhook_id": webhook_id}
        headers = running.activity_credentials(event_type, flt)
        response = running.http.post("/2/activity/subscriptions", json=body, headers=headers)
        assert response.status_code == 200, response.text
    assert running.http.post(f"/2/tweets/search/webhooks/{webhook_id}", headers=running.bearer).status_code == 200
    rules = {"add": [{"value": "xhooks OR emulator", "tag": "ours"}, {"value": "from:nobody", "tag": "theirs"}]}
    assert running.http.post("/2/tweets/search/stream/rules", json=rules, headers=running.bearer).status_code == 200


def test_every_event_type_arrives_verified_and_stored(running: Running, tmp_path: Path) -> None:
    db = tmp_path / "receiver.db"
    with receiver(running.app["consumer_secret"], db, free_port()) as url:
        webhook_id = running.register(url)["id"]
        subscribe_everything(running, webhook_id)
        order = [t for t in AAA_TYPES if t != "aaa.revoke"] + ["aaa.revoke", *XAA_TYPES, *STREAM_TYPES]
        for event_type in order:
            routed = running.trigger(event_type)["routed"]
            assert routed, f"{event_type} reached no webhook"
            if event_type in ("aaa.follow", "aaa.direct_message"):
                assert {item["for_user_id"] for item in routed} == {running.dev["id"], running.friend["id"]}
            if event_type == "stream.post":
                assert [rule["tag"] for rule in routed[0]["matching_rules"]] == ["ours"]
        running.settle()
        log = running.deliveries(webhook_id)
        assert {entry["state"] for entry in log} == {"delivered"}
        assert all(len(entry["attempts"]) == 1 and entry["attempts"][0]["status"] == 200 for entry in log)
        assert stored(db) == len(log) >= len(order)


def test_receiver_down_then_back_gets_the_event_by_retry(running: Running, tmp_path: Path) -> None:
    db, port = tmp_path / "receiver.db", free_port()
    with receiver(running.app["consumer_secret"], db, port) as url:
        webhook_id = running.register(url)["id"]
        subscribe_everything(running, webhook_id)
    delivery = running.trigger("aaa.favorite")["routed"][0]["delivery_id"]
    running.settle()
    with receiver(running.app["consumer_secret"], db, port):
        running.advance(6)
        entry = next(item for item in running.deliveries(webhook_id) if item["id"] == delivery)
        assert [attempt["status"] for attempt in entry["attempts"]] == [None, 200]
        assert entry["attempts"][0]["error"] and entry["state"] == "delivered"
        assert stored(db) == 2  # both subscribed users' copies: one by retry, one by retry


def test_wrong_consumer_secret_fails_the_crc(running: Running, tmp_path: Path) -> None:
    with receiver("some-other-apps-secret", tmp_path / "receiver.db", free_port()) as url:
        response = running.http.post("/2/webhooks", json={"url": url}, headers=running.bearer)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("CrcValidationFailed: ")


def test_scheduled_crc_invalidates_then_put_revalidates(running: Running, tmp_path: Path) -> None:
    db, port = tmp_path / "receiver.db", free_port()
    with receiver(running.app["consumer_secret"], db, port) as url:
        webhook_id = running.register(url)["id"]
        subscribe_everything(running, webhook_id)
    running.advance(29 * 3600)  # down: every scheduled CRC from hour 24 on fails; past 28 h the webhook is invalid
    hooks = running.http.get("/2/webhooks", headers=running.bearer).json()["data"]
    assert [hook["valid"] for hook in hooks] == [False]
    with receiver(running.app["consumer_secret"], db, port):
        dropped = running.trigger("post.create")["routed"][0]["delivery_id"]
        running.settle()
        assert stored(db) == 0
        put = running.http.put(f"/2/webhooks/{webhook_id}", headers=running.bearer)
        assert put.json() == {"data": {"valid": True}}
        running.trigger("post.create")
        running.settle()
        assert stored(db) == 1
    states = {item["id"]: item["state"] for item in running.deliveries(webhook_id)}
    assert states[dropped] == "dropped"
