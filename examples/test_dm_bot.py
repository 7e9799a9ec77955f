"""dm_bot.py's handler tested with the `xhooks.testing` fixtures only (pytest loads them once xhooks is
installed): `pytest test_dm_bot.py` from this folder.

The emulator stands in for X; the receiver runs the bot's `hooks`; what the bot sends goes to the emulator,
which delivers it back to the bot's webhook as X does, where `ignore_own_actions` drops it.
"""

from __future__ import annotations

import pytest
from dm_bot import hooks

from xhooks import DirectMessage, XHooks
from xhooks.testing import DeliveryFactory, RunningEmulator, RunningReceiver

DMS = "direct_message_events"


@pytest.fixture
def xhooks_hooks() -> XHooks:
    return hooks


def _dms(receiver: RunningReceiver, count: int) -> list[tuple[str, DirectMessage]]:
    """(status, DM) of the first `count` DMs stored, oldest first, once all of them are handled."""
    found = []
    for stored in receiver.wait_handled(count, DMS):
        dm = receiver.event(stored)
        assert isinstance(dm, DirectMessage)
        found.append((stored.status, dm))
    return found


def test_the_bot_answers_a_dm_and_ignores_its_own_reply(
    xhooks_emulator: RunningEmulator, xhooks_receiver: RunningReceiver
) -> None:
    friend, dev = xhooks_emulator.friend["id"], xhooks_emulator.dev["id"]
    xhooks_emulator.trigger("aaa.direct_message", user_id=friend, target_id=dev, text="hello bot")
    dms = _dms(xhooks_receiver, 2)
    xhooks_emulator.settle()  # had the bot answered its own reply, that third DM would be stored by now
    assert [(dm.sender_id, dm.text) for _, dm in dms] == [(friend, "hello bot"), (dev, "You said: hello bot")]
    assert [status for status, _ in dms] == ["handled", "ignored"]  # the echo of its own reply ran no handler
    assert len(xhooks_receiver.events(DMS)) == 2


def test_a_signed_delivery_reaches_the_handler(
    xhooks_emulator: RunningEmulator, xhooks_receiver: RunningReceiver, xhooks_delivery: DeliveryFactory
) -> None:
    friend = xhooks_emulator.friend["id"]
    xhooks_delivery.deliver("aaa.direct_message", user_id=friend, text="no text?")
    (_, asked), (_, answer) = _dms(xhooks_receiver, 2)
    assert (asked.sender_id, asked.for_user_id) == (friend, xhooks_emulator.dev["id"])
    assert answer.text == "You said: no text?"


def test_the_bot_does_not_answer_what_it_sent_itself(
    xhooks_emulator: RunningEmulator, xhooks_receiver: RunningReceiver, xhooks_delivery: DeliveryFactory
) -> None:
    xhooks_delivery.deliver("aaa.direct_message", text="sent from the app")  # by the dev user, the bot itself
    ((status, dm),) = _dms(xhooks_receiver, 1)
    xhooks_emulator.settle()
    assert (status, dm.sender_id) == ("ignored", xhooks_emulator.dev["id"])
    assert len(xhooks_receiver.events(DMS)) == 1  # no reply was sent, so nothing came back
