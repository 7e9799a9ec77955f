"""Fixtures for the emulator tests: an emulator on a manual clock, and a tiny consumer built on xhooks.protocol.

Both run under uvicorn on 127.0.0.1 (tests/support.serve_app); they meet only over HTTP.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.support import serve_app
from xhooks._asgi import read_body
from xhooks._types import Receive, Scope, Send
from xhooks.clock import ManualClock
from xhooks.emulator import Emulator, EmulatorConfig
from xhooks.emulator.activity_rules import PRIVATE_FAMILIES, family
from xhooks.errors import VerificationError
from xhooks.protocol import crc_response, crc_token_from_query, verify

# The header names of a captured X delivery (a DM, 2019; docs/emulator.md gives the source) without the ones the
# receiving side's load balancer added (X-Amzn-Trace-Id, X-Forwarded-*).
X_DELIVERY_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "finagle-ctx-com.twitter.finagle.deadline",
        "finagle-ctx-com.twitter.finagle.retries",
        "finagle-http-retryable-request",
        "x-b3-flags",
        "x-b3-parentspanid",
        "x-b3-sampled",
        "x-b3-spanid",
        "x-b3-traceid",
        "x-twitter-webhooks-signature",
    }
)


@dataclass
class Consumer:
    """Answers CRC with `secret` and records every verified POST; `status` is what POSTs get back."""

    secret: str
    status: int = 200
    crc_status: int = 200
    received: list[bytes] = field(default_factory=list)
    rejected: int = 0
    crc_queries: list[bytes] = field(default_factory=list)
    verify_crc: bool = True
    """Check the CRC request's own signature (False: answer like a consumer that ignores it)."""
    reserialise: bool = False
    """Check the signature over `json.dumps(json.loads(body))`, the classic consumer bug, instead of the raw body."""
    headers: list[dict[str, str]] = field(default_factory=list)
    """The headers of every POST, in arrival order."""
    crc_headers: list[dict[str, str]] = field(default_factory=list)
    """The headers of every CRC GET, in arrival order."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        body = await read_body(receive, 1 << 20)
        status, answer = 200, b""
        if scope["method"] == "GET":
            self.crc_queries.append(scope["query_string"])
            self.crc_headers.append(headers)
            signed = headers.get("x-twitter-webhooks-signature") if self.verify_crc else None
            try:
                token = crc_token_from_query(scope["query_string"], signed, [self.secret])
            except VerificationError as exc:
                status = exc.status_hint
            else:
                status = self.crc_status
                answer = json.dumps(crc_response(token, self.secret)).encode()
        else:
            self.headers.append(headers)
            signed = json.dumps(json.loads(body), separators=(",", ":")).encode() if self.reserialise else body
            try:
                verify(signed, headers.get("x-twitter-webhooks-signature"), [self.secret])
            except VerificationError as exc:
                self.rejected += 1
                status = exc.status_hint
            else:
                status = self.status
                if status == 200:
                    self.received.append(body)
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": answer})

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body in self.received]


@dataclass
class Running:
    emulator: Emulator
    url: str
    http: httpx.Client
    app: dict[str, Any]
    dev: dict[str, Any]
    friend: dict[str, Any]

    @property
    def bearer(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.app['bearer_token']}"}

    def user_bearer(self, user: dict[str, Any]) -> dict[str, str]:
        return {"authorization": f"Bearer {user['oauth2_access_token']}"}

    def activity_credentials(self, event_type: str, flt: dict[str, str]) -> dict[str, str]:
        """What X takes to subscribe to `event_type` with `flt`: the monitored user's own OAuth 2.0 token for a
        private type (dm, chat, like, mute, block), the app's Bearer token for the others."""
        if family(event_type) not in PRIVATE_FAMILIES:
            return self.bearer
        users = self.emulator.credentials()["users"]
        return self.user_bearer(next(user for user in users if user["id"] == flt["user_id"]))

    def advance(self, seconds: float) -> None:
        response = self.http.post("/_emulator/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text

    def settle(self) -> None:
        assert self.http.post("/_emulator/settle").status_code == 200

    def trigger(self, event_type: str, **fields: Any) -> dict[str, Any]:
        response = self.http.post("/_emulator/events", json={"type": event_type, **fields})
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def deliveries(self, webhook_id: str | None = None) -> list[dict[str, Any]]:
        params = {"webhook_id": webhook_id} if webhook_id else {}
        return self.http.get("/_emulator/deliveries", params=params).json()["data"]  # type: ignore[no-any-return]

    def register(self, url: str) -> dict[str, Any]:
        response = self.http.post("/2/webhooks", json={"url": url}, headers=self.bearer)
        assert response.status_code == 200, response.text
        return response.json()["data"]  # type: ignore[no-any-return]


def start(config: EmulatorConfig | None = None) -> Iterator[Running]:
    emulator = Emulator(config or EmulatorConfig(allow_local_urls=True, remote_urls=False, seed=1), ManualClock())
    with serve_app(emulator) as url, httpx.Client(base_url=url, timeout=60) as http:  # a hang guard
        creds = emulator.credentials()
        yield Running(emulator, url, http, creds["apps"][0], creds["users"][0], creds["users"][1])


@pytest.fixture
def running() -> Iterator[Running]:
    yield from start()


@pytest.fixture
def consumer_of(running: Running) -> Iterator[tuple[Consumer, str]]:
    consumer = Consumer(running.app["consumer_secret"])
    with serve_app(consumer) as url:
        yield consumer, url + "/webhook"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Emulator]:
    """`xhooks emulator` run in-process without serving: the emulators it would serve, in order. The command
    opens its listening socket before it builds the emulator (a port in use fails first); this closes it."""
    from xhooks.cli import emulator as emulator_cli

    emulators: list[Emulator] = []

    def serve(emulator: Emulator, host: str, port: int, sockets: list[socket.socket]) -> None:
        emulators.append(emulator)
        for sock in sockets:
            sock.close()

    monkeypatch.setattr(emulator_cli, "serve", serve)
    return emulators
