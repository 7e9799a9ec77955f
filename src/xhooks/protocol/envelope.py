"""Split a delivered body into events and give each event its deduplication key.

Theory. X delivers three shapes to the same webhook, and promises none of them exactly once:

* Account Activity (AAA): `{"for_user_id": …, "<kind>_events": [ … ], "users": {…}, "apps": {…}}`. Every
  `*_events` array may hold several events, so one POST is one *delivery* holding *n* events. Follow,
  block and mute changes arrive under `follow_events` / `block_events` / `mute_events` with a `type`
  (`follow` / `unfollow` …); the docs also name `unfollow_events` etc., which are accepted the same way.
  `user_event` (revoke) and `replay_job_status` are objects, not arrays, and have no `for_user_id`.
* X Activity API (XAA): `{"data": {"event_uuid": …, "event_type": …, "filter": {…}, "payload": …}}`, one event
  per POST. `event_uuid` is opaque (it can be negative) and is the documented dedup key.
* Filtered Stream: `{"data": {"id": …, …}, "matching_rules": [ … ]}`, one Post per POST, keyed by `data.id`.

A key is built from X's own identifiers plus `for_user_id`, because the same Post legitimately arrives
once per subscribed user it concerns (a DM between two subscribed users is two events). Events that carry
no identifier (follow, block, mute, typing, read receipts, revoke) are keyed by the identifying fields X
does send (actor, object, timestamp); if even those are missing the key is the hash of the event's
canonical JSON. A body that matches no known shape, or is not JSON at all, is still one event keyed by
the SHA-256 of its raw bytes: nothing a correctly signed POST carries is ever dropped.

Keys are unique per receiving app; the store scopes them by app, since two apps sharing a URL each get
(and must each handle) their own copy.
"""

from __future__ import annotations

import enum
import hashlib
from typing import Any

import msgspec

__all__ = ["Envelope", "EventRef", "Shape", "parse_envelope"]

_decoder = msgspec.json.Decoder()
_canonical = msgspec.json.Encoder(order="sorted")


class Shape(enum.Enum):
    """Which of X's products a body came from."""

    ACCOUNT_ACTIVITY = "account_activity"
    ACTIVITY = "activity"
    FILTERED_STREAM = "filtered_stream"
    UNKNOWN = "unknown"
    MALFORMED = "malformed"


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


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(name)
    return obj


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
    for_user_id = _str(doc.get("for_user_id"))
    events: list[EventRef] = []
    for name, value in doc.items():
        if not name.endswith("_events") or not isinstance(value, list):
            continue
        for item in value:
            subtype = _str(_get(item, "type")) if name in _TYPED_ARRAYS else None
            event_type = f"{name}.{subtype}" if subtype else name
            ident = _aaa_item_id(name, item) or _content_key(item)
            events.append(EventRef(f"aaa:{for_user_id or '-'}:{name}:{ident}", event_type, for_user_id, len(events)))
    revoke = _get(doc, "user_event", "revoke")
    if isinstance(revoke, dict):
        user_id = _str(_get(revoke, "source", "user_id"))
        revoke_id = _ids(user_id, _str(_get(revoke, "target", "app_id")), _str(revoke.get("date_time")))
        key = f"aaa:revoke:{revoke_id or _content_key(revoke)}"
        events.append(EventRef(key, "user_event.revoke", user_id, len(events)))
    status = doc.get("replay_job_status")
    if isinstance(status, dict):
        job_id = _ids(_str(status.get("job_id")), _str(status.get("job_state")))
        key = f"aaa:replay_job_status:{job_id or _content_key(status)}"
        events.append(EventRef(key, "replay_job_status", None, len(events)))
    return events


def activity_data(doc: Any) -> dict[str, Any] | None:
    """`data` of an X Activity API event body, or None. A management API answer about a subscription
    (`{"data":{"subscription_id","event_type",…}}`) names an `event_type` too but is not an event."""
    data = doc.get("data") if isinstance(doc, dict) else None
    if isinstance(data, dict) and "event_type" in data and "subscription_id" not in data:
        return data
    return None


def activity_for_user_id(data: dict[str, Any]) -> str | None:
    """The user an X Activity API event is for: `filter.user_id`, or `payload.user_id` for `oauth.revoke`,
    whose filter is `{}`."""
    if data.get("event_type") == "oauth.revoke":
        return _str(_get(data, "payload", "user_id"))
    return _str(_get(data, "filter", "user_id"))


def _activity_event(data: dict[str, Any]) -> EventRef:
    event_type = _str(data.get("event_type")) or "activity.unknown"
    for_user_id = activity_for_user_id(data)
    uuid = _str(data.get("event_uuid"))
    return EventRef(f"xaa:{uuid if uuid else _content_key(data)}", event_type, for_user_id)


def _raw_event(body: bytes, event_type: str) -> EventRef:
    return EventRef(f"raw:{_digest(body)}", event_type)


def parse_envelope(body: bytes) -> Envelope:
    """Classify `body` and list its events with their dedup keys. Never raises on any input.

    ```python
    >>> env = parse_envelope(b'{"data":{"event_uuid":"-27","event_type":"post.create","payload":{}}}')
    >>> env.shape, env.events[0].key
    (<Shape.ACTIVITY: 'activity'>, 'xaa:-27')
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
    return Envelope(Shape.UNKNOWN, (_raw_event(body, "unknown"),))
