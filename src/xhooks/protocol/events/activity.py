"""X Activity API events: one model per `event_type` family, over X's envelope
`{"data": {"event_uuid", "event_type", "filter", "tag", "payload", "includes"}}`.

`event_uuid` stays a string: it is opaque, can be negative (`"-2781149976877970683"`) or a UUID, and is
missing in some documented examples. Users that X wraps as `{"data": user}` (follow `source`/`target`,
Spaces and broadcast `user`, `includes.users` of `post.delete`, the `users` map of `dm.*`) are unwrapped in
the typed view; `raw` keeps X's shape.
"""

from __future__ import annotations

from typing import Any

from xhooks.protocol.events._base import Event, Post, User, _Model
from xhooks.protocol.events.account_activity import MessageCreate

__all__ = [
    "ActivityBlock",
    "ActivityEvent",
    "ActivityFilter",
    "ActivityFollow",
    "ActivityMute",
    "ActivityUnblock",
    "ActivityUnfollow",
    "ActivityUnmute",
    "ActivityUserAction",
    "BroadcastChat",
    "BroadcastEnd",
    "BroadcastStart",
    "ChatConversation",
    "ChatReceived",
    "ChatSent",
    "ChatUpdate",
    "DmRead",
    "DmReceived",
    "DmSent",
    "DmTyping",
    "Includes",
    "LikeCreate",
    "NewsNew",
    "OAuthRevoke",
    "PostCreate",
    "PostDelete",
    "PostEvent",
    "PostMentionCreate",
    "PostQuoteCreate",
    "PostReplyCreate",
    "PostRepostCreate",
    "ProfileUpdate",
    "SpacesEnd",
    "SpacesStart",
]


class ActivityFilter(_Model, frozen=True, kw_only=True, omit_defaults=True):
    """A subscription's filter: a `user_id` (with `direction` for likes and DMs) or a news `keyword`.

    The same object in both directions: the one an event says matched, and the one the client sends when it
    creates a subscription (unset fields are left out of the request)."""

    user_id: str | None = None
    keyword: str | None = None
    direction: str | None = None


class Includes(_Model, frozen=True, kw_only=True):
    users: list[User] | None = None
    tweets: list[Post] | None = None


class ActivityEvent(Event, frozen=True, kw_only=True):
    """Any X Activity API event; `for_user_id` is `filter.user_id`."""

    event_uuid: str | None = None
    tag: str | None = None
    filter: ActivityFilter | None = None
    includes: Includes | None = None
    payload: Any = None


class PostEvent(ActivityEvent, frozen=True, kw_only=True):
    """A Post event: the payload is a v2 Post."""

    payload: Post | None = None

    @property
    def actor_id(self) -> str | None:
        return self.payload.author_id if self.payload else None


class PostCreate(PostEvent, frozen=True, kw_only=True):
    """`post.create`."""


class PostDelete(PostEvent, frozen=True, kw_only=True):
    """`post.delete`: the payload has only `id` and `author_id`."""


class PostMentionCreate(PostEvent, frozen=True, kw_only=True):
    """`post.mention.create`."""


class PostReplyCreate(PostEvent, frozen=True, kw_only=True):
    """`post.reply.create`."""


class PostQuoteCreate(PostEvent, frozen=True, kw_only=True):
    """`post.quote.create`."""


class PostRepostCreate(PostEvent, frozen=True, kw_only=True):
    """`post.repost.create`."""


class _Like(_Model, frozen=True, kw_only=True):
    id: str | None = None
    created_at: str | None = None
    timestamp_ms: str | int | None = None
    liked_tweet_id: str | None = None
    liked_tweet_author_id: str | None = None


class LikeCreate(ActivityEvent, frozen=True, kw_only=True):
    """`like.create`; `filter.direction` says whether the subscribed user liked or was liked."""

    payload: _Like | None = None

    @property
    def actor_id(self) -> str | None:
        """The liker: the subscribed user when the like is theirs (`outbound`, or without a direction a like of
        someone else's Post). X does not name the liker of an `inbound` like."""
        if self.filter is None or self.payload is None:
            return None
        user_id, direction = self.filter.user_id, self.filter.direction
        if direction == "outbound" or (direction is None and user_id != self.payload.liked_tweet_author_id):
            return user_id
        return None


class _SourceTarget(_Model, frozen=True, kw_only=True):
    source: User | None = None
    target: User | None = None


class ActivityUserAction(ActivityEvent, frozen=True, kw_only=True):
    """A follow, block or mute change; `payload.source` acted on `payload.target`."""

    payload: _SourceTarget | None = None

    @property
    def actor_id(self) -> str | None:
        source = self.payload.source if self.payload else None
        return source.id if source else None


class ActivityFollow(ActivityUserAction, frozen=True, kw_only=True):
    """`follow.follow`."""


class ActivityUnfollow(ActivityUserAction, frozen=True, kw_only=True):
    """`follow.unfollow`."""


class ActivityBlock(ActivityUserAction, frozen=True, kw_only=True):
    """`block.block`."""


class ActivityUnblock(ActivityUserAction, frozen=True, kw_only=True):
    """`block.unblock`."""


class ActivityMute(ActivityUserAction, frozen=True, kw_only=True):
    """`mute.mute`."""


class ActivityUnmute(ActivityUserAction, frozen=True, kw_only=True):
    """`mute.unmute`."""


class _BeforeAfter(_Model, frozen=True, kw_only=True):
    before: Any = None
    after: Any = None


