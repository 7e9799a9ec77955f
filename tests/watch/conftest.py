"""The watcher's world on 127.0.0.1: the emulator and a real `Receiver` on one manual clock, an alert sink.

The emulator, the receiver and the watcher all read the same `ManualClock`, and only the test moves it: through
the emulator's control API (`POST /_emulator/clock/advance`), which runs everything that falls due on the way
(deliveries and their retries, scheduled CRCs, replay jobs) to its end before it answers. The clock is set and slept
on only on the emulator's event loop; the receiver and the watcher just read it. The watcher runs one round
between two moves (`watch`), so each round sees a world at rest: X's hour-long CRC cadence and ten-minute replay
delay pass however slow the machine is, and every window, heartbeat and replay date agrees.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.support import free_port, read_store, serve_app
from xhooks._asgi import read_body
from xhooks._types import Receive, Scope, Send
from xhooks.client import AsyncXClient, Credentials
from xhooks.clock import ManualClock
from xhooks.emulator import Emulator, EmulatorConfig
from xhooks.metrics import Metrics
from xhooks.receiver import AppConfig, Receiver
from xhooks.store import EventQuery, StoredEvent, SyncReader
from xhooks.store.sqlite import SQLiteStore
from xhooks.watch import Watcher

HEARTBEAT_GAP = 300.0
"""Beats further apart than this (on X's clock) are downtime; `World.advance` moves a fifth of it at a time."""

_T = TypeVar("_T")


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
    clock: ManualClock
    emulator: Emulator
    url: str
    http: httpx.Client
    db: Path
    port: int
    metrics: Metrics = field(default_factory=Metrics)
    beating: bool = False
    """A receiver with a heartbeat is running."""

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

    @contextlib.asynccontextmanager
    async def receiver(
        self, secret: str | None = None, heartbeat: float | None = 0.02, max_body: int = 1024 * 1024
    ) -> AsyncIterator[Receiver]:
        """A real receiver on the world's port and database, on the world's clock; with a heartbeat, the block
        starts once the receiver has marked itself `up` at X's current time."""
        receiver = Receiver(
            SQLiteStore(self.db),
            [AppConfig((secret or self.secret,))],
            max_body=max_body,
            clock=self.clock.now,
            metrics=self.metrics,
            heartbeat=heartbeat,
            heartbeat_gap=HEARTBEAT_GAP,
        )
        with serve_app(receiver, port=self.port):
            self.beating = heartbeat is not None
            try:
                if self.beating:
                    await self._beat()
                yield receiver
            finally:
                self.beating = False

    async def advance(self, seconds: float) -> None:
        """Move X's clock `seconds` forward, running everything that falls due on the way to its end.

        While a beating receiver runs, time moves at most a fifth of `HEARTBEAT_GAP` at a time and waits for the
        receiver's beat at each new time, so its `up` span goes on unbroken, as it does on a live clock.
        """
        left = seconds
        while left > 0:
            step = min(left, HEARTBEAT_GAP / 5) if self.beating else left
            moved = self.http.post("/_emulator/clock/advance", json={"seconds": step})
            assert moved.status_code == 200, moved.text
            left -= step
            if self.beating:
                await self._beat()

    async def _beat(self) -> None:
        now = self.clock.now()
        await until(lambda: bool(self.read(lambda store: store.spans("up", since=now))), f"the heartbeat at {now}")

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
        """Produce an event on X and wait until X's first attempt at each of its deliveries is over."""
        response = self.http.post("/_emulator/events", json={"type": event_type})
        assert response.status_code == 200 and response.json()["routed"], response.text
        assert self.http.post("/_emulator/settle").status_code == 200

    def deliveries(self) -> list[dict[str, Any]]:
        return self.http.get("/_emulator/deliveries").json()["data"]  # type: ignore[no-any-return]

    def valid(self, webhook_id: str) -> bool:
        hooks = self.http.get("/2/webhooks", headers={"authorization": f"Bearer {self.bearer}"}).json()["data"]
        return bool(next(hook["valid"] for hook in hooks if hook["id"] == webhook_id))

    def stored(self, event_type: str | None = None) -> list[StoredEvent]:
        return list(self.read(lambda store: store.events(EventQuery(event_type=event_type, limit=1000))))

    def read(self, read: Callable[[SyncReader], _T]) -> _T:
        """One read of the receiver's database (synchronous, for conditions)."""
        return read_store(self.db, read)

    @contextlib.asynccontextmanager
    async def watcher_store(self) -> AsyncIterator[SQLiteStore]:
        """The watcher's own connection to the receiver's database, started (it writes spans too)."""
        store = SQLiteStore(self.db)
        await store.start()
        try:
            yield store
        finally:
            await store.close()


def world_at(tmp_path: Path, **config: Any) -> Iterator[World]:
    clock = ManualClock()
    settings = {"allow_local_urls": True, "remote_urls": False, "seed": 3, "rate_limits": False, **config}
    emulator = Emulator(EmulatorConfig(**settings), clock)
    with serve_app(emulator) as url, httpx.Client(base_url=url, timeout=60) as http:  # a hang guard
        yield World(clock, emulator, url, http, tmp_path / "receiver.db", free_port())


@pytest.fixture
def sink() -> Iterator[tuple[Sink, str]]:
    alerts = Sink()
    with serve_app(alerts) as url:
        yield alerts, url + "/alerts"


async def until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Wait, letting the loop run, until `condition()` holds; fail after `timeout` real seconds (a hang guard)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def watch(world: World, watcher: Watcher, done: Callable[[], bool], what: str, rounds: int = 1000) -> None:
    """Run `watcher` one round at a time, its interval apart on X's clock, until `done()` holds after a round:
    what `Watcher.run` does on a live clock, each round starting only once everything due before it has run."""
    for _ in range(rounds):
        await watcher.run(rounds=1)
        if done():
            return
        await world.advance(watcher.config.interval)
    raise AssertionError(f"{what}: not after {rounds} rounds of the watcher")


@pytest.fixture(autouse=True)
def _a_roomy_disk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every watcher here but test_disk.py's sees a disk with room to spare, so that no test's exact list of
    alerts depends on how full this machine's disk is (`disk_low` fires below 10 % or 1 GiB free)."""
    if request.module.__name__.endswith("test_disk"):
        return
    import xhooks.watch.watcher as watching
    from xhooks.store import Storage
    from xhooks.watch.disk import DiskWatch

    async def roomy() -> Storage:
        return Storage(size=0, free=1 << 50, total=1 << 50, oldest_body=None)

    class RoomyDisk(DiskWatch):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs, measure=roomy)

    monkeypatch.setattr(watching, "DiskWatch", RoomyDisk)
