from __future__ import annotations

import json

import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from tests.support import EXAMPLES, documented_deliveries
from xhooks.errors import InvalidCrcToken
from xhooks.protocol import Shape, check_crc_token, parse_envelope
from xhooks.protocol.envelope import deleted_posts, event_body

DELIVERED = documented_deliveries()


@pytest.mark.parametrize("path", DELIVERED, ids=lambda path: path.name)
def test_every_documented_payload_has_a_shape_and_keys(path) -> None:  # type: ignore[no-untyped-def]
    envelope = parse_envelope(path.read_bytes())
    assert envelope.shape not in (Shape.UNKNOWN, Shape.MALFORMED)
    assert envelope.events
    product = path.name.split(".")[0]
    expected_prefix = {"aaa": "aaa:", "aaa-ent": "aaa:", "xaa": "xaa:", "xchat": "xaa:", "fs": "fs:"}[product]
    assert all(event.key.startswith(expected_prefix) for event in envelope.events)


def _activity(event_type: str, flt: object, event_uuid: str | None = "2080765813578191303", tag: str = "t") -> bytes:
    data = {"event_type": event_type, "filter": flt, "tag": tag, "payload": {"id": "2080765813578191303"}}
    if event_uuid is not None:
        data["event_uuid"] = event_uuid
    return json.dumps({"data": data}).encode()


def test_activity_key_is_type_filter_and_the_opaque_event_uuid_even_negative() -> None:
    envelope = parse_envelope((EXAMPLES / "xaa.post.delete.json").read_bytes())
    (event,) = envelope.events
    # 99fac1bf7af94ec9: the first 16 hex digits of sha256(b'{"user_id":"1111111111111111111"}')
    assert event.key == "xaa:post.delete:99fac1bf7af94ec9:-2781149976877970683"
    assert (event.event_type, event.for_user_id) == ("post.delete", "1111111111111111111")


def test_one_post_to_two_subscriptions_is_two_activity_events() -> None:
    """X gives a Post event the Post's id as `event_uuid`: the mention of A and the post.create of its author
    B carry the same one, and each is a real event (issue 12)."""
    mention = parse_envelope(_activity("post.mention.create", {"user_id": "A"})).events[0]
    create = parse_envelope(_activity("post.create", {"user_id": "B"})).events[0]
    assert mention.key != create.key
    assert (mention.for_user_id, create.for_user_id) == ("A", "B")


@pytest.mark.parametrize(
    ("event_type", "flt"),
    [
        pytest.param("post.create", {"user_id": "A"}, id="other-event-type"),
        pytest.param("post.mention.create", {"user_id": "B"}, id="other-user"),
        pytest.param("post.mention.create", {"user_id": "A", "direction": "inbound"}, id="direction"),
        pytest.param("post.mention.create", {"keyword": "A"}, id="keyword"),
        pytest.param("post.mention.create", {}, id="empty"),
        pytest.param("post.mention.create", None, id="no-filter"),
    ],
)
def test_any_other_subscription_gives_another_activity_key(event_type: str, flt: object) -> None:
    base = parse_envelope(_activity("post.mention.create", {"user_id": "A"})).events[0]
    assert parse_envelope(_activity(event_type, flt)).events[0].key != base.key


def test_a_resent_activity_delivery_keeps_its_key() -> None:
    """A retry or replay is the same event: same key whatever the filter's key order or the tag."""
    first = parse_envelope(_activity("like.create", {"user_id": "A", "direction": "outbound"})).events[0]
    again = parse_envelope(_activity("like.create", {"direction": "outbound", "user_id": "A"}, tag="x")).events[0]
    assert first.key == again.key


def test_activity_without_event_uuid_is_keyed_by_its_content_per_subscription() -> None:
    one = parse_envelope(_activity("profile.update.bio", {"user_id": "A"}, None)).events[0]
    two = parse_envelope(_activity("profile.update.bio", {"user_id": "B"}, None)).events[0]
    assert one.key.startswith("xaa:profile.update.bio:") and ":sha256:" in one.key
    assert one.key != two.key


def test_filtered_stream_post_is_keyed_by_post_id() -> None:
    (event,) = parse_envelope((EXAMPLES / "fs.post.json").read_bytes()).events
    assert (event.key, event.event_type) == ("fs:1346889436626259968", "filtered_stream.post")