class ProfileUpdate(ActivityEvent, frozen=True, kw_only=True):
    """Every `profile.update.*` type (bio, pictures, screen name, geo, url, badges, handle)."""

    payload: _BeforeAfter | None = None

    @property
    def field(self) -> str:
        """What changed: `bio`, `profile_picture`, `screenname` …"""
        return self.event_type.removeprefix("profile.update.")

    @property
    def actor_id(self) -> str | None:
        return self.filter.user_id if self.filter else None


class _News(_Model, frozen=True, kw_only=True):
    id: str | None = None
    name: str | None = None
    summary: str | None = None
    hook: str | None = None
    category: str | None = None
    updated_at: str | None = None
    disclaimer: str | None = None
    contexts: dict[str, Any] | None = None
    cluster_posts_results: list[Any] | None = None


class NewsNew(ActivityEvent, frozen=True, kw_only=True):
    """`news.new` (the filter is a `keyword`)."""

    payload: _News | None = None


class _Space(_Model, frozen=True, kw_only=True):
    broadcast_id: str | None = None
    event_type: str | None = None
    """X's inner name, `spaces_start` / `spaces_end`."""
    user: User | None = None


class SpacesStart(ActivityEvent, frozen=True, kw_only=True):
    """`spaces.start`."""

    payload: _Space | None = None

    @property
    def actor_id(self) -> str | None:
        return self.payload.user.id if self.payload and self.payload.user else None


class SpacesEnd(SpacesStart, frozen=True, kw_only=True):
    """`spaces.end`."""


class _Broadcast(_Model, frozen=True, kw_only=True):
    broadcast_id: str | None = None
    broadcast_state: str | None = None
    title: str | None = None
    language: str | None = None
    thumbnail_url: str | None = None
    available_for_replay: bool | None = None
    user: User | None = None
    created_timestamp_ms: int | None = None
    created_timestamp_ms_str: str | None = None
    event_timestamp_ms: int | None = None
    event_timestamp_ms_str: str | None = None
    duration_ms: int | None = None
    duration_ms_str: str | None = None


class BroadcastStart(ActivityEvent, frozen=True, kw_only=True):
    """`broadcast.start`."""

    payload: _Broadcast | None = None

    @property
    def actor_id(self) -> str | None:
        return self.payload.user.id if self.payload and self.payload.user else None


class BroadcastEnd(BroadcastStart, frozen=True, kw_only=True):
    """`broadcast.end`."""


class _BroadcastMessage(_Model, frozen=True, kw_only=True):
    broadcast_id: str | None = None
    message_id: str | None = None
    message: Any = None
    author: User | None = None


class BroadcastChat(ActivityEvent, frozen=True, kw_only=True):
    """`broadcast.chat`."""

    payload: _BroadcastMessage | None = None

    @property
    def actor_id(self) -> str | None:
        return self.payload.author.id if self.payload and self.payload.author else None


class _Chat(_Model, frozen=True, kw_only=True):
    id: str | None = None
    conversation_id: str | None = None
    sender_id: str | None = None
    encoded_event: str | None = None
    conversation_token: str | None = None
    conversation_key_version: str | int | None = None
    conversation_key_change_event: str | None = None
    created_at_msec: str | int | None = None
    message_event_signature: dict[str, Any] | None = None


class ChatReceived(ActivityEvent, frozen=True, kw_only=True):
    """`chat.received`: an encrypted XChat message (decrypt `payload.encoded_event` with your keys)."""

    payload: _Chat | None = None

    @property
    def actor_id(self) -> str | None:
        return self.payload.sender_id if self.payload else None


class ChatSent(ChatReceived, frozen=True, kw_only=True):
    """`chat.sent`."""


class ChatConversation(ActivityEvent, frozen=True, kw_only=True):
    """`chat.conversation.*`: join, member or admin added or removed (payload not documented: kept as JSON)."""

    payload: dict[str, Any] | None = None


class ChatUpdate(ActivityEvent, frozen=True, kw_only=True):
    """`chat.update.*`: group name or restrictions changed (payload not documented: kept as JSON)."""

    payload: dict[str, Any] | None = None


class _DmItem(_Model, frozen=True, kw_only=True):
    type: str | None = None
    id: str | None = None
    created_timestamp: str | None = None
    message_create: MessageCreate | None = None


class _DmPayload(_Model, frozen=True, kw_only=True):
    direct_message_events: list[_DmItem] | None = None
    users: dict[str, User] | None = None


class DmSent(ActivityEvent, frozen=True, kw_only=True):
    """`dm.sent`: an AAA-style `direct_message_events` array and a `users` map (entries wrapped in `data`)."""

    payload: _DmPayload | None = None

    @property
    def messages(self) -> list[_DmItem]:
        return list(self.payload.direct_message_events or []) if self.payload else []

    @property
    def actor_id(self) -> str | None:
        messages = self.messages
        create = messages[0].message_create if messages else None
        return create.sender_id if create else None


class DmReceived(DmSent, frozen=True, kw_only=True):
    """`dm.received`."""


class DmTyping(ActivityEvent, frozen=True, kw_only=True):
    """`dm.indicate_typing` (payload not documented: kept as JSON)."""

    payload: dict[str, Any] | None = None


class DmRead(ActivityEvent, frozen=True, kw_only=True):
    """`dm.read` (payload not documented: kept as JSON)."""

    payload: dict[str, Any] | None = None


class _OAuthRevoke(_Model, frozen=True, kw_only=True):
    app_id: str | None = None
    user_id: str | None = None
    date_time: str | None = None


class OAuthRevoke(ActivityEvent, frozen=True, kw_only=True):
    """`oauth.revoke`: delivered though it cannot be subscribed to; its `filter` is `{}`."""

    payload: _OAuthRevoke | None = None

    @property
    def actor_id(self) -> str | None:
        return self.payload.user_id if self.payload else None
