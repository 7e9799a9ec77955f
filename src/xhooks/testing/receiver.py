"""A receiver as a test sees it: `xhooks serve --app` in a thread, registered as the emulator's webhook, with
its store to read back and a wait that ends when events have been handled."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from xhooks.client import Credentials, XClient
from xhooks.dispatch import WorkerConfig, XHooks
from xhooks.protocol.events import Event, decode_event
from xhooks.protocol.lifecycle import SETTLED_STATES
from xhooks.receiver import AppConfig
from xhooks.serving import ProcessConfig, build_servers
from xhooks.store import EventQuery, StoredEvent, open_reader
from xhooks.testing.emulator import RunningEmulator
from xhooks.testing.servers import in_thread

__all__ = ["SETTLED", "RunningReceiver", "run_receiver"]

SETTLED = frozenset(state.value for state in SETTLED_STATES)
"""The statuses of an event whose handling is over: handled, ignored, dead …"""

WAIT_TIMEOUT = 60.0
"""A hang guard, not a wait: `wait_until` returns as soon as its condition holds."""

_POLL = 0.01


@dataclass(frozen=True)
class RunningReceiver:
    """A receiver (with its worker running your handlers) at `url`, subscribed to the dev user's events as the
    emulator's webhook `webhook_id`; every delivery it acknowledged is in the store at `db`."""

    url: str
    webhook_url: str
    webhook_id: str
    db: Path

    def events(self, event_type: str | None = None) -> list[StoredEvent]:
        """The stored events (of `event_type`, when given), oldest first."""

        def read() -> list[StoredEvent]:
            with open_reader(self.db) as reader:
                return sorted(reader.events(EventQuery(event_type=event_type, limit=10_000)), key=lambda e: e.id)

        with ThreadPoolExecutor(1) as pool:  # a sync read cannot run on a running loop (an async test's)
            return pool.submit(read).result()

    def body(self, event: StoredEvent) -> bytes:
        """The raw bytes of the delivery that carried `event`."""

        def read() -> bytes:
            with open_reader(self.db) as reader:
                delivery = reader.delivery(event.delivery_id)
                return delivery.body if delivery is not None else b""

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(read).result()

    def event(self, stored: StoredEvent) -> Event:
        """The typed event (`DirectMessage`, `PostCreate` …) that `stored` is, as your handlers received it."""
        return decode_event(self.body(stored), stored.index, stored.event_type)

    def wait_until(
        self,
        condition: Callable[[list[StoredEvent]], bool],
        event_type: str | None = None,
        timeout: float = WAIT_TIMEOUT,
    ) -> list[StoredEvent]:
        """Read the stored events (of `event_type`) until `condition(events)` holds; return those events.

        Raises:
            AssertionError: the condition did not hold within `timeout` seconds (a hang guard).
        """
        deadline = time.monotonic() + timeout
        while not condition(events := self.events(event_type)):
            if time.monotonic() > deadline:
                shown = [(event.id, event.event_type, event.status) for event in events]
                raise AssertionError(f"the stored events never met the condition: {shown}")
            time.sleep(_POLL)
        return events

    def wait_handled(
        self, count: int = 1, event_type: str | None = None, timeout: float = WAIT_TIMEOUT
    ) -> list[StoredEvent]:
        """Wait until at least `count` events (of `event_type`) are stored and every one of them is settled
        (`SETTLED`: handled, ignored, dead …); return them, oldest first. Assert on their `status`.

        Raises:
            AssertionError: that did not happen within `timeout` seconds (a hang guard).
        """
        return self.wait_until(lambda events: len(events) >= count and _settled(events), event_type, timeout)


def _settled(events: Sequence[StoredEvent]) -> bool:
    return all(event.status in SETTLED for event in events)


@contextlib.contextmanager
def run_receiver(
    hooks: XHooks | None, emulator: RunningEmulator, db: Path, worker: WorkerConfig | None = None
) -> Iterator[RunningReceiver]:
    """Serve a receiver with its store at `db` and a worker running `hooks`, on a free 127.0.0.1 port; register
    it as the webhook of the emulator's dev app and subscribe the dev user to it (Account Activity)."""
    app = emulator.app
    config = ProcessConfig(
        apps=[AppConfig((app["consumer_secret"],))],
        db=str(db),
        port=0,
        durability="process",
        hooks=hooks,
        worker=worker or WorkerConfig(),
    )
    server, _ = build_servers(config)
    credentials = Credentials(bearer_token=app["bearer_token"], user_token=emulator.dev["oauth2_access_token"])
    with in_thread(server) as url, XClient(credentials, base_url=emulator.url) as x:
        webhook_url = url + config.apps[0].path
        webhook = x.create_webhook(webhook_url)
        x.add_subscription(webhook.id)
        yield RunningReceiver(url, webhook_url, webhook.id, db)
