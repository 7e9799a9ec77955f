"""The objects inside events, in X's two dialects: v1.1 users and Tweets (Account Activity) and v2 users and
Posts (X Activity API, Filtered Stream), plus the small formats they use (epoch-millisecond strings, X's
`created_at` styles, 32-hex like ids)."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from xhooks.emulator.state import User, iso

__all__ = [
    "DEFAULT_IMAGE",
    "dm_event",
    "dm_user",
    "hex_id",
    "mention_entity",
    "ms",
    "post_v2",
    "tweet_v1",
    "twitter_time",
    "user_v1",
    "user_v2",
    "uuid_from",
]

DEFAULT_IMAGE = "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"


def ms(ts: float) -> str:
    return str(int(ts * 1000))


def twitter_time(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


def hex_id(*parts: str) -> str:
    return hashlib.md5("/".join(parts).encode(), usedforsecurity=False).hexdigest()


# users and posts in the two dialects -------------------------------------------------------------------


def user_v1(user: User) -> dict[str, Any]:
    return {
        "id": int(user.id),
        "id_str": user.id,
        "name": user.name,
        "screen_name": user.username,
        "location": None,
        "url": None,
        "description": "",
        "protected": False,
        "verified": False,
        "followers_count": 0,
        "friends_count": 0,
        "listed_count": 0,
        "favourites_count": 0,
        "statuses_count": 0,
        "created_at": twitter_time(user.created_at),
        "profile_image_url_https": DEFAULT_IMAGE,
        "default_profile": True,
        "default_profile_image": True,
    }


def dm_user(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "created_timestamp": ms(user.created_at),
        "name": user.name,
        "screen_name": user.username,
        "protected": False,
        "verified": False,
        "followers_count": 0,
        "friends_count": 0,
        "statuses_count": 0,
        "profile_image_url_https": DEFAULT_IMAGE,
    }


def user_v2(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "username": user.username,
        "created_at": iso(user.created_at),
        "protected": False,
        "verified": False,
        "description": "",
        "profile_image_url": DEFAULT_IMAGE,
        "public_metrics": {"followers_count": 0, "following_count": 0, "tweet_count": 0, "listed_count": 0},
    }


def tweet_v1(tweet_id: str, author: User, text: str, now: float, **extra: Any) -> dict[str, Any]:
    mentions = extra.pop("user_mentions", [])
    return {
        "created_at": twitter_time(now),
        "id": int(tweet_id),
        "id_str": tweet_id,
        "text": text,
        "source": '<a href="https://x.com" rel="nofollow">X Web App</a>',
        "truncated": False,
        "in_reply_to_status_id": None,
        "in_reply_to_status_id_str": None,
        "in_reply_to_user_id": None,
        "in_reply_to_user_id_str": None,
        "in_reply_to_screen_name": None,
        "user": user_v1(author),
        "geo": None,
        "coordinates": None,
        "place": None,
        "contributors": None,
        "is_quote_status": False,
        "quote_count": 0,
        "reply_count": 0,
        "retweet_count": 0,
        "favorite_count": 0,
        "entities": {"hashtags": [], "urls": [], "user_mentions": mentions, "symbols": []},
        "favorited": False,
        "retweeted": False,
        "filter_level": "low",
        "lang": "en",
        "timestamp_ms": ms(now),
        **extra,
    }


def metrics() -> dict[str, Any]:
    names = ("retweet_count", "reply_count", "like_count", "quote_count", "bookmark_count", "impression_count")
    result: dict[str, Any] = {}
    for name in names:
        result[name] = 0
        result[name + "_str"] = "0"
    return result


def post_v2(post_id: str, author: User, text: str, now: float, **extra: Any) -> dict[str, Any]:
    return {
        "id": post_id,
        "text": text,
        "author_id": author.id,
        "created_at": iso(now),
        "conversation_id": extra.pop("conversation_id", post_id),
        "edit_history_tweet_ids": [post_id],
        "display_text_range": [0, len(text)],
        "lang": "en",
        "possibly_sensitive": False,
        "paid_partnership": False,
        "reply_settings": "everyone",
        "public_metrics": metrics(),
        **extra,
    }


def mention_entity(user: User) -> dict[str, Any]:
    end = len(user.username) + 1
    return {"start": 0, "start_str": "0", "end": end, "end_str": str(end), "username": user.username, "id": user.id}


def dm_event(dm_id: str, sender: User, recipient: User, text: str, now: float) -> dict[str, Any]:
    return {
        "type": "message_create",
        "id": dm_id,
        "created_timestamp": ms(now),
        "message_create": {
            "target": {"recipient_id": recipient.id},
            "sender_id": sender.id,
            "message_data": {
                "text": text,
                "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
            },
        },
    }


def uuid_from(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:32]}"
