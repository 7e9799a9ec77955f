"""Realistic signed deliveries for the benchmark and the fault suite, generated in code.

The shapes follow X's documented payloads (Account Activity, X Activity API, Filtered Stream), with
full-sized objects rather than the docs' placeholders, so bodies land between 1 and 3 KB like real ones.
Every event carries a fresh identifier derived from its index; a share of the stream are byte-identical
re-sends of a recent delivery, as X's retries and duplicates are. Nothing here reads the shared folder.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from xhooks.protocol import signature

__all__ = ["MAX_BODY", "MIN_BODY", "Delivery", "crc_query", "deliveries", "delivery_body", "post_request"]

MIN_BODY = 1024
MAX_BODY = 3072
_WORDS = (
    "webhook shipping today release notes python latency queue thread durable replay signal follow like "
    "timeline stream rule match account activity event delivery check secret token commit write fast"
).split()
_EPOCH_MS = 1_764_000_000_000


@dataclass(frozen=True)
class Delivery:
    """One POST as X would send it: the exact body and its `x-twitter-webhooks-signature`."""

    body: bytes
    signature: str
    duplicate_of: int | None = None
    """Index of the earlier delivery this one re-sends byte for byte, or None for a fresh one."""


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(low, high)))


def _v1_user(rng: random.Random, user_id: int) -> dict[str, object]:
    name = _text(rng, 1, 2).title()
    return {
        "id": user_id,
        "id_str": str(user_id),
        "name": name,
        "screen_name": name.replace(" ", "_")[:15],
        "location": rng.choice(["Boulder, CO", "Paris", "Lagos", "Tokyo", ""]),
        "description": _text(rng, 3, 20),
        "url": None,
        "protected": False,
        "verified": rng.random() < 0.1,
        "followers_count": rng.randint(0, 100_000),
        "friends_count": rng.randint(0, 5_000),
        "statuses_count": rng.randint(0, 50_000),
        "created_at": "Sat Dec 14 04:35:55 +0000 2013",
        "profile_image_url_https": f"https://pbs.twimg.com/profile_images/{user_id}/a_normal.jpg",
    }


def _v1_tweet(rng: random.Random, tweet_id: int, user_id: int) -> dict[str, object]:
    text = _text(rng, 5, 45)
    return {
        "created_at": "Wed Nov 26 18:40:40 +0000 2026",
        "id": tweet_id,
        "id_str": str(tweet_id),
        "text": text,
        "source": '<a href="https://x.com" rel="nofollow">X Web App</a>',
        "truncated": False,
        "in_reply_to_status_id_str": None,
        "in_reply_to_user_id_str": None,
        "user": _v1_user(rng, user_id),
        "is_quote_status": False,
        "retweet_count": 0,
        "favorite_count": 0,
        "entities": {"hashtags": [], "urls": [], "user_mentions": [], "symbols": []},
        "favorited": False,
        "retweeted": False,
        "filter_level": "low",
        "lang": "en",
        "timestamp_ms": str(_EPOCH_MS + tweet_id % 1_000_000),
    }


def _v2_post(rng: random.Random, post_id: int, author_id: int) -> dict[str, object]:
    return {
        "id": str(post_id),
        "text": _text(rng, 5, 45),
        "created_at": "2026-11-26T18:40:40.000Z",
        "author_id": str(author_id),
        "lang": "en",
        "conversation_id": str(post_id),
        "edit_history_tweet_ids": [str(post_id)],
        "reply_settings": "everyone",
        "possibly_sensitive": False,
        "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0},
    }


def _v2_user(rng: random.Random, user_id: int) -> dict[str, object]:
    name = _text(rng, 1, 2).title()
    return {
        "id": str(user_id),
        "name": name,
        "username": name.replace(" ", "_")[:15],
        "created_at": "2013-12-14T04:35:55.000Z",
        "protected": False,
        "description": _text(rng, 3, 20),
    }


def _aaa_tweet_create(rng: random.Random, n: int) -> dict[str, object]:
    user = 2_244_994_945 + n % 97
    return {"for_user_id": str(user), "tweet_create_events": [_v1_tweet(rng, 10**18 + n, user)]}


def _aaa_favorite(rng: random.Random, n: int) -> dict[str, object]:
    user = 2_244_994_945 + n % 97
    return {
        "for_user_id": str(user),
        "favorite_events": [
            {
                "id": f"{n:032x}",
                "created_at": "Wed Nov 26 18:40:40 +0000 2026",
                "timestamp_ms": _EPOCH_MS + n,
                "favorited_status": _v1_tweet(rng, 10**18 + n, user),
                "user": _v1_user(rng, 3_000_000_000 + n % 1_000),
            }
        ],
    }


def _aaa_direct_message(rng: random.Random, n: int) -> dict[str, object]:
    user, sender = 4_337_869_213, 3_001_969_357 + n % 50
    return {
        "for_user_id": str(user),
        "direct_message_events": [
            {
                "type": "message_create",
                "id": str(9 * 10**17 + n),
                "created_timestamp": str(_EPOCH_MS + n),
                "message_create": {
                    "target": {"recipient_id": str(user)},
                    "sender_id": str(sender),
                    "source_app_id": "13090192",
                    "message_data": {
                        "text": _text(rng, 3, 60),
                        "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
                    },
                },
            }
        ],
        "apps": {"13090192": {"id": "13090192", "name": "BenchApp", "url": "https://x.com/bench"}},
        "users": {str(sender): _v1_user(rng, sender), str(user): _v1_user(rng, user)},
    }


def _aaa_follow(rng: random.Random, n: int) -> dict[str, object]:
    user = 2_244_994_945 + n % 97
    return {
        "for_user_id": str(user),
        "follow_events": [
            {
                "type": "follow",
                "created_timestamp": str(_EPOCH_MS + n),
                "source": _v1_user(rng, 5_000_000_000 + n),
                "target": _v1_user(rng, user),
            }
        ],
    }


def _xaa(event_type: str, rng: random.Random, n: int, payload: dict[str, object]) -> dict[str, object]:
    user = 1_111_111_111_111_111_111 + n % 97
    return {
        "data": {
            "event_uuid": str(2 * 10**18 + n),
            "filter": {"user_id": str(user)},
            "event_type": event_type,
            "tag": rng.choice(["posts", "likes", "follows"]),
            "payload": payload,
            "includes": {"users": [_v2_user(rng, user)]},
        }
    }


def _xaa_post_create(rng: random.Random, n: int) -> dict[str, object]:
    return _xaa("post.create", rng, n, _v2_post(rng, 2 * 10**18 + n, 1_111_111_111 + n % 97))


def _xaa_like_create(rng: random.Random, n: int) -> dict[str, object]:
    liked = _v2_post(rng, 3 * 10**18 + n, 7_000 + n % 13)
    return _xaa("like.create", rng, n, {"id": f"{n:032x}", "liked_post": liked, "direction": "outbound"})


def _xaa_follow(rng: random.Random, n: int) -> dict[str, object]:
    source, target = _v2_user(rng, 6_000_000 + n), _v2_user(rng, 42)
    payload: dict[str, object] = {"source": {"data": source}, "target": {"data": target}}
    return _xaa("follow.follow", rng, n, payload)


def _filtered_stream(rng: random.Random, n: int) -> dict[str, object]:
    author = 2_244_994_945 + n % 97
    return {
        "data": _v2_post(rng, 4 * 10**18 + n, author),
        "includes": {"users": [_v2_user(rng, author)]},
        "matching_rules": [{"id": str(120_897_978_112_909_812 + n % 5), "tag": rng.choice(["api-posts", "news"])}],
    }


_SHAPES: tuple[Callable[[random.Random, int], dict[str, object]], ...] = (
    _aaa_tweet_create,
    _aaa_favorite,
    _aaa_direct_message,
    _aaa_follow,
    _xaa_post_create,
    _xaa_like_create,
    _xaa_follow,
    _filtered_stream,
)


def delivery_body(n: int, seed: int = 0) -> bytes:
    """The body of fresh delivery number `n`: one event whose X identifier is unique to `n`, 1–3 KB."""
    rng = random.Random(seed * 1_000_003 + n)
    doc = _SHAPES[n % len(_SHAPES)](rng, n)
    target = rng.randint(MIN_BODY + 64, MAX_BODY - 64)
    body = json.dumps(doc, separators=(",", ":")).encode()
    for _ in range(3):
        if abs(len(body) - target) < 64:
            break
        _resize_texts(doc, rng, len(body) - target)
        body = json.dumps(doc, separators=(",", ":")).encode()
    return body


def _resize_texts(node: object, rng: random.Random, excess: int) -> int:
    """Lengthen or shorten the `text` and `description` fields of `node` by about `excess` characters in all.

    Returns what is left to remove (negative: to add) once the fields are resized.
    """
    if isinstance(node, dict):
        for name, value in node.items():
            if excess == 0:
                break
            if name in ("text", "description") and isinstance(value, str):
                if excess < 0:
                    node[name] = f"{value} {_words(rng, -excess)}"
                    excess = 0
                else:
                    cut = min(excess, len(value))
                    node[name] = value[: len(value) - cut]
                    excess -= cut
            else:
                excess = _resize_texts(value, rng, excess)
    elif isinstance(node, list):
        for item in node:
            excess = _resize_texts(item, rng, excess)
    return excess


def _words(rng: random.Random, length: int) -> str:
    out: list[str] = []
    size = 0
    while size < length:
        word = rng.choice(_WORDS)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)


def deliveries(
    count: int, secret: str, duplicate_share: float = 0.1, seed: int = 0, first: int = 0
) -> Iterator[Delivery]:
    """Yield `count` signed deliveries: fresh ones numbered from `first`, and about `duplicate_share` re-sends.

    A re-send repeats one of the last 1,000 deliveries exactly (same bytes, same signature), as X's
    retries do.
    """
    rng = random.Random(seed)
    recent: list[tuple[int, Delivery]] = []
    fresh = first
    for index in range(count):
        if recent and rng.random() < duplicate_share:
            original_index, original = rng.choice(recent)
            yield Delivery(original.body, original.signature, original_index)
            continue
        body = delivery_body(fresh, seed)
        fresh += 1
        delivery = Delivery(body, signature(body, secret))
        recent.append((index, delivery))
        if len(recent) > 1_000:
            recent.pop(0)
        yield delivery


def post_request(path: str, delivery: Delivery) -> bytes:
    """The raw HTTP/1.1 request X would send for `delivery` (keep-alive)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: xhooks-bench\r\n"
        f"Content-Type: application/json; charset=utf-8\r\n"
        f"x-twitter-webhooks-signature: {delivery.signature}\r\nContent-Length: {len(delivery.body)}\r\n\r\n"
    )
    return head.encode("latin-1") + delivery.body


def crc_query(n: int, seed: int = 0) -> str:
    """A `crc_token=` query string with a token shaped like X's (base64 of 32 random bytes)."""
    token = base64.b64encode(random.Random(seed * 7_919 + n).randbytes(32)).decode()
    return "crc_token=" + token.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
