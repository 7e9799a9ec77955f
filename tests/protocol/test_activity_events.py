"""X Activity API bodies: which are events, whom they are for, and who acted (issue 17's decoder findings)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from xhooks.dispatch import XHooks
from xhooks.protocol import Shape, parse_envelope
from xhooks.protocol.events import LikeCreate, OAuthRevoke, decode_event


def _body(data: dict[str, Any]) -> bytes:
    return json.dumps({"data": data}).encode()


def test_oauth_revoke_is_for_the_user_in_its_payload() -> None:
    body = _body(
        {
            "event_uuid": "5934540941047412905",
            "filter": {},
            "event_type": "oauth.revoke",
            "payload": {"date_time": "2026-07-23T21:44:05+00:00", "user_id": "1111", "app_id": "29820954"},
        }
    )
    (ref,) = parse_envelope(body).events
    assert ref.for_user_id == "1111"
    event = decode_event(body, ref.index, ref.event_type)
    assert isinstance(event, OAuthRevoke) and event.for_user_id == "1111" == event.actor_id


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(
            {
                "data": {
                    "subscription_id": "1",
                    "event_type": "post.create",
                    "filter": {"user_id": "2"},
                    "created_at": "2026-01-01T00:00:00.000Z",
                    "updated_at": "2026-01-01T00:00:00.000Z",
                },
                "meta": {"total_subscriptions": 1},
            },
            id="create-or-update",
        ),
        pytest.param({"data": {"subscription_id": "1", "event_type": "dm.sent", "filter": {}}}, id="bare"),
    ],
)
def test_a_subscription_answer_is_not_an_activity_event(answer: dict[str, Any]) -> None:
    envelope = parse_envelope(json.dumps(answer).encode())
    assert envelope.shape is Shape.UNKNOWN and envelope.events[0].key.startswith("raw:")


@pytest.mark.parametrize(
    ("flt", "liked_author", "actor"),
    [
        pytest.param({"user_id": "1", "direction": "outbound"}, "2", "1", id="outbound-is-the-subscribed-user"),
        pytest.param({"user_id": "1", "direction": "inbound"}, "1", None, id="inbound-liker-is-not-named"),
        pytest.param({"user_id": "1"}, "2", "1", id="no-direction-someone-elses-post"),
        pytest.param({"user_id": "1"}, "1", None, id="no-direction-own-post-is-ambiguous"),
    ],
)
def test_like_create_names_its_liker(flt: dict[str, str], liked_author: str, actor: str | None) -> None:
    """`actor_id` was always None, so `ignore_own_actions` could not skip a bot's own likes."""
    payload = {"id": "87719f50ee17bdfa06a3089098a2b9ed", "liked_tweet_author_id": liked_author, "liked_tweet_id": "9"}
    body = _body({"event_uuid": "-3", "filter": flt, "event_type": "like.create", "payload": payload})
    event = decode_event(body, 0, "like.create")
    assert isinstance(event, LikeCreate) and event.actor_id == actor
    # the like is for the subscribed user "1": skipped as the bot's own exactly when "1" is the liker
    assert event.for_user_id == "1"
    assert XHooks(ignore_own_actions=True).ignores(event) is (actor == "1")
