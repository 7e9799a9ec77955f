"""Every management endpoint, written once: a function that returns the `Call` for it.

Nothing here does I/O. The `shape` functions absorb X's documented drift (PLATFORM-NOTES §2.2, §2.3,
§2.5, §5.2, §5.5, §6.1, §7): bodies wrapped in `data` or flat, `valid` or `attempted`, a missing `data`
meaning empty, both stream-link list shapes, three X Activity subscription shapes, 204 for AAA
subscriptions, three replay job shapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from xhooks.client import models as m
from xhooks.client._call import Auth, Call
from xhooks.client.times import x_timestamp

__all__ = [
    "activity_stream",
    "add_rules",
    "add_subscription",
    "check_subscription",
    "count_subscriptions",
    "create_activity_subscription",
    "create_replay_job",
    "create_stream_link",
    "create_webhook",
    "delete_activity_subscription",
    "delete_activity_subscriptions",
    "delete_rules",
    "delete_stream_link",
    "delete_webhook",
    "kill_connections",
    "list_activity_subscriptions",
    "list_connections",
    "list_rules",
    "list_stream_links",
    "list_subscriptions",
    "list_webhooks",
    "remove_subscription",
    "send_dm",
    "update_activity_subscription",
    "validate_webhook",
]


def _seg(value: str) -> str:
    """A path segment, escaped so that an id can never change the path."""
    return quote(str(value), safe="")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _data(body: Any) -> Any:
    """`body["data"]` when X wrapped the answer, else the body itself (the flat shape of older specs)."""
    return body["data"] if isinstance(body, dict) and "data" in body else body


def _list(value: Any, key: str = "") -> list[Any]:
    """A list, or the list under `key` of an object; anything else (a missing `data`) is empty."""
    if isinstance(value, dict) and key:
        value = value.get(key)
    return value if isinstance(value, list) else []


def _meta(body: Any, name: str) -> Any:
    return _dict(_dict(body).get("meta")).get(name)


# Webhooks --------------------------------------------------------------------------------------------


def create_webhook(url: str) -> Call[m.Webhook]:
    """`POST /2/webhooks`: X runs a CRC against `url` before answering."""
    return Call("POST", "/2/webhooks", m.Webhook, _data, json={"url": url})


def list_webhooks() -> Call[m.Webhooks]:
    return Call("GET", "/2/webhooks", m.Webhooks, lambda body: {"items": _list(_data(body))})


def _validated(body: Any) -> dict[str, Any]:
    data = _dict(_data(body))
    return {"valid": data.get("valid", data.get("attempted"))}


def validate_webhook(webhook_id: str) -> Call[m.Validated]:
    """`PUT /2/webhooks/{id}`: X runs a CRC and re-enables the webhook if it passes."""
    return Call("PUT", f"/2/webhooks/{_seg(webhook_id)}", m.Validated, _validated)


def _deleted(body: Any) -> dict[str, Any]:
    return {**_dict(_data(body)), "total_subscriptions": _meta(body, "total_subscriptions")}


def delete_webhook(webhook_id: str) -> Call[m.Deleted]:
    return Call("DELETE", f"/2/webhooks/{_seg(webhook_id)}", m.Deleted, _deleted)


def _replay_job(body: Any) -> Any:
    return _dict(body).get("replay_event") or _data(body)


def create_replay_job(webhook_id: str, from_date: datetime | str, to_date: datetime | str) -> Call[m.ReplayJob]:
    """`POST /2/webhooks/replay`; datetimes are sent as X's UTC `yyyymmddhhmm`, strings as given."""
    body = {"webhook_id": webhook_id, "from_date": x_timestamp(from_date), "to_date": x_timestamp(to_date)}
    return Call("POST", "/2/webhooks/replay", m.ReplayJob, _replay_job, json=body)


# Account Activity subscriptions --------------------------------------------------------------------


def _subscribed(when_empty: bool) -> Any:
    """X's `subscribed`, or `when_empty` for the bodiless 204 the v1.1 endpoints answered."""
    return lambda body: {"subscribed": _dict(_data(body)).get("subscribed", when_empty)}


def _aaa_path(webhook_id: str) -> str:
    return f"/2/account_activity/webhooks/{_seg(webhook_id)}/subscriptions"


