"""Every client method, sync and async (the `x` fixture), against the emulator over real HTTP."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.emulator.conftest import Running
from tests.support import free_port
from xhooks.client import ActivityFilter, AsyncXClient, CallPolicy, Credentials, XClient
from xhooks.client.errors import (
    CrcValidationFailed,
    DuplicateSubscriptionFailed,
    DuplicateUrlFailed,
    Forbidden,
    QueryParamInvalid,
    RateLimited,
    ReplayConflictError,
    SubscriptionLimitExceeded,
    SubscriptionNotFound,
    Unauthorized,
    UrlValidationFailed,
    WebhookIdInvalid,
    WebhookLimitExceeded,
)
from xhooks.emulator import EmulatorConfig
from xhooks.errors import TransportError

from .conftest import credentials, make_client

LOCAL: dict[str, Any] = {"allow_local_urls": True, "remote_urls": False, "seed": 1}


def emulator_now(running: Running) -> datetime:
    return datetime.fromtimestamp(running.emulator.clock.now(), UTC)


def test_webhook_lifecycle(x: Any, hook_url: str) -> None:
    hook = x.create_webhook(hook_url)
    assert (hook.url, hook.valid) == (hook_url, True)
    assert hook.rate_limit is not None and hook.rate_limit.remaining == hook.rate_limit.limit - 1
    assert [h.id for h in x.list_webhooks().items] == [hook.id]
    assert x.validate_webhook(hook.id).valid is True
    assert x.delete_webhook(hook.id).deleted is True
    assert x.list_webhooks().items == ()


def test_create_webhook_reasons(x: Any, hook_url: str) -> None:
    with pytest.raises(UrlValidationFailed):
        x.create_webhook("https://example.com:8443/webhook")
    with pytest.raises(CrcValidationFailed):
        x.create_webhook(f"http://127.0.0.1:{free_port()}/webhook")
    x.create_webhook(hook_url)
    with pytest.raises(DuplicateUrlFailed):
        x.create_webhook(hook_url)
    x.create_webhook(hook_url + "/second")
    with pytest.raises(WebhookLimitExceeded):
        x.create_webhook(hook_url + "/third")


def test_unknown_webhook_id_is_webhook_id_invalid(x: Any) -> None:
    with pytest.raises(WebhookIdInvalid) as caught:
        x.delete_webhook("1234")
    assert caught.value.status_code == 400
    with pytest.raises(WebhookIdInvalid):
        x.validate_webhook("1234")


def test_replay_job_and_its_reasons(x: Any, hook_url: str, running: Running) -> None:
    hook = x.create_webhook(hook_url)
    now = emulator_now(running)
    job = x.create_replay_job(hook.id, now - timedelta(hours=2), now - timedelta(minutes=5))
    assert job.job_id
    with pytest.raises(ReplayConflictError):
        x.create_replay_job(hook.id, now - timedelta(hours=2), now - timedelta(minutes=5))
    with pytest.raises(QueryParamInvalid):
        x.create_replay_job(hook.id, now + timedelta(hours=1), now + timedelta(hours=2))


def test_aaa_subscription_lifecycle(x: Any, hook_url: str, running: Running) -> None:
    hook = x.create_webhook(hook_url)
    assert x.add_subscription(hook.id).subscribed is True
    assert x.check_subscription(hook.id).subscribed is True
    listed = x.list_subscriptions(hook.id)
    assert (listed.webhook_id, listed.user_ids) == (hook.id, (running.dev["id"],))
    assert x.count_subscriptions().subscriptions_count_all == "1"
    assert x.remove_subscription(hook.id, running.dev["id"]).subscribed is False
    assert x.check_subscription(hook.id).subscribed is False


def test_aaa_reasons(x: Any, hook_url: str, running: Running) -> None:
    hook = x.create_webhook(hook_url)
    x.add_subscription(hook.id)
    with pytest.raises(DuplicateSubscriptionFailed):
        x.add_subscription(hook.id)
    x.remove_subscription(hook.id, running.dev["id"])
    with pytest.raises(SubscriptionNotFound):
        x.remove_subscription(hook.id, running.dev["id"])


@pytest.mark.parametrize("config", [EmulatorConfig(**LOCAL, max_aaa_subscriptions=1)])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_aaa_subscription_limit(kind: str, hook_url: str, running: Running) -> None:
    dev = make_client(kind, running.url, credentials(running))
    friend = make_client(kind, running.url, credentials(running, running.friend))
    hook = dev.create_webhook(hook_url)
    dev.add_subscription(hook.id)
    with pytest.raises(SubscriptionLimitExceeded):
        friend.add_subscription(hook.id)
    dev.close()
    friend.close()


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_aaa_with_an_oauth2_user_token(kind: str, hook_url: str, running: Running) -> None:
    client = make_client(kind, running.url, credentials(running, running.friend, oauth2=True))
    hook = client.create_webhook(hook_url)
    assert client.add_subscription(hook.id).subscribed is True
    assert client.list_subscriptions(hook.id).user_ids == (running.friend["id"],)
    client.close()


def test_activity_subscription_lifecycle_and_pagination(x: Any, hook_url: str, running: Running) -> None:
    hook = x.create_webhook(hook_url)
    user = running.dev["id"]
    created = [
        x.create_activity_subscription(kind, ActivityFilter(user_id=user), tag="t", webhook_id=hook.id)
        for kind in ("post.create", "profile.update.bio", "follow.follow")
    ]
    assert created[0].event_type == "post.create" and created[0].filter.user_id == user
    listed = x.list_activity_subscriptions(max_results=2)
    assert [s.subscription_id for s in listed.items] == [s.subscription_id for s in created]
    assert (listed.total_subscriptions, listed.next_token) == (3, None)
    updated = x.update_activity_subscription(created[0].subscription_id, tag="renamed")
    assert (updated.tag, updated.webhook_id) == ("renamed", hook.id)
    deleted = x.delete_activity_subscription(created[0].subscription_id)
    assert (deleted.deleted, deleted.total_subscriptions) == (True, 2)
    many = x.delete_activity_subscriptions([created[1].subscription_id, "999"])
    assert many.deleted == (created[1].subscription_id,)
    assert [(f.subscription_id, f.reason) for f in many.failed] == [("999", "SubscriptionNotFound")]
    assert many.total_subscriptions == 1


def test_stream_links(x: Any, hook_url: str) -> None:
    hook = x.create_webhook(hook_url)
    assert x.create_stream_link(hook.id, {"expansions": "author_id"}).provisioned is True
    link = x.list_stream_links().items[0]
    assert (link.webhook_id, link.fields) == (hook.id, ("expansions=author_id",))
    assert x.delete_stream_link(hook.id).deleted is True
    assert x.list_stream_links().items == ()


def test_rules(x: Any) -> None:
    added = x.add_rules([("cat has:images", "cats"), ("dog", None)])
    assert [r.value for r in added.items] == ["cat has:images", "dog"]
    assert added.summary.created == 2
    assert {r.value: r.tag for r in x.list_rules().items} == {"cat has:images": "cats", "dog": None}
    assert x.delete_rules(ids=[added.items[0].id]).summary.deleted == 1
    assert x.delete_rules(values=["dog"]).summary.deleted == 1
    assert x.list_rules().items == ()


def test_send_dm(x: Any, running: Running) -> None:
    sent = x.send_dm(running.friend["id"], "hello from xhooks")
    assert sent.dm_event_id and running.friend["id"] in sent.dm_conversation_id


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(EmulatorConfig(**LOCAL, put_response="attempted"), id="put-attempted"),
        pytest.param(EmulatorConfig(**LOCAL, flat_bodies=True), id="flat-bodies"),
        pytest.param(EmulatorConfig(**LOCAL, stream_links_shape="links"), id="links-shape"),
        pytest.param(EmulatorConfig(**LOCAL, activity_create_shape="subscription"), id="subscription-shape"),
    ],
)
def test_every_emulator_drift_switch_reads_the_same(x: Any, hook_url: str, running: Running) -> None:
    hook = x.create_webhook(hook_url)
    assert hook.url == hook_url
    assert x.validate_webhook(hook.id).valid is True
    now = emulator_now(running)
    assert x.create_replay_job(hook.id, now - timedelta(hours=1), now - timedelta(minutes=5)).job_id
    x.create_stream_link(hook.id)
    assert [link.webhook_id for link in x.list_stream_links().items] == [hook.id]
    sub = x.create_activity_subscription("post.create", ActivityFilter(user_id=running.dev["id"]))
    assert x.update_activity_subscription(sub.subscription_id, tag="n").tag == "n"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_wrong_bearer_token_is_unauthorized(kind: str, running: Running) -> None:
    client = make_client(kind, running.url, Credentials(bearer_token="not-the-token"))
    with pytest.raises(Unauthorized):
        client.list_webhooks()
    client.close()


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_user_token_where_the_app_token_belongs_is_forbidden(kind: str, running: Running) -> None:
    # A common mistake: the OAuth 2.0 user token put in XHOOKS_BEARER_TOKEN. X answers 403 Unsupported Authentication.
    client = make_client(kind, running.url, Credentials(bearer_token=running.dev["oauth2_access_token"]))
    with pytest.raises(Forbidden) as caught:
        client.list_webhooks()
    assert caught.value.status_code == 403 and "Application-Only" in (caught.value.detail or "")
    client.close()


@pytest.mark.parametrize("config", [EmulatorConfig(**LOCAL, limits={"aaa.count": 1})])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_rate_limit_surfaces_after_bounded_retries(kind: str, running: Running) -> None:
    client = make_client(kind, running.url, credentials(running), policy=CallPolicy(max_retries=2, max_wait=1.0))
    assert client.count_subscriptions().rate_limit.remaining == 0
    with pytest.raises(RateLimited) as caught:
        client.count_subscriptions()
    assert caught.value.reset_at == int(running.emulator.clock.now()) + 900
    client.close()


@pytest.mark.parametrize("config", [EmulatorConfig(**LOCAL, limits={"aaa.count": 1})])
def test_rate_limit_waits_for_the_reset_and_retries(running: Running) -> None:
    # The client believes the reset is 0.5 s away; while it waits, the emulator's window is moved past the reset.
    def client_clock() -> float:
        return running.emulator.clock.now() + 900 - 0.5

    patient = CallPolicy(max_retries=100)  # waits again while the timer is late; 100 half-seconds: a hang guard
    with XClient(credentials(running), base_url=running.url, clock=client_clock, policy=patient) as client:
        client.count_subscriptions()
        timer = threading.Timer(0.1, running.advance, args=(901,))
        timer.start()
        result = client.count_subscriptions()
        timer.join()
    assert result.rate_limit is not None and result.rate_limit.remaining == 0


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_nothing_listening_is_a_transport_error(kind: str) -> None:
    client = make_client(kind, f"http://127.0.0.1:{free_port()}", Credentials(bearer_token="t"))
    with pytest.raises(TransportError):
        client.list_webhooks()
    client.close()


def test_async_client_is_an_async_context_manager(running: Running, hook_url: str) -> None:
    async def session() -> list[str]:
        async with AsyncXClient(credentials(running), base_url=running.url) as x:
            hook = await x.create_webhook(hook_url)
            return [h.id for h in (await x.list_webhooks()).items if h.id == hook.id]

    assert len(asyncio.run(session())) == 1
