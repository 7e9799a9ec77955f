"""X's side of the Challenge-Response Check: the request, the verdict, and the schedule.

Theory (X's webhooks introduction, PLATFORM-NOTES §2.6):

* A CRC is sent when a webhook is created, on `PUT /2/webhooks/{id}`, and every 30 minutes for a webhook
  that has not been validated successfully in the past 24 hours (the quickstart says "hourly" instead; the
  `hourly` cadence checks every webhook every hour).
* The request is `GET <url>?crc_token=<token>&nonce=<nonce>`, signed like an event: the
  `x-twitter-webhooks-signature` header is the HMAC of the raw query string (documented for v1.1). It is
  built by `xhooks.protocol.crc.crc_request`, the same builder `xhooks doctor` uses.
* Success is a 2xx whose JSON `response_token` equals `sha256=base64(HMAC(consumer_secret, crc_token))`.
* A 2xx with a wrong or missing token, any 3xx, or a TLS failure makes the webhook invalid at once.
* A 4xx, a 5xx, a timeout or a refused connection is transient: the webhook becomes invalid only once it
  has gone more than 28 hours without a success (24 hours plus a 4-hour grace period).

`judge` is the pure rule; `CrcClient` does the I/O; `next_validity` applies a verdict to a webhook.
"""

from __future__ import annotations

import enum
import json
import secrets
import ssl
from dataclasses import dataclass

import httpx

from xhooks._net import is_loopback_url
from xhooks.emulator.delivery import x_request
from xhooks.emulator.state import Webhook
from xhooks.protocol import crc_request

__all__ = ["GRACE", "STALE_AFTER", "CrcClient", "CrcResult", "Verdict", "judge", "next_validity"]

STALE_AFTER = 24 * 3600.0
GRACE = 28 * 3600.0


class Verdict(enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    """Invalid at once: wrong token on a 2xx, a 3xx, or TLS failure."""
    TRANSIENT = "transient"
    """4xx, 5xx, timeout or connection failure: invalid only after 28 h without success."""


@dataclass(frozen=True)
class CrcResult:
    verdict: Verdict
    detail: str
    status: int | None = None


def judge(status: int, body: bytes, response_token: str) -> CrcResult:
    """The verdict on an HTTP answer to a CRC whose right answer is `response_token` (`CrcRequest.response_token`)."""
    if 300 <= status < 400:
        return CrcResult(Verdict.INVALID, f"Redirect ({status}) returned to the CRC request", status)
    if not 200 <= status < 300:
        return CrcResult(Verdict.TRANSIENT, f"Non-200 response code during CRC GET request ({status})", status)
    try:
        answer = json.loads(body)
    except ValueError:
        return CrcResult(Verdict.INVALID, "Invalid response_token: the CRC response is not JSON", status)
    if not isinstance(answer, dict) or answer.get("response_token") != response_token:
        return CrcResult(Verdict.INVALID, "Invalid response_token", status)
    return CrcResult(Verdict.VALID, "ok", status)


def next_validity(webhook: Webhook, result: CrcResult, now: float) -> bool:
    """Whether `webhook` is valid after `result` at time `now`."""
    if result.verdict is Verdict.VALID:
        return True
    if result.verdict is Verdict.INVALID:
        return False
    last_success = webhook.last_success_at if webhook.last_success_at is not None else webhook.created_at
    return webhook.valid and now - last_success <= GRACE


def is_due(webhook: Webhook, now: float, cadence: str) -> bool:
    """Whether a scheduled CRC should be sent to `webhook` now."""
    if cadence == "hourly":
        return True
    last_success = webhook.last_success_at if webhook.last_success_at is not None else webhook.created_at
    return now - last_success >= STALE_AFTER


class CrcClient:
    """Sends CRC requests over real HTTP."""

    def __init__(self, http: httpx.AsyncClient, timeout: float, remote_urls: bool) -> None:
        self.http = http
        self.timeout = timeout
        self.remote_urls = remote_urls

    async def check(self, url: str, consumer_secret: str) -> CrcResult:
        if not self.remote_urls and not is_loopback_url(url):
            return CrcResult(Verdict.TRANSIENT, "Unreachable: this emulator contacts local hosts only")
        crc = crc_request(url, secrets.token_urlsafe(32), secrets.token_urlsafe(16), consumer_secret)
        try:
            request = x_request(self.http, "GET", crc.url, dict(crc.headers), self.timeout)
            response = await self.http.send(request, follow_redirects=False)
        except httpx.TimeoutException:
            return CrcResult(Verdict.TRANSIENT, f"High latency on CRC GET request (over {self.timeout:g} s)")
        except httpx.ConnectError as exc:
            if isinstance(exc.__cause__, ssl.SSLError) or "SSL" in str(exc):
                return CrcResult(Verdict.INVALID, f"SSL exception during CRC GET request: {exc}")
            return CrcResult(Verdict.TRANSIENT, f"Could not connect for the CRC GET request: {exc}")
        except httpx.HTTPError as exc:
            return CrcResult(Verdict.TRANSIENT, f"CRC GET request failed: {exc}")
        return judge(response.status_code, response.content, crc.response_token)
