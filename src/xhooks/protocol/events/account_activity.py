"""Account Activity API events: one model per `*_events` array (and per `type` of the follow, block and mute
arrays), plus `user_event.revoke` and `replay_job_status`.

The AAA delivery's context is copied onto each event: `for_user_id`, `user_has_blocked` (a string `"false"`
in X's examples, a boolean per its FAQ: both are accepted, `blocked` reads either) and the `users` / `apps`
maps that DM events come with.
"""

from __future__ import annotations

from typing import Any

from xhooks.protocol.events._base import App, Event, Tweet, V1User, _Model

__all__ = [
    "Block",
    "DirectMessage",
    "DirectMessageRead",
    "DirectMessageTyping",
    "Favorite",
    "Follow",
    "MessageCreate",
    "Mute",
    "ReplayJobStatus",
    "Revoke",
    "TweetCreate",
    "TweetDelete",
    "Unblock",
    "Unfollow",
    "Unmute",
    "UserAction",
]


class TweetCreate(Event, frozen=True, kw_only=True):
    """`tweet_create_events`: a Post, Retweet, reply, quote or @mention by or to the subscribed user."""

    tweet: Tweet
    user_has_blocked: bool | str | None = None

    @property
    def blocked(self) -> bool | None:
        """`user_has_blocked` as a boolean, whichever way X sent it."""
        if isinstance(self.user_has_blocked, str):
            return self.user_has_blocked.lower() == "true"
        return self.user_has_blocked

    @property
    def actor_id(self) -> str | None:
        return self.tweet.user.user_id if self.tweet.user else None


class Favorite(Event, frozen=True, kw_only=True):
    """`favorite_events`: a like of or by the subscribed user. `timestamp_ms` is a number here."""

    id: str | None = None
    created_at: str | None = None
    timestamp_ms: int | str | None = None
    favorited_status: Tweet | None = None
    user: V1User | None = None

    @property
    def actor_id(self) -> str | None:
        return self.user.user_id if self.user else None


class UserAction(Event, frozen=True, kw_only=True):
    """A follow, block or mute change: `source` acted on `target`."""

    type: str | None = None
    created_timestamp: str | None = None
    source: V1User | None = None
    target: V1User | None = None

    @property
    def actor_id(self) -> str | None:
        return self.source.user_id if self.source else None


class Follow(UserAction, frozen=True, kw_only=True):
    """`follow_events` with `type: follow`."""


class Unfollow(UserAction, frozen=True, kw_only=True):
    """`follow_events` (or `unfollow_events`) with `type: unfollow`."""


class Block(UserAction, frozen=True, kw_only=True):
    """`block_events` with `type: block`."""


class Unblock(UserAction, frozen=True, kw_only=True):
    """`block_events` (or `unblock_events`) with `type: unblock`."""


class Mute(UserAction, frozen=True, kw_only=True):
    """`mute_events` with `type: mute`."""


class Unmute(UserAction, frozen=True, kw_only=True):
    """`mute_events` (or `unmute_events`) with `type: unmute`."""


class _Recipient(_Model, frozen=True, kw_only=True):
    recipient_id: str | None = None


class _MessageData(_Model, frozen=True, kw_only=True):
    text: str | None = None
    entities: dict[str, Any] | None = None
    attachment: dict[str, Any] | None = None
    quick_reply_response: dict[str, Any] | None = None


class MessageCreate(_Model, frozen=True, kw_only=True):
    target: _Recipient | None = None
    sender_id: str | None = None
    source_app_id: str | None = None
    message_data: _MessageData | None = None


class _DirectMessageContext(Event, frozen=True, kw_only=True):
    users: dict[str, V1User] | None = None
    apps: dict[str, App] | None = None


class DirectMessage(_DirectMessageContext, frozen=True, kw_only=True):
    """`direct_message_events`: a DM sent or received by the subscribed user, with the delivery's `users`/`apps`.

    A DM the subscribed user sent (including a bot's own reply) arrives too: `actor_id == for_user_id`.
    """

    type: str | None = None
    id: str | None = None
    created_timestamp: str | None = None
    message_create: MessageCreate | None = None

    @property
    def sender_id(self) -> str | None:
        return self.message_create.sender_id if self.message_create else None

    @property
    def recipient_id(self) -> str | None:
        target = self.message_create.target if self.message_create else None
        return target.recipient_id if target else None

    @property
    def text(self) -> str | None:
        data = self.message_create.message_data if self.message_create else None
        return data.text if data else None

    @property
    def actor_id(self) -> str | None:
        return self.sender_id


class DirectMessageTyping(_DirectMessageContext, frozen=True, kw_only=True):
    """`direct_message_indicate_typing_events`."""

    created_timestamp: str | None = None
    sender_id: str | None = None
    target: _Recipient | None = None

    @property
    def actor_id(self) -> str | None:
        return self.sender_id


class DirectMessageRead(DirectMessageTyping, frozen=True, kw_only=True):
    """`direct_message_mark_read_events`: `sender_id` read the conversation up to `last_read_event_id`."""

    last_read_event_id: str | None = None


class _Status(_Model, frozen=True, kw_only=True):
    id: str | None = None
    user_id: str | None = None


class TweetDelete(Event, frozen=True, kw_only=True):
    """`tweet_delete_events` (compliance). `timestamp_ms` is a string here."""

    status: _Status | None = None
    timestamp_ms: str | int | None = None

    @property
    def actor_id(self) -> str | None:
        return self.status.user_id if self.status else None


class _RevokeTarget(_Model, frozen=True, kw_only=True):
    app_id: str | None = None


class _RevokeSource(_Model, frozen=True, kw_only=True):
    user_id: str | None = None


class Revoke(Event, frozen=True, kw_only=True):
    """`user_event.revoke`: the user revoked the app; X removes the subscription. `for_user_id` is the user."""

    date_time: str | None = None
    target: _RevokeTarget | None = None
    source: _RevokeSource | None = None

    @property
    def actor_id(self) -> str | None:
        return self.source.user_id if self.source else None


class ReplayJobStatus(Event, frozen=True, kw_only=True):
    """`replay_job_status`: a replay job finished (`job_state` `Complete` or `Incomplete`)."""

    webhook_id: str | None = None
    job_id: str | None = None
    job_state: str | None = None
    job_state_description: str | None = None
