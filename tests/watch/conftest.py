"""The watcher's world on 127.0.0.1: the emulator and a real `Receiver` on one accelerated clock, an alert sink.

The emulator, the receiver and the watcher all read the same `ScaledClock`, so X's hour-long CRC cadence and
ten-minute replay delay pass in about a second, and every window, heartbeat and replay date agrees.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import free_port, serve_app
from xhooks._asgi import read_body
from xhooks._types import Receive, Scope, Send
from xhooks.client import AsyncXClient, Credentials
from xhooks.clock import ScaledClock
from xhooks.emulator import Emulator, EmulatorConfig
from xhooks.metrics import Metrics
from xhooks.receiver import AppConfig, Receiver
from xhooks.store import EventQuery, StoredEvent
from xhooks.store.sqlite import SQLiteStore


@dataclass
class Sink:
    """An alert webhook endpoint: records every JSON body POSTed to it."""

    received: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive, 1 << 20)
        self.received.append(json.loads(body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def states(self) -> list[tuple[str, str]]:
        return [(alert["alert"], alert["state"]) for alert in self.received]


@dataclass
class World:
    clock: ScaledClock
    emulator: Emulator
    url: str
    http: httpx.Client
    db: Path
    port: int
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def secret(self) -> str:
        return str(self.emulator.credentials()["apps"][0]["consumer_secret"])

    @property
    def bearer(self) -> str:
        return str(self.emulator.credentials()["apps"][0]["bearer_token"])

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    def client(self) -> AsyncXClient:
        return AsyncXClient(Credentials(bearer_token=self.bearer), base_url=self.url)

    @contextlib.contextmanager
    def receiver(
        self, secret: str | None = None, heartbeat: float | None = 0.02, max_body: int = 1024 * 1024
    ) -> Iterator[Receiver]:
        """A real receiver on the world's port and database, on the world's clock."""
        receiver = Receiver(
            SQLiteStore(self.db),
            [AppConfig((secret or self.secret,))],
            max_body=max_body,
            clock=self.clock.now,
            metrics=self.metrics,
            heartbeat=heartbeat,
            heartbeat_gap=300.0,
        )
        with serve_app(receiver, port=self.port):
            yield receiver

    def register(self) -> str:
        """Register the receiver's URL and subscribe the dev user (Account Activity); return the webhook id."""
        headers = {"authorization": f"Bearer {self.bearer}"}
        response = self.http.post("/2/webhooks", json={"url": self.webhook_url}, headers=headers)
        assert response.status_code == 200, response.text
        webhook_id = str(response.json()["data"]["id"])
        dev = self.emulator.credentials()["users"][0]
        path = f"/2/account_activity/webhooks/{webhook_id}/subscriptions/all"
        subscribed = self.http.post(path, headers={"authorization": f"Bearer {dev['oauth2_access_token']}"})
        assert subscribed.status_code == 200, subscribed.text
        return webhook_id

    def trigger(self, event_type: str) -> None:
        response = self.http.post("/_emulator/events", json={"type": event_type})
        assert response.status_code == 200 and response.json()["routed"], response.text

    def deliveries(self) -> list[dict[str, Any]]:
        return self.http.get("/_emulator/deliveries").json()["data"]  # type: ignore[no-any-return]

    def valid(self, webhook_id: str) -> bool:
        hooks = self.http.get("/2/webhooks", headers={"authorization": f"Bearer {self.bearer}"}).json()["data"]
        return bool(next(hook["valid"] for hook in hooks if hook["id"] == webhook_id))

    def stored(self, event_type: str | None = None) -> list[StoredEvent]:
        return list(self.store().events(EventQuery(event_type=event_type, limit=1000)))

    def store(self) -> SQLiteStore:
        """The receiver's database, for reading."""
        return SQLiteStore(self.db)

    @contextlib.asynccontextmanager
    async def watcher_store(self) -> AsyncIterator[SQLiteStore]:
        """The watcher's own connection to the receiver's database, started (it writes spans too)."""
        store = SQLiteStore(self.db)
        await store.start()
        try:
            yield store
        finally:
            await store.close()


def world_at(tmp_path: Path, factor: float, **config: Any) -> Iterator[World]:
    clock = ScaledClock(factor)
    settings = {"allow_local_urls": True, "remote_urls": False, "seed": 3, "rate_limits": False, **config}
    emulator = Emulator(EmulatorConfig(**settings), clock)
    with serve_app(emulator) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield World(clock, emulator, url, http, tmp_path / "receiver.db", free_port())


@pytest.fixture
def sink() -> Iterator[tuple[Sink, str]]:
    alerts = Sink()
    with serve_app(alerts) as url:
        yield alerts, url + "/alerts"


async def until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Wait (in real time, letting the loop run) until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running(coroutine: Any) -> AsyncIterator[asyncio.Task[Any]]:
    """Run `coroutine` as a task for the block; cancel it (and surface its error) afterwards."""
    task = asyncio.ensure_future(coroutine)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
