"""Typed events: X's documented payloads decode into their models and back; odd shapes never fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import EXAMPLES, documented_deliveries
from xhooks.protocol import parse_envelope
from xhooks.protocol.events import (
    ActivityFollow,
    DirectMessage,
    Event,
    PostDelete,
    ProfileUpdate,
    StreamPost,
    TweetCreate,
    Unfollow,
    UnknownEvent,
    decode_event,
    model_for,
)

# The docs put placeholders where an object goes (INDEX.md: "a test must swap in a real object").
_TWEET = {"id": 1, "id_str": "1", "text": "hello", "user": {"id": 2244994945, "id_str": "2244994945"}}
_USER = {"id": 3001969357, "id_str": "3001969357", "screen_name": "furiouscamper"}
_PLACEHOLDERS: dict[str, Any] = {"<Tweet Object>": _TWEET, "<User Object>": _USER, "...": _USER}


def _swap(value: Any) -> Any:
    if isinstance(value, str) and value in _PLACEHOLDERS:
        return _PLACEHOLDERS[value]
    if isinstance(value, dict):
        return {name: _swap(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_swap(item) for item in value]
    return value


@pytest.mark.parametrize("path", [pytest.param(path, id=path.name) for path in documented_deliveries()])
def test_documented_payload_decodes_into_its_model_and_back(path: Path) -> None:
    body = msgspec.json.encode(_swap(msgspec.json.decode(path.read_bytes())))
    refs = parse_envelope(body).events
    assert refs
    for ref in refs:
        event = decode_event(body, ref.index, ref.event_type)
        assert type(event) is model_for(ref.event_type), getattr(event, "reason", "")
        assert event.event_type == ref.event_type
        assert event.for_user_id == ref.for_user_id
        assert msgspec.json.decode(msgspec.json.encode(event), type=type(event)) == event


def test_every_documented_delivery_has_a_known_shape() -> None:
    shapes = {path.name: parse_envelope(path.read_bytes()).shape.value for path in documented_deliveries()}
    assert len(shapes) > 50
    assert {name for name, shape in shapes.items() if shape in ("unknown", "malformed")} == set()


@pytest.mark.parametrize("path", [pytest.param(path, id=path.name) for path in documented_deliveries()])
def test_placeholder_payload_still_decodes_without_losing_anything(path: Path) -> None:
    body = path.read_bytes()
    for ref in parse_envelope(body).events:
        event = decode_event(body, ref.index, ref.event_type)
        assert isinstance(event, Event)
        assert event.raw is not None


def _example(name: str) -> bytes:
    return msgspec.json.encode(_swap(msgspec.json.decode((EXAMPLES / name).read_bytes())))


def test_wrapped_users_are_unwrapped_and_raw_keeps_the_wrapping() -> None:
    event = decode_event(_example("xaa.follow.follow.json"), 0, "follow.follow")
    assert isinstance(event, ActivityFollow)
    assert event.payload is not None and event.payload.source is not None
    assert event.payload.source.id == "1111111111111111111"
    assert "data" in event.raw["payload"]["source"]


def test_negative_event_uuid_stays_a_string() -> None:
    event = decode_event(_example("xaa.post.delete.json"), 0, "post.delete")
    assert isinstance(event, PostDelete)
    assert event.event_uuid == "-2781149976877970683"


@pytest.mark.parametrize(
    ("value", "blocked"),
    [
        pytest.param("false", False, id="string"),
        pytest.param(True, True, id="bool"),
        pytest.param(None, None, id="none"),
    ],
)
def test_user_has_blocked_is_read_as_string_or_bool(value: Any, blocked: bool | None) -> None:
    body = msgspec.json.encode({"for_user_id": "7", "user_has_blocked": value, "tweet_create_events": [_TWEET]})
    event = decode_event(body, 0, "tweet_create_events")
    assert isinstance(event, TweetCreate)
    assert event.blocked is blocked
    assert event.user_has_blocked == value


def test_unfollow_arrives_under_follow_events() -> None:
    event = decode_event(_example("aaa.follow_events.unfollow.json"), 0, "follow_events.unfollow")
    assert isinstance(event, Unfollow)
    assert event.type == "unfollow"


def test_dm_keeps_the_delivery_users_and_apps() -> None:
    event = decode_event(_example("aaa.direct_message_events.json"), 0, "direct_message_events")
    assert isinstance(event, DirectMessage)
    assert event.text == "Hello World!"
    assert event.users is not None and event.sender_id in event.users
    assert event.apps is not None and "13090192" in event.apps


def test_several_events_of_one_delivery_are_told_apart_by_index() -> None:
    body = msgspec.json.encode(
        {
            "for_user_id": "7",
            "tweet_create_events": [{**_TWEET, "id_str": "1"}, {**_TWEET, "id_str": "2"}],
            "follow_events": [{"type": "unfollow", "source": _USER, "target": _USER}],
        }
    )
    refs = parse_envelope(body).events
    events = [decode_event(body, ref.index, ref.event_type) for ref in refs]
    assert [type(event) for event in events] == [TweetCreate, TweetCreate, Unfollow]
    assert [event.tweet.id_str for event in events if isinstance(event, TweetCreate)] == ["1", "2"]


def test_unknown_fields_pass_through_in_raw() -> None:
    body = b'{"data":{"id":"9","text":"t","brand_new":{"x":1}},"matching_rules":[{"id":"1","tag":"a"}],"extra":2}'
    event = decode_event(body, 0, "filtered_stream.post")
    assert isinstance(event, StreamPost)
    assert event.raw["extra"] == 2 and event.raw["data"]["brand_new"] == {"x": 1}


def test_profile_update_names_the_field() -> None:
    event = decode_event(_example("xaa.profile.update.bio.json"), 0, "profile.update.bio")
    assert isinstance(event, ProfileUpdate)
    assert event.field == "bio" and event.payload is not None and event.payload.after


@pytest.mark.parametrize(
    ("body", "event_type"),
    [
        pytest.param(b"\xff not json", "malformed", id="not-json"),
        pytest.param(b'{"something":"else"}', "unknown", id="unknown-shape"),
        pytest.param(b'{"data":{"event_uuid":"1","event_type":"brand.new"}}', "brand.new", id="new-xaa-type"),
        pytest.param(b'{"for_user_id":"1","poll_events":[{"id":"3"}]}', "poll_events", id="new-aaa-array"),
        pytest.param(b'{"for_user_id":"1","tweet_create_events":[{"user":7}]}', "tweet_create_events", id="bad-type"),
    ],
)
def test_odd_bodies_decode_to_unknown_event_with_their_bytes(body: bytes, event_type: str) -> None:
    event = decode_event(body, 0, event_type)
    assert isinstance(event, UnknownEvent)
    assert event.body == body and event.reason
    assert msgspec.json.decode(msgspec.json.encode(event), type=UnknownEvent) == event


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
_keys = st.sampled_from(["for_user_id", "tweet_create_events", "follow_events", "data", "user_event", "users"])
_shapes = st.dictionaries(_keys | st.text(max_size=6), _json, max_size=4)


@settings(max_examples=300, deadline=None)
@given(doc=_shapes)
def test_any_json_object_decodes_without_raising(doc: dict[str, Any]) -> None:
    body = msgspec.json.encode(doc)
    for ref in parse_envelope(body).events:
        event = decode_event(body, ref.index, ref.event_type)
        assert event.event_type == ref.event_type


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=64), index=st.integers(-2, 4), event_type=st.text(max_size=20))
def test_any_bytes_index_and_type_never_raise(body: bytes, index: int, event_type: str) -> None:
    assert isinstance(decode_event(body, index, event_type), Event)
