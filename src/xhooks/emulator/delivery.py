"""Signed event POSTs, with X's retry schedule, optional duplicates, and a log of every attempt.

Bytes: compact JSON in the style of X's captured deliveries: every non-ASCII character escaped as `\\uXXXX`
(lower-case hex), `/` as `\\/`, and `<` `>` as `\\u003c` `\\u003e`. A consumer that re-serialises the body before
checking the signature therefore fails here as it would against X. The signature is computed over exactly the
bytes sent.

Only a 200 counts as delivered (X: "Return a 200 status"). A failed attempt is retried at X's legacy offsets
from the first attempt (0, 6, 36, 281 s) unless retries are off. Nothing is sent to a webhook that is invalid
when an attempt falls due: the delivery is logged as `dropped`.

Headers: X's captured deliveries carry `Content-Type: application/json`, the signature, and the headers of
X's own infrastructure (Finagle's deadline and retry contexts, B3 trace ids), and no `User-Agent`, `Accept`
or `Accept-Encoding`; `x_headers` is that set, and nothing else goes on the wire but `Host` and
`Content-Length` (docs/emulator.md cites the capture).
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx

from xhooks._net import is_loopback_url
from xhooks.emulator.config import EmulatorConfig
from xhooks.emulator.scheduler import Scheduler
from xhooks.emulator.state import State, Webhook
from xhooks.protocol import signature

__all__ = ["Deliverer", "encode", "x_headers", "x_request"]

logger = logging.getLogger("xhooks.emulator")


@dataclass(frozen=True)
class _Pending:
    delivery_id: int
    webhook_id: str
    body: bytes
    kind: str
    first_at: float


# Outside strings JSON never holds these characters, so replacing them in the whole text escapes them in strings.
_X_ESCAPES = str.maketrans({"/": "\\/", "<": "\\u003c", ">": "\\u003e"})


def encode(event: Any) -> bytes:
    """X's byte style: no spaces, non-ASCII as `\\uXXXX`, `/` as `\\/`, `<` and `>` as `\\u003c`/`\\u003e`."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=True).translate(_X_ESCAPES).encode("ascii")


# Headers every HTTP client adds by default and X's requests do not carry.
_CLIENT_DEFAULTS = ("user-agent", "accept", "accept-encoding", "connection")


def x_request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    headers: dict[str, str],
    timeout: float,
    content: bytes | None = None,
) -> httpx.Request:
    """A request to a consumer carrying `headers` and none of the HTTP client's defaults, as X's requests do
    (deliveries and CRC GETs alike)."""
    request = http.build_request(method, url, content=content, headers=headers, timeout=timeout)
    for name in _CLIENT_DEFAULTS:
        request.headers.pop(name, None)
    return request


def x_headers(body: bytes, consumer_secret: str, at: float, timeout: float, retries: int) -> dict[str, str]:
    """The headers of one delivery attempt of `body`, made at `at`, as X sends them."""
    started, deadline = round(at * 1000) * 1_000_000, round((at + timeout) * 1000) * 1_000_000
    trace = secrets.token_hex(8)
    return {
        "Content-Type": "application/json",
        "Finagle-Ctx-Com.twitter.finagle.deadline": f"{started} {deadline}",
        "Finagle-Ctx-Com.twitter.finagle.retries": str(retries),
        "Finagle-Http-Retryable-Request": "",
        "X-B3-Flags": "2",
        "X-B3-Parentspanid": trace,
        "X-B3-Sampled": "false",
        "X-B3-Spanid": secrets.token_hex(8),
        "X-B3-Traceid": trace,
        "X-Twitter-Webhooks-Signature": signature(body, consumer_secret),
    }


class Deliverer:
    """Queues deliveries on the scheduler and performs the attempts."""

    def __init__(self, state: State, scheduler: Scheduler, http: httpx.AsyncClient, config: EmulatorConfig) -> None:
        self.state = state
        self.scheduler = scheduler
        self.http = http
        self.config = config
        self.random = random.Random(config.seed)

    def send(self, webhook: Webhook, body: bytes, kind: str = "event") -> int:
        """Log a delivery of `body` to `webhook` and schedule its first attempt; returns the delivery id."""
        now = self.scheduler.clock.now()
        if not webhook.valid:
            return self.state.log_delivery(webhook.id, body, now, kind, "dropped")
        pending = _Pending(self.state.log_delivery(webhook.id, body, now, kind, "pending"), webhook.id, body, kind, now)
        self._schedule(pending, 0)
        return pending.delivery_id

    def resume(self) -> int:
        """Reschedule deliveries a previous run left mid-schedule, at their next attempt; returns how many."""
        resumed = 0
        for delivery_id, webhook_id, body, kind, created_at, attempts in self.state.unfinished():
            if attempts < len(self.config.retry_schedule):
                self._schedule(_Pending(delivery_id, webhook_id, body, kind, created_at), attempts)
                resumed += 1
            else:
                self.state.set_delivery_state(delivery_id, "failed")
        return resumed

    def _schedule(self, pending: _Pending, number: int) -> None:
        async def job() -> None:
            await self._attempt(pending, number)

        self.scheduler.at(pending.first_at + self.config.retry_schedule[number], job)

    async def _attempt(self, pending: _Pending, number: int) -> None:
        webhook = self.state.webhook(pending.webhook_id)
        if webhook is None or not webhook.valid:
            self.state.set_delivery_state(pending.delivery_id, "dropped")
            return
        if await self.post(pending.delivery_id, webhook, pending.body, number):
            self.state.set_delivery_state(pending.delivery_id, "delivered")
            if pending.kind == "event" and self.random.random() < self.config.duplicate_rate:
                self.send(webhook, pending.body, kind="duplicate")
        elif number + 1 < len(self.config.retry_schedule):
            self._schedule(pending, number + 1)
        else:
            self.state.set_delivery_state(pending.delivery_id, "failed")

    async def post(self, delivery_id: int, webhook: Webhook, body: bytes, number: int) -> bool:
        """One signed POST, logged; True only for a 200."""
        app = self.state.app(webhook.app_id)
        if app is None:
            return False
        at = self.scheduler.clock.now()
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        if not self.config.remote_urls and not is_loopback_url(webhook.url):
            self.state.log_attempt(
                delivery_id, number, at, None, 0.0, "not sent: this emulator contacts local hosts only"
            )
            return False
        headers = x_headers(body, app.consumer_secret, at, self.config.delivery_timeout, number)
        request = x_request(self.http, "POST", webhook.url, headers, self.config.delivery_timeout, body)
        try:
            response = await self.http.send(request, follow_redirects=False)
            status = response.status_code
        except httpx.TimeoutException:
            error = f"timeout after {self.config.delivery_timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a client library's own bug (anyio raised AttributeError on a
            # connection reset mid-connect) is still a failed attempt that X retries, never a lost delivery
            error = f"{type(exc).__name__}: {exc}"
            logger.warning("delivery %d attempt %d failed unexpectedly: %r", delivery_id, number, exc)
        latency_ms = (time.monotonic() - started) * 1000
        self.state.log_attempt(delivery_id, number, at, status, latency_ms, error)
        return status == 200
