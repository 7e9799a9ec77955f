"""Routing as X routes: AAA per subscribed user, XAA by filter, Filtered Stream posts by rule; realistic events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.emulator.conftest import Consumer, Running
from tests.support import EXAMPLES
from xhooks.emulator.events import StreamPost
from xhooks.emulator.routing import rule_matches
from xhooks.emulator.state import User
from xhooks.protocol import Shape, parse_envelope


def _xaa(running: Running, webhook_id: str, event_type: str, flt: dict[str, str], tag: str | None = None) -> None:
    body: dict[str, Any] = {"event_type": event_type, "filter": flt, "webhook_id": webhook_id}
    if tag:
        body["tag"] = tag
    headers = running.activity_credentials(event_type, flt)
    assert running.http.post("/2/activity/subscriptions", json=body, headers=headers).status_code == 200


def _delivered(running: Running, consumer: Consumer) -> list[dict[str, Any]]:
    running.settle()
    return consumer.events()


def test_aaa_goes_once_per_subscribed_user_and_revoke_ends_the_subscription(
    running: Running, consumer_of: tuple[Consumer, str]
) -> None:
    consumer, url = consumer_of
    webhook_id = running.register(url)["id"]
    path = f"/2/account_activity/webhooks/{webhook_id}/subscriptions/all"
    running.http.post(path, headers=running.user_bearer(running.dev))
    running.trigger("aaa.block", target_id=running.friend["id"])  # the blocked user is not told
    running.trigger("aaa.direct_message", text="hi")  # the friend is not subscribed: one copy
    running.http.post(path, headers=running.user_bearer(running.friend))
    running.trigger("aaa.direct_message", text="hi again")  # both subscribed: one copy per for_user_id
    running.trigger("aaa.revoke")
    running.trigger("aaa.tweet_create")  # the dev user revoked: nothing more for them
    events = _delivered(running, consumer)
    kinds = [(e.get("for_user_id"), next(k for k in e if k.endswith("_events") or k == "user_event")) for e in events]
    assert sorted(kinds, key=str) == sorted(
        [
            (running.dev["id"], "block_events"),
            (running.dev["id"], "direct_message_events"),
            (running.dev["id"], "direct_message_events"),
            (running.friend["id"], "direct_message_events"),
            (None, "user_event"),
        ],
        key=str,
    )
    dm = next(e for e in events if "direct_message_events" in e)
    assert dm["direct_message_events"][0]["message_create"]["sender_id"] == running.dev["id"]
    assert set(dm["users"]) == {running.dev["id"], running.friend["id"]}
    assert [
        s["user_id"] for s in running.http.get(path + "/list", headers=running.bearer).json()["data"]["subscriptions"]
    ] == [running.friend["id"]]


def test_xaa_matches_user_direction_and_keyword(running: Running, consumer_of: tuple[Consumer, str]) -> None:
    consumer, url = consumer_of
    webhook_id = running.register(url)["id"]
    dev, friend = running.dev["id"], running.friend["id"]
    _xaa(running, webhook_id, "follow.follow", {"user_id": friend, "direction": "inbound"}, tag="followers")
    _xaa(running, webhook_id, "like.create", {"user_id": dev, "direction": "inbound"})
    _xaa(running, webhook_id, "news.new", {"keyword": "Rockets"})
    running.trigger("follow.follow")  # dev follows friend: inbound for the friend
    running.trigger("like.create")  # dev likes: outbound for dev, so no match
    running.trigger("news.new", text="rockets")
    running.trigger("news.new", text="boats")
    events = sorted((e["data"] for e in _delivered(running, consumer)), key=lambda e: e["event_type"])
    assert [e["event_type"] for e in events] == ["follow.follow", "news.new"]
    assert events[0]["filter"] == {"direction": "inbound", "user_id": friend} and events[0]["tag"] == "followers"
    assert events[0]["payload"]["source"]["data"]["id"] == dev
    assert "tag" not in events[1] and events[1]["event_uuid"] != events[0]["event_uuid"]


def test_dm_sent_through_the_api_comes_back_to_the_webhook(running: Running, consumer_of: tuple[Consumer, str]) -> None:
    consumer, url = consumer_of
    webhook_id = running.register(url)["id"]
    _xaa(running, webhook_id, "dm.sent", {"user_id": running.dev["id"]})
    _xaa(running, webhook_id, "dm.received", {"user_id": running.friend["id"]})
    response = running.http.post(
        f"/2/dm_conversations/with/{running.friend['id']}/messages",
        json={"text": "pong"},
        headers=running.user_bearer(running.dev),
    )
    assert response.status_code == 201
    dm_event_id = response.json()["data"]["dm_event_id"]
    events = [e["data"] for e in _delivered(running, consumer)]
    assert sorted(e["event_type"] for e in events) == ["dm.received", "dm.sent"]
    assert {e["payload"]["direct_message_events"][0]["id"] for e in events} == {dm_event_id}


def _post(text: str, username: str = "someone") -> StreamPost:
    return StreamPost({}, User("1", username, username, 0.0), text)


@pytest.mark.parametrize(
    ("rule", "text", "matches"),
    [
        ("cats", "I like cats", True),
        ("cats dogs", "cats only", False),
        ("cats OR dogs", "dogs only", True),
        ('"big cat"', "a big cat here", True),
        ("cats -dogs", "cats and dogs", False),
        ("from:someone", "anything", True),
        ("from:other", "anything", False),
        ("#xhooks", "shipping #xhooks today", True),
        ("(cats OR dogs) pets", "dogs are pets", True),
    ],
)
def test_rule_matching(rule: str, text: str, matches: bool) -> None:
    assert rule_matches(rule, _post(text)) is matches


def test_stream_posts_reach_linked_webhooks_only_when_a_rule_matches(
    running: Running, consumer_of: tuple[Consumer, str]
) -> None:
    consumer, url = consumer_of
    webhook_id = running.register(url)["id"]
    rules = {"add": [{"value": "launch", "tag": "launches"}]}
    rule_id = running.http.post("/2/tweets/search/stream/rules", json=rules, headers=running.bearer).json()["data"][0][
        "id"
    ]
    running.trigger("stream.post", text="launch day")  # not linked yet
    link = f"/2/tweets/search/webhooks/{webhook_id}?tweet.fields=author_id&expansions=author_id"
    running.http.post(link, headers=running.bearer)
    running.trigger("stream.post", text="quiet day")  # no rule matches
    running.trigger("stream.post", text="launch day")
    (event,) = _delivered(running, consumer)
    assert event["matching_rules"] == [{"id": rule_id, "tag": "launches"}]
    assert event["includes"]["users"][0]["id"] == event["data"]["author_id"] == running.dev["id"]


@pytest.mark.parametrize(
    ("params", "post_keys", "user_keys"),
    [
        pytest.param("", ["id", "text", "edit_history_tweet_ids"], None, id="x-defaults"),
        pytest.param(
            "?tweet.fields=created_at,public_metrics&expansions=author_id&user.fields=location,public_metrics",
            ["id", "text", "created_at", "edit_history_tweet_ids", "public_metrics"],
            ["id", "name", "username", "location", "public_metrics"],
            id="fields-and-expansion",
        ),
        pytest.param("?expansions=author_id", ["id", "text", "edit_history_tweet_ids"], ["id", "name", "username"]),
    ],
)
def test_a_link_shapes_its_deliveries_with_its_fields_and_expansions(
    running: Running, consumer_of: tuple[Consumer, str], params: str, post_keys: list[str], user_keys: list[str] | None
) -> None:
    """The link's `tweet.fields`, `expansions` and `user.fields` were stored but not applied (issue 17)."""
    consumer, url = consumer_of
    webhook_id = running.register(url)["id"]
    running.http.post("/2/tweets/search/stream/rules", json={"add": [{"value": "launch"}]}, headers=running.bearer)
    assert running.http.post(f"/2/tweets/search/webhooks/{webhook_id}{params}", headers=running.bearer).is_success
    running.trigger("stream.post", text="launch day")
    (event,) = _delivered(running, consumer)
    assert sorted(event["data"]) == sorted(post_keys) and set(event) == {"data", "matching_rules"} | (
        {"includes"} if user_keys else set()
    )
    if user_keys is not None:
        (author,) = event["includes"]["users"]
        assert sorted(author) == sorted(user_keys) and author["id"] == running.dev["id"]
        assert "followers_count_str" not in author.get("public_metrics", {})  # the v2 stream has no `_str` twins


