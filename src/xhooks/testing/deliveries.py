"""Signed deliveries of any event type, built by the emulator's own event builders and signed as X signs.

`DeliveryFactory.build("dm.received", text="hi")` makes the body X would deliver for that event to the dev
user's subscription, and the headers of X's first attempt (`x-twitter-webhooks-signature` over those very
bytes, with the app's consumer secret); `deliver` also POSTs it to the receiver. No routing is involved: the
body goes to the receiver whatever the emulator's subscriptions are, so one test can try every event type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from xhooks.emulator.control import event_factory, known_type
from xhooks.emulator.delivery import encode, x_headers
from xhooks.emulator.events import AAA_TYPES, STREAM_TYPES, XaaEvent
from xhooks.emulator.routing import event_uuid, linked_body, xaa_body
from xhooks.testing.emulator import HTTP_TIMEOUT, RunningEmulator

__all__ = ["DeliveryFactory", "SignedDelivery"]


@dataclass(frozen=True)
class SignedDelivery:
    """One POST as X makes it: `body` (X's byte style) and `headers` (the signature included) for `url`."""

    url: str
    body: bytes
    headers: Mapping[str, str] = field(repr=False)

    def post(self) -> httpx.Response:
        """Send it; the receiver answers 200 once the delivery is stored."""
        return httpx.post(self.url, content=self.body, headers=dict(self.headers), timeout=HTTP_TIMEOUT)


@dataclass(frozen=True)
class DeliveryFactory:
    """Builds `SignedDelivery`s for `url` from the events of `emulator`'s users, signed with its app's secret."""

    emulator: RunningEmulator
    url: str

    def build(
        self,
        event_type: str,
        *,
        user_id: str | None = None,
        target_id: str | None = None,
        text: str | None = None,
        for_user_id: str | None = None,
    ) -> SignedDelivery:
        """The delivery of one `event_type` (`GET /_emulator/event-types` lists them) by `user_id` (default: the
        dev user) towards `target_id` (default: someone else), as X sends it for `for_user_id` (default: the dev
        user when the event concerns them, else the first user it concerns).

        Raises:
            xhooks.emulator.errors.ApiError: an unknown event type or user.
        """
        emu = self.emulator.emulator
        event_type = known_type(event_type)
        factory = event_factory(emu, user_id, target_id, text)
        dev = emu.dev_user_id()
        if event_type in AAA_TYPES:
            aaa = factory.aaa(event_type)
            body = aaa.build(for_user_id or (dev if dev in aaa.for_users else aaa.for_users[0]))
        elif event_type in STREAM_TYPES:
            body = linked_body(factory.stream_post(), [], [{"id": emu.new_id(), "tag": "xhooks.testing"}])
        else:
            xaa = factory.xaa(event_type)
            uuid = event_uuid(emu.config.event_uuid_style, xaa, emu.new_id)
            body = xaa_body(xaa, _filter(xaa, for_user_id or dev), uuid)
        return self.of(encode(body))

    def of(self, body: bytes) -> SignedDelivery:
        """`body` as given (a captured delivery, say), signed as X signs its first attempt now."""
        emu = self.emulator.emulator
        headers = x_headers(body, self.emulator.app["consumer_secret"], emu.clock.now(), emu.config.delivery_timeout, 0)
        return SignedDelivery(self.url, body, headers)

    def from_file(self, path: str | Path) -> SignedDelivery:
        """The delivery whose body is the file at `path` (its bytes as they are), signed."""
        return self.of(Path(path).read_bytes())

    def deliver(
        self,
        event_type: str,
        *,
        user_id: str | None = None,
        target_id: str | None = None,
        text: str | None = None,
        for_user_id: str | None = None,
    ) -> SignedDelivery:
        """`build` it and POST it to the receiver.

        Raises:
            AssertionError: the receiver did not answer 200 (it did not store the delivery).
        """
        delivery = self.build(event_type, user_id=user_id, target_id=target_id, text=text, for_user_id=for_user_id)
        return self.send(delivery)

    def send(self, delivery: SignedDelivery) -> SignedDelivery:
        """POST `delivery`. Raises `AssertionError` unless the receiver answers 200."""
        response = delivery.post()
        if response.status_code != 200:
            raise AssertionError(f"the receiver answered {response.status_code}: {response.text}")
        return delivery


def _filter(event: XaaEvent, user_id: str) -> dict[str, str]:
    """The filter of a subscription `event` matches: on its keyword for `news.new`, else on `user_id` when the
    event concerns that user, else on the first user it concerns."""
    if not event.matches and event.keyword_text:
        return {"keyword": event.keyword_text.split()[0]}
    users = [matched for matched, _ in event.matches]
    return {"user_id": user_id if user_id in users or not users else users[0]}
