"""CRC: the request X sends, X's verdict rules, and the schedule on a manual clock."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from tests.emulator.conftest import Consumer, Running, start
from tests.support import serve_app
from xhooks.emulator import EmulatorConfig
from xhooks.emulator.crc import GRACE, CrcResult, Verdict, judge, next_validity
from xhooks.emulator.state import Webhook
from xhooks.protocol import crc_response

SECRET = "consumer-secret"
TOKEN = "A" * 43


def _answer(secret: str = SECRET) -> bytes:
    import json

    return json.dumps(crc_response(TOKEN, secret)).encode()


@pytest.mark.parametrize(
    ("status", "body", "verdict"),
    [
        pytest.param(200, _answer(), Verdict.VALID, id="right-token"),
        pytest.param(204, _answer(), Verdict.VALID, id="any-2xx-with-the-right-token"),
        pytest.param(200, _answer("other"), Verdict.INVALID, id="wrong-token"),
        pytest.param(200, b"not json", Verdict.INVALID, id="not-json"),
        pytest.param(200, b"{}", Verdict.INVALID, id="no-token"),
        pytest.param(302, b"", Verdict.INVALID, id="redirect"),
        pytest.param(404, b"", Verdict.TRANSIENT, id="4xx"),
        pytest.param(503, _answer(), Verdict.TRANSIENT, id="5xx"),
    ],
)
def test_judge_follows_x_rules(status: int, body: bytes, verdict: Verdict) -> None:
    assert judge(status, body, crc_response(TOKEN, SECRET)["response_token"]).verdict is verdict


def _hook(valid: bool = True, last_success: float | None = 0.0) -> Webhook:
    return Webhook("1", "app", "https://example.com/w", valid, 0.0, last_success, None)


def test_transient_failures_invalidate_only_after_28_hours_without_success() -> None:
    transient = CrcResult(Verdict.TRANSIENT, "timeout")
    assert next_validity(_hook(), transient, GRACE) is True
    assert next_validity(_hook(), transient, GRACE + 1) is False
    assert next_validity(_hook(valid=False), transient, 60) is False  # a transient error never re-validates
    assert next_validity(_hook(valid=False), CrcResult(Verdict.VALID, "ok"), 60) is True
    assert next_validity(_hook(), CrcResult(Verdict.INVALID, "token"), 1) is False


def test_crc_request_carries_token_nonce_and_a_signature_over_the_raw_query(running: Running) -> None:
    consumer = Consumer(running.app["consumer_secret"])
    with serve_app(consumer) as url:
        running.register(url + "/webhook?tenant=7")
    (query,) = consumer.crc_queries  # registered: the consumer verified the signature over this raw query
    fields = parse_qs(query.decode())
    assert fields["tenant"] == ["7"] and len(fields["crc_token"][0]) == 43 and fields["nonce"][0]
    (headers,) = consumer.crc_headers  # X's GET carries its signature, not an HTTP client's defaults
    assert set(headers) == {"host", "x-twitter-webhooks-signature"}


@pytest.mark.parametrize(("crc_status", "reason_part"), [(301, "Redirect"), (500, "Non-200")])
def test_create_fails_on_redirect_and_server_error(running: Running, crc_status: int, reason_part: str) -> None:
    with serve_app(Consumer(running.app["consumer_secret"], crc_status=crc_status)) as url:
        response = running.http.post("/2/webhooks", json={"url": url + "/webhook"}, headers=running.bearer)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith(f"CrcValidationFailed: {reason_part}")


def test_tls_failure_is_a_failed_crc(running: Running) -> None:
    with serve_app(Consumer(running.app["consumer_secret"])) as url:
        tls_url = url.replace("http://", "https://") + "/webhook"  # a plain-HTTP server: the handshake fails
        response = running.http.post("/2/webhooks", json={"url": tls_url}, headers=running.bearer)
    assert response.json()["errors"][0]["message"].startswith("CrcValidationFailed: SSL exception")


def _states(running: Running) -> list[bool]:
    return [hook["valid"] for hook in running.http.get("/2/webhooks", headers=running.bearer).json()["data"]]


def test_scheduled_checks_start_after_24_hours_and_a_wrong_token_invalidates_at_once(
    running: Running, consumer_of: tuple[Consumer, str]
) -> None:
    consumer, url = consumer_of
    running.register(url)
    running.advance(23.9 * 3600)
    assert len(consumer.crc_queries) == 1  # validated at creation, so no scheduled check for 24 hours
    running.advance(0.2 * 3600)
    assert len(consumer.crc_queries) == 2 and _states(running) == [True]
    consumer.secret = "rotated-away"
    consumer.verify_crc = False
    running.advance(24 * 3600)
    assert _states(running) == [False]


def test_hourly_cadence_checks_every_hour() -> None:
    for running in start(EmulatorConfig(allow_local_urls=True, remote_urls=False, crc_cadence="hourly")):
        consumer = Consumer(running.app["consumer_secret"])
        with serve_app(consumer) as url:
            running.register(url + "/webhook")
            running.advance(3 * 3600)
        assert len(consumer.crc_queries) == 4


def test_put_on_a_failing_webhook_reports_crc_validation_failed(
    running: Running, consumer_of: tuple[Consumer, str]
) -> None:
    consumer, url = consumer_of
    webhook_id = running.register(url)["id"]
    consumer.crc_status = 500
    response = running.http.put(f"/2/webhooks/{webhook_id}", headers=running.bearer)
    assert response.json()["errors"][0]["message"].startswith("CrcValidationFailed: ")
    assert _states(running) == [True]  # transient, and validated less than 28 hours ago
