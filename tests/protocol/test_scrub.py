"""protocol/scrub.py: a captured delivery becomes a fixture with every id and token replaced, consistently."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support import EXAMPLES, documented_deliveries
from xhooks.protocol import parse_envelope
from xhooks.protocol.events import DirectMessage, decode_event
from xhooks.protocol.scrub import SCRUBBED, scrub


def test_known_answer_for_a_dm() -> None:
    scrubbed = json.loads(scrub((EXAMPLES / "aaa.direct_message_events.json").read_bytes()))
    (dm,) = scrubbed["direct_message_events"]
    assert scrubbed["for_user_id"] == dm["message_create"]["target"]["recipient_id"] == "1000000001"
    assert dm["id"] == "100000000000000002"
    assert dm["message_create"]["sender_id"] == "1000000003"
    assert sorted(scrubbed["users"]) == ["1000000001", "1000000003"]
    assert scrubbed["users"]["1000000003"]["id"] == "1000000003"
    assert list(scrubbed["apps"]) == [dm["message_create"]["source_app_id"]] == ["10000004"]
    assert dm["created_timestamp"] == "1516403560557"  # times are content, kept
    assert dm["message_create"]["message_data"]["text"] == "Hello World!"


@pytest.mark.parametrize("path", documented_deliveries(), ids=lambda path: path.stem)
def test_every_documented_delivery_keeps_its_shape_and_content_but_no_id(path: Path) -> None:
    body = path.read_bytes()
    scrubbed = scrub(body)
    assert scrub(body) == scrubbed  # the same capture gives the same fixture
    before, after = parse_envelope(body), parse_envelope(scrubbed)
    assert before.shape == after.shape
    assert [ref.event_type for ref in before.events] == [ref.event_type for ref in after.events]
    ids = {ref.for_user_id for ref in before.events if ref.for_user_id and len(ref.for_user_id) >= 4}
    assert not [user for user in ids if re.search(rf"(?<!\d){user}(?!\d)", scrubbed.decode())]


def test_decoded_content_is_the_same_apart_from_the_ids() -> None:
    body = (EXAMPLES / "aaa.direct_message_events.json").read_bytes()
    original, fixture = (
        decode_event(body, 0, "direct_message_events"),
        decode_event(scrub(body), 0, "direct_message_events"),
    )
    assert isinstance(original, DirectMessage) and isinstance(fixture, DirectMessage)
    assert (fixture.text, fixture.created_timestamp) == (original.text, original.created_timestamp)
    assert fixture.sender_id != original.sender_id and fixture.for_user_id == fixture.recipient_id


def test_tokens_and_ids_inside_other_strings_are_replaced() -> None:
    body = b'{"data":{"event_uuid":"-1234567","oauth_token":"abc","url":"https://x.com/i/status/987654321","id":987654321}}'
    scrubbed = json.loads(scrub(body))["data"]
    assert scrubbed == {
        "event_uuid": "-1000001",
        "oauth_token": SCRUBBED,
        "url": "https://x.com/i/status/100000002",
        "id": 100000002,
    }


def test_a_body_that_is_not_json_is_refused() -> None:
    with pytest.raises(ValueError, match="not JSON"):
        scrub(b"not json")
