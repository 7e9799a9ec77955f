"""xhooks.testing's signed deliveries: every event type the emulator makes reaches a handler, typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from xhooks.dispatch import Context, XHooks
from xhooks.emulator import EVENT_TYPES
from xhooks.errors import SignatureMismatch
from xhooks.protocol import verify
from xhooks.protocol.events import Event, UnknownEvent
from xhooks.testing import DeliveryFactory, run_emulator, run_receiver


def test_every_event_type_is_delivered_signed_and_reaches_the_handler_typed(tmp_path: Path) -> None:
    handled: list[Event] = []
    hooks = XHooks()

    @hooks.on_any
    def record(event: Event, ctx: Context) -> None:
        handled.append(event)

    with run_emulator() as emulator, run_receiver(hooks, emulator, tmp_path / "x.db") as receiver:
        factory = DeliveryFactory(emulator, receiver.webhook_url)
        for event_type in EVENT_TYPES:
            factory.deliver(event_type, text=f"about {event_type}")
        stored = receiver.wait_handled(len(EVENT_TYPES))
        typed = [receiver.event(event) for event in stored]
    assert len(stored) == len(EVENT_TYPES)
    assert {event.status for event in stored} == {"handled"}
    assert not [event for event in typed if isinstance(event, UnknownEvent)]
    assert sorted(map(repr, handled)) == sorted(map(repr, typed))


def test_a_delivery_is_signed_over_its_bytes_with_the_apps_secret() -> None:
    with run_emulator() as emulator:
        delivery = DeliveryFactory(emulator, "http://127.0.0.1:9/webhook").build("dm.received", text="hi")
        secret = emulator.app["consumer_secret"]
    assert verify(delivery.body, delivery.headers["X-Twitter-Webhooks-Signature"], [secret]) == 0
    with pytest.raises(SignatureMismatch):
        verify(delivery.body + b" ", delivery.headers["X-Twitter-Webhooks-Signature"], [secret])
    assert b'"event_type":"dm.received"' in delivery.body