def test_a_link_with_an_unknown_field_is_refused_as_x_does(running: Running, consumer_of: tuple[Consumer, str]) -> None:
    _, url = consumer_of
    webhook_id = running.register(url)["id"]
    response = running.http.post(
        f"/2/tweets/search/webhooks/{webhook_id}?user.fields=shoe_size", headers=running.bearer
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["parameters"] == {"user.fields": ["shoe_size"]}
    assert error["message"].startswith("The `user.fields` query parameter value [shoe_size] is not one of [")


@pytest.mark.parametrize("event_type", ["aaa.favorite", "aaa.mention", "post.reply.create", "stream.post"])
def test_generated_events_have_the_documented_keys(
    running: Running, consumer_of: tuple[Consumer, str], event_type: str
) -> None:
    consumer, url = consumer_of
    webhook_id = running.register(url)["id"]
    running.http.post(
        f"/2/account_activity/webhooks/{webhook_id}/subscriptions/all", headers=running.user_bearer(running.friend)
    )
    _xaa(running, webhook_id, "post.reply.create", {"user_id": running.friend["id"]}, tag="replies")
    fields = "tweet.fields=created_at,author_id&expansions=author_id&user.fields=created_at,protected"
    running.http.post(f"/2/tweets/search/webhooks/{webhook_id}?{fields}", headers=running.bearer)
    running.http.post("/2/tweets/search/stream/rules", json={"add": [{"value": "emulator"}]}, headers=running.bearer)
    running.trigger(event_type)
    running.settle()
    (body,) = consumer.received
    example = {
        "aaa.favorite": "aaa.favorite_events.json",
        "aaa.mention": "aaa.tweet_create_events.mention.json",
        "post.reply.create": "xaa.post.reply.create.json",
        "stream.post": "fs.post.json",
    }[event_type]
    documented = json.loads((EXAMPLES / example).read_text())
    produced = json.loads(body)
    missing = {key for key in _keys(documented) - _keys(produced) if "<" not in key and "…" not in key}
    assert missing == set()
    envelope = parse_envelope(body)
    assert envelope.shape is not Shape.UNKNOWN and envelope.events


def _keys(value: Any, prefix: str = "") -> set[str]:
    """Dotted paths of object keys (list items merged), skipping id-keyed maps."""
    keys: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            name = "<id>" if key.isdigit() else key
            keys.add(prefix + name)
            keys |= _keys(item, prefix + name + ".")
    elif isinstance(value, list):
        for item in value:
            keys |= _keys(item, prefix)
    return keys
