"""Split a delivered body into events and give each event its deduplication key.

Theory. X delivers three shapes to the same webhook, and promises none of them exactly once:

* Account Activity (AAA): `{"for_user_id": …, "<kind>_events": [ … ], "users": {…}, "apps": {…}}`. Every
  `*_events` array may hold several events, so one POST is one *delivery* holding *n* events. Follow,
  block and mute changes arrive under `follow_events` / `block_events` / `mute_events` with a `type`
  (`follow` / `unfollow` …); the docs also name `unfollow_events` etc., which are accepted the same way.
  `user_event` (revoke) and `replay_job_status` are objects, not arrays, and have no `for_user_id`.
* X Activity API (XAA): `{"data": {"event_uuid": …, "event_type": …, "filter": {…}, "payload": …}}`, one event
  per POST. `event_uuid` is opaque: a number, a negative number or a UUID.
* Filtered Stream: `{"data": {"id": …, …}, "matching_rules": [ … ]}`, one Post per POST, keyed by `data.id`.

A key must be equal for two deliveries X counts as the same event (a retry, a duplicate, a replay re-sends
the same bytes) and different for any two events a handler must see. Each shape's key, and why:

* AAA: `aaa:<for_user_id>:<array>:<id>`. X says to "deduplicate by event ID"
  (https://docs.x.com/x-api/webhooks/quickstart) and sends one copy per subscribed user the event concerns,
  each naming in `for_user_id` "the user subscription that the event is related to"
  (https://docs.x.com/x-api/account-activity/introduction). So a DM between two subscribed users is two
  events, and one user's copy is one event however many of the app's webhooks it reaches. The array name
  is part of the key because the same id can mean two things (a Post created, then deleted). Events that
  carry no id (follow, block, mute, typing, read receipts, revoke) are keyed by the fields X does send
  (type, actor, object, timestamp); if even those are missing the key is the hash of the item's canonical
  JSON.
* XAA: `xaa:<event_type>:<filter digest>:<event_uuid>`. `event_uuid` alone does not name a delivery:
  X's own examples give a Post event the Post's id as `event_uuid`
  (https://docs.x.com/x-api/activity/event-payloads, `post.create` and `post.mention.create`), so one
  Post reaching a webhook as `post.mention.create` (filter user A) and as `post.create` (filter user B)
  carries one `event_uuid` twice. Those are two events: two subscriptions matched, each wants its
  handler run. A subscription is named by its `event_type` and `filter` (an update may change only its
  `tag` and `webhook_id`, https://docs.x.com/x-api/activity/update-x-activity-subscription), and every
  delivery carries both, so they join the key; the filter enters as the first 16 hex digits of the
  SHA-256 of its canonical JSON (keys sorted), whatever it holds (`user_id`, `keyword`, `direction`, `{}` for
  `oauth.revoke`). A retry or replay re-sends the same bytes, so it keeps the key. A delivery without an
  `event_uuid` uses the hash of its whole canonical `data`.
* Filtered Stream: `fs:<post id>`. A Post is matched once against all of the app's rules and arrives as
  one POST listing every rule it matched in `matching_rules`
  (https://docs.x.com/x-api/posts/filtered-stream/integrate/matching-returned-tweets), so rules never
  split it. Several webhooks linked to one stream (for redundancy, or with other fields,
  https://docs.x.com/x-api/webhooks/stream/quickstart) each get the same Post: one event. An edit is a
  new Post id, hence a new event.

A body that matches no known shape, or is not JSON at all, is one event keyed by the SHA-256 of its raw
bytes: nothing a correctly signed POST carries is ever dropped.

Quarantine. Every body X delivers is a JSON object. A signed body that is not one (not JSON, or a JSON
array, string, number, `true`, `null`) cannot be an X event, and a valid signature does not prove that X
sent it: the CRC `response_token` is the same HMAC as an event signature, so whoever asks a consumer's CRC
for a token-shaped `crc_token` (16 to 128 base64 characters, see `crc.py`) holds a valid signature for a
body made of exactly those characters. No such body is a JSON object (it has no `{`), though a run of
digits is a JSON number. So the rule is: a signed body that is not a JSON object is `Shape.MALFORMED`, and
its event is *quarantined*: stored, shown and counted, never handed to handlers (`Shape.quarantined`).

Keys are unique per receiving app; the store scopes them by app, since two apps sharing a URL each get
(and must each handle) their own copy. A store written under an older rule is re-keyed by its migrations
with this same function (see `xhooks.store.migrations`).
"""

