"""The shared shape of every typed event, and the objects X nests in them (users, Posts, Tweets).

Every model is a frozen msgspec Struct whose fields are all optional: X adds fields, drops fields and
changes their types between products and over time, so a field that is missing or unknown never fails a
decode. Unknown fields are not dropped either: `Event.raw` holds the event's JSON exactly as decoded
(wrapped users, `*_str` twins and all), and the typed fields are a view of it.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "App",
    "Event",
    "Post",
    "PublicMetrics",
    "Tweet",
    "UnknownEvent",
    "User",
    "V1User",
]


class _Model(msgspec.Struct, frozen=True, kw_only=True):
    """A nested X object: every field optional, unknown fields ignored by the typed view."""


class User(_Model, frozen=True, kw_only=True):
    """A v2 user (X Activity API, filtered stream). X sometimes wraps it as `{"data": {…}}`; the typed view
    is always unwrapped, `raw` keeps the wrapping."""

    id: str | None = None
    username: str | None = None
    name: str | None = None
    description: str | None = None
    created_at: str | None = None
    protected: bool | None = None
    verified: bool | None = None
    verified_type: str | None = None
    profile_image_url: str | None = None
    location: str | None = None
    url: str | None = None
    public_metrics: dict[str, Any] | None = None


class PublicMetrics(_Model, frozen=True, kw_only=True):
    """A Post's counts; X sends each number twice, as a number and as a `*_str` string."""

    like_count: int | None = None
    like_count_str: str | None = None
    reply_count: int | None = None
    reply_count_str: str | None = None
    retweet_count: int | None = None
    retweet_count_str: str | None = None
    quote_count: int | None = None
    quote_count_str: str | None = None
    bookmark_count: int | None = None
    bookmark_count_str: str | None = None
    impression_count: int | None = None
    impression_count_str: str | None = None


class Post(_Model, frozen=True, kw_only=True):
    """A v2 Post (X Activity API payloads, filtered stream `data`)."""

    id: str | None = None
    text: str | None = None
    author_id: str | None = None
    created_at: str | None = None
    conversation_id: str | None = None
    in_reply_to_user_id: str | None = None
    in_reply_to_tweet_id: str | None = None
    lang: str | None = None
    referenced_tweets: list[dict[str, Any]] | None = None
    entities: dict[str, Any] | None = None
    public_metrics: PublicMetrics | None = None
    edit_history_tweet_ids: list[str] | None = None


class V1User(_Model, frozen=True, kw_only=True):
    """A v1.1 user (Account Activity). `id` is a number in Tweets but a string in the DM `users` map: use `id_str`
    when present (numbers past 2**53 are rounded by some senders)."""

    id: int | str | None = None
    id_str: str | None = None
    screen_name: str | None = None
    name: str | None = None
    description: str | None = None
    location: str | None = None
    url: str | None = None
    protected: bool | None = None
    verified: bool | None = None
    followers_count: int | None = None
    friends_count: int | None = None
    statuses_count: int | None = None
    created_timestamp: str | None = None
    profile_image_url_https: str | None = None

    @property
    def user_id(self) -> str | None:
        """The id as a string: `id_str`, else `id`."""
        return self.id_str or (str(self.id) if self.id is not None else None)


class App(_Model, frozen=True, kw_only=True):
    """An app in an AAA DM delivery's `apps` map."""

    id: str | None = None
    name: str | None = None
    url: str | None = None


class Tweet(_Model, frozen=True, kw_only=True):
    """A v1.1 Tweet (Account Activity). Use `id_str`: the numeric `id` is rounded by JSON parsers past 2**53."""

    id: int | None = None
    id_str: str | None = None
    text: str | None = None
    created_at: str | None = None
    truncated: bool | None = None
    extended_tweet: dict[str, Any] | None = None
    user: V1User | None = None
    in_reply_to_status_id_str: str | None = None
    in_reply_to_user_id_str: str | None = None
    quoted_status_id_str: str | None = None
    retweeted_status: dict[str, Any] | None = None
    entities: dict[str, Any] | None = None
    timestamp_ms: str | int | None = None

    @property
    def full_text(self) -> str | None:
        """The whole text: `extended_tweet.full_text` for long Posts, else `text`."""
        if self.extended_tweet and isinstance(self.extended_tweet.get("full_text"), str):
            return str(self.extended_tweet["full_text"])
        return self.text


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """What every typed event carries: X's type name, the subscribed user it was delivered for, and its raw JSON.

    `event_type` uses the envelope's names (`tweet_create_events`, `follow_events.unfollow`, `post.create`,
    `filtered_stream.post`). `actor_id` is the user who acted (for the echo filter); None when not known.
    """

    event_type: str
    for_user_id: str | None = None
    raw: Any = None
    """The event's own JSON (an AAA array item, the XAA `data` object, the stream body), unmodified."""

    @property
    def actor_id(self) -> str | None:
        return None


class UnknownEvent(Event, frozen=True, kw_only=True):
    """An event xhooks has no model for, a body that is not JSON, or one whose fields have unexpected types.

    Nothing is dropped: `raw` is the JSON (None if the body was not JSON), `body` the delivery's bytes, and
    `reason` says why the event is not typed.
    """

    body: bytes = b""
    reason: str = ""
