"""The HTTP sink: POST each event to a URL, signed per Standard Webhooks, or with X's own bytes and signature.

`https://hooks.internal/x?secret=whsec_…` signs each POST as the Standard Webhooks spec says
(https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md), with the
`standardwebhooks` library: `webhook-id` is the event's dedup key, the same on every retry, so the receiver drops a
second copy; `webhook-timestamp` is when this attempt was signed; `webhook-signature` is `v1,<base64 HMAC-SHA256>` of
`id.timestamp.body`. With `format=x` the body is X's delivery as received and `x-twitter-webhooks-signature` X's
own header, for a receiver that verifies with the app's consumer secret (it still gets `webhook-id`).

Every POST carries the metadata as `xhooks-*` headers. A 2xx answer delivers; a timeout, a refused connection or
408, 429, 502, 503, 504 mean the receiver is unavailable (sent again later, no attempt counted); any other status
rejects the event (retried with backoff, then a dead letter). Each user's events are POSTed one after another.

Options: `secret` (a `whsec_` Standard Webhooks secret; required unless `format=x`), `timeout` (seconds per
attempt, default 10), `concurrency` (users POSTed to at once, default 16). Other query parameters stay on the URL.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlunsplit

import httpx

from xhooks.clock import Clock, SystemClock
from xhooks.errors import ConfigError
from xhooks.relay.message import SIGNATURE_HEADER, Format, Message
from xhooks.relay.sink import Failure, Outcome, Sink, query_items, send_in_order

if TYPE_CHECKING:
    from standardwebhooks.webhooks import Webhook

__all__ = ["HttpSink"]

log = logging.getLogger("xhooks.relay")

_UNAVAILABLE = frozenset({408, 429, 502, 503, 504})


class HttpSink(Sink):
    options = frozenset({"secret", "timeout", "concurrency"})
    foreign_options = True

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        super().__init__(url)
        ours = self.options | {"format"}
        query = "&".join(raw for name, _, raw in query_items(self.parts.query) if name not in ours)
        self.endpoint = urlunsplit(self.parts._replace(query=query, fragment=""))
        self.clock = clock or SystemClock()
        try:
            self.timeout = float(self.query.get("timeout", 10.0))
            self.concurrency = int(self.query.get("concurrency", 16))
        except ValueError as exc:
            raise ConfigError(f"{self.name}: timeout and concurrency must be numbers ({exc})") from None
        secret = self.query.get("secret")
        if secret is None and self.format is not Format.X:
            raise ConfigError(
                f"{self.name}: the HTTP sink signs per Standard Webhooks; add ?secret=whsec_… to the URL"
                " (or format=x to forward X's own signature)"
            )
        self._webhook = None if secret is None else _webhook(secret)
        self._client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        if self._client is None:
            limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
            self._client = httpx.AsyncClient(timeout=self.timeout, limits=limits)

    async def send(self, messages: Sequence[Message]) -> list[Outcome]:
        await self.open()
        return await send_in_order(messages, self._post, self.concurrency)

    async def _post(self, message: Message) -> Outcome:
        assert self._client is not None
        headers = {"content-type": message.content_type, "webhook-id": message.key, **message.headers()}
        if message.signature is not None:
            headers[SIGNATURE_HEADER] = message.signature
        if self._webhook is not None:
            signed_at = dt.datetime.fromtimestamp(int(self.clock.now()), dt.UTC)
            headers["webhook-timestamp"] = str(int(signed_at.timestamp()))
            headers["webhook-signature"] = self._webhook.sign(message.key, signed_at, message.body.decode())
        try:
            response = await self._client.post(self.endpoint, content=message.body, headers=headers)
        except httpx.HTTPError as exc:
            log.info("relay %s: event %s not delivered: %s: %s", self.name, message.event_id, type(exc).__name__, exc)
            return Failure(f"{type(exc).__name__}: {exc}".rstrip(": "), unavailable=True)
        if response.is_success:
            return None
        log.info("relay %s: event %s answered HTTP %s", self.name, message.event_id, response.status_code)
        error = f"HTTP {response.status_code}: {response.text[:300]}".rstrip(": ")
        return Failure(error, unavailable=response.status_code in _UNAVAILABLE)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _webhook(secret: str) -> Webhook:
    try:
        from standardwebhooks.webhooks import Webhook
    except ModuleNotFoundError as exc:
        raise ConfigError("the HTTP sink signs with an extra: pip install 'xhooks[standardwebhooks]'") from exc
    try:
        return Webhook(secret)
    except Exception as exc:  # the library raises binascii.Error, or its own empty-secret error
        raise ConfigError(f"the secret is not a Standard Webhooks secret (whsec_ and base64): {exc}") from None
