"""The Flask, FastAPI/Starlette and Django adapters pass the receiver's bad-input table (issue #2), each through
the framework's own test client, against a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
import types
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.receiver.conftest import SECRET
from xhooks.protocol import crc_response, signature
from xhooks.receiver import AppConfig, Receiver
from xhooks.store import EventQuery, open_reader
from xhooks.store.sqlite import SQLiteStore

TOKEN = "dGhpcy1pcy1hLWNyYy10b2tlbi1mcm9tLXg"
BODY = b'{"for_user_id":"1","tweet_create_events":[{"id_str":"10","text":"hi"}]}'
MAX_BODY = 4096

# (method, path, query, headers, body) -> (status, body)
Send = Callable[[str, str, dict[str, str], dict[str, str], bytes], tuple[int, bytes]]


def _receiver(db: Path) -> Receiver:
    return Receiver(SQLiteStore(db), [AppConfig((SECRET,))], max_body=MAX_BODY, heartbeat=60.0)


def _flask(db: Path) -> Iterator[Send]:
    import flask

    from xhooks.receiver.adapters.flask import mount

    app = flask.Flask("adapter-test")
    bridge = mount(app, _receiver(db))
    client = app.test_client()

    def send(method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        response = client.open(path, method=method, query_string=query, headers=headers, data=body)
        return response.status_code, response.get_data()

    try:
        yield send
    finally:
        bridge.close()


def _fastapi(db: Path) -> Iterator[Send]:
    from fastapi import FastAPI

    with warnings.catch_warnings():  # starlette 1.x prefers httpx2 for its test client; httpx works the same
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from xhooks.receiver.adapters.starlette import mount

    app = FastAPI()
    mount(app, _receiver(db))
    with TestClient(app) as client:

        def send(
            method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
        ) -> tuple[int, bytes]:
            response = client.request(method, path, params=query, headers=headers, content=body)
            return response.status_code, response.content

        yield send


def _django(db: Path) -> Iterator[Send]:
    import django
    from django.conf import settings
    from django.test import Client, override_settings

    from xhooks.receiver.adapters.django import urls

    if not settings.configured:
        settings.configure(
            SECRET_KEY="adapter-tests-only",
            ALLOWED_HOSTS=["testserver"],
            MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
            INSTALLED_APPS=[],
            USE_TZ=True,
        )
        django.setup()
    patterns = urls(_receiver(db))
    client = Client(enforce_csrf_checks=True)

    def send(method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        content_type = headers.pop("content-type", "application/octet-stream")
        response = client.generic(
            method,
            path,
            data=body,
            content_type=content_type,
            headers=headers,
            QUERY_STRING="&".join(f"{k}={v}" for k, v in query.items()),
        )
        return response.status_code, response.content

    urlconf = types.ModuleType("xhooks_adapter_test_urls")
    urlconf.urlpatterns = patterns  # type: ignore[attr-defined]
    with override_settings(ROOT_URLCONF=urlconf):
        try:
            yield send
        finally:
            patterns[0].bridge.close()


@pytest.fixture(params=[_flask, _fastapi, _django], ids=["flask", "fastapi", "django"])
def send(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Send]:
    yield from request.param(tmp_path / "adapter.db")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "adapter.db"


def _post(send: Send, body: bytes, secret: str | None = SECRET, **headers: str) -> tuple[int, bytes]:
    if secret is not None:
        headers["x-twitter-webhooks-signature"] = signature(body, secret)
    return send("POST", "/webhook", {}, {"content-type": "application/json", **headers}, body)


def test_crc_answers_with_the_response_token(send: Send) -> None:
    status, body = send("GET", "/webhook", {"crc_token": TOKEN}, {}, b"")
    assert status == 200
    assert json.loads(body) == crc_response(TOKEN, SECRET)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({}, id="no-token"),
        pytest.param({"crc_token": ""}, id="empty"),
        pytest.param({"crc_token": "%7B%22for_user_id%22%3A%221%22%7D"}, id="json-oracle"),
        pytest.param({"crc_token": "abcdefgh%20ijklmnopq"}, id="space"),
        pytest.param({"crc_token": "a" * 129}, id="too-long"),
    ],
)
def test_bad_crc_token_gets_400_and_nothing_signed(send: Send, query: dict[str, str]) -> None:
    status, body = send("GET", "/webhook", query, {}, b"")
    assert status == 400
    assert b"response_token" not in body


def test_signed_post_is_stored_before_200(send: Send, db_path: Path) -> None:
    assert _post(send, BODY)[0] == 200
    with open_reader(db_path) as store:
        (event,) = store.events(EventQuery())
    assert event.key == "aaa:1:tweet_create_events:10"


@pytest.mark.parametrize(
    ("secret", "headers", "status"),
    [
        pytest.param(None, {}, 401, id="no-header"),
        pytest.param(None, {"x-twitter-webhooks-signature": ""}, 401, id="empty-header"),
        pytest.param("wrong-secret", {}, 403, id="wrong-secret"),
    ],
)
def test_unsigned_or_badly_signed_post_is_refused(
    send: Send, db_path: Path, secret: str | None, headers: dict[str, str], status: int
) -> None:
    assert _post(send, BODY, secret, **headers)[0] == status
    with open_reader(db_path) as store:
        assert store.stats().events == 0


def test_signature_over_reserialised_json_is_rejected(send: Send, db_path: Path) -> None:
    sent = b'{"for_user_id": "1",  "tweet_create_events": []}'
    reserialised = json.dumps(json.loads(sent), separators=(",", ":")).encode()
    status, _ = send("POST", "/webhook", {}, {"x-twitter-webhooks-signature": signature(reserialised, SECRET)}, sent)
    assert status == 403
    with open_reader(db_path) as store:
        assert store.stats().deliveries == 0


def test_escaped_and_non_ascii_body_is_stored_byte_for_byte(send: Send, db_path: Path) -> None:
    body = '{"for_user_id":"1","tweet_create_events":[{"id_str":"5","text":"caf\\u00e9 ☕ é"}]}'.encode()
    assert _post(send, body)[0] == 200
    with open_reader(db_path) as store:
        (event,) = store.events(EventQuery())
        delivery = store.delivery(event.delivery_id)
    assert delivery is not None and delivery.body == body


def test_body_over_the_limit_gets_413(send: Send, db_path: Path) -> None:
    assert _post(send, b"x" * (MAX_BODY + 1))[0] == 413
    with open_reader(db_path) as store:
        assert store.stats().deliveries == 0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"for_user_id":"1","tweet_create_events":[', id="malformed-json"),
        pytest.param(b'{"some_future_shape":{"id":"1"}}', id="unknown-shape"),
    ],
)
def test_signed_but_unparseable_body_is_kept_as_unparsed(send: Send, db_path: Path, body: bytes) -> None:
    assert _post(send, body)[0] == 200
    with open_reader(db_path) as store:
        stats = store.stats()
    assert (stats.deliveries, stats.unparsed) == (1, 1)


def test_duplicate_delivery_is_acknowledged_and_counted_once(send: Send, db_path: Path) -> None:
    assert [_post(send, BODY)[0] for _ in range(3)] == [200, 200, 200]
    with open_reader(db_path) as store:
        stats = store.stats()
    assert (stats.deliveries, stats.events, stats.duplicates) == (3, 1, 2)


def test_store_that_cannot_commit_gets_503_never_200(send: Send, db_path: Path) -> None:
    assert _post(send, BODY)[0] == 200
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        assert _post(send, BODY.replace(b'"10"', b'"11"'))[0] == 503
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert _post(send, BODY.replace(b'"10"', b'"11"'))[0] == 200


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("PUT", "/webhook", 405, id="put"),
        pytest.param("DELETE", "/webhook", 405, id="delete"),
        pytest.param("GET", "/elsewhere", 404, id="unknown-get"),
        pytest.param("POST", "/elsewhere", 404, id="unknown-post"),
    ],
)
def test_wrong_method_or_path(send: Send, method: str, path: str, status: int) -> None:
    assert send(method, path, {}, {}, b"")[0] == status


def test_receiver_lifespan_runs_inside_the_framework(send: Send, db_path: Path) -> None:
    assert _post(send, BODY)[0] == 200
    with open_reader(db_path) as store:
        assert len(store.spans("up", 0.0)) == 1  # the heartbeat the watcher reads, beaten at startup


def test_reads_no_more_than_the_limit() -> None:
    from xhooks.receiver.adapters._bridge import read_limited

    reads: list[int] = []

    def read(size: int) -> bytes:
        reads.append(size)
        return b"z" * size

    assert read_limited(read, None, 100) == b"z" * 101
    assert read_limited(read, 10**9, 100) == b""
    assert sum(reads) == 101
