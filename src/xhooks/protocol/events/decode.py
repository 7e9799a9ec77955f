"""Turn the n-th event of a delivered body into its typed model: `decode_event(body, index, event_type)`.

`index` and `event_type` are the ones `parse_envelope` gave the event (they are stored with it), and the
items are walked in the same order: every `*_events` array in body order, then `user_event.revoke`, then
`replay_job_status`. The function never raises: a body that is not JSON, a type without a model, or fields
of unexpected types give an `UnknownEvent` that keeps the JSON and the bytes.
"""

from __future__ import annotations

from typing import Any

import msgspec

from xhooks.protocol._walk import aaa_items, aaa_user_id, activity_data, activity_user_id
from xhooks.protocol._walk import text as _str
from xhooks.protocol.events import account_activity as aaa
from xhooks.protocol.events import activity as xaa
from xhooks.protocol.events._base import Event, UnknownEvent
from xhooks.protocol.events.stream import StreamPost

__all__ = ["AAA_MODELS", "ACTIVITY_MODELS", "decode_event", "model_for"]

_decoder = msgspec.json.Decoder()

AAA_MODELS: dict[str, type[Event]] = {
    "tweet_create_events": aaa.TweetCreate,
    "favorite_events": aaa.Favorite,
    "tweet_delete_events": aaa.TweetDelete,
    "direct_message_events": aaa.DirectMessage,
    "direct_message_indicate_typing_events": aaa.DirectMessageTyping,
    "direct_message_mark_read_events": aaa.DirectMessageRead,
    "follow": aaa.Follow,
    "unfollow": aaa.Unfollow,
    "block": aaa.Block,
    "unblock": aaa.Unblock,
    "mute": aaa.Mute,
    "unmute": aaa.Unmute,
    "user_event.revoke": aaa.Revoke,
    "replay_job_status": aaa.ReplayJobStatus,
}
"""AAA models by array name, by the `type` of follow/block/mute items, and by the two object events."""

ACTIVITY_MODELS: dict[str, type[Event]] = {
    "post.create": xaa.PostCreate,
    "post.delete": xaa.PostDelete,
    "post.mention.create": xaa.PostMentionCreate,
    "post.reply.create": xaa.PostReplyCreate,
    "post.quote.create": xaa.PostQuoteCreate,
    "post.repost.create": xaa.PostRepostCreate,
    "like.create": xaa.LikeCreate,
    "follow.follow": xaa.ActivityFollow,
    "follow.unfollow": xaa.ActivityUnfollow,
    "block.block": xaa.ActivityBlock,
    "block.unblock": xaa.ActivityUnblock,
    "mute.mute": xaa.ActivityMute,
    "mute.unmute": xaa.ActivityUnmute,
    "news.new": xaa.NewsNew,
    "spaces.start": xaa.SpacesStart,
    "spaces.end": xaa.SpacesEnd,
    "broadcast.start": xaa.BroadcastStart,
    "broadcast.end": xaa.BroadcastEnd,
    "broadcast.chat": xaa.BroadcastChat,
    "chat.received": xaa.ChatReceived,
    "chat.sent": xaa.ChatSent,
    "chat.update.group_name": xaa.ChatUpdate,
    "chat.update.restrictions": xaa.ChatUpdate,
    "dm.sent": xaa.DmSent,
    "dm.received": xaa.DmReceived,
    "dm.indicate_typing": xaa.DmTyping,
    "dm.read": xaa.DmRead,
    "oauth.revoke": xaa.OAuthRevoke,
    "filtered_stream.post": StreamPost,
}
"""X Activity API models by `event_type` (`profile.update.*` and `chat.conversation.*` by prefix), and the stream."""


def model_for(event_type: str) -> type[Event] | None:
    """The model class for an envelope `event_type`, or None when xhooks has none (it decodes to `UnknownEvent`)."""
    if event_type in ACTIVITY_MODELS:
        return ACTIVITY_MODELS[event_type]
    if event_type.startswith("profile.update."):
        return xaa.ProfileUpdate
    if event_type.startswith("chat.conversation"):
        return xaa.ChatConversation
    array, _, subtype = event_type.partition(".")
    if not array.endswith("_events"):
        return AAA_MODELS.get(event_type)
    return AAA_MODELS.get(subtype or array)


def _unwrap(value: Any) -> Any:
    """Replace every `{"data": {…}}` (X's wrapped user) by its inner object, recursively."""
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("data"), dict):
            return _unwrap(value["data"])
        return {name: _unwrap(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_unwrap(item) for item in value]
    return value


def _aaa_fields(doc: dict[str, Any], name: str, item: Any) -> dict[str, Any]:
    context = {"for_user_id": aaa_user_id(doc, name, item)}
    if not isinstance(item, dict):
        raise LookupError(f"event {name} is not a JSON object")
    if name == "tweet_create_events":
        return {**context, "tweet": item, "user_has_blocked": doc.get("user_has_blocked")}
    if name.startswith("direct_message"):
        context.update(users=doc.get("users"), apps=doc.get("apps"))
    return {**item, **context}


def _fields(doc: Any, index: int, event_type: str) -> tuple[Any, dict[str, Any]]:
    """The event's raw JSON and the fields of its model (before type conversion)."""
    if not isinstance(doc, dict):
        raise LookupError("the body is not a JSON object")
    if event_type == "filtered_stream.post":
        return doc, {name: doc.get(name) for name in ("data", "includes", "matching_rules")}
    data = activity_data(doc)
    if data is not None:
        return data, {**data, "event_uuid": _str(data.get("event_uuid")), "for_user_id": activity_user_id(data)}
    items = aaa_items(doc)
    if not 0 <= index < len(items):
        raise LookupError(f"the body has no event at index {index}")
    name, item = items[index]
    return item, _aaa_fields(doc, name, item)


def decode_event(body: bytes, index: int, event_type: str) -> Event:
    """The typed event at `index` of `body`, whose envelope type is `event_type`. Never raises.

    ```python
    >>> event = decode_event(b'{"data":{"event_uuid":"-1","event_type":"post.create","payload":{"id":"7"}}}', 0,
    ...                      "post.create")
    >>> type(event).__name__, event.payload.id
    ('PostCreate', '7')
    ```
    """
    try:
        doc = _decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        return UnknownEvent(event_type=event_type, body=body, reason=f"not JSON: {exc}")
    try:
        raw, fields = _fields(doc, index, event_type)
    except LookupError as exc:
        return UnknownEvent(event_type=event_type, raw=doc, body=body, reason=str(exc))
    model = model_for(event_type)
    if model is None:
        return UnknownEvent(
            event_type=event_type, for_user_id=fields.get("for_user_id"), raw=raw, body=body, reason="no model"
        )
    typed = {**_unwrap(fields), "event_type": event_type, "for_user_id": fields.get("for_user_id")}
    typed.pop("raw", None)
    try:
        event = msgspec.convert(typed, model)
    except msgspec.ValidationError as exc:
        return UnknownEvent(
            event_type=event_type, for_user_id=fields.get("for_user_id"), raw=raw, body=body, reason=str(exc)
        )
    return msgspec.structs.replace(event, raw=raw)
