"""Typed results of the management API: frozen msgspec Structs, one per kind of answer.

Every top-level result carries `rate_limit`, read from X's `x-rate-limit-*` headers (None when the
response had none). Identifiers stay strings, as X sends them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from xhooks.protocol.events.activity import ActivityFilter

__all__ = [
    "AccountSubscriptions",
    "ActivityFilter",
    "ActivitySubscription",
    "ActivitySubscriptions",
    "DeleteFailure",
    "Deleted",
    "DeletedIds",
    "DmSent",
    "Page",
    "Provisioned",
    "RateLimit",
    "ReplayJob",
    "Rule",
    "RuleSummary",
    "Rules",
    "RulesChanged",
    "StreamLink",
    "StreamLinks",
    "SubscriptionCount",
    "Subscribed",
    "Validated",
    "Webhook",
    "Webhooks",
]


class RateLimit(msgspec.Struct, frozen=True):
    """X's `x-rate-limit-limit`, `-remaining` and `-reset` (epoch seconds) for the endpoint just called."""

    limit: int | None = None
    remaining: int | None = None
    reset: int | None = None


class _Result(msgspec.Struct, frozen=True, kw_only=True):
    rate_limit: RateLimit | None = None


class Page(_Result, frozen=True, kw_only=True):
    """One or more pages of a listing; `next_token` is set when X has more than was fetched."""

    items: tuple[Any, ...] = ()
    next_token: str | None = None


class Webhook(_Result, frozen=True, kw_only=True):
    id: str
    url: str
    valid: bool
    created_at: str | None = None


class Webhooks(_Result, frozen=True, kw_only=True):
    items: tuple[Webhook, ...] = ()


class Validated(_Result, frozen=True, kw_only=True):
    """Answer to `PUT /2/webhooks/{id}`: X's `valid`, or `attempted` in the older shape. The CRC ran."""

    valid: bool


class Deleted(_Result, frozen=True, kw_only=True):
    deleted: bool
    total_subscriptions: int | None = None


class ReplayJob(_Result, frozen=True, kw_only=True):
    job_id: str
    created_at: str | None = None


class Subscribed(_Result, frozen=True, kw_only=True):
    """Whether the user is subscribed after the call (add, check, remove)."""

    subscribed: bool


class AccountSubscriptions(_Result, frozen=True, kw_only=True):
    webhook_id: str | None = None
    webhook_url: str | None = None
    application_id: str | None = None
    user_ids: tuple[str, ...] = ()


class SubscriptionCount(_Result, frozen=True, kw_only=True):
    """`GET /2/account_activity/subscriptions/count`; the counts are strings, as X sends them."""

    account_name: str | None = None
    provisioned_count: str | None = None
    subscriptions_count_all: str | None = None
    subscriptions_count_direct_messages: str | None = None


class ActivitySubscription(_Result, frozen=True, kw_only=True):
    subscription_id: str
    event_type: str
    filter: ActivityFilter = ActivityFilter()
    tag: str | None = None
    webhook_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class ActivitySubscriptions(Page, frozen=True, kw_only=True):
    items: tuple[ActivitySubscription, ...] = ()
    total_subscriptions: int | None = None


class DeleteFailure(msgspec.Struct, frozen=True):
    subscription_id: str | None = None
    reason: str | None = None
    message: str | None = None


class DeletedIds(_Result, frozen=True, kw_only=True):
    deleted: tuple[str, ...] = ()
    failed: tuple[DeleteFailure, ...] = ()
    total_subscriptions: int | None = None


class StreamLink(msgspec.Struct, frozen=True):
    webhook_id: str
    application_id: str | None = None
    business_user_id: str | None = None
    instance_id: str | None = None
    created_at: str | None = None
    fields: tuple[str, ...] = ()


class StreamLinks(_Result, frozen=True, kw_only=True):
    items: tuple[StreamLink, ...] = ()


class Provisioned(_Result, frozen=True, kw_only=True):
    provisioned: bool


class Rule(msgspec.Struct, frozen=True):
    id: str
    value: str
    tag: str | None = None


class Rules(Page, frozen=True, kw_only=True):
    items: tuple[Rule, ...] = ()


class RuleSummary(msgspec.Struct, frozen=True):
    created: int = 0
    not_created: int = 0
    valid: int = 0
    invalid: int = 0
    deleted: int = 0
    not_deleted: int = 0


class RulesChanged(_Result, frozen=True, kw_only=True):
    """Answer to `POST /2/tweets/search/stream/rules`: the rules created (for an add) and X's summary."""

    items: tuple[Rule, ...] = ()
    summary: RuleSummary = RuleSummary()


class Connection(msgspec.Struct, frozen=True):
    """One streaming connection of the app, as `GET /2/connections` lists it."""

    id: str
    endpoint_name: str | None = None
    connected_at: str | None = None
    disconnected_at: str | None = None
    disconnect_reason: str | None = None
    client_ip: str | None = None


class Connections(_Result, frozen=True, kw_only=True):
    items: tuple[Connection, ...] = ()


class KillResult(msgspec.Struct, frozen=True):
    uuid: str
    success: bool
    error_message: str | None = None


class Kills(_Result, frozen=True, kw_only=True):
    """Answer to `DELETE /2/connections`: how many connections ended, and the result for each id."""

    successful_kills: int = 0
    failed_kills: int = 0
    results: tuple[KillResult, ...] = ()


class DmSent(_Result, frozen=True, kw_only=True):
    dm_conversation_id: str
    dm_event_id: str
