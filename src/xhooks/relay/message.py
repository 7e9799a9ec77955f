"""What a relay sends for one stored event: the event as X sent it, and metadata beside it, never inside it.

Three formats, chosen per sink with `?format=`:

* `raw` (the default): the event as received. An X Activity or Filtered Stream delivery holds one event and is
  sent as the same bytes; an Account Activity delivery holding several is cut to the one item, still in X's
  envelope with `for_user_id` (`xhooks.protocol.envelope.event_body`), so a consumer parses it as X's own.
* `x`: the whole delivery, byte for byte, with X's `x-twitter-webhooks-signature` as received. A consumer that
  holds the app's consumer secret can verify it as X's (https://docs.x.com/x-api/webhooks/introduction); an AAA
  delivery holding several events is then sent once per event, the metadata naming which.
* `cloudevents`: a CloudEvents 1.0 JSON event (`application/cloudevents+json`, structured mode,
  https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md) made by the `cloudevents`
  package: `id` is the dedup key, `type` X's event type, `source` `xhooks:<app>`, `subject` the `for_user_id`,
  `time` when it was received, `data` the raw event.

The metadata (`Message.metadata`) is the same in every format: the event type, the dedup key (the idempotency id
every sink uses), `for_user_id`, the receiving app, when it was received, and the store's event id.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import msgspec

from xhooks.errors import ConfigError
from xhooks.protocol.envelope import event_body
from xhooks.store.base import ClaimedEvent

__all__ = ["SIGNATURE_HEADER", "Format", "Message", "build_message", "require_format"]

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
"""X's signature header on a webhook POST, forwarded unchanged with `format=x`."""

_decoder = msgspec.json.Decoder()


class Format(enum.Enum):
    RAW = "raw"
    X = "x"
    CLOUDEVENTS = "cloudevents"


class Message(msgspec.Struct, frozen=True):
    """One event ready for a sink: its bytes, their content type, and the metadata that goes beside them."""

    key: str
    """The event's dedup key: the idempotency id (`webhook-id`, `Nats-Msg-Id`, AMQP `message_id`, a stream field)."""
    event_id: int
    event_type: str
    for_user_id: str | None
    app: str
    received_at: float
    body: bytes
    content_type: str = "application/json"
    signature: str | None = None
    """X's own signature of `body` (`format=x` only)."""

    @property
    def ordering_key(self) -> str | None:
        """The events that must arrive in order share this: one user of one app. None: no order to keep."""
        return None if self.for_user_id is None else f"{self.app}\n{self.for_user_id}"

    def metadata(self) -> dict[str, str]:
        """The fields sent beside the body, by name (`event_type`, `key`, …); a sink spells them as its transport
        wants (`headers()` for HTTP, NATS and AMQP; as they are for Redis Streams)."""
        fields = {
            "event_type": self.event_type,
            "key": self.key,
            "for_user_id": self.for_user_id,
            "app": self.app,
            "received_at": repr(self.received_at),
            "event_id": str(self.event_id),
        }
        return {name: value for name, value in fields.items() if value is not None}

    def headers(self) -> dict[str, str]:
        """The metadata as header names: `xhooks-event-type`, `xhooks-key`, `xhooks-for-user-id`, …"""
        return {"xhooks-" + name.replace("_", "-"): value for name, value in self.metadata().items()}


def build_message(claimed: ClaimedEvent, format: Format = Format.RAW) -> Message:
    """The message a sink sends for `claimed` in `format` (see `require_format` for what it raises)."""
    stored = claimed.event
    message = Message(
        key=stored.key,
        event_id=stored.id,
        event_type=stored.event_type,
        for_user_id=stored.for_user_id,
        app=stored.app,
        received_at=stored.received_at,
        body=claimed.body if format is Format.X else event_body(claimed.body, stored.index),
    )
    if format is Format.X:
        signature = next((value for name, value in claimed.headers if name.lower() == SIGNATURE_HEADER), None)
        return msgspec.structs.replace(message, signature=signature)
    if format is Format.CLOUDEVENTS:
        return msgspec.structs.replace(message, body=_cloudevent(message), content_type="application/cloudevents+json")
    return message


def require_format(format: Format) -> None:
    """Check that `format` can be made here (a sink checks at construction, so a missing extra stops the relay before
    it starts, instead of refusing every event).

    Raises:
        ConfigError: `format=cloudevents` without the `cloudevents` package installed.
    """
    if format is Format.CLOUDEVENTS:
        _cloudevents()


def _cloudevents() -> tuple[Any, Any]:
    try:
        from cloudevents.core.formats.json import JSONFormat
        from cloudevents.core.v1.event import CloudEvent
    except ModuleNotFoundError as exc:
        raise ConfigError("format=cloudevents needs an extra: pip install 'xhooks[cloudevents]'") from exc
    return JSONFormat, CloudEvent


def _cloudevent(message: Message) -> bytes:
    json_format, cloud_event = _cloudevents()
    attributes: dict[str, Any] = {
        "id": message.key,
        "source": f"xhooks:{message.app}",
        "type": message.event_type,
        "time": dt.datetime.fromtimestamp(message.received_at, dt.UTC),
        "datacontenttype": "application/json",
    }
    if message.for_user_id is not None:
        attributes["subject"] = message.for_user_id
    body: bytes = json_format().write(cloud_event(attributes, _decoder.decode(message.body)))
    return body
