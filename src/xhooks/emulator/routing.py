"""Where an event goes, as X routes it.

* Account Activity: to every valid webhook where a user the event concerns is subscribed, one body per
  `for_user_id` (two subscribed users in one DM give two deliveries). A revoke also deletes the user's
  subscriptions, as X does.
* X Activity API: to the webhook of every subscription whose `event_type` is the event's and whose filter
  matches (`user_id` and, when set, `direction`; `keyword` for `news.new`). `oauth.revoke` goes, with an
  empty filter and no tag, to each webhook that has a subscription for the revoking user. A mention, reply,
  quote or repost is also a Post its author created, so it goes as `post.create` to the author's
  subscriptions too ("fired when the filtered user creates a Post",
  https://docs.x.com/x-api/activity/event-payloads): one Post, one `event_uuid`, two events. Each body's
  `event_uuid` is made in the style `EmulatorConfig.event_uuid_style` names (see `event_uuid`). Every matched
  subscription, with or without a `webhook_id`, also publishes the same bytes to its app's X Activity stream
  (`activity_stream.py`): X delivers to the webhook "in addition to the stream if it is open".
* Filtered Stream: a post goes to every webhook linked to the stream of an app with at least one matching
  rule, with all the matching rules listed in `matching_rules`, shaped by that link's `tweet.fields`,
  `expansions` and `user.fields` (X's defaults otherwise: `id`, `text`, `edit_history_tweet_ids`, no `includes`).

Rule matching covers the common core of X's rule language: terms (AND), `OR`, quoted phrases, `-negation`,
`from:`, `#hashtags` and `@mentions`; anything else is matched as a plain term.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Callable
from typing import Any

from xhooks.emulator._objects import hex_id, user_v2, uuid_from
from xhooks.emulator.activity_rules import canonical_direction
from xhooks.emulator.delivery import Deliverer, encode
from xhooks.emulator.events import AaaEvent, StreamPost, XaaEvent
from xhooks.emulator.fields import POST_DEFAULTS, USER_DEFAULTS, select
from xhooks.emulator.state import State

__all__ = [
    "POST_EVENTS",
    "Routed",
    "event_uuid",
    "linked_body",
    "route_aaa",
    "route_stream",
    "route_xaa",
    "rule_matches",
    "xaa_body",
]

Routed = list[dict[str, Any]]
POST_EVENTS = ("post.create", "post.mention.create", "post.reply.create", "post.quote.create", "post.repost.create")
"""The events whose payload is a new Post."""


def route_aaa(event: AaaEvent, state: State, deliverer: Deliverer) -> Routed:
    routed: Routed = []
    for user_id in event.for_users:
        for webhook in state.subscribed_webhooks(user_id):
            delivery_id = deliverer.send(webhook, encode(event.build(user_id)))
            routed.append({"webhook_id": webhook.id, "for_user_id": user_id, "delivery_id": delivery_id})
    if event.revokes is not None:
        for webhook in state.subscribed_webhooks(event.revokes):
            state.unsubscribe(webhook.id, event.revokes)
    return routed


def _filter_matches(flt: dict[str, str], event: XaaEvent) -> bool:
    if "keyword" in flt:
        return flt["keyword"].lower() in event.keyword_text.lower()
    wanted = canonical_direction(event.event_type, flt.get("direction"))
    return any(
        flt.get("user_id") == user_id and (not wanted or direction is None or wanted == direction)
        for user_id, direction in event.matches
    )


def event_uuid(style: str, event: XaaEvent, new_id: Callable[[], str]) -> str:
    """An `event_uuid` in one of X's styles: `post_id`, the Post's id for a Post event (X's examples) and a
    snowflake otherwise; `negative`, a negative number (X's examples for most other events); `uuid`, a UUID
    (XChat's live shape)."""
    if style == "uuid":
        return uuid_from(hex_id("event_uuid", new_id()))
    if style == "negative":
        return f"-{new_id()}"
    post_id = event.payload.get("id") if event.event_type in POST_EVENTS else None
    return post_id if isinstance(post_id, str) else new_id()


def _delivered_as(event: XaaEvent) -> tuple[XaaEvent, ...]:
    """`event`, and for a mention, reply, quote or repost also the `post.create` of its author."""
    if event.event_type in POST_EVENTS and event.event_type != "post.create":
        authored = ((str(event.payload["author_id"]), "outbound"),)
        return event, dataclasses.replace(event, event_type="post.create", matches=authored)
    return (event,)


def route_xaa(
    event: XaaEvent,
    state: State,
    deliverer: Deliverer,
    new_id: Callable[[], str],
    style: str = "post_id",
    publish: Callable[[str, bytes], None] | None = None,
) -> Routed:
    """Deliver `event` to the webhooks of the subscriptions it matches, and `publish(app_id, body)` it to the
    stream of each matching subscription's app."""
    routed: Routed = []
    if event.revoked_by is not None:
        seen: set[str] = set()
        for sub in state.activities():
            if sub.filter.get("user_id") == event.revoked_by and (sub.webhook_id or sub.app_id) not in seen:
                seen.add(sub.webhook_id or sub.app_id)
                body = {
                    "data": {
                        "event_uuid": event_uuid(style, event, new_id),
                        "filter": {},
                        "event_type": event.event_type,
                        "payload": event.payload,
                    }
                }
                routed.append(_send(state, deliverer, sub.app_id, sub.webhook_id, body, None, publish))
        return [item for item in routed if item]
    for delivered in _delivered_as(event):
        for sub in state.activities():
            canonical = "chat.conversation.join" if sub.event_type == "chat.conversation_join" else sub.event_type
            if canonical != delivered.event_type or not _filter_matches(sub.filter, delivered):
                continue
            body = xaa_body(delivered, sub.filter, event_uuid(style, delivered, new_id), sub.tag)
            routed.append(_send(state, deliverer, sub.app_id, sub.webhook_id, body, sub.id, publish))
    return [item for item in routed if item]


def xaa_body(event: XaaEvent, flt: dict[str, str], uuid: str, tag: str | None = None) -> dict[str, Any]:
    """The body X delivers for `event` to a subscription with filter `flt` (and `tag`, when it has one)."""
    data: dict[str, Any] = {"event_uuid": uuid, "filter": flt, "event_type": event.event_type}
    if tag is not None:
        data["tag"] = tag
    data["payload"] = event.payload
    if event.includes is not None:
        data["includes"] = event.includes
    return {"data": data}


def _send(
    state: State,
    deliverer: Deliverer,
    app_id: str,
    webhook_id: str | None,
    body: dict[str, Any],
    subscription_id: str | None,
    publish: Callable[[str, bytes], None] | None,
) -> dict[str, Any]:
    raw = encode(body)
    if publish is not None:
        publish(app_id, raw)
    webhook = state.webhook(webhook_id) if webhook_id else None
    if webhook is None:  # a stream-only subscription (or one whose webhook is gone)
        streamed = {"stream": True, "subscription_id": subscription_id, "event_uuid": body["data"]["event_uuid"]}
        return streamed if publish is not None else {}
    return {
        "webhook_id": webhook_id,
        "subscription_id": subscription_id,
        "delivery_id": deliverer.send(webhook, raw),
        "event_uuid": body["data"]["event_uuid"],
    }


def _term_matches(term: str, post: StreamPost) -> bool:
    negate = term.startswith("-") and len(term) > 1
    term = term[1:] if negate else term
    if term.lower().startswith("from:"):
        hit = term[5:].lstrip("@").lower() in (post.author.username.lower(), post.author.id)
    else:
        words = re.findall(r"[#@]?\w+", post.text.lower())
        hit = (
            term.lower() in words
            if " " not in term and re.fullmatch(r"[#@]?\w+", term)
            else (term.lower() in post.text.lower())
        )
    return hit != negate


def rule_matches(value: str, post: StreamPost) -> bool:
    """Whether a Filtered Stream rule `value` matches `post` (the common core of X's rule language)."""
    for alternative in re.split(r"\s+OR\s+", value.strip()):
        try:
            terms = shlex.split(alternative.replace("(", " ").replace(")", " "))
        except ValueError:
            terms = alternative.split()
        if terms and all(_term_matches(term, post) for term in terms):
            return True
    return False


def linked_body(post: StreamPost, fields: list[str], matching: list[dict[str, str]]) -> dict[str, Any]:
    """The Filtered Stream message for `post` as one link's parameters (`["expansions=author_id", …]`) shape it."""
    params = dict(field.split("=", 1) for field in fields)
    body: dict[str, Any] = {"data": select(post.post, POST_DEFAULTS, tuple(params.get("tweet.fields", "").split(",")))}
    if "author_id" in params.get("expansions", "").split(","):
        author = user_v2(post.author, str_twins=False)
        body["includes"] = {"users": [select(author, USER_DEFAULTS, tuple(params.get("user.fields", "").split(",")))]}
    body["matching_rules"] = matching
    return body


def route_stream(post: StreamPost, state: State, deliverer: Deliverer) -> Routed:
    routed: Routed = []
    for app in state.apps():
        links = state.links(app.id)
        matching = [
            {"id": rule["id"], "tag": rule.get("tag", "")}
            for rule in state.rules(app.id)
            if rule_matches(rule["value"], post)
        ]
        if not links or not matching:
            continue
        for link in links:
            webhook = state.webhook(link["webhook_id"])
            if webhook is not None:
                body = linked_body(post, link["fields"], matching)
                routed.append(
                    {
                        "webhook_id": webhook.id,
                        "delivery_id": deliverer.send(webhook, encode(body)),
                        "matching_rules": matching,
                    }
                )
    return routed