def test_filtered_stream_post_is_one_event_whatever_rules_it_matched() -> None:
    """One Post arrives once per linked webhook with every matching rule listed: always one event."""
    one = b'{"data":{"id":"7","text":"x"},"matching_rules":[{"id":"1","tag":"a"}]}'
    both = b'{"data":{"id":"7","text":"x"},"includes":{},"matching_rules":[{"id":"1","tag":"a"},{"id":"2"}]}'
    assert parse_envelope(one).events[0].key == parse_envelope(both).events[0].key == "fs:7"


def test_same_post_created_then_deleted_is_two_keys() -> None:
    created = parse_envelope(b'{"for_user_id":"1","tweet_create_events":[{"id_str":"9"}]}').events[0]
    deleted = parse_envelope(b'{"for_user_id":"1","tweet_delete_events":[{"status":{"id":"9"}}]}').events[0]
    assert created.key != deleted.key


def test_one_post_can_hold_several_events() -> None:
    body = {
        "for_user_id": "42",
        "tweet_create_events": [{"id_str": "1"}, {"id_str": "2"}],
        "favorite_events": [{"id": "a7ba59eab0bfcba386f7acedac279542"}],
    }
    events = parse_envelope(json.dumps(body).encode()).events
    assert [(e.event_type, e.index) for e in events] == [
        ("tweet_create_events", 0),
        ("tweet_create_events", 1),
        ("favorite_events", 2),
    ]
    assert len({e.key for e in events}) == 3


def test_same_post_for_two_subscribed_users_is_two_keys() -> None:
    one = parse_envelope(b'{"for_user_id":"1","tweet_create_events":[{"id_str":"9"}]}').events[0]
    two = parse_envelope(b'{"for_user_id":"2","tweet_create_events":[{"id_str":"9"}]}').events[0]
    assert one.key != two.key


def test_dm_key_is_the_message_id_per_user() -> None:
    (event,) = parse_envelope((EXAMPLES / "aaa.direct_message_events.json").read_bytes()).events
    assert event.key == "aaa:4337869213:direct_message_events:954491830116155396"


def test_follow_and_unfollow_share_the_array_but_not_the_key() -> None:
    follow = parse_envelope((EXAMPLES / "aaa.follow_events.follow.json").read_bytes()).events[0]
    unfollow = parse_envelope((EXAMPLES / "aaa.follow_events.unfollow.json").read_bytes()).events[0]
    assert (follow.event_type, unfollow.event_type) == ("follow_events.follow", "follow_events.unfollow")
    assert follow.key != unfollow.key


def test_identifierless_event_is_keyed_by_actor_object_and_time() -> None:
    item = {"type": "block", "created_timestamp": "1518127020304", "source": {"id": "1"}, "target": {"id": "2"}}
    reordered = {
        "target": {"id": "2", "screen_name": "changed"},
        "created_timestamp": "1518127020304",
        "source": {"id": "1"},
        "type": "block",
    }
    first = parse_envelope(json.dumps({"for_user_id": "1", "block_events": [item]}).encode()).events[0]
    again = parse_envelope(json.dumps({"for_user_id": "1", "block_events": [reordered]}).encode()).events[0]
    assert first.key == again.key == "aaa:1:block_events:block:1:2:1518127020304"


def test_documented_unfollow_events_key_is_accepted() -> None:
    body = b'{"for_user_id":"1","unfollow_events":[{"type":"unfollow","created_timestamp":"5",'
    body += b'"source":{"data":{"id":"1"}},"target":{"id_str":"2"}}]}'
    (event,) = parse_envelope(body).events
    assert (event.event_type, event.key) == ("unfollow_events.unfollow", "aaa:1:unfollow_events:unfollow:1:2:5")


def test_revoke_and_replay_status_have_no_for_user_id_but_keys() -> None:
    revoke = parse_envelope((EXAMPLES / "aaa.user_event.revoke.json").read_bytes()).events[0]
    assert revoke.key == "aaa:revoke:63046977:13090192:2018-05-24T09:48:12+00:00"
    status = parse_envelope(b'{"replay_job_status":{"job_id":"7","job_state":"Complete"}}').events[0]
    assert (status.event_type, status.key) == ("replay_job_status", "aaa:replay_job_status:7:Complete")


