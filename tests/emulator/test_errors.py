"""Every reason X documents, produced over HTTP, with X's body asserted byte for byte in shape."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.emulator.conftest import Consumer, Running, start
from tests.support import serve_app
from xhooks.emulator import EmulatorConfig

INVALID = {
    "title": "Invalid Request",
    "detail": "One or more parameters to your request was invalid.",
    "type": "https://api.twitter.com/2/problems/invalid-request",
}


def assert_reason(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 400, response.text
    assert response.content.startswith(b'{"errors":[{"message":"' + reason.encode() + b": ")
    body = response.json()
    assert list(body) == ["errors", "title", "detail", "type"]
    assert {key: body[key] for key in INVALID} == INVALID
    assert len(body["errors"]) == 1 and list(body["errors"][0]) == ["message"]


@pytest.fixture
def small() -> Iterator[Running]:
    config = EmulatorConfig(
        allow_local_urls=True, remote_urls=False, max_aaa_subscriptions=1, rate_limits=True, limits={"webhooks.list": 2}
    )
    yield from start(config)


@pytest.fixture
def hook(small: Running) -> Iterator[tuple[Running, str, str]]:
    with serve_app(Consumer(small.app["consumer_secret"])) as url:
        yield small, small.register(url + "/webhook")["id"], url + "/webhook"


def test_crc_validation_failed_when_the_consumer_signs_with_another_secret(running: Running) -> None:
    with serve_app(Consumer("not-the-consumer-secret", verify_crc=False)) as url:
        response = running.http.post("/2/webhooks", json={"url": url + "/webhook"}, headers=running.bearer)
    assert_reason(response, "CrcValidationFailed")
    assert "response_token" in response.json()["errors"][0]["message"]
    assert running.http.get("/2/webhooks", headers=running.bearer).json()["data"] == []


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://example.com/webhook", id="not-https"),
        pytest.param("https://example.com:8443/webhook", id="port"),
        pytest.param("https://example.com/" + "a" * 190, id="over-200-chars"),
        pytest.param("not a url", id="malformed"),
        pytest.param("http://10.0.0.1:8080/webhook", id="non-local-http-even-with-allow-local"),
    ],
)
def test_url_validation_failed(running: Running, url: str) -> None:
    assert_reason(running.http.post("/2/webhooks", json={"url": url}, headers=running.bearer), "UrlValidationFailed")


def test_duplicate_url_failed(hook: tuple[Running, str, str]) -> None:
    running, _, url = hook
    assert_reason(running.http.post("/2/webhooks", json={"url": url}, headers=running.bearer), "DuplicateUrlFailed")


def test_webhook_limit_exceeded_has_an_empty_detail(hook: tuple[Running, str, str]) -> None:
    running, _, url = hook
    response = running.http.post("/2/webhooks", json={"url": url + "/other"}, headers=running.bearer)
    assert_reason(response, "WebhookLimitExceeded")
    assert response.json()["errors"][0]["message"] == "WebhookLimitExceeded: "


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_webhook_id_invalid(running: Running, method: str) -> None:
    assert_reason(running.http.request(method, "/2/webhooks/1234567890", headers=running.bearer), "WebhookIdInvalid")


def test_duplicate_subscription_and_subscription_limit(hook: tuple[Running, str, str]) -> None:
    running, webhook_id, _ = hook
    path = f"/2/account_activity/webhooks/{webhook_id}/subscriptions/all"
    assert running.http.post(path, headers=running.user_bearer(running.dev)).json() == {"data": {"subscribed": True}}
    assert_reason(running.http.post(path, headers=running.user_bearer(running.dev)), "DuplicateSubscriptionFailed")
    assert_reason(running.http.post(path, headers=running.user_bearer(running.friend)), "SubscriptionLimitExceeded")


def test_subscription_not_found(hook: tuple[Running, str, str]) -> None:
    running, webhook_id, _ = hook
    path = f"/2/account_activity/webhooks/{webhook_id}/subscriptions/{running.friend['id']}/all"
    assert_reason(running.http.delete(path, headers=running.bearer), "SubscriptionNotFound")


def _minute(running: Running, offset: float) -> str:
    import datetime as dt

    now = running.http.get("/_emulator/clock").json()["now"]
    return dt.datetime.fromtimestamp(now + offset, dt.UTC).strftime("%Y%m%d%H%M")


def test_replay_conflict_error_while_a_job_runs(hook: tuple[Running, str, str]) -> None:
    running, webhook_id, _ = hook
    body = {"webhook_id": webhook_id, "from_date": _minute(running, -3600), "to_date": _minute(running, 0)}
    first = running.http.post("/2/webhooks/replay", json=body, headers=running.bearer)
    assert first.status_code == 200 and set(first.json()["data"]) == {"job_id", "created_at"}
    assert_reason(running.http.post("/2/webhooks/replay", json=body, headers=running.bearer), "ReplayConflictError")
    running.advance(2)  # the job runs and ends; a new one is accepted
    assert running.http.post("/2/webhooks/replay", json=body, headers=running.bearer).status_code == 200


@pytest.mark.parametrize(
    ("from_offset", "to_offset", "raw"),
    [
        pytest.param(-25 * 3600, 0, None, id="older-than-24h"),
        pytest.param(-60, -3600, None, id="from-after-to"),
        pytest.param(3600, 7200, None, id="from-in-future"),
        pytest.param(-3600, 7200, None, id="to-in-future"),
        pytest.param(0, 0, "2026-01-01", id="bad-format"),
    ],
)
def test_query_param_invalid(hook: tuple[Running, str, str], from_offset: int, to_offset: int, raw: str | None) -> None:
    running, webhook_id, _ = hook
    body = {
        "webhook_id": webhook_id,
        "from_date": raw or _minute(running, from_offset),
        "to_date": _minute(running, to_offset),
    }
    assert_reason(running.http.post("/2/webhooks/replay", json=body, headers=running.bearer), "QueryParamInvalid")


def test_missing_or_wrong_credentials_get_x_401(running: Running) -> None:
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": 'OAuth oauth_consumer_key="x"'}):
        response = running.http.get("/2/webhooks", headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "title": "Unauthorized",
            "detail": "Unauthorized",
            "type": "about:blank",
            "status": 401,
        }


def test_app_only_token_on_a_user_endpoint_gets_x_403(hook: tuple[Running, str, str]) -> None:
    running, webhook_id, _ = hook
    response = running.http.post(f"/2/account_activity/webhooks/{webhook_id}/subscriptions/all", headers=running.bearer)
    assert response.status_code == 403
    body = response.json()
    assert body["title"] == "Unsupported Authentication" and body["status"] == 403
    assert body["type"] == "https://api.twitter.com/2/problems/unsupported-authentication"
    assert body["detail"] == (
        "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
        "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context]."
    )


def test_rate_limit_headers_then_x_429(small: Running) -> None:
    first = small.http.get("/2/webhooks", headers=small.bearer)
    assert first.headers["x-rate-limit-limit"] == "2" and first.headers["x-rate-limit-remaining"] == "1"
    reset = int(first.headers["x-rate-limit-reset"])
    assert small.http.get("/2/webhooks", headers=small.bearer).headers["x-rate-limit-remaining"] == "0"
    limited = small.http.get("/2/webhooks", headers=small.bearer)
    assert limited.status_code == 429
    assert json.loads(limited.content) == {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    }
    assert int(limited.headers["x-rate-limit-reset"]) == reset
    small.advance(15 * 60)
    assert small.http.get("/2/webhooks", headers=small.bearer).status_code == 200


def test_rate_limits_switched_off_send_no_headers() -> None:
    for running in start(EmulatorConfig(rate_limits=False)):
        response = running.http.get("/2/webhooks", headers=running.bearer)
        assert response.status_code == 200 and "x-rate-limit-limit" not in response.headers
