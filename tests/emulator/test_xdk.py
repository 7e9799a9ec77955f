"""The official SDK (`xdk`) pointed at the emulator with `base_url`: every call it makes parses into its models."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests

from tests.emulator.conftest import Consumer, Running

xdk = pytest.importorskip("xdk")
from xdk.account_activity.models import CreateSubscriptionRequest as AaaSubscribe  # noqa: E402
from xdk.activity.models import CreateSubscriptionRequest, UpdateSubscriptionRequest  # noqa: E402
from xdk.oauth1_auth import OAuth1  # noqa: E402
from xdk.webhooks.models import CreateRequest, CreateWebhookReplayJobRequest  # noqa: E402


def _client(running: Running, user: dict[str, str]) -> object:
    auth = OAuth1(
        running.app["consumer_key"],
        running.app["consumer_secret"],
        "oob",
        user["access_token"],
        user["access_token_secret"],
    )
    return xdk.Client(base_url=running.url, bearer_token=running.app["bearer_token"], auth=auth)


def test_sdk_manages_webhooks_subscriptions_stream_links_and_replay(
    running: Running, consumer_of: tuple[Consumer, str]
) -> None:
    consumer, url = consumer_of
    client = _client(running, running.dev)

    created = client.webhooks.create(body=CreateRequest(url=url))  # type: ignore[attr-defined]
    webhook_id = created.data.id
    assert created.data.valid is True and created.data.url == url
    listed = client.webhooks.get(webhook_config_fields=["id", "url", "valid"])  # type: ignore[attr-defined]
    assert [hook.id for hook in listed.data] == [webhook_id] and listed.meta.result_count == 1
    assert client.webhooks.validate(webhook_id).data.valid is True  # type: ignore[attr-defined]
    assert len(consumer.crc_queries) == 2  # create and PUT each sent a CRC

    aaa = client.account_activity  # type: ignore[attr-defined]
    assert aaa.create_subscription(webhook_id, body=AaaSubscribe.model_validate({})).data.subscribed is True
    assert aaa.validate_subscription(webhook_id).data.subscribed is True
    assert [sub.user_id for sub in aaa.get_subscriptions(webhook_id).data.subscriptions] == [running.dev["id"]]
    assert aaa.get_subscription_count().data.subscriptions_count_all == "1"
    assert aaa.delete_subscription(webhook_id, running.dev["id"]).data.subscribed is False

    activity = client.activity  # type: ignore[attr-defined]
    ids = []
    for event_type in ("profile.update.bio", "follow.follow", "post.create"):
        body = CreateSubscriptionRequest(
            event_type=event_type, filter={"user_id": running.dev["id"]}, tag=event_type, webhook_id=webhook_id
        )
        ids.append(activity.create_subscription(body=body).data.model_dump()["subscription_id"])
    pages = list(activity.get_subscriptions(max_results=2))
    assert [len(page.data) for page in pages] == [2, 1]
    assert [sub.subscription_id for page in pages for sub in page.data] == sorted(ids)
    updated = activity.update_subscription(ids[0], body=UpdateSubscriptionRequest(tag="renamed"))
    assert updated.data.model_dump()["tag"] == "renamed"
    assert activity.delete_subscription(ids[0]).data.deleted is True
    deleted = activity.delete_subscriptions_by_ids(ids=ids[1:])
    assert [item.deleted for item in deleted.data] == [True, True]

    assert client.webhooks.create_stream_link(webhook_id).data.provisioned is True  # type: ignore[attr-defined]
    links = client.webhooks.get_stream_links()  # type: ignore[attr-defined]
    assert [link.webhook_id for link in links.data] == [webhook_id]

    now = running.http.get("/_emulator/clock").json()["now"]
    minute = dt.datetime.fromtimestamp(now, dt.UTC)
    job = client.webhooks.create_webhook_replay_job(  # type: ignore[attr-defined]
        body=CreateWebhookReplayJobRequest(
            webhook_id=webhook_id,
            from_date=(minute - dt.timedelta(hours=1)).strftime("%Y%m%d%H%M"),
            to_date=minute.strftime("%Y%m%d%H%M"),
        )
    )
    assert job.data.job_id.isdigit()

    assert client.webhooks.delete_stream_link(webhook_id).data.deleted is True  # type: ignore[attr-defined]
    assert client.webhooks.delete(webhook_id).data.deleted is True  # type: ignore[attr-defined]
    assert client.webhooks.get().data == []  # type: ignore[attr-defined]


def test_sdk_oauth1_with_a_wrong_secret_is_refused(running: Running) -> None:
    forged = dict(running.dev, access_token_secret="wrong")
    client = _client(running, forged)
    with pytest.raises(Exception, match="401"):
        client.account_activity.validate_subscription("1")  # type: ignore[attr-defined]


def test_sdk_looks_up_users(running: Running) -> None:
    """`/2/users/me`, `/2/users/{id}`, `/2/users/by/username/{username}` and the list forms (issue 17)."""
    dev, friend = running.dev, running.friend
    client = _client(running, dev)
    users = client.users  # type: ignore[attr-defined]
    me = users.get_me(user_fields=["created_at", "description", "location", "url"])
    assert (me.data.id, me.data.username, me.data.location) == (dev["id"], "xhooks_dev", "Boulder, CO")
    assert me.data.description == "Building with the X API and xhooks" and me.data.url.startswith("https://t.co/")
    oauth2 = xdk.Client(base_url=running.url, access_token=dev["oauth2_access_token"])
    assert oauth2.users.get_me().data.model_dump(exclude_none=True) == {
        "id": dev["id"],
        "name": dev["name"],
        "username": dev["username"],
    }
    assert users.get_by_username("XHOOKS_FRIEND").data.id == friend["id"]
    assert users.get_by_id(friend["id"], user_fields=["location"]).data.location == "Burlington, MA"
    listed = users.get_by_ids(ids=[dev["id"], "1", friend["id"]])
    assert [user.id for user in listed.data] == [dev["id"], friend["id"]]
    assert [error.model_dump(exclude_none=True) for error in listed.errors] == [
        {
            "detail": "Could not find user with ids: [1].",
            "parameter": "ids",
            "resource_id": "1",
            "resource_type": "user",
            "title": "Not Found Error",
            "type": "https://api.x.com/2/problems/resource-not-found",
            "value": "1",
        }
    ]
    named = users.get_by_usernames(usernames=["xhooks_friend", "nobody_here"])
    assert [user.username for user in named.data] == ["xhooks_friend"] and named.errors[0].resource_id == "nobody_here"
    missing = users.get_by_id("1")
    assert missing.data is None and missing.errors[0].detail == "Could not find user with id: [1]."


def test_users_lookups_refuse_what_x_refuses(running: Running) -> None:
    bad_id = running.http.get("/2/users/12ab", headers=running.bearer)
    assert bad_id.status_code == 400 and bad_id.json()["errors"][0]["parameters"] == {"id": ["12ab"]}
    assert running.http.get("/2/users/me", headers=running.bearer).status_code == 403  # user context only
    bad_field = running.http.get(
        "/2/users/me", params={"user.fields": "mood"}, headers=running.user_bearer(running.dev)
    )
    assert bad_field.status_code == 400 and "`user.fields`" in bad_field.json()["errors"][0]["message"]
    narrow = running.http.post("/_emulator/users", json={"scopes": "tweet.read"}).json()
    refused = running.http.get("/2/users/me", headers=running.user_bearer(narrow))
    assert refused.status_code == 403 and "users.read" in refused.json()["detail"]


def _assert_forbidden(error: requests.HTTPError, detail: str) -> None:
    """X's 403 problem for a refused DM action (docs/emulator.md: X documents no `detail` or `type` for these)."""
    assert error.response is not None and error.response.status_code == 403
    assert error.response.headers["content-type"] == "application/problem+json"
    assert error.response.json() == {"title": "Forbidden", "detail": detail, "type": "about:blank", "status": 403}