@pytest.mark.parametrize(
    ("body", "shape"),
    [
        pytest.param(b"{not json", Shape.MALFORMED, id="malformed"),
        pytest.param(b"\xff\xfe", Shape.MALFORMED, id="not-utf8"),
        pytest.param(b'{"hello":"world"}', Shape.UNKNOWN, id="unknown-object"),
        pytest.param(b"[1,2,3]", Shape.MALFORMED, id="array"),
        pytest.param(b'"a string"', Shape.MALFORMED, id="string"),
        pytest.param(b"12345678901234567890", Shape.MALFORMED, id="number"),
        pytest.param(b"null", Shape.MALFORMED, id="null"),
        pytest.param(b'{"for_user_id":"1","tweet_create_events":[]}', Shape.UNKNOWN, id="empty-array"),
    ],
)
def test_unrecognised_bodies_are_kept_with_a_raw_key(body: bytes, shape: Shape) -> None:
    envelope = parse_envelope(body)
    assert envelope.shape is shape
    (event,) = envelope.events
    assert event.key.startswith("raw:") and len(event.key) == len("raw:") + 64


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "for_user_id",
                    "data",
                    "event_uuid",
                    "event_type",
                    "tweet_create_events",
                    "follow_events",
                    "id",
                    "id_str",
                    "type",
                    "source",
                    "target",
                    "matching_rules",
                    "user_event",
                    "revoke",
                    "replay_job_status",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@given(json_values)
def test_any_json_parses_to_at_least_one_keyed_event(value: object) -> None:
    envelope = parse_envelope(json.dumps(value).encode())
    assert envelope.events
    assert all(event.key and event.event_type for event in envelope.events)


@given(st.binary(max_size=400))
def test_any_bytes_parse_without_raising(body: bytes) -> None:
    assert parse_envelope(body).events


@given(json_values)
def test_only_bodies_that_are_not_json_objects_are_quarantined(value: object) -> None:
    try:
        body = json.dumps(value, allow_nan=False).encode()
    except ValueError:
        reject()  # infinity has no JSON spelling (json.dumps writes `Infinity`, which is not JSON)
    envelope = parse_envelope(body)
    assert envelope.shape.quarantined is not isinstance(value, dict)


@given(st.from_regex(r"[A-Za-z0-9+/_-]{14,128}={0,2}", fullmatch=True))
def test_every_body_the_crc_would_sign_is_quarantined(token: str) -> None:
    """The CRC answer for a token is a valid signature for a body made of that token (issue 12)."""
    try:
        check_crc_token(token)
    except InvalidCrcToken:
        return
    assert parse_envelope(token.encode()).shape.quarantined


@pytest.mark.parametrize("path", DELIVERED, ids=lambda path: path.name)
def test_each_event_alone_keeps_its_key_and_a_single_event_body_is_unchanged(path) -> None:  # type: ignore[no-untyped-def]
    body = path.read_bytes()
    events = parse_envelope(body).events
    for event in events:
        alone = event_body(body, event.index)
        assert [(e.key, e.event_type, e.for_user_id) for e in parse_envelope(alone).events] == [
            (event.key, event.event_type, event.for_user_id)
        ]
    if len(events) == 1:
        assert event_body(body, 0) == body


def test_an_event_alone_keeps_what_the_delivery_shares_and_only_its_own_item() -> None:
    shared = {"for_user_id": "7", "users": {"7": {"id": "7"}}}
    dms = [{"type": "message_create", "id": "1"}, {"type": "message_create", "id": "2"}]
    body = json.dumps({**shared, "direct_message_events": dms, "favorite_events": [{"id": "f"}]}).encode()
    assert json.loads(event_body(body, 1)) == {**shared, "direct_message_events": [dms[1]]}
    assert json.loads(event_body(body, 2)) == {**shared, "favorite_events": [{"id": "f"}]}
    assert event_body(b"not json", 0) == b"not json"


@pytest.mark.parametrize(
    ("body", "posts"),
    [
        pytest.param(
            b'{"for_user_id":"7","tweet_delete_events":[{"status":{"id":"12","user_id":"7"}},'
            b'{"status":{"id":"13","user_id":"7"}}]}',
            ("12", "13"),
            id="aaa-two-deletes",
        ),
        pytest.param(b'{"data":{"event_type":"post.delete","payload":{"id":"-5"}}}', ("-5",), id="xaa"),
        pytest.param(b'{"data":{"event_type":"post.create","payload":{"id":"5"}}}', (), id="not-a-delete"),
        pytest.param(b'{"data":{"event_type":"post.delete","payload":{"id":"5%"}}}', (), id="not-digits"),
        pytest.param(b"not json", (), id="malformed"),
    ],
)
def test_deleted_posts_reads_the_ids_x_says_were_deleted(body: bytes, posts: tuple[str, ...]) -> None:
    assert deleted_posts(body) == posts