from __future__ import annotations

import enum
import hashlib
from typing import Any

import msgspec

from xhooks.protocol._walk import aaa_items, aaa_user_id, activity_data, activity_user_id, is_event_member
from xhooks.protocol._walk import field as _get
from xhooks.protocol._walk import text as _str

__all__ = ["Envelope", "EventRef", "Shape", "deleted_posts", "event_body", "parse_envelope"]

_decoder = msgspec.json.Decoder()
_canonical = msgspec.json.Encoder(order="sorted")
_encoder = msgspec.json.Encoder()


class Shape(enum.Enum):
    """Which of X's products a body came from."""

    ACCOUNT_ACTIVITY = "account_activity"
    ACTIVITY = "activity"
    FILTERED_STREAM = "filtered_stream"
    UNKNOWN = "unknown"
    """A JSON object of no known shape (perhaps a product X added later): handed to catch-all handlers."""
    MALFORMED = "malformed"
    """Not a JSON object. No X delivery looks like this, so its event is quarantined."""

    @property
    def quarantined(self) -> bool:
        """True when a body of this shape cannot be an X event: kept, but never handed to handlers."""
        return self is Shape.MALFORMED


class EventRef(msgspec.Struct, frozen=True):
    """One event inside a delivery: where it is, what it is, and how to recognise it again."""

    key: str
    event_type: str
    for_user_id: str | None = None
    index: int = 0
    """Position of the event within its delivery (AAA arrays can hold several)."""


class Envelope(msgspec.Struct, frozen=True):
    """The result of parsing one delivered body."""

    shape: Shape
    events: tuple[EventRef, ...]


# Arrays whose items have `type` telling the change (follow/unfollow …).
_TYPED_ARRAYS = frozenset(
    {"follow_events", "unfollow_events", "block_events", "unblock_events", "mute_events", "unmute_events"}
)


def _user_id(user: Any) -> str | None:
    """The id of a user object, bare (`id_str`, `id`) or wrapped in `data` as XAA sometimes does."""
    if isinstance(user, dict) and isinstance(user.get("data"), dict):
        user = user["data"]
    return _str(_get(user, "id_str")) or _str(_get(user, "id")) or _str(_get(user, "user_id"))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _content_key(item: Any) -> str:
    return "sha256:" + _digest(_canonical.encode(item))


def _ids(*parts: str | None) -> str | None:
    """Join identifier parts, or None when any is missing (then the content hash is used)."""
    if any(part is None for part in parts):
        return None
    return ":".join(part for part in parts if part is not None)


def _aaa_item_id(array: str, item: Any) -> str | None:
    """X's identifier for one item of an AAA `*_events` array, or None when it has none."""
    if array == "tweet_create_events":
        return _str(_get(item, "id_str")) or _str(_get(item, "id"))
    if array in ("favorite_events", "direct_message_events"):
        return _str(_get(item, "id"))
    if array == "tweet_delete_events":
        return _str(_get(item, "status", "id"))
    if array in _TYPED_ARRAYS:
        return _ids(
            _str(_get(item, "type")),
            _user_id(_get(item, "source")),
            _user_id(_get(item, "target")),
            _str(_get(item, "created_timestamp")),
        )
    if array == "direct_message_indicate_typing_events":
        return _ids(
            _str(_get(item, "sender_id")),
            _str(_get(item, "target", "recipient_id")),
            _str(_get(item, "created_timestamp")),
        )
    if array == "direct_message_mark_read_events":
        return _ids(_str(_get(item, "sender_id")), _str(_get(item, "last_read_event_id")))
    return None


def _aaa_events(doc: dict[str, Any]) -> list[EventRef]:
    events: list[EventRef] = []
    for index, (name, item) in enumerate(aaa_items(doc)):
        for_user_id = aaa_user_id(doc, name, item)
        if name == "user_event.revoke":
            revoke_id = _ids(for_user_id, _str(_get(item, "target", "app_id")), _str(item.get("date_time")))
            events.append(EventRef(f"aaa:revoke:{revoke_id or _content_key(item)}", name, for_user_id, index))
        elif name == "replay_job_status":
            job_id = _ids(_str(item.get("job_id")), _str(item.get("job_state")))
            events.append(EventRef(f"aaa:replay_job_status:{job_id or _content_key(item)}", name, for_user_id, index))
        else:
            subtype = _str(_get(item, "type")) if name in _TYPED_ARRAYS else None
            event_type = f"{name}.{subtype}" if subtype else name
            ident = _aaa_item_id(name, item) or _content_key(item)
            events.append(EventRef(f"aaa:{for_user_id or '-'}:{name}:{ident}", event_type, for_user_id, index))
    return events