def test_sdk_sends_looks_up_deletes_and_blocks_direct_messages(running: Running) -> None:
    """Every Direct Message method of xdk (8 of 9 answered 404 before; issue 17)."""
    from xdk.direct_messages.models import (
        CreateByConversationIdRequest,
        CreateByParticipantIdRequest,
        CreateConversationRequest,
    )

    dev, friend = running.dev, running.friend
    third = running.http.post("/_emulator/users", json={"username": "xhooks_third"}).json()
    client, friends_client = _client(running, dev), _client(running, friend)
    dms = client.direct_messages  # type: ignore[attr-defined]
    sent = dms.create_by_participant_id(friend["id"], body=CreateByParticipantIdRequest(text="hello"))
    conversation_id = sent.data.dm_conversation_id
    assert conversation_id == "-".join(sorted((dev["id"], friend["id"]), key=int))
    again = dms.create_by_conversation_id(conversation_id, body=CreateByConversationIdRequest(text="again"))
    assert again.data.dm_conversation_id == conversation_id
    group = dms.create_conversation(
        body=CreateConversationRequest(
            conversation_type="Group", participant_ids=[friend["id"], third["id"]], message={"text": "all of us"}
        )
    )
    assert group.data.dm_conversation_id not in (conversation_id, sent.data.dm_event_id)

    (page,) = dms.get_events(dm_event_fields=["created_at", "dm_conversation_id", "sender_id"], max_results=100)
    assert [(event.event_type, event.text) for event in page.data] == [
        ("MessageCreate", "all of us"),
        ("ParticipantsJoin", None),
        ("MessageCreate", "again"),
        ("MessageCreate", "hello"),
    ]
    assert page.meta.result_count == 4 and page.data[-1].model_dump()["sender_id"] == dev["id"]
    pages = list(dms.get_events_by_participant_id(friend["id"], max_results=1, expansions=["sender_id"]))
    assert [p.data[0].id for p in pages] == [again.data.dm_event_id, sent.data.dm_event_id]
    assert pages[0].includes.users[0].id == dev["id"]
    (in_group,) = dms.get_events_by_conversation_id(group.data.dm_conversation_id, event_types=["MessageCreate"])
    assert [event.id for event in in_group.data] == [group.data.dm_event_id]
    one = dms.get_events_by_id(sent.data.dm_event_id, dm_event_fields=["dm_conversation_id"])
    assert one.data.text == "hello" and one.data.dm_conversation_id == conversation_id

    theirs = friends_client.direct_messages  # type: ignore[attr-defined]
    with pytest.raises(requests.HTTPError) as refused:
        theirs.delete_events(sent.data.dm_event_id)  # only the sender may delete
    _assert_forbidden(refused.value, "You can only delete Direct Messages you sent")
    assert dms.delete_events(sent.data.dm_event_id).data.deleted is True
    assert dms.get_events_by_id(sent.data.dm_event_id).errors[0].resource_type == "dm_event"

    assert friends_client.users.block_dms(dev["id"]).data.blocked is True  # type: ignore[attr-defined]
    with pytest.raises(requests.HTTPError) as refused:
        dms.create_by_participant_id(friend["id"], body=CreateByParticipantIdRequest(text="still there?"))
    _assert_forbidden(refused.value, "You cannot send messages to this user")
    assert friends_client.users.unblock_dms(dev["id"]).data.blocked is False  # type: ignore[attr-defined]
    assert dms.create_by_participant_id(friend["id"], body=CreateByParticipantIdRequest(text="ok")).data


