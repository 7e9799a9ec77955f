"""Direct Messages over HTTP: what X refuses, and that only one-to-one messages come back to webhooks."""

from __future__ import annotations

from tests.emulator.conftest import Consumer, Running


def test_only_participants_send_to_or_read_a_conversation(running: Running) -> None:
    third = running.http.post("/_emulator/users", json={}).json()
    sent = running.http.post(
        f"/2/dm_conversations/with/{running.friend['id']}/messages",
        json={"text": "hi"},
        headers=running.user_bearer(running.dev),
    ).json()["data"]
    conversation = sent["dm_conversation_id"]
    outsider = running.user_bearer(third)
    refused = running.http.post(
        f"/2/dm_conversations/{conversation}/messages", json={"text": "me too"}, headers=outsider
    )
    assert refused.status_code == 403 and refused.json()["title"] == "Forbidden"
    assert running.http.get(f"/2/dm_conversations/{conversation}/dm_events", headers=outsider).status_code == 403
    lookup = running.http.get(f"/2/dm_events/{sent['dm_event_id']}", headers=outsider).json()
    assert "data" not in lookup and lookup["errors"][0]["resource_id"] == sent["dm_event_id"]
    assert running.http.get("/2/dm_events", headers=outsider).json() == {"meta": {"result_count": 0}}


def test_malformed_dm_requests_get_x_400(running: Running) -> None:
    dev = running.user_bearer(running.dev)
    bad_id = running.http.post("/2/dm_conversations/with/abc/messages", json={"text": "x"}, headers=dev)
    assert bad_id.status_code == 400 and bad_id.json()["errors"][0]["parameters"] == {"participant_id": ["abc"]}
    empty = running.http.post(f"/2/dm_conversations/with/{running.friend['id']}/messages", json={}, headers=dev)
    assert empty.status_code == 400
    lonely = {"conversation_type": "Group", "participant_ids": [running.friend["id"]], "message": {"text": "x"}}
    assert running.http.post("/2/dm_conversations", json=lonely, headers=dev).status_code == 400
    too_many = running.http.get("/2/dm_events", params={"max_results": "101"}, headers=dev)
    assert too_many.status_code == 400 and too_many.json()["errors"][0]["parameters"] == {"max_results": ["101"]}
    assert running.http.get("/2/dm_events", headers=running.bearer).status_code == 403  # user context only


def test_group_messages_are_kept_but_not_delivered(running: Running, consumer_of: tuple[Consumer, str]) -> None:
    consumer, url = consumer_of
    webhook_id = running.register(url)["id"]
    path = f"/2/account_activity/webhooks/{webhook_id}/subscriptions/all"
    assert running.http.post(path, headers=running.user_bearer(running.friend)).status_code == 200
    third = running.http.post("/_emulator/users", json={}).json()
    group = {
        "conversation_type": "Group",
        "participant_ids": [running.friend["id"], third["id"]],
        "message": {"text": "g"},
    }
    created = running.http.post("/2/dm_conversations", json=group, headers=running.user_bearer(running.dev))
    assert created.status_code == 201
    running.http.post(
        f"/2/dm_conversations/with/{running.friend['id']}/messages",
        json={"text": "just us"},
        headers=running.user_bearer(running.dev),
    )
    running.settle()
    assert [
        event["direct_message_events"][0]["message_create"]["message_data"]["text"] for event in consumer.events()
    ] == ["just us"]
    seen = running.http.get("/2/dm_events", headers=running.user_bearer(third)).json()["data"]
    assert [event["text"] for event in seen if event["event_type"] == "MessageCreate"] == ["g"]
