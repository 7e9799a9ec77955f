"""`XClient` and `AsyncXClient`: thin drivers over the endpoint `Call`s and the flows of `_call`.

Each public method is one line that picks an endpoint; the only code that differs between the two
classes is how a step is performed (`httpx.Client.send` and `time.sleep`, or their async forms).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypedDict, TypeVar, Unpack

import httpx
import msgspec

from xhooks.client import endpoints as api
from xhooks.client._call import Call, CallPolicy, Done, Flow, Wait, advance, paginate, send
from xhooks.client.auth import Credentials, authorize
from xhooks.client.errors import map_transport_errors
from xhooks.client.models import (
    AccountSubscriptions,
    ActivityFilter,
    ActivitySubscription,
    ActivitySubscriptions,
    Connections,
    Deleted,
    DeletedIds,
    DmSent,
    Kills,
    Page,
    Provisioned,
    ReplayJob,
    Rules,
    RulesChanged,
    StreamLinks,
    Subscribed,
    SubscriptionCount,
    Validated,
    Webhook,
    Webhooks,
)

__all__ = ["DEFAULT_BASE_URL", "AsyncXClient", "BaseClient", "ClientOptions", "XClient"]

DEFAULT_BASE_URL = "https://api.x.com"
T = TypeVar("T", bound=msgspec.Struct)
P = TypeVar("P", bound=Page)
_encoder = msgspec.json.Encoder()


class ClientOptions(TypedDict, total=False):
    """The keyword options both clients take (see `BaseClient`)."""

    base_url: str
    timeout: float
    policy: CallPolicy | None
    clock: Callable[[], float]


class BaseClient:
    """Configuration and the pure part shared by both clients: building and signing requests, making flows.

    - `base_url`: X's API, or the emulator's address (`http://127.0.0.1:8090`).
    - `timeout`: seconds per request. `policy`: 429 back-off and pagination bounds (`CallPolicy`).
    - `clock`: epoch seconds now, compared with `x-rate-limit-reset` (injectable for tests).
    """

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        policy: CallPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials or Credentials()
        self.base_url = httpx.URL(base_url.rstrip("/"))
        self.timeout = timeout
        self.policy = policy or CallPolicy()
        self._clock = clock

    def build_request(self, call: Call[Any]) -> httpx.Request:
        """The signed `httpx.Request` for `call` (a new one each time: OAuth 1.0a nonces must not repeat)."""
        headers = {"User-Agent": "xhooks", "Accept": "application/json"}
        content = None
        if call.json is not None:
            headers["Content-Type"] = "application/json"
            content = _encoder.encode(call.json)
        url = self.base_url.copy_with(raw_path=(self.base_url.raw_path.rstrip(b"/") + call.path.encode("ascii")))
        request = httpx.Request(call.method, url, params=call.params or None, headers=headers, content=content)
        return authorize(request, call.auth, self.credentials)

    def _send(self, call: Call[T]) -> Flow[T]:
        return send(call, self.build_request, self.policy, self._clock)

    def _pages(self, page: Callable[[str | None], Call[P]]) -> Flow[P]:
        return paginate(page, self.build_request, self.policy, self._clock)


class XClient(BaseClient):
    """The X API v2 management client (webhooks, subscriptions, stream links and rules, replay), synchronous.

    ```python
    from xhooks.client import Credentials, XClient

    with XClient(Credentials(bearer_token="…"), base_url="http://127.0.0.1:8080") as x:
        hook = x.create_webhook("https://example.com/webhook")
        print(hook.id, hook.valid, hook.rate_limit)
    ```

    A 429 is retried after `x-rate-limit-reset` as `policy` allows; listings follow `next_token`.

    Raises (every method):
        XApiError: X refused; the subclass is named after X's reason (`CrcValidationFailed`, …) or the
            status (`Unauthorized`, `Forbidden`, `RateLimited`).
        TransportError: no HTTP answer. ConfigError: the credentials the endpoint needs are missing.
    """

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(credentials, **options)
        self._http = httpx.Client(transport=transport, timeout=self.timeout)

    def _run(self, flow: Flow[T]) -> T:
        step = advance(flow, None)
        while not isinstance(step, Done):
            step = advance(flow, self._do(step))
        return step.value

    def _do(self, step: httpx.Request | Wait) -> httpx.Response | None:
        if isinstance(step, Wait):
            time.sleep(step.seconds)
            return None
        with map_transport_errors():
            return self._http.send(step)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> XClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def create_webhook(self, url: str) -> Webhook:
        """Register `url`; X runs a CRC against it first (`CrcValidationFailed` if it does not pass)."""
        return self._run(self._send(api.create_webhook(url)))

    def list_webhooks(self) -> Webhooks:
        return self._run(self._send(api.list_webhooks()))

    def validate_webhook(self, webhook_id: str) -> Validated:
        """Ask X to run a CRC now and re-enable the webhook if it passes."""
        return self._run(self._send(api.validate_webhook(webhook_id)))

    def delete_webhook(self, webhook_id: str) -> Deleted:
        return self._run(self._send(api.delete_webhook(webhook_id)))

    def create_replay_job(self, webhook_id: str, from_date: datetime | str, to_date: datetime | str) -> ReplayJob:
        """Replay what was delivered to the webhook between the two times (UTC, inclusive, past 24 h)."""
        return self._run(self._send(api.create_replay_job(webhook_id, from_date, to_date)))

    def add_subscription(self, webhook_id: str) -> Subscribed:
        """Subscribe the user of the user-context credentials to Account Activity on the webhook."""
        return self._run(self._send(api.add_subscription(webhook_id)))

    def check_subscription(self, webhook_id: str) -> Subscribed:
        return self._run(self._send(api.check_subscription(webhook_id)))

    def list_subscriptions(self, webhook_id: str) -> AccountSubscriptions:
        return self._run(self._send(api.list_subscriptions(webhook_id)))

    def remove_subscription(self, webhook_id: str, user_id: str) -> Subscribed:
        return self._run(self._send(api.remove_subscription(webhook_id, user_id)))

    def count_subscriptions(self) -> SubscriptionCount:
        return self._run(self._send(api.count_subscriptions()))

    def send_dm(self, participant_id: str, text: str) -> DmSent:
        """Send a DM to `participant_id` as the user of the user-context credentials."""
        return self._run(self._send(api.send_dm(participant_id, text)))

    def create_activity_subscription(
        self, event_type: str, filter: ActivityFilter, *, tag: str | None = None, webhook_id: str | None = None
    ) -> ActivitySubscription:
        """Subscribe to X Activity events of `event_type` matching `filter`, delivered to `webhook_id`."""
        return self._run(
            self._send(api.create_activity_subscription(event_type, filter, tag=tag, webhook_id=webhook_id))
        )

    def list_activity_subscriptions(self, max_results: int | None = None) -> ActivitySubscriptions:
        """All X Activity subscriptions, following `next_token` up to `policy.max_pages` pages."""
        return self._run(self._pages(lambda token: api.list_activity_subscriptions(token, max_results)))

    def update_activity_subscription(
        self, subscription_id: str, *, tag: str | None = None, webhook_id: str | None = None
    ) -> ActivitySubscription:
        return self._run(self._send(api.update_activity_subscription(subscription_id, tag=tag, webhook_id=webhook_id)))

    def delete_activity_subscription(self, subscription_id: str) -> Deleted:
        return self._run(self._send(api.delete_activity_subscription(subscription_id)))

    def delete_activity_subscriptions(self, ids: Iterable[str]) -> DeletedIds:
        return self._run(self._send(api.delete_activity_subscriptions(ids)))

    def list_stream_links(self) -> StreamLinks:
        return self._run(self._send(api.list_stream_links()))

    def create_stream_link(self, webhook_id: str, fields: Mapping[str, str] | None = None) -> Provisioned:
        return self._run(self._send(api.create_stream_link(webhook_id, fields)))

    def delete_stream_link(self, webhook_id: str) -> Deleted:
        return self._run(self._send(api.delete_stream_link(webhook_id)))

    def list_rules(self, ids: Sequence[str] = ()) -> Rules:
        return self._run(self._pages(lambda token: api.list_rules(token, ids)))

    def add_rules(self, rules: Iterable[tuple[str, str | None]], *, dry_run: bool = False) -> RulesChanged:
        return self._run(self._send(api.add_rules(rules, dry_run=dry_run)))

    def delete_rules(self, ids: Sequence[str] = (), values: Sequence[str] = ()) -> RulesChanged:
        return self._run(self._send(api.delete_rules(ids, values)))


class AsyncXClient(BaseClient):
    """`XClient` for asyncio: the same methods, awaited; `aclose` and `async with`."""

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(credentials, **options)
        self._http = httpx.AsyncClient(transport=transport, timeout=self.timeout)

    async def _run(self, flow: Flow[T]) -> T:
        step = advance(flow, None)
        while not isinstance(step, Done):
            step = advance(flow, await self._do(step))
        return step.value

    async def _do(self, step: httpx.Request | Wait) -> httpx.Response | None:
        if isinstance(step, Wait):
            await asyncio.sleep(step.seconds)
            return None
        with map_transport_errors():
            return await self._http.send(step)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncXClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def create_webhook(self, url: str) -> Webhook:
        return await self._run(self._send(api.create_webhook(url)))

    async def list_webhooks(self) -> Webhooks:
        return await self._run(self._send(api.list_webhooks()))

    async def validate_webhook(self, webhook_id: str) -> Validated:
        return await self._run(self._send(api.validate_webhook(webhook_id)))

    async def delete_webhook(self, webhook_id: str) -> Deleted:
        return await self._run(self._send(api.delete_webhook(webhook_id)))

    async def create_replay_job(self, webhook_id: str, from_date: datetime | str, to_date: datetime | str) -> ReplayJob:
        return await self._run(self._send(api.create_replay_job(webhook_id, from_date, to_date)))

    async def add_subscription(self, webhook_id: str) -> Subscribed:
        return await self._run(self._send(api.add_subscription(webhook_id)))

    async def check_subscription(self, webhook_id: str) -> Subscribed:
        return await self._run(self._send(api.check_subscription(webhook_id)))

    async def list_subscriptions(self, webhook_id: str) -> AccountSubscriptions:
        return await self._run(self._send(api.list_subscriptions(webhook_id)))

    async def remove_subscription(self, webhook_id: str, user_id: str) -> Subscribed:
        return await self._run(self._send(api.remove_subscription(webhook_id, user_id)))

    async def count_subscriptions(self) -> SubscriptionCount:
        return await self._run(self._send(api.count_subscriptions()))

    async def send_dm(self, participant_id: str, text: str) -> DmSent:
        return await self._run(self._send(api.send_dm(participant_id, text)))

    async def create_activity_subscription(
        self, event_type: str, filter: ActivityFilter, *, tag: str | None = None, webhook_id: str | None = None
    ) -> ActivitySubscription:
        call = api.create_activity_subscription(event_type, filter, tag=tag, webhook_id=webhook_id)
        return await self._run(self._send(call))

    async def list_activity_subscriptions(self, max_results: int | None = None) -> ActivitySubscriptions:
        return await self._run(self._pages(lambda token: api.list_activity_subscriptions(token, max_results)))

    async def update_activity_subscription(
        self, subscription_id: str, *, tag: str | None = None, webhook_id: str | None = None
    ) -> ActivitySubscription:
        call = api.update_activity_subscription(subscription_id, tag=tag, webhook_id=webhook_id)
        return await self._run(self._send(call))

    async def delete_activity_subscription(self, subscription_id: str) -> Deleted:
        return await self._run(self._send(api.delete_activity_subscription(subscription_id)))

    async def delete_activity_subscriptions(self, ids: Iterable[str]) -> DeletedIds:
        return await self._run(self._send(api.delete_activity_subscriptions(ids)))

    async def list_connections(self, status: str = "active") -> Connections:
        return await self._run(self._send(api.list_connections(status)))

    async def kill_connections(self, uuids: Iterable[str]) -> Kills:
        return await self._run(self._send(api.kill_connections(uuids)))

    async def list_stream_links(self) -> StreamLinks:
        return await self._run(self._send(api.list_stream_links()))

    async def create_stream_link(self, webhook_id: str, fields: Mapping[str, str] | None = None) -> Provisioned:
        return await self._run(self._send(api.create_stream_link(webhook_id, fields)))

    async def delete_stream_link(self, webhook_id: str) -> Deleted:
        return await self._run(self._send(api.delete_stream_link(webhook_id)))

    async def list_rules(self, ids: Sequence[str] = ()) -> Rules:
        return await self._run(self._pages(lambda token: api.list_rules(token, ids)))

    async def add_rules(self, rules: Iterable[tuple[str, str | None]], *, dry_run: bool = False) -> RulesChanged:
        return await self._run(self._send(api.add_rules(rules, dry_run=dry_run)))

    async def delete_rules(self, ids: Sequence[str] = (), values: Sequence[str] = ()) -> RulesChanged:
        return await self._run(self._send(api.delete_rules(ids, values)))