def add_subscription(webhook_id: str) -> Call[m.Subscribed]:
    """Subscribe the user whose user-context credentials sign the request."""
    return Call("POST", f"{_aaa_path(webhook_id)}/all", m.Subscribed, _subscribed(True), Auth.USER)


def check_subscription(webhook_id: str) -> Call[m.Subscribed]:
    """Whether the user whose credentials sign the request is subscribed."""
    return Call("GET", f"{_aaa_path(webhook_id)}/all", m.Subscribed, _subscribed(True), Auth.USER)


def _account_subscriptions(body: Any) -> dict[str, Any]:
    data = _dict(_data(body))
    users = [_dict(item).get("user_id") for item in _list(data, "subscriptions")]
    return {**{k: v for k, v in data.items() if k != "subscriptions"}, "user_ids": users}


def list_subscriptions(webhook_id: str) -> Call[m.AccountSubscriptions]:
    return Call("GET", f"{_aaa_path(webhook_id)}/all/list", m.AccountSubscriptions, _account_subscriptions)


def remove_subscription(webhook_id: str, user_id: str) -> Call[m.Subscribed]:
    path = f"{_aaa_path(webhook_id)}/{_seg(user_id)}/all"
    return Call("DELETE", path, m.Subscribed, _subscribed(False))


def count_subscriptions() -> Call[m.SubscriptionCount]:
    return Call("GET", "/2/account_activity/subscriptions/count", m.SubscriptionCount, _data)


def send_dm(participant_id: str, text: str) -> Call[m.DmSent]:
    """`POST /2/dm_conversations/with/{participant_id}/messages`, as the user whose credentials sign it."""
    path = f"/2/dm_conversations/with/{_seg(participant_id)}/messages"
    return Call("POST", path, m.DmSent, _data, Auth.USER, json={"text": text})


# X Activity API subscriptions ----------------------------------------------------------------------


def _activity_subscription(body: Any) -> Any:
    """The quickstart's `data{…}`, its `data[{…}]` array form, or the spec's `data.subscription{…}`."""
    data = _data(body)
    if isinstance(data, list):
        data = data[0] if data else {}
    data = _dict(data)
    return data.get("subscription", data)


def create_activity_subscription(
    event_type: str, filter: m.ActivityFilter, *, tag: str | None = None, webhook_id: str | None = None
) -> Call[m.ActivitySubscription]:
    body: dict[str, Any] = {"event_type": event_type, "filter": filter}
    body.update({k: v for k, v in (("tag", tag), ("webhook_id", webhook_id)) if v is not None})
    return Call(
        "POST", "/2/activity/subscriptions", m.ActivitySubscription, _activity_subscription, Auth.USER_OR_APP, json=body
    )


def _activity_page(body: Any) -> dict[str, Any]:
    return {
        "items": _list(_data(body)),
        "total_subscriptions": _meta(body, "total_subscriptions"),
        "next_token": _meta(body, "next_token"),
    }


def list_activity_subscriptions(
    pagination_token: str | None = None, max_results: int | None = None
) -> Call[m.ActivitySubscriptions]:
    params = _params(pagination_token=pagination_token, max_results=max_results)
    return Call("GET", "/2/activity/subscriptions", m.ActivitySubscriptions, _activity_page, params=params)


def update_activity_subscription(
    subscription_id: str, *, tag: str | None = None, webhook_id: str | None = None
) -> Call[m.ActivitySubscription]:
    """Only `tag` and `webhook_id` can change; X wants a delete and a create for anything else."""
    body = {k: v for k, v in (("tag", tag), ("webhook_id", webhook_id)) if v is not None}
    path = f"/2/activity/subscriptions/{_seg(subscription_id)}"
    return Call("PUT", path, m.ActivitySubscription, _activity_subscription, json=body)


def delete_activity_subscription(subscription_id: str) -> Call[m.Deleted]:
    return Call("DELETE", f"/2/activity/subscriptions/{_seg(subscription_id)}", m.Deleted, _deleted)


def _deleted_ids(body: Any) -> dict[str, Any]:
    done = [_dict(item) for item in _list(_data(body))]
    return {
        "deleted": [item.get("subscription_id") for item in done if item.get("deleted", True)],
        "failed": _list(_dict(body).get("errors")),
        "total_subscriptions": _meta(body, "total_subscriptions"),
    }


