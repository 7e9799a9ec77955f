"""Endpoint builders and parsers, without I/O: X's documented bodies and every documented drift shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import pytest

from xhooks.client import BaseClient, Credentials, UnexpectedResponse
from xhooks.client import endpoints as api
from xhooks.client._call import Call, parse_response
from xhooks.client.errors import WebhookIdInvalid
from xhooks.client.models import ActivityFilter, RateLimit

from ..support import EXAMPLES


def answer(call: Call[Any], body: Any = None, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    """Parse `body` (a dict, raw bytes, or None for an empty body) as the answer to `call`."""
    content = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    request = httpx.Request(call.method, "http://127.0.0.1" + call.path)
    return parse_response(call, httpx.Response(status, content=content, headers=headers, request=request))


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def built(call: Call[Any]) -> httpx.Request:
    client = BaseClient(
        Credentials(bearer_token="app-token", user_token="user-token"), base_url="http://127.0.0.1:9/api"
    )
    return client.build_request(call)


def test_create_webhook_request_posts_the_url_as_json() -> None:
    request = built(api.create_webhook("https://example.com/hook"))
    assert (request.method, str(request.url)) == ("POST", "http://127.0.0.1:9/api/2/webhooks")
    assert json.loads(request.content) == {"url": "https://example.com/hook"}
    assert request.headers["authorization"] == "Bearer app-token"
    assert request.headers["content-type"] == "application/json"


def test_path_ids_are_escaped_so_they_cannot_change_the_path() -> None:
    request = built(api.delete_webhook("1/../../2/other"))
    assert request.url.raw_path == b"/api/2/webhooks/1%2F..%2F..%2F2%2Fother"


def test_create_webhook_reads_the_documented_body() -> None:
    hook = answer(api.create_webhook("u"), example("api.webhooks.create.200.json"))
    assert (hook.id, hook.url, hook.valid) == ("1234567890", "https://yourdomain.com/webhooks/twitter", True)
    assert hook.created_at == "2025-01-15T12:00:00.000Z"


def test_create_webhook_reads_the_flat_body_of_spec_2_161() -> None:
    flat = example("api.webhooks.create.200.json")["data"]
    assert answer(api.create_webhook("u"), flat).id == "1234567890"


@pytest.mark.parametrize(
    ("body", "count"),
    [
        pytest.param(example("api.webhooks.list.200.json"), 1, id="one"),
        pytest.param(example("api.webhooks.list.200.empty.json"), 0, id="empty-list"),
        pytest.param({"meta": {"result_count": 0}}, 0, id="data-missing"),
        pytest.param(None, 0, id="empty-body"),
    ],
)
def test_list_webhooks_accepts_every_documented_shape(body: Any, count: int) -> None:
    assert len(answer(api.list_webhooks(), body).items) == count


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(example("api.webhooks.validate.200.json"), id="valid"),
        pytest.param({"data": {"attempted": True}}, id="attempted"),
    ],
)
def test_validate_webhook_accepts_valid_or_attempted(body: Any) -> None:
    assert answer(api.validate_webhook("1"), body).valid is True


def test_delete_webhook_reads_deleted() -> None:
    assert answer(api.delete_webhook("1"), example("api.webhooks.delete.200.json")).deleted is True


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"data": {"job_id": "19", "created_at": "2025-04-24T20:57:15.242Z"}}, id="data"),
        pytest.param({"job_id": "19", "created_at": "2025-04-24T20:57:15.242Z"}, id="flat"),
        pytest.param({"for_user_id": "1", "replay_event": {"job_id": "19", "created_at": "x"}}, id="replay-event"),
    ],
)
def test_replay_job_accepts_the_three_documented_shapes(body: Any) -> None:
    assert answer(api.create_replay_job("1", "202504242000", "202504242200"), body).job_id == "19"


def test_replay_request_formats_datetimes_as_x_minutes_in_utc() -> None:
    call = api.create_replay_job("7", datetime(2025, 4, 24, 20, 0, 59, tzinfo=UTC), "202504242200")
    sent = json.loads(built(call).content)
    assert sent == {"webhook_id": "7", "from_date": "202504242000", "to_date": "202504242200"}


def test_documented_aaa_replay_example_parses() -> None:
    job = answer(api.create_replay_job("1", "a", "b"), example("api.aaa.replay.create.200.json"))
    assert job.job_id == "<REPLAY_JOB_ID>"


@pytest.mark.parametrize(
    ("call", "body", "status", "subscribed"),
    [
        pytest.param(api.add_subscription("1"), example("api.aaa.subscriptions.create.200.json"), 200, True, id="add"),
        pytest.param(api.add_subscription("1"), None, 204, True, id="add-204"),
        pytest.param(
            api.check_subscription("1"), example("api.aaa.subscriptions.validate.200.json"), 200, True, id="check"
        ),
        pytest.param(api.check_subscription("1"), {"data": {"subscribed": False}}, 200, False, id="check-false"),
        pytest.param(api.check_subscription("1"), None, 204, True, id="check-204"),
        pytest.param(
            api.remove_subscription("1", "2"), example("api.aaa.subscriptions.delete.200.json"), 200, False, id="remove"
        ),
        pytest.param(api.remove_subscription("1", "2"), None, 204, False, id="remove-204"),
    ],
)
def test_aaa_subscription_answers_200_or_204(call: Call[Any], body: Any, status: int, subscribed: bool) -> None:
    assert answer(call, body, status).subscribed is subscribed


def test_aaa_subscribe_and_check_act_as_the_user() -> None:
    assert built(api.add_subscription("1")).headers["authorization"] == "Bearer user-token"
    assert built(api.remove_subscription("1", "2")).headers["authorization"] == "Bearer app-token"


def test_aaa_list_reads_user_ids() -> None:
    listed = answer(api.list_subscriptions("1"), example("api.aaa.subscriptions.list.200.json"))
    assert listed.user_ids == ("<user_id_1>", "<user_id_2>")
    assert listed.webhook_url == "<the webhook's callback url>"


def test_aaa_count_keeps_x_strings() -> None:
    count = answer(api.count_subscriptions(), example("api.aaa.subscriptions.count.200.json"))
    assert count.subscriptions_count_direct_messages == "0"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(example("api.activity.subscriptions.create.200.json"), id="data-object"),
        pytest.param(example("api.activity.subscriptions.create.200.array-form.json"), id="data-array"),
        pytest.param(
            {"data": {"subscription": example("api.activity.subscriptions.create.200.json")["data"]}},
            id="data-subscription",
        ),
    ],
)
def test_activity_create_accepts_the_three_documented_shapes(body: Any) -> None:
    sub = answer(api.create_activity_subscription("profile.update.bio", ActivityFilter(user_id="1")), body)
    assert (sub.subscription_id, sub.event_type) == ("1976325569252868096", "profile.update.bio")
    assert sub.filter.user_id is not None


def test_activity_create_request_sends_only_what_is_set() -> None:
    call = api.create_activity_subscription(
        "profile.update.bio", ActivityFilter(user_id="2244994945"), tag="Xdevelopers' bio updates"
    )
    assert json.loads(built(call).content) == example("api.activity.subscriptions.create.request.json")


def test_activity_list_reads_items_total_and_next_token() -> None:
    meta = {"total_subscriptions": 2, "next_token": "n"}
    body = {**example("api.activity.subscriptions.list.200.json"), "meta": meta}
    page = answer(api.list_activity_subscriptions(), body)
    assert [s.subscription_id for s in page.items] == ["1976325569252868096", "1976325569252868097"]
    assert (page.total_subscriptions, page.next_token) == (2, "n")


def test_activity_list_page_token_goes_in_the_query() -> None:
    request = built(api.list_activity_subscriptions("tok", 10))
    assert dict(request.url.params) == {"pagination_token": "tok", "max_results": "10"}


def test_activity_update_and_delete_read_the_documented_bodies() -> None:
    updated = answer(
        api.update_activity_subscription("1", tag="my new tag"), example("api.activity.subscriptions.update.200.json")
    )
    assert (updated.tag, updated.webhook_id) == ("my new tag", "192846273860294839")
    deleted = answer(api.delete_activity_subscription("1"), example("api.activity.subscriptions.delete.200.json"))
    assert (deleted.deleted, deleted.total_subscriptions) == (True, 0)


def test_activity_delete_by_ids_splits_done_and_failed() -> None:
    body = {
        "data": [{"subscription_id": "1", "deleted": True}],
        "errors": [{"subscription_id": "2", "reason": "SubscriptionNotFound", "message": "no such id"}],
        "meta": {"total_subscriptions": 4},
    }
    call = api.delete_activity_subscriptions(["1", "2"])
    assert built(call).url.params["ids"] == "1,2"
    result = answer(call, body)
    assert result.deleted == ("1",)
    assert result.failed[0].reason == "SubscriptionNotFound"
    assert result.total_subscriptions == 4


@pytest.mark.parametrize(
    ("body", "count"),
    [
        pytest.param(example("api.stream-links.list.200.json"), 1, id="data-links"),
        pytest.param({"data": example("api.stream-links.list.200.json")["data"]["links"]}, 1, id="data-array"),
        pytest.param({}, 0, id="data-missing"),
    ],
)
def test_stream_links_accept_both_list_shapes(body: Any, count: int) -> None:
    links = answer(api.list_stream_links(), body).items
    assert len(links) == count
    assert all(link.webhook_id == "1952390923729424384" for link in links)


def test_stream_link_create_and_delete() -> None:
    call = api.create_stream_link("5", {"expansions": "author_id"})
    assert built(call).url.params["expansions"] == "author_id"
    assert answer(call, example("api.stream-links.create.200.json")).provisioned is True
    assert answer(api.delete_stream_link("5"), example("api.stream-links.delete.200.json")).deleted is True


def test_rules_add_sends_values_and_tags_and_reads_the_summary() -> None:
    call = api.add_rules([("cat has:images", "cats"), ("dog", None)], dry_run=True)
    request = built(call)
    assert json.loads(request.content) == {"add": [{"value": "cat has:images", "tag": "cats"}, {"value": "dog"}]}
    assert request.url.params["dry_run"] == "true"
    body = {"data": [{"id": "1", "value": "dog"}], "meta": {"sent": "x", "summary": {"created": 1, "valid": 1}}}
    changed = answer(call, body)
    assert changed.items[0].value == "dog"
    assert (changed.summary.created, changed.summary.not_created) == (1, 0)


def test_rules_delete_by_ids_or_values() -> None:
    request = built(api.delete_rules(ids=["1"], values=["dog"]))
    assert json.loads(request.content) == {"delete": {"ids": ["1"], "values": ["dog"]}}
    changed = answer(api.delete_rules(ids=["1"]), {"meta": {"summary": {"deleted": 1}}})
    assert (changed.items, changed.summary.deleted) == ((), 1)


def test_dm_send_is_user_context_and_reads_ids() -> None:
    call = api.send_dm("42", "hello")
    request = built(call)
    assert request.url.path == "/api/2/dm_conversations/with/42/messages"
    assert request.headers["authorization"] == "Bearer user-token"
    sent = answer(call, {"data": {"dm_conversation_id": "1-42", "dm_event_id": "9"}}, 201)
    assert (sent.dm_conversation_id, sent.dm_event_id) == ("1-42", "9")


def test_rate_limit_headers_are_exposed_on_results() -> None:
    headers = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "449", "x-rate-limit-reset": "1700000000"}
    hooks = answer(api.list_webhooks(), example("api.webhooks.list.200.json"), headers=headers)
    assert hooks.rate_limit == RateLimit(limit=450, remaining=449, reset=1700000000)
    assert answer(api.list_webhooks(), None).rate_limit is None


def test_error_status_raises_the_reason_class() -> None:
    body = {"errors": [{"message": "WebhookIdInvalid: not yours"}], "title": "Invalid Request"}
    with pytest.raises(WebhookIdInvalid) as caught:
        answer(api.delete_webhook("1"), body, 400)
    assert caught.value.message == "not yours"


@pytest.mark.parametrize(
    "body",
    [pytest.param(b"<html>", id="not-json"), pytest.param({"data": {"url": "u"}}, id="fields-missing")],
)
def test_success_with_an_unreadable_body_raises_unexpected_response(body: Any) -> None:
    with pytest.raises(UnexpectedResponse):
        answer(api.create_webhook("u"), body)


def test_results_are_frozen() -> None:
    hook = answer(api.create_webhook("u"), example("api.webhooks.create.200.json"))
    with pytest.raises(AttributeError):
        hook.valid = False
    assert msgspec.to_builtins(hook)["id"] == "1234567890"