def _activity_event(data: dict[str, Any]) -> EventRef:
    event_type = _str(data.get("event_type")) or "activity.unknown"
    for_user_id = activity_user_id(data)
    subscription = f"{event_type}:{_digest(_canonical.encode(data.get('filter')))[:16]}"
    uuid = _str(data.get("event_uuid"))
    return EventRef(f"xaa:{subscription}:{uuid if uuid else _content_key(data)}", event_type, for_user_id)


def _raw_event(body: bytes, event_type: str) -> EventRef:
    return EventRef(f"raw:{_digest(body)}", event_type)


def parse_envelope(body: bytes) -> Envelope:
    """Classify `body` and list its events with their dedup keys. Never raises on any input.

    ```python
    >>> env = parse_envelope(b'{"data":{"event_uuid":"-27","event_type":"post.create","filter":{"user_id":"6"}}}')
    >>> env.shape, env.events[0].key
    (<Shape.ACTIVITY: 'activity'>, 'xaa:post.create:af91c714dc74bd48:-27')
    ```
    """
    try:
        doc = _decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return Envelope(Shape.MALFORMED, (_raw_event(body, "malformed"),))
    if (activity := activity_data(doc)) is not None:
        return Envelope(Shape.ACTIVITY, (_activity_event(activity),))
    if isinstance(doc, dict):
        data = doc.get("data")
        if isinstance(data, dict) and (ident := _str(data.get("id"))) and "matching_rules" in doc:
            return Envelope(Shape.FILTERED_STREAM, (EventRef(f"fs:{ident}", "filtered_stream.post"),))
        events = _aaa_events(doc)
        if events:
            return Envelope(Shape.ACCOUNT_ACTIVITY, tuple(events))
    shape = Shape.UNKNOWN if isinstance(doc, dict) else Shape.MALFORMED  # not an object: quarantined
    return Envelope(shape, (_raw_event(body, shape.value),))


def event_body(body: bytes, index: int) -> bytes:
    """The body X would have sent for the event at `index` of `body` alone: what a relay forwards as "the event".

    An Account Activity delivery can hold several events; the one at `index` comes back in the same envelope with
    only that item (`{"for_user_id": …, "direct_message_events": [item], "users": {…}}`: every member that is not an
    event, such as `users` and `apps`, kept), so `parse_envelope` gives it the same key. A body holding one event
    (every X Activity and Filtered Stream delivery, most AAA ones) comes back as the same bytes.

    ```python
    >>> event_body(b'{"for_user_id":"7","favorite_events":[{"id":"a"},{"id":"b"}]}', 1)
    b'{"for_user_id":"7","favorite_events":[{"id":"b"}]}'
    ```
    """
    try:
        doc = _decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return body
    items = aaa_items(doc) if isinstance(doc, dict) and activity_data(doc) is None else []
    if len(items) < 2 or not 0 <= index < len(items):
        return body
    name, item = items[index]
    single = {member: value for member, value in doc.items() if not is_event_member(member, value)}
    if name == "user_event.revoke":
        single["user_event"] = {"revoke": item}
    elif name == "replay_job_status":
        single[name] = item
    else:
        single[name] = [item]
    return _encoder.encode(single)


def deleted_posts(body: bytes) -> tuple[str, ...]:
    """The ids of the Posts a delivery says were deleted: `tweet_delete_events[].status.id` (Account Activity),
    `payload.id` of a `post.delete` (X Activity). Only ids made of digits (an optional leading `-`) count.

    ```python
    >>> deleted_posts(b'{"for_user_id":"7","tweet_delete_events":[{"status":{"id":"12","user_id":"7"}}]}')
    ('12',)
    ```
    """
    try:
        doc = _decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return ()
    if not isinstance(doc, dict):
        return ()
    data = activity_data(doc)
    if data is not None:
        found = [_str(_get(data, "payload", "id"))] if data.get("event_type") == "post.delete" else []
    else:
        found = [_str(_get(item, "status", "id")) for name, item in aaa_items(doc) if name == "tweet_delete_events"]
    return tuple(post for post in found if post and post.removeprefix("-").isdigit())
