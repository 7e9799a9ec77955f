"""The receiver: an ASGI app that answers X's CRC and turns signed POSTs into committed deliveries.

The order of a POST is fixed: read the raw bytes (bounded in size and time), verify the signature over
exactly those bytes, parse the envelope, commit to the store, and only then answer 200. A store that
cannot commit answers 503, so X retries; nothing is acknowledged that is not stored.

| request | answer |
|---|---|
| GET path?crc_token=… (token-shaped) | 200 application/json `{"response_token": …}` |
| GET path without a usable crc_token | 400, nothing signed |
| POST path, no / empty signature | 401, counted |
| POST path, wrong signature | 403, counted |
| POST path, body over `max_body` | 413, connection closed |
| POST path, verified (any JSON or none) | 200 after commit; 503 if the store cannot commit |
| other method on path / unknown path | 405 / 404 |
| GET health_path | 200 `{"store":"writable"}` or 503 |

Slow clients are bounded by the server, not here: `xhooks serve` closes a connection whose request (headers
and body) is not complete within its request deadline (see `server.py`), and the receiver then sees a
disconnect and stores nothing. An `asyncio.timeout` per request would cost a quarter of the hot path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from xhooks._types import Receive, Scope, Send
from xhooks.errors import ConfigError, StoreError, VerificationError
from xhooks.protocol.crc import crc_response, crc_token_from_query
from xhooks.protocol.envelope import parse_envelope
from xhooks.protocol.signature import verify
from xhooks.receiver.config import DEFAULT_MAX_BODY, AppConfig
from xhooks.store.base import Delivery, Store

__all__ = ["Receiver"]

SIGNATURE_HEADER = b"x-twitter-webhooks-signature"
_JSON = [(b"content-type", b"application/json")]
_encode = msgspec.json.encode


class _BodyTooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


class Receiver:
    """The ASGI app behind `xhooks serve`; mount it anywhere an ASGI app goes.

    ```python
    store = open_store("xhooks.db")
    app = Receiver(store, [AppConfig(consumer_secrets=("my-consumer-secret",))])
    # uvicorn.run(app) — the lifespan starts and closes the store
    ```

    Raises:
        ConfigError: no app, or two apps on the same path.
    """

    def __init__(
        self,
        store: Store,
        apps: Sequence[AppConfig],
        *,
        max_body: int = DEFAULT_MAX_BODY,
        health_path: str = "/healthz",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not apps:
            raise ConfigError("the receiver needs at least one app (a path and its consumer secret)")
        self.routes = {app.path: app for app in apps}
        if len(self.routes) != len(apps):
            raise ConfigError("two apps share one path; give each X app its own --path")
        if health_path in self.routes:
            raise ConfigError(f"{health_path} is the health endpoint; choose another webhook path")
        if max_body <= 0:
            raise ConfigError("max_body must be a positive number of bytes")
        self.store = store
        self.max_body = max_body
        self.health_path = health_path
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        method: str = scope["method"]
        app = self.routes.get(path)
        if app is None:
            if path == self.health_path and method in ("GET", "HEAD"):
                await self._health(send)
            else:
                await _respond(send, 404, {"error": f"no webhook at {path}"})
        elif method == "POST":
            await self._delivery(app, scope, receive, send)
        elif method == "GET":
            await self._crc(app, scope, send)
        else:
            await _respond(send, 405, {"error": "X sends GET (CRC) and POST (events) only"}, [(b"allow", b"GET, POST")])

    # -- CRC -------------------------------------------------------------------------------------------

    async def _crc(self, app: AppConfig, scope: Scope, send: Send) -> None:
        header = _header(scope, SIGNATURE_HEADER)
        try:
            token = crc_token_from_query(scope["query_string"], header, app.consumer_secrets)
        except VerificationError as exc:
            await self.store.record_rejection(app.name, f"crc:{type(exc).__name__}", self.clock())
            await _respond(send, exc.status_hint, {"error": str(exc)})
            return
        await _respond(send, 200, crc_response(token, app.consumer_secrets[0]))

    # -- deliveries ------------------------------------------------------------------------------------

    async def _delivery(self, app: AppConfig, scope: Scope, receive: Receive, send: Send) -> None:
        received_at = self.clock()
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await _respond(send, 413, {"error": f"body over {self.max_body} bytes"}, close=True)
            return
        try:
            body = await self._read_body(receive)
        except _BodyTooLarge:
            await _respond(send, 413, {"error": f"body over {self.max_body} bytes"}, close=True)
            return
        except _Disconnected:
            return  # the client left before sending its body: nothing to verify, nobody to answer
        try:
            secret_index = verify(body, _header(scope, SIGNATURE_HEADER), app.consumer_secrets)
        except VerificationError as exc:
            await self.store.record_rejection(app.name, type(exc).__name__, received_at)
            await _respond(send, exc.status_hint, {"error": str(exc)})
            return
        envelope = parse_envelope(body)
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
        delivery = Delivery(app.name, received_at, headers, body, secret_index, envelope.shape, envelope.events)
        try:
            await self.store.record(delivery)
        except StoreError:
            await _respond(send, 503, {"error": "the store cannot commit; X will retry"}, [(b"retry-after", b"1")])
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    # -- health and lifespan ---------------------------------------------------------------------------

    async def _health(self, send: Send) -> None:
        if await self.store.check_writable(self.clock()):
            await _respond(send, 200, {"store": "writable"})
        else:
            await _respond(send, 503, {"store": "unwritable"})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.store.start()
                except StoreError as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _respond(
    send: Send, status: int, payload: Any, extra: list[tuple[bytes, bytes]] | None = None, close: bool = False
) -> None:
    body = _encode(payload)
    headers = [*_JSON, (b"content-length", str(len(body)).encode())]
    if extra:
        headers += extra
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