def _rule_values(stream: Any) -> list[str]:
    return [rule.value for page in stream.get_rules() for rule in page.data or []]


def test_sdk_booleans_reach_the_rules_endpoint_as_x_reads_them(running: Running) -> None:
    """`xdk` sends `dry_run=True` / `delete_all=True`; a dry run committed and delete_all deleted nothing (issue 17)."""
    from xdk.stream.models import UpdateRulesRequest

    stream = _client(running, running.dev).stream  # type: ignore[attr-defined]
    rules = UpdateRulesRequest.model_validate({"add": [{"value": "cats", "tag": "c"}, {"value": "dogs"}]})
    checked = stream.update_rules(body=rules, dry_run=True)
    assert checked.meta.summary["created"] == 2
    assert _rule_values(stream) == []  # nothing committed
    assert stream.update_rules(body=rules).meta.summary["created"] == 2
    assert sorted(_rule_values(stream)) == ["cats", "dogs"]
    deleted = stream.update_rules(body=UpdateRulesRequest.model_validate({}), delete_all=True)
    assert deleted.meta.summary["deleted"] == 2
    assert _rule_values(stream) == []


@pytest.mark.parametrize("value", ["yes", "1", "TRUEISH"])
def test_other_boolean_spellings_get_x_400(running: Running, value: str) -> None:
    response = running.http.post(
        "/2/tweets/search/stream/rules",
        params={"dry_run": value},
        json={"add": [{"value": "x"}]},
        headers=running.bearer,
    )
    assert response.status_code == 400 and response.json()["errors"][0]["parameters"] == {"dry_run": [value]}


def test_sdk_dm_media_download_is_refused_as_documented(running: Running) -> None:
    """The 9th DM method of xdk: the emulator holds no media, so even a real DM's media path is X's 404 problem
    (docs/emulator.md, "What still differs from X", DM media)."""
    from xdk.direct_messages.models import CreateByParticipantIdRequest

    dms = _client(running, running.dev).direct_messages  # type: ignore[attr-defined]
    sent = dms.create_by_participant_id(running.friend["id"], body=CreateByParticipantIdRequest(text="a picture"))
    oauth2 = xdk.Client(base_url=running.url, access_token=running.dev["oauth2_access_token"])
    path = f"/2/dm_conversations/media/{sent.data.dm_event_id}/1146654567674912769/1146654567674912769"
    with pytest.raises(requests.HTTPError) as refused:
        oauth2.direct_messages.dm_conversations_media_download(*path.rsplit("/", 3)[1:])
    response = refused.value.response
    assert response is not None and response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    detail = f"The requested resource {path} was not found"
    assert response.json() == {
        "errors": [{"message": detail}],
        "title": "Not Found Error",
        "detail": detail,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }
