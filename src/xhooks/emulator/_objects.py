"""The objects inside events, in X's two dialects: v1.1 users and Tweets (Account Activity) and v2 users and
Posts (X Activity API, Filtered Stream), plus the small formats they use (epoch-millisecond strings, X's
`created_at` styles, 32-hex like ids)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from xhooks.emulator.state import User, iso

__all__ = [
    "DEFAULT_IMAGE",
    "WEB_APP",
    "dm_apps",
    "dm_event",
    "dm_user",
    "hex_id",
    "mention_entity",
    "ms",
    "post_v2",
    "short_url",
    "tweet_v1",
    "twitter_time",
    "user_v1",
    "user_v2",
    "uuid_from",
]

DEFAULT_IMAGE = "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"
WEB_APP = {"id": "3033300", "name": "Twitter Web App", "url": "https://mobile.twitter.com"}
"""The `apps` entry of a DM typed in X's own web client (X's captured DMs name their source app)."""


def ms(ts: float) -> str:
    return str(int(ts * 1000))


def twitter_time(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


def hex_id(*parts: str) -> str:
    return hashlib.md5("/".join(parts).encode(), usedforsecurity=False).hexdigest()


def short_url(user: User) -> str:
    """The t.co link X shows for the user's website (`user.url`)."""
    return "https://t.co/" + hex_id("t.co", user.id, user.url)[:10]


def _span(start: int, end: int) -> dict[str, Any]:
    return {"start": start, "start_str": str(start), "end": end, "end_str": str(end)}


def _profile_entities(user: User) -> dict[str, Any]:
    """`entities` of a v2 user: the t.co link of the website and the @mentions in the bio, when there are any."""
    entities: dict[str, Any] = {}
    if user.url:
        link = {"url": short_url(user), "expanded_url": user.url, "display_url": user.url.split("://", 1)[-1]}
        entities["url"] = {"urls": [{**_span(0, 23), **link}]}
    mentions = [
        {**_span(found.start(), found.end()), "username": found.group(1)}
        for found in re.finditer(r"@(\w{1,15})", user.description)
    ]
    if mentions:
        entities["description"] = {"mentions": mentions}
    return {"entities": entities} if entities else {}


# users and posts in the two dialects -------------------------------------------------------------------


def user_v1(user: User) -> dict[str, Any]:
    return {
        "id": int(user.id),
        "id_str": user.id,
        "name": user.name,
        "screen_name": user.username,
        "location": user.location or None,
        "url": short_url(user) if user.url else None,
        "description": user.description,
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
    """An entry of an Account Activity DM's `users` map; X leaves out the profile fields a user has not set."""
    profile = {"location": user.location, "description": user.description, "url": user.url and short_url(user)}
    return {
        "id": user.id,
        "created_timestamp": ms(user.created_at),
        "name": user.name,
        "screen_name": user.username,
        **{name: value for name, value in profile.items() if value},
        "protected": False,
        "verified": False,
        "followers_count": 0,
        "friends_count": 0,
        "statuses_count": 0,
        "profile_image_url": DEFAULT_IMAGE.replace("https://", "http://"),
        "profile_image_url_https": DEFAULT_IMAGE,
    }


def dm_apps(app: dict[str, str]) -> dict[str, Any]:
    """The `apps` map of an Account Activity DM: the app the message was sent from."""
    return {app["id"]: app}


def _counts(names: tuple[str, ...], str_twins: bool) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name in names:
        result[name] = 0
        if str_twins:
            result[name + "_str"] = "0"
    return result


USER_METRICS = ("followers_count", "following_count", "tweet_count", "listed_count", "like_count", "media_count")


def user_v2(user: User, str_twins: bool = True, most_recent_tweet_id: str | None = None) -> dict[str, Any]:
    """A v2 user with every field X fills; the activity and stream products add `*_str` twins to the counts.

    `most_recent_tweet_id` is known only where the user has just posted (the author of a Post event).
    """
    return {
        "id": user.id,
        "name": user.name,
        "username": user.username,
        "created_at": iso(user.created_at),
        "description": user.description,
        **({"location": user.location} if user.location else {}),
        "url": short_url(user) if user.url else "",
        **_profile_entities(user),
        "profile_image_url": DEFAULT_IMAGE,
        "profile_banner_url": "",
        "protected": False,
        "verified": False,
        "verified_type": "none",
        "is_identity_verified": False,
        "public_metrics": _counts(USER_METRICS, str_twins),
        **({"most_recent_tweet_id": most_recent_tweet_id} if most_recent_tweet_id else {}),
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


POST_METRICS = ("retweet_count", "reply_count", "like_count", "quote_count", "bookmark_count", "impression_count")
EDIT_WINDOW = 3600.0
"""A Post can be edited for an hour, up to five times (`edit_controls`)."""


def post_v2(post_id: str, author: User, text: str, now: float, str_twins: bool = True, **extra: Any) -> dict[str, Any]:
    """A v2 Post with every field X fills; the activity products add `*_str` twins to the counts."""
    return {
        "id": post_id,
        "text": text,
        "author_id": author.id,
        "created_at": iso(now),
        "conversation_id": extra.pop("conversation_id", post_id),
        "edit_history_tweet_ids": [post_id],
        "edit_controls": {
            "edits_remaining": 5,
            "edits_remaining_str": "5",
            "is_edit_eligible": True,
            "editable_until": iso(now + EDIT_WINDOW),
        },
        "display_text_range": [0, len(text)],
        "lang": "en",
        "possibly_sensitive": False,
        "paid_partnership": False,
        "reply_settings": "everyone",
        "public_metrics": _counts(POST_METRICS, str_twins),
        **extra,
    }


def mention_entity(user: User) -> dict[str, Any]:
    return {**_span(0, len(user.username) + 1), "username": user.username, "id": user.id}


def dm_event(
    dm_id: str, sender: User, recipient: User, text: str, now: float, source_app_id: str | None = None
) -> dict[str, Any]:
    """A `message_create` event; Account Activity names the app it was sent from, X Activity does not."""
    return {
        "type": "message_create",
        "id": dm_id,
        "created_timestamp": ms(now),
        "message_create": {
            "target": {"recipient_id": recipient.id},
            "sender_id": sender.id,
            **({"source_app_id": source_app_id} if source_app_id else {}),
            "message_data": {
                "text": text,
                "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
            },
        },
    }


def uuid_from(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:32]}"
