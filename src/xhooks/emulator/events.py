"""Realistic event factories: every Account Activity type, every X Activity API `event_type`, and Filtered
Stream posts, built from the emulator's users so that ids, names and timestamps hang together.

A factory returns where the event may go and what to send:

* `AaaEvent`: the users it concerns (a DM between two subscribed users is delivered once per
  `for_user_id`) and a builder for each user's body.
* `XaaEvent`: the `(user_id, direction)` pairs a subscription filter can match, plus the `payload` and
  `includes`; `news.new` matches on `keyword` instead, `oauth.revoke` reaches every webhook of the user.
* `StreamPost`: a v2 Post and its author, matched against the app's rules.

Shapes follow X's published examples (PLATFORM-NOTES §5.6, §6.3, §7); where X published none (dm.read,
mute.*, block.*, chat.conversation.*, chat.update.*, profile.update.handle/badges) the payload follows the
documented pattern of its family.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xhooks.emulator._objects import (
    DEFAULT_IMAGE,
    WEB_APP,
    dm_apps,
    dm_event,
    dm_user,
    hex_id,
    mention_entity,
    ms,
    post_v2,
    tweet_v1,
    twitter_time,
    user_v1,
    user_v2,
    uuid_from,
)
from xhooks.emulator.state import User, iso
from xhooks.protocol import activity

__all__ = ["AAA_TYPES", "STREAM_TYPES", "XAA_TYPES", "AaaEvent", "Factory", "StreamPost", "XaaEvent"]

IdSource = Callable[[], str]


# the three kinds of event ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AaaEvent:
    kind: str
    for_users: tuple[str, ...]
    build: Callable[[str], dict[str, Any]]
    revokes: str | None = None
    """`user_event.revoke`: the user whose subscriptions X deletes."""


@dataclass(frozen=True)
class XaaEvent:
    event_type: str
    payload: dict[str, Any]
    matches: tuple[tuple[str, str | None], ...] = ()
    includes: dict[str, Any] | None = None
    keyword_text: str = ""
    revoked_by: str | None = None
    ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamPost:
    post: dict[str, Any]
    author: User
    text: str


AAA_TYPES = (
    "aaa.tweet_create",
    "aaa.reply",
    "aaa.quote",
    "aaa.retweet",
    "aaa.mention",
    "aaa.favorite",
    "aaa.follow",
    "aaa.unfollow",
    "aaa.block",
    "aaa.unblock",
    "aaa.mute",
    "aaa.unmute",
    "aaa.revoke",
    "aaa.direct_message",
    "aaa.direct_message_indicate_typing",
    "aaa.direct_message_mark_read",
    "aaa.tweet_delete",
)

XAA_TYPES = (*activity.EVENT_TYPES, *activity.DELIVERED_ONLY)

STREAM_TYPES = ("stream.post",)

ALIASES = activity.ALIASES

PROFILE_VALUES = {
    "bio": ("Building with the X API", "Building with the X API and xhooks"),
    "profile_picture": (DEFAULT_IMAGE, "https://pbs.twimg.com/profile_images/1/new_normal.jpg"),
    "banner_picture": ("", "https://pbs.twimg.com/profile_banners/1/1"),
    "screenname": ("Example", "Example User"),
    "geo": ("", "Boulder, CO"),
    "url": ("", "https://example.com"),
    "verified_badge": ("false", "true"),
    "affiliate_badge": ("", "XDevelopers"),
    "handle": ("example_old", "example_new"),
}


class Factory:
    """Builds events for one actor and one counterpart, with fresh ids from `ids` and the time `now`."""

    def __init__(self, ids: IdSource, now: float, actor: User, target: User, text: str | None, app_id: str) -> None:
        self.ids = ids
        self.now = now
        self.actor = actor
        self.target = target
        self.text = text
        self.app_id = app_id

    # Account Activity ------------------------------------------------------------------------------------

    def aaa(self, kind: str) -> AaaEvent:
        a, b, now = self.actor, self.target, self.now
        name = kind.removeprefix("aaa.")
        if name in ("tweet_create", "reply", "quote", "retweet"):
            return self._aaa_tweet(name)
        if name == "mention":
            tweet = tweet_v1(
                self.ids(),
                a,
                f"@{b.username} {self.text or 'hello from the emulator'}",
                now,
                user_mentions=[
                    {
                        "screen_name": b.username,
                        "name": b.name,
                        "id": int(b.id),
                        "id_str": b.id,
                        "indices": [0, len(b.username) + 1],
                    }
                ],
            )

            def mention(for_user: str) -> dict[str, Any]:
                body: dict[str, Any] = {"for_user_id": for_user}
                if for_user == b.id:
                    body["user_has_blocked"] = "false"
                body["tweet_create_events"] = [tweet]
                return body

            return AaaEvent(kind, (a.id, b.id), mention)
        if name == "favorite":
            liked = tweet_v1(self.ids(), b, self.text or "a post worth liking", now - 60)
            event = {
                "id": hex_id(a.id, liked["id_str"]),
                "created_at": twitter_time(now),
                "timestamp_ms": int(now * 1000),
                "favorited_status": liked,
                "user": user_v1(a),
            }
            return AaaEvent(kind, (a.id, b.id), lambda u: {"for_user_id": u, "favorite_events": [event]})
        if name in ("follow", "unfollow", "block", "unblock", "mute", "unmute"):
            key = {"follow": "follow", "unfollow": "follow", "block": "block", "unblock": "block"}.get(name, "mute")
            event = {"type": name, "created_timestamp": ms(now), "target": user_v1(b), "source": user_v1(a)}
            users = (a.id, b.id) if key == "follow" else (a.id,)
            return AaaEvent(kind, users, lambda u: {"for_user_id": u, f"{key}_events": [event]})
        if name == "revoke":
            body = {
                "user_event": {
                    "revoke": {
                        "date_time": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="seconds"),
                        "target": {"app_id": self.app_id},
                        "source": {"user_id": a.id},
                    }
                }
            }
            return AaaEvent(kind, (a.id,), lambda u: body, revokes=a.id)
        if name == "direct_message":
            event = dm_event(self.ids(), a, b, self.text or "Hello World!", now, WEB_APP["id"])
            return self.direct_message(event, WEB_APP)
        if name == "direct_message_indicate_typing":
            typing = {"created_timestamp": ms(now), "sender_id": a.id, "target": {"recipient_id": b.id}}
            directory = {a.id: dm_user(a), b.id: dm_user(b)}
            return AaaEvent(
                kind,
                (a.id, b.id),
                lambda u: {"for_user_id": u, "direct_message_indicate_typing_events": [typing], "users": directory},
            )
        if name == "direct_message_mark_read":
            read = {
                "created_timestamp": ms(now),
                "sender_id": a.id,
                "target": {"recipient_id": b.id},
                "last_read_event_id": self.ids(),
            }
            directory = {a.id: dm_user(a), b.id: dm_user(b)}
            return AaaEvent(
                kind,
                (a.id, b.id),
                lambda u: {"for_user_id": u, "direct_message_mark_read_events": [read], "users": directory},
            )
        if name == "tweet_delete":
            deleted = {"status": {"id": self.ids(), "user_id": a.id}, "timestamp_ms": ms(now)}
            return AaaEvent(kind, (a.id,), lambda u: {"for_user_id": u, "tweet_delete_events": [deleted]})
        raise KeyError(kind)

    def _aaa_tweet(self, name: str) -> AaaEvent:
        a, b, now = self.actor, self.target, self.now
        text = self.text or "Posting from the xhooks emulator"
        if name == "tweet_create":
            return AaaEvent(
                "aaa." + name,
                (a.id,),
                lambda u: {"for_user_id": u, "tweet_create_events": [tweet_v1(self.ids(), a, text, now)]},
            )
        original = tweet_v1(self.ids(), b, "the original post", now - 300)
        tweet_id = self.ids()
        if name == "reply":
            tweet = tweet_v1(
                tweet_id,
                a,
                f"@{b.username} {text}",
                now,
                in_reply_to_status_id=original["id"],
                in_reply_to_status_id_str=original["id_str"],
                in_reply_to_user_id=int(b.id),
                in_reply_to_user_id_str=b.id,
                in_reply_to_screen_name=b.username,
            )
        elif name == "quote":
            tweet = tweet_v1(
                tweet_id,
                a,
                text,
                now,
                is_quote_status=True,
                quoted_status_id=original["id"],
                quoted_status_id_str=original["id_str"],
                quoted_status=original,
            )
        else:
            tweet = tweet_v1(tweet_id, a, f"RT @{b.username}: {original['text']}", now, retweeted_status=original)
        return AaaEvent("aaa." + name, (a.id, b.id), lambda u: {"for_user_id": u, "tweet_create_events": [tweet]})

    def direct_message(self, event: dict[str, Any], app: dict[str, str]) -> AaaEvent:
        """A DM `event` sent from `app` (`{"id", "name", "url"}`), for both its sender and its recipient."""
        users = {self.actor.id: dm_user(self.actor), self.target.id: dm_user(self.target)}
        return AaaEvent(
            "aaa.direct_message",
            (self.actor.id, self.target.id),
            lambda u: {"for_user_id": u, "direct_message_events": [event], "apps": dm_apps(app), "users": users},
        )

    # X Activity API -------------------------------------------------------------------------------------

    def xaa(self, event_type: str) -> XaaEvent:
        event_type = ALIASES.get(event_type, event_type)
        a, b, now = self.actor, self.target, self.now
        actor_only = ((a.id, None),)
        if event_type.startswith("profile.update."):
            before, after = PROFILE_VALUES[event_type.rsplit(".", 1)[1]]
            return XaaEvent(event_type, {"before": before, "after": self.text or after}, actor_only)
        if event_type == "post.create":
            post = post_v2(self.ids(), a, self.text or "Posting from the xhooks emulator", now)
            includes = {"users": [user_v2(a, most_recent_tweet_id=post["id"])], "tweets": [post]}
            return XaaEvent(event_type, post, ((a.id, "outbound"),), includes, post["text"])
        if event_type == "post.delete":
            return XaaEvent(
                event_type,
                {"id": self.ids(), "author_id": a.id},
                ((a.id, "outbound"),),
                {"users": [{"data": user_v2(a)}]},
            )
        if event_type in ("post.mention.create", "post.reply.create", "post.quote.create", "post.repost.create"):
            return self._xaa_post(event_type)
        if event_type == "like.create":
            liked_id = self.ids()
            payload: dict[str, Any] = {
                "id": hex_id(a.id, liked_id),
                "created_at": iso(now),
                "timestamp_ms": ms(now),
                "liked_tweet_author_id": b.id,
                "liked_tweet_id": liked_id,
            }
            includes = {"users": [user_v2(b)], "tweets": [post_v2(liked_id, b, "a post worth liking", now - 60)]}
            return XaaEvent(event_type, payload, ((a.id, "outbound"), (b.id, "inbound")), includes)
        if event_type in ("follow.follow", "follow.unfollow"):
            payload = {"source": {"data": user_v2(a)}, "target": {"data": user_v2(b)}}
            return XaaEvent(event_type, payload, ((a.id, "outbound"), (b.id, "inbound")))
        if event_type.split(".")[0] in ("mute", "block"):
            return XaaEvent(event_type, {"source": {"data": user_v2(a)}, "target": {"data": user_v2(b)}}, actor_only)
        if event_type in ("spaces.start", "spaces.end"):
            payload = {
                "user": {"data": user_v2(a)},
                "broadcast_id": self._broadcast_id(),
                "event_type": event_type.replace(".", "_"),
            }
            return XaaEvent(event_type, payload, actor_only)
        if event_type in ("broadcast.start", "broadcast.end"):
            running = event_type == "broadcast.start"
            payload = {
                "user": {"data": user_v2(a)},
                "broadcast_id": self._broadcast_id(),
                "title": self.text or "Live from the emulator",
                "broadcast_state": "Running" if running else "Ended",
                "event_timestamp_ms": int(now * 1000),
                "event_timestamp_ms_str": ms(now),
                "created_timestamp_ms": int(now * 1000) - 60_000,
            }
            return XaaEvent(event_type, payload, actor_only)
        if event_type == "broadcast.chat":
            payload = {
                "broadcast_id": self._broadcast_id(),
                "message_id": self.ids(),
                "message": self.text or "hello chat",
                "author": {"data": user_v2(a)},
            }
            return XaaEvent(event_type, payload, actor_only)
        if event_type.startswith("chat."):
            return self._xaa_chat(event_type)
        if event_type.startswith("dm."):
            return self._xaa_dm(event_type)
        if event_type == "news.new":
            text = self.text or "xhooks"
            payload = {
                "id": self.ids(),
                "name": f"{text} in the news",
                "summary": f"Posts about {text} are trending.",
                "hook": f"What is happening with {text}?",
                "category": "News",
                "disclaimer": "This story is a summary of posts on X and may evolve over time.",
                "updated_at": iso(now),
                "contexts": {
                    "entities": {"events": [], "organizations": [text], "people": [], "places": [], "products": []},
                    "topics": ["Technology"],
                    "finance": {"tickers": []},
                    "sports": {"teams": []},
                },
                "cluster_posts_results": [{"post_id": self.ids()}],
            }
            return XaaEvent(event_type, payload, (), None, f"{payload['name']} {payload['summary']}")
        if event_type == "oauth.revoke":
            payload = {
                "date_time": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="seconds"),
                "user_id": a.id,
                "app_id": self.app_id,
            }
            return XaaEvent(event_type, payload, revoked_by=a.id)
        raise KeyError(event_type)

    def _broadcast_id(self) -> str:
        return "1" + hex_id(self.actor.id, str(self.now))[:12]

    def _xaa_post(self, event_type: str) -> XaaEvent:
        a, b, now = self.actor, self.target, self.now
        original = self.ids()
        text = self.text or "thanks for sharing!"
        extra: dict[str, Any] = {}
        if event_type == "post.mention.create":
            text = f"@{b.username} {text}"
            # a Post that opens with a mention is addressed to that user, even when it replies to nothing
            extra = {"entities": {"mentions": [mention_entity(b)]}, "in_reply_to_user_id": b.id}
        elif event_type == "post.reply.create":
            text = f"@{b.username} {text}"
            extra = {
                "conversation_id": original,
                "in_reply_to_tweet_id": original,
                "in_reply_to_user_id": b.id,
                "referenced_tweets": [{"type": "replied_to", "id": original}],
                "entities": {"mentions": [mention_entity(b)]},
            }
        elif event_type == "post.quote.create":
            extra = {"referenced_tweets": [{"type": "quoted", "id": original}]}
        else:
            text = f"RT @{b.username}: the original post"
            extra = {"referenced_tweets": [{"type": "retweeted", "id": original}]}
        post = post_v2(self.ids(), a, text, now, **extra)
        includes: dict[str, Any] = {"users": [user_v2(a, most_recent_tweet_id=post["id"]), user_v2(b)]}
        if event_type == "post.mention.create":
            includes["tweets"] = [post]
        return XaaEvent(event_type, post, ((b.id, "inbound"), (a.id, "outbound")), includes, text)

    def _xaa_chat(self, event_type: str) -> XaaEvent:
        a, b, now = self.actor, self.target, self.now
        sender, recipient = (b, a) if event_type == "chat.received" else (a, b)
        payload: dict[str, Any] = {
            "conversation_token": "eyJhbGciOiJIUzI1NiJ9." + hex_id(a.id, b.id),
            "id": uuid_from(hex_id(event_type, ms(now), a.id)),
            "created_at_msec": ms(now),
            "sender_id": sender.id,
            "conversation_id": f"{sender.id}:{recipient.id}",
            "conversation_key_version": ms(now - 86400),
            "encoded_event": "CwABAAAAEz" + hex_id("event", ms(now)),
            "conversation_key_change_event": "CwABAAAAEz" + hex_id("key", ms(now)),
            "message_event_signature": {
                "public_key_version": ms(now - 86400),
                "signature": hex_id("sig", ms(now)),
                "signature_version": "7",
                "signing_public_key": "MFkwEwYHKoZIzj0CAQYI",
            },
        }
        direction = "inbound" if event_type == "chat.received" else "outbound"
        return XaaEvent(event_type, payload, ((a.id, direction),))

    def _xaa_dm(self, event_type: str) -> XaaEvent:
        a, b, now = self.actor, self.target, self.now
        users = {a.id: {"data": user_v2(a)}, b.id: {"data": user_v2(b)}}
        if event_type in ("dm.sent", "dm.received"):
            sender, recipient = (b, a) if event_type == "dm.received" else (a, b)
            event = dm_event(self.ids(), sender, recipient, self.text or "hello!", now)
            direction = "inbound" if event_type == "dm.received" else "outbound"
            return XaaEvent(event_type, {"direct_message_events": [event], "users": users}, ((a.id, direction),))
        if event_type == "dm.indicate_typing":
            item: dict[str, Any] = {"created_timestamp": ms(now), "sender_id": a.id, "target": {"recipient_id": b.id}}
            key = "direct_message_indicate_typing_events"
        else:
            item = {
                "created_timestamp": ms(now),
                "sender_id": a.id,
                "target": {"recipient_id": b.id},
                "last_read_event_id": self.ids(),
            }
            key = "direct_message_mark_read_events"
        return XaaEvent(event_type, {key: [item], "users": users}, ((a.id, "outbound"), (b.id, "inbound")))

    # Filtered Stream -------------------------------------------------------------------------------------

    def stream_post(self) -> StreamPost:
        """A Post for the Filtered Stream with every field X can send; each link picks the fields it asked for."""
        text = self.text or "Posting from the xhooks emulator"
        return StreamPost(post_v2(self.ids(), self.actor, text, self.now, str_twins=False), self.actor, text)
