"""X Activity API subscription rules: private types need the monitored user's own token with the right scope,
mute and block are actor-only, and `direction` takes X's values (docs/emulator.md has the table and sources)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from oauthlib.oauth1 import Client as OAuth1Client

from tests.emulator.conftest import Consumer, Running

PRIVATE = ["dm.sent", "dm.received", "chat.received", "like.create", "mute.mute", "block.unblock"]


def _create(running: Running, headers: dict[str, str], event_type: str, **flt: str) -> httpx.Response:
    body = {"event_type": event_type, "filter": flt}
    return running.http.post("/2/activity/subscriptions", json=body, headers=headers)


def _oauth1(running: Running, user: dict[str, Any], method: str, path: str, body: bytes) -> dict[str, str]:
    signer = OAuth1Client(
        running.app["consumer_key"],
        running.app["consumer_secret"],
        user["access_token"],
        user["access_token_secret"],
    )
    # oauthlib types `body` as text and `method` as a literal; a JSON body takes no part in the signature.
    _, headers, _ = signer.sign(running.url + path, method, body, {"content-type": "application/json"})  # type: ignore[arg-type]
    return {"authorization": headers["Authorization"], "content-type": "application/json"}


@pytest.mark.parametrize("event_type", PRIVATE)
def test_private_types_refuse_the_app_bearer_token(running: Running, event_type: str) -> None:
    response = _create(running, running.bearer, event_type, user_id=running.dev["id"])
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "https://api.twitter.com/2/problems/unsupported-authentication"
    assert "OAuth 2.0 Application-Only is forbidden" in response.json()["detail"]
    assert _create(running, running.user_bearer(running.dev), event_type, user_id=running.dev["id"]).is_success


@pytest.mark.parametrize("event_type", ["profile.update.bio", "post.create", "follow.follow", "spaces.start"])
def test_public_types_take_the_app_bearer_token(running: Running, event_type: str) -> None:
    assert _create(running, running.bearer, event_type, user_id=running.dev["id"]).status_code == 200


@pytest.mark.parametrize("event_type", PRIVATE)
def test_private_types_only_for_the_user_who_authorized_the_app(running: Running, event_type: str) -> None:
    response = _create(running, running.user_bearer(running.friend), event_type, user_id=running.dev["id"])
    assert response.status_code == 403 and response.json()["title"] == "Forbidden"


@pytest.mark.parametrize(
    ("event_type", "scope"),
    [
        ("dm.sent", "dm.read"),
        ("chat.sent", "dm.read"),
        ("like.create", "like.read"),
        ("mute.unmute", "mute.read"),
        ("block.block", "block.read"),
    ],
)
def test_an_oauth2_token_needs_the_scope_of_the_event_family(running: Running, event_type: str, scope: str) -> None:
    narrow = running.http.post("/_emulator/users", json={"scopes": "tweet.read users.read"}).json()
    response = _create(running, running.user_bearer(narrow), event_type, user_id=narrow["id"])
    assert response.status_code == 403 and scope in response.json()["detail"]
    assert _create(running, running.user_bearer(narrow), "post.create", user_id=narrow["id"]).status_code == 200
    blind = running.http.post("/_emulator/users", json={"scopes": "users.read"}).json()
    assert _create(running, running.user_bearer(blind), "post.create", user_id=blind["id"]).status_code == 403


def test_oauth1_user_context_subscribes_to_private_events(running: Running) -> None:
    content = b'{"event_type":"block.block","filter":{"user_id":"%s"}}' % running.dev["id"].encode()
    headers = _oauth1(running, running.dev, "POST", "/2/activity/subscriptions", content)
    response = running.http.post("/2/activity/subscriptions", content=content, headers=headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("event_type", "direction", "accepted"),
    [
        pytest.param("dm.sent", "sent", True, id="dm-sent"),
        pytest.param("dm.received", "received", True, id="dm-received"),
        pytest.param("chat.received", "inbound", True, id="chat-openapi-value"),
        pytest.param("like.create", "inbound", True, id="like-inbound"),
        pytest.param("like.create", "sent", False, id="like-takes-no-sent"),
        pytest.param("follow.follow", "outbound", True, id="follow-outbound"),
        pytest.param("mute.mute", "outbound", False, id="mute-is-actor-only"),
        pytest.param("block.block", "inbound", False, id="block-is-actor-only"),
        pytest.param("dm.sent", "sideways", False, id="unknown"),
        pytest.param("profile.update.bio", "inbound", False, id="profile-is-not-directional"),
        pytest.param("post.create", "outbound", False, id="post-is-not-directional"),
        pytest.param("news.new", "inbound", False, id="news-is-not-directional"),
    ],
)
def test_direction_takes_x_values(running: Running, event_type: str, direction: str, accepted: bool) -> None:
    """`sent`/`received` were refused before the routing that maps them was reached (issue 17)."""
    headers = running.user_bearer(running.dev)
    response = _create(running, headers, event_type, user_id=running.dev["id"], direction=direction)
    assert response.status_code == (200 if accepted else 400), response.text
    if not accepted:
        (error,) = response.json()["errors"]
        assert error["parameters"] == {"filter.direction": [direction]}


def test_sent_and_received_filters_route_dms_by_direction(running: Running, consumer_of: tuple[Consumer, str]) -> None:
    consumer, url = consumer_of
    webhook_id = running.register(url)["id"]
    for event_type, direction in (("dm.sent", "sent"), ("dm.received", "received"), ("dm.sent", "received")):
        body = {"event_type": event_type, "filter": {"user_id": running.dev["id"], "direction": direction}}
        body["webhook_id"], body["tag"] = webhook_id, f"{event_type} {direction}"
        headers = running.user_bearer(running.dev)
        assert running.http.post("/2/activity/subscriptions", json=body, headers=headers).status_code == 200
    running.trigger("dm.sent")  # the dev user sends: only the `sent` filter of dm.sent matches
    running.trigger("dm.received")  # the dev user receives
    running.settle()
    assert sorted(event["data"]["tag"] for event in consumer.events()) == ["dm.received received", "dm.sent sent"]
