"""Every event type the emulator can trigger, delivered over real HTTP to `xhooks serve --app`, reaches a typed
handler as its model (never `UnknownEvent`), and the model survives a msgspec round trip."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from tests.emulator.conftest import Running, start
from tests.emulator.test_end_to_end import subscribe_everything
from tests.support import free_port, spawn, xhooks_cmd
from xhooks.emulator import EmulatorConfig
from xhooks.emulator.events import AAA_TYPES, STREAM_TYPES, XAA_TYPES
from xhooks.protocol.activity import ALIASES, DELIVERED_ONLY, EVENT_TYPES
from xhooks.protocol.events import UnknownEvent, decode_event, model_for
from xhooks.store import EventQuery, open_reader

HANDLERS = """
import os

import msgspec

from xhooks.dispatch import XHooks
from xhooks.protocol.events import UnknownEvent

hooks = XHooks()


@hooks.on_any
def check(event, ctx):
    if isinstance(event, UnknownEvent):
        raise TypeError(f"{event.event_type} has no model: {event.reason}")
    with open(os.environ["TYPED_LOG"], "a") as log:
        log.write(f"{event.event_type} {type(event).__name__}\\n")
"""


@pytest.fixture
def running() -> Iterator[Running]:
    yield from start(EmulatorConfig(allow_local_urls=True, remote_urls=False, max_webhooks=2, seed=11))


def test_every_activity_event_type_has_a_model() -> None:
    for event_type in (*EVENT_TYPES, *DELIVERED_ONLY, *ALIASES):
        assert model_for(event_type) is not None, event_type


def test_every_triggerable_event_is_handled_as_its_model(running: Running, tmp_path: Path) -> None:
    db, log, port = tmp_path / "typed.db", tmp_path / "typed.log", free_port()
    (tmp_path / "typed_handlers.py").write_text(HANDLERS)
    args = xhooks_cmd(
        "serve",
        "--consumer-secret",
        running.app["consumer_secret"],
        "--db",
        str(db),
        "--port",
        str(port),
        "--no-dashboard",
        "--app",
        "typed_handlers:hooks",
        "--max-attempts",
        "1",
    )
    with spawn(args, f"http://127.0.0.1:{port}/healthz", {"TYPED_LOG": str(log)}, tmp_path):
        webhook_id = running.register(f"http://127.0.0.1:{port}/webhook")["id"]
        subscribe_everything(running, webhook_id)
        for event_type in (*[t for t in AAA_TYPES if t != "aaa.revoke"], "aaa.revoke", *XAA_TYPES, *STREAM_TYPES):
            assert running.trigger(event_type)["routed"], event_type
        running.settle()
        with open_reader(db) as store:
            deadline = time.monotonic() + 30
            while {event.status for event in store.events(EventQuery(limit=1000))} - {"handled", "dead"}:
                assert time.monotonic() < deadline
                time.sleep(0.05)
    with open_reader(db) as store:
        events = store.events(EventQuery(limit=1000))
        deliveries = [store.delivery(event.delivery_id) for event in events]
    assert [(event.event_type, event.last_error) for event in events if event.status != "handled"] == []
    stored_types = {event.event_type for event in events}
    assert set(XAA_TYPES) <= stored_types
    assert {"filtered_stream.post", "user_event.revoke", "follow_events.unfollow"} <= stored_types
    for event, delivery in zip(events, deliveries, strict=True):
        assert delivery is not None
        typed = decode_event(delivery.body, event.index, event.event_type)
        assert not isinstance(typed, UnknownEvent)
        assert msgspec.json.decode(msgspec.json.encode(typed), type=type(typed)) == typed
    assert len(log.read_text().splitlines()) == len(events)
