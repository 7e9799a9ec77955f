"""The receiver's bad-input table (issue #2), over real HTTP against a real SQLite file."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.receiver.conftest import SECRET
from xhooks.errors import ConfigError
from xhooks.protocol import crc_request, crc_response, signature
from xhooks.receiver import AppConfig, Receiver
from xhooks.store import EventQuery, SyncReader, open_reader
from xhooks.store.sqlite import SQLiteStore

TOKEN = "dGhpcy1pcy1hLWNyYy10b2tlbi1mcm9tLXg"
BODY = b'{"for_user_id":"1","tweet_create_events":[{"id_str":"10","text":"hi"}]}'


def _post(url: str, body: bytes, secret: str | None = SECRET, path: str = "/webhook", **headers: str) -> httpx.Response:
    if secret is not None:
        headers["x-twitter-webhooks-signature"] = signature(body, secret)
    return httpx.post(url + path, content=body, headers={"content-type": "application/json", **headers})


def _store(db_path: Path) -> SyncReader:
    return open_reader(db_path)


def test_crc_answers_with_the_response_token(base_url: str) -> None:
    response = httpx.get(base_url + "/webhook", params={"crc_token": TOKEN, "nonce": "123"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == crc_response(TOKEN, SECRET)


def test_each_app_answers_crc_with_its_own_secret(base_url: str) -> None:
    response = httpx.get(base_url + "/second", params={"crc_token": TOKEN})
    assert response.json() == crc_response(TOKEN, "second-app-secret")


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({}, id="no-token"),
        pytest.param({"crc_token": ""}, id="empty"),
        pytest.param({"crc_token": '{"for_user_id":"1"}'}, id="json-oracle"),
        pytest.param({"crc_token": "abcdefgh ijklmnopq"}, id="space"),
        pytest.param({"crc_token": 'abcdefghijklmnopq"'}, id="quote"),
        pytest.param({"crc_token": "a" * 129}, id="too-long"),
    ],
)
def test_bad_crc_token_gets_400_and_nothing_signed(base_url: str, query: dict[str, str]) -> None:
    response = httpx.get(base_url + "/webhook", params=query)
    assert response.status_code == 400
    assert "response_token" not in response.text
    assert "sha256=" not in response.text


def test_crc_with_a_wrong_query_signature_is_refused(base_url: str) -> None:
    query = f"crc_token={TOKEN}&nonce=1"
    bad = httpx.get(f"{base_url}/webhook?{query}", headers={"x-twitter-webhooks-signature": signature(b"x", SECRET)})
    good = httpx.get(
        f"{base_url}/webhook?{query}", headers={"x-twitter-webhooks-signature": signature(query.encode(), SECRET)}
    )
    assert bad.status_code == 403
    assert good.status_code == 200


@pytest.mark.parametrize("query", [pytest.param("", id="plain-url"), pytest.param("?tenant=1", id="url-with-a-query")])
@pytest.mark.parametrize(
    ("header", "status"),
    [
        pytest.param("right", 200, id="signed"),
        pytest.param(None, 200, id="unsigned"),
        pytest.param("", 401, id="empty-signature"),
        pytest.param(signature(b"crc_token=x&nonce=1", SECRET), 403, id="wrong-signature"),
    ],
)
def test_crc_get_signature_is_checked_whenever_it_is_sent(
    base_url: str, query: str, header: str | None, status: int
) -> None:
    """The GET exactly as the emulator and the doctor build it (`crc_request`), with its header as given."""
    crc = crc_request(f"{base_url}/webhook{query}", TOKEN, "n0nce", SECRET)
    headers = crc.headers if header == "right" else {} if header is None else {"x-twitter-webhooks-signature": header}
    response = httpx.get(crc.url, headers=headers)
    assert response.status_code == status
    assert (response.json().get("response_token") == crc.response_token) is (status == 200)


def test_signed_post_is_stored_before_200(base_url: str, db_path: Path) -> None:
    response = _post(base_url, BODY)
    assert response.status_code == 200
    with _store(db_path) as store:
        (event,) = store.events(EventQuery())
    assert (event.event_type, event.for_user_id, event.status) == ("tweet_create_events", "1", "pending")


@pytest.mark.parametrize(
    ("secret", "headers", "status"),
    [
        pytest.param(None, {}, 401, id="no-header"),
        pytest.param(None, {"x-twitter-webhooks-signature": ""}, 401, id="empty-header"),
        pytest.param("wrong-secret", {}, 403, id="wrong-secret"),
        pytest.param("second-app-secret", {}, 403, id="other-apps-secret"),
    ],
)
def test_unsigned_or_badly_signed_post_is_refused_and_counted(
    base_url: str, db_path: Path, secret: str | None, headers: dict[str, str], status: int
) -> None:
    response = _post(base_url, BODY, secret, **headers)
    assert response.status_code == status
    assert httpx.get(base_url + "/healthz").status_code == 200  # flushes the counted rejection
    with _store(db_path) as store:
        stats = store.stats()
    assert (stats.deliveries, stats.events) == (0, 0)
    assert sum(stats.rejections.values()) == 1


def test_signature_over_reserialised_json_is_rejected(base_url: str) -> None:
    sent = b'{"for_user_id": "1", "tweet_create_events": [{"id_str": "10", "text": "caf\\u00e9"}]}'
    reserialised = json.dumps(json.loads(sent), separators=(",", ":"), ensure_ascii=False).encode()
    response = httpx.post(
        base_url + "/webhook", content=sent, headers={"x-twitter-webhooks-signature": signature(reserialised, SECRET)}
    )
    assert response.status_code == 403


def test_escaped_and_non_ascii_body_is_stored_byte_for_byte(base_url: str, db_path: Path) -> None:
    body = (
        b'{"for_user_id":"1","direct_message_events":[{"id":"5","type":"message_create",'
        b'"message_create":{"message_data":{"text":"caf\\u00e9 \\ud83d\\ude00 \xe2\x9c\x93 \\"q\\""}}}]}'
    )
    assert _post(base_url, body).status_code == 200
    with _store(db_path) as store:
        (event,) = store.events(EventQuery())
        delivery = store.delivery(event.delivery_id)
    assert delivery is not None and delivery.body == body


def test_body_over_the_limit_gets_413_and_the_connection_closed(base_url: str) -> None:
    host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
    body = b"x" * (64 * 1024 + 1)
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(
            b"POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\nx-twitter-webhooks-signature: {signature(body, SECRET)}\r\n\r\n".encode()
        )
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413")
    assert b"connection: close" in reply.lower()


def test_chunked_body_over_the_limit_gets_413(base_url: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(70):
            yield b"y" * 1024

    response = httpx.post(base_url + "/webhook", content=chunks(), headers={"x-twitter-webhooks-signature": "sha256="})
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param(b'{"for_user_id":"1","tweet_create_events":[', "quarantined", id="malformed-json"),
        pytest.param(b'{"some_future_shape":{"id":"1"}}', "pending", id="unknown-shape"),
        pytest.param(b"", "quarantined", id="empty-body"),
    ],
)
def test_signed_but_unparseable_body_is_kept_as_unparsed(
    base_url: str, db_path: Path, body: bytes, status: str
) -> None:
    assert _post(base_url, body).status_code == 200
    with _store(db_path) as store:
        stats = store.stats()
        (event,) = store.events(EventQuery())
        delivery = store.delivery(event.delivery_id)
    assert (stats.deliveries, stats.unparsed) == (1, 1)
    assert event.status == status  # a JSON object of no known shape may be a new X product; anything else is not X
    assert delivery is not None and delivery.body == body


def test_duplicate_delivery_is_acknowledged_and_counted_once(base_url: str, db_path: Path) -> None:
    for _ in range(3):
        assert _post(base_url, BODY).status_code == 200
    with _store(db_path) as store:
        stats = store.stats()
    assert (stats.deliveries, stats.events, stats.duplicates) == (3, 1, 2)


def test_store_that_cannot_commit_gets_503_then_recovers(base_url: str, db_path: Path) -> None:
    assert _post(base_url, BODY).status_code == 200
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database: SQLITE_BUSY
    try:
        other = BODY.replace(b'"10"', b'"11"')
        response = _post(base_url, other)
        assert response.status_code == 503
        health = httpx.get(base_url + "/healthz")
        assert (health.status_code, health.json()["store"]) == (503, "failing")  # the delivery's failure decides
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert _post(base_url, other).status_code == 200
    assert httpx.get(base_url + "/healthz").json() == {"store": "writable"}
    with _store(db_path) as store:
        keys = [event.key for event in store.events(EventQuery())]
    assert sorted(keys) == ["aaa:1:tweet_create_events:10", "aaa:1:tweet_create_events:11"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("PUT", "/webhook", 405, id="put"),
        pytest.param("DELETE", "/webhook", 405, id="delete"),
        pytest.param("GET", "/elsewhere", 404, id="unknown-get"),
        pytest.param("POST", "/elsewhere", 404, id="unknown-post"),
    ],
)
def test_wrong_method_or_path(base_url: str, method: str, path: str, status: int) -> None:
    assert httpx.request(method, base_url + path).status_code == status


def test_each_app_verifies_with_its_own_secrets(base_url: str, db_path: Path) -> None:
    assert _post(base_url, BODY, "second-app-secret", path="/second").status_code == 200
    assert _post(base_url, BODY, SECRET, path="/second").status_code == 403
    with _store(db_path) as store:
        (event,) = store.events(EventQuery())
    assert event.app == "/second"


def test_rotated_secrets_are_all_accepted(tmp_path: Path) -> None:
    from tests.support import serve_app

    receiver = Receiver(SQLiteStore(tmp_path / "r.db"), [AppConfig(("new-secret", "old-secret"))])
    with serve_app(receiver) as url:
        assert _post(url, BODY, "old-secret").status_code == 200
        assert _post(url, BODY.replace(b'"10"', b'"12"'), "new-secret").status_code == 200
        crc = httpx.get(url + "/webhook", params={"crc_token": TOKEN}).json()
    assert crc == crc_response(TOKEN, "new-secret")


@pytest.mark.parametrize(
    "apps",
    [
        pytest.param([], id="no-app"),
        pytest.param([AppConfig(("a",)), AppConfig(("b",))], id="same-path"),
        pytest.param([AppConfig(("a",), path="/healthz")], id="health-path"),
    ],
)
def test_bad_receiver_configuration_is_refused_up_front(tmp_path: Path, apps: list[AppConfig]) -> None:
    with pytest.raises(ConfigError):
        Receiver(SQLiteStore(tmp_path / "x.db"), apps)


@pytest.mark.parametrize("secrets", [(), ("",)], ids=["none", "empty"])
def test_app_without_a_secret_is_refused(secrets: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError, match="XHOOKS_CONSUMER_SECRET"):
        AppConfig(secrets)


def test_app_config_repr_masks_secrets() -> None:
    text = repr(AppConfig(("a-very-long-consumer-secret-value",)))
    assert "a-very-long-consumer-secret-value" not in text


def test_crc_flood_is_answered_but_logged_at_a_bounded_rate(base_url: str, db_path: Path) -> None:
    from xhooks.receiver.app import CRC_LOG_PER_SECOND

    started = time.monotonic()
    with httpx.Client(base_url=base_url) as client:
        answers = [client.get("/webhook", params={"crc_token": TOKEN}).status_code for _ in range(300)]
    seconds = time.monotonic() - started
    assert answers == [200] * 300
    deadline = time.monotonic() + 60  # a hang guard
    with _store(db_path) as store:
        while not (logged := store.crcs(0.0, limit=1000)) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.2)  # the last window's records
        logged = store.crcs(0.0, limit=1000)
    windows = int(seconds) + 2
    assert 1 <= len(logged) <= CRC_LOG_PER_SECOND * windows < 300
