"""What a relay sends for a stored event: the event as X sent it, its metadata beside it, in each format."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from xhooks.protocol import parse_envelope
from xhooks.relay import Format, build_message
from xhooks.store import ClaimedEvent, StoredEvent

DMS = (
    b'{"for_user_id":"7","direct_message_events":[{"type":"message_create","id":"1"},'
    b'{"type":"message_create","id":"2"}],"users":{"7":{"id":"7"}}}'
)
SIGNED = [("content-type", "application/json"), ("x-twitter-webhooks-signature", "sha256=abc=")]


def _claimed(body: bytes = DMS, index: int = 1, for_user_id: str | None = "7") -> ClaimedEvent:
    ref = parse_envelope(body).events[index]
    stored = StoredEvent(
        id=42, app="/webhook", key=ref.key, event_type=ref.event_type, for_user_id=for_user_id, delivery_id=3,
        index=index, received_at=1_700_000_000.25, status="claimed", attempts=1, duplicates=0, last_seen_at=0.0,
    )  # fmt: skip
    return ClaimedEvent(stored, body, 1, SIGNED)


def test_raw_sends_the_one_event_in_xs_envelope_with_its_metadata_beside_it() -> None:
    message = build_message(_claimed())
    assert json.loads(message.body) == {
        "for_user_id": "7",
        "direct_message_events": [{"type": "message_create", "id": "2"}],
        "users": {"7": {"id": "7"}},
    }
    assert parse_envelope(message.body).events[0].key == message.key == "aaa:7:direct_message_events:2"
    assert message.headers() == {
        "xhooks-event-type": "direct_message_events",
        "xhooks-key": "aaa:7:direct_message_events:2",
        "xhooks-for-user-id": "7",
        "xhooks-app": "/webhook",
        "xhooks-received-at": "1700000000.25",
        "xhooks-event-id": "42",
    }
    assert (message.content_type, message.signature, message.ordering_key) == ("application/json", None, "/webhook\n7")


def test_x_sends_the_whole_delivery_and_xs_signature_unchanged() -> None:
    message = build_message(_claimed(), Format.X)
    assert (message.body, message.signature) == (DMS, "sha256=abc=")


def test_an_event_without_a_user_has_no_order_to_keep_and_no_user_field() -> None:
    message = build_message(_claimed(b'{"data":{"id":"9"},"matching_rules":[]}', 0, None))
    assert message.ordering_key is None
    assert "for_user_id" not in message.metadata()


def test_cloudevents_is_structured_json_with_the_key_as_id_and_the_raw_event_as_data() -> None:
    message = build_message(_claimed(), Format.CLOUDEVENTS)
    event = json.loads(message.body)
    assert message.content_type == "application/cloudevents+json"
    assert {name: event[name] for name in ("specversion", "id", "type", "source", "subject")} == {
        "specversion": "1.0",
        "id": "aaa:7:direct_message_events:2",
        "type": "direct_message_events",
        "source": "xhooks:/webhook",
        "subject": "7",
    }
    assert dt.datetime.fromisoformat(event["time"]).timestamp() == pytest.approx(1_700_000_000.25)
    assert event["data"] == json.loads(build_message(_claimed()).body)