def delete_activity_subscriptions(ids: Iterable[str]) -> Call[m.DeletedIds]:
    """`DELETE /2/activity/subscriptions?ids=…` (up to 100 ids); per-id failures come back in `failed`."""
    params = {"ids": ",".join(ids)}
    return Call("DELETE", "/2/activity/subscriptions", m.DeletedIds, _deleted_ids, params=params)


# The X Activity stream and streaming connections ---------------------------------------------------

_CONNECTION_FIELDS = "id,endpoint_name,connected_at,disconnected_at,disconnect_reason,client_ip"


def activity_stream(backfill_minutes: int = 0) -> Call[m.Page]:
    """`GET /2/activity/stream`: a response that lasts, read line by line by `xhooks.stream`; only the request is
    built from this call, its body is never parsed as a whole."""
    params = {"backfill_minutes": str(backfill_minutes)} if backfill_minutes else {}
    return Call("GET", "/2/activity/stream", m.Page, _dict, params=params)


def list_connections(status: str = "active") -> Call[m.Connections]:
    """`GET /2/connections`: the app's streaming connections, `status` `active`, `inactive` or `all`."""
    params = {"status": status, "connection.fields": _CONNECTION_FIELDS}
    return Call("GET", "/2/connections", m.Connections, lambda body: {"items": _list(_data(body))}, params=params)


def kill_connections(uuids: Iterable[str]) -> Call[m.Kills]:
    """`DELETE /2/connections` with `{"uuids": [...]}` (1 to 100): end those streaming connections."""
    return Call("DELETE", "/2/connections", m.Kills, _data, json={"uuids": list(uuids)})


# Filtered Stream links and rules -------------------------------------------------------------------


def _links(body: Any) -> dict[str, Any]:
    """`{"data": {"links": […]}}` (quickstart) or `{"data": […]}` (spec 2.167), or nothing at all."""
    data = _data(body)
    return {"items": _list(data, "links") if isinstance(data, dict) else _list(data)}


def list_stream_links() -> Call[m.StreamLinks]:
    return Call("GET", "/2/tweets/search/webhooks", m.StreamLinks, _links)


def create_stream_link(webhook_id: str, fields: Mapping[str, str] | None = None) -> Call[m.Provisioned]:
    """Link the filtered stream to a webhook; `fields` are query parameters such as `{"expansions": "author_id"}`."""
    return Call(
        "POST", f"/2/tweets/search/webhooks/{_seg(webhook_id)}", m.Provisioned, _data, params=dict(fields or {})
    )


def delete_stream_link(webhook_id: str) -> Call[m.Deleted]:
    return Call("DELETE", f"/2/tweets/search/webhooks/{_seg(webhook_id)}", m.Deleted, _deleted)


def _rules_page(body: Any) -> dict[str, Any]:
    return {"items": _list(_data(body)), "next_token": _meta(body, "next_token")}


def list_rules(pagination_token: str | None = None, ids: Sequence[str] = ()) -> Call[m.Rules]:
    params = _params(pagination_token=pagination_token, ids=",".join(ids) or None)
    return Call("GET", "/2/tweets/search/stream/rules", m.Rules, _rules_page, params=params)


def _rules_changed(body: Any) -> dict[str, Any]:
    return {"items": _list(_data(body)), "summary": _dict(_meta(body, "summary"))}


def add_rules(rules: Iterable[tuple[str, str | None]], *, dry_run: bool = False) -> Call[m.RulesChanged]:
    """Add `(value, tag)` rules to the filtered stream."""
    add = [{"value": value, **({"tag": tag} if tag else {})} for value, tag in rules]
    params = _params(dry_run="true" if dry_run else None)
    return Call(
        "POST", "/2/tweets/search/stream/rules", m.RulesChanged, _rules_changed, params=params, json={"add": add}
    )


def delete_rules(ids: Sequence[str] = (), values: Sequence[str] = ()) -> Call[m.RulesChanged]:
    delete = {k: list(v) for k, v in (("ids", ids), ("values", values)) if v}
    return Call("POST", "/2/tweets/search/stream/rules", m.RulesChanged, _rules_changed, json={"delete": delete})


def _params(**values: str | int | None) -> dict[str, str]:
    return {name: str(value) for name, value in values.items() if value is not None}
