"""Account Activity subscriptions (`/2/account_activity/…`) and X Activity API ones (`/2/activity/subscriptions`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xhooks.emulator.activity_rules import check_access, check_direction
from xhooks.emulator.auth import Principal
from xhooks.emulator.errors import Reason, invalid_request, malformed
from xhooks.emulator.state import ActivitySubscription
from xhooks.emulator.web import Request, Response
from xhooks.emulator.webhooks import owned_webhook
from xhooks.protocol import activity
from xhooks.protocol.activity import ALIASES

if TYPE_CHECKING:
    from xhooks.emulator.app import Emulator

__all__ = [
    "aaa_check",
    "aaa_count",
    "aaa_delete",
    "aaa_list",
    "aaa_subscribe",
    "activity_create",
    "activity_delete",
    "activity_delete_many",
    "activity_list",
    "activity_update",
]

SUBSCRIBABLE = (*activity.EVENT_TYPES, *ALIASES)
FILTER_KEYS = ("user_id", "keyword", "direction")


# Account Activity ----------------------------------------------------------------------------------------


def _subscriber(who: Principal) -> str:
    if who.user is None:
        raise malformed("This endpoint needs the user's context")
    return who.user.id


async def aaa_subscribe(emu: Emulator, req: Request, who: Principal) -> Response:
    webhook = owned_webhook(emu, who, req.params["webhook_id"])
    user_id = _subscriber(who)
    if emu.state.is_subscribed(webhook.id, user_id):
        raise invalid_request(
            Reason.DUPLICATE_SUBSCRIPTION_FAILED, f"User {user_id} is already subscribed to this webhook"
        )
    subscribed = {sub for hook in emu.state.webhooks(who.app.id) for sub in emu.state.subscribers(hook.id)}
    if user_id not in subscribed and len(subscribed) >= emu.config.max_aaa_subscriptions:
        raise invalid_request(
            Reason.SUBSCRIPTION_LIMIT_EXCEEDED,
            f"This application is limited to {emu.config.max_aaa_subscriptions} subscriptions",
        )
    emu.state.subscribe(webhook.id, user_id, emu.clock.now())
    return Response({"data": {"subscribed": True}})


async def aaa_check(emu: Emulator, req: Request, who: Principal) -> Response:
    webhook = owned_webhook(emu, who, req.params["webhook_id"])
    return Response({"data": {"subscribed": emu.state.is_subscribed(webhook.id, _subscriber(who))}})


async def aaa_list(emu: Emulator, req: Request, who: Principal) -> Response:
    webhook = owned_webhook(emu, who, req.params["webhook_id"])
    subscriptions = [{"user_id": user_id} for user_id in emu.state.subscribers(webhook.id)]
    return Response(
        {
            "data": {
                "application_id": who.app.id,
                "webhook_id": webhook.id,
                "webhook_url": webhook.url,
                "subscriptions": subscriptions,
            }
        }
    )


async def aaa_delete(emu: Emulator, req: Request, who: Principal) -> Response:
    webhook = owned_webhook(emu, who, req.params["webhook_id"])
    user_id = req.params["user_id"]
    if not emu.state.unsubscribe(webhook.id, user_id):
        raise invalid_request(Reason.SUBSCRIPTION_NOT_FOUND, f"User {user_id} is not subscribed to this webhook")
    return Response({"data": {"subscribed": False}})


async def aaa_count(emu: Emulator, req: Request, who: Principal) -> Response:
    return Response(
        {
            "data": {
                "account_name": who.app.name,
                "provisioned_count": str(emu.config.max_aaa_subscriptions),
                "subscriptions_count_all": str(emu.state.subscription_count(who.app.id)),
                "subscriptions_count_direct_messages": "0",
            }
        }
    )


# X Activity API ------------------------------------------------------------------------------------------


def _check_fields(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    extra = sorted(set(body) - set(allowed))
    if extra:
        raise malformed(f"The request body has unknown fields: {', '.join(extra)}")


def _tag(body: dict[str, Any]) -> str | None:
    tag = body.get("tag")
    if tag is not None and (not isinstance(tag, str) or not 1 <= len(tag) <= 200):
        raise malformed("`tag` must be a string of 1 to 200 characters")
    return tag


def _webhook_id(emu: Emulator, who: Principal, body: dict[str, Any]) -> str | None:
    webhook_id = body.get("webhook_id")
    if webhook_id is None:
        return None
    if not isinstance(webhook_id, str):
        raise malformed("`webhook_id` must be a string")
    return owned_webhook(emu, who, webhook_id).id


def _filter(raw: Any, event_type: str, who: Principal) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise malformed("`filter` is required and must be an object")
    _check_fields(raw, FILTER_KEYS)
    if not all(isinstance(value, str) for value in raw.values()):
        raise malformed("`filter` values must be strings")
    check_direction(event_type, raw.get("direction"))
    if event_type == "news.new" and not raw.get("keyword"):
        raise invalid_request(Reason.QUERY_PARAM_INVALID, "news.new subscriptions need filter.keyword")
    if event_type != "news.new" and not raw.get("user_id"):
        raise invalid_request(Reason.QUERY_PARAM_INVALID, f"{event_type} subscriptions need filter.user_id")
    check_access(who, event_type, raw.get("user_id"))
    return dict(raw)


def _shaped(emu: Emulator, sub: ActivitySubscription, total: int) -> dict[str, Any]:
    if emu.config.activity_create_shape == "subscription":
        return {"data": {"subscription": sub.json()}, "meta": {"total_subscriptions": total}}
    return {"data": sub.json(), "meta": {"total_subscriptions": total}}


async def activity_create(emu: Emulator, req: Request, who: Principal) -> Response:
    body = req.json()
    _check_fields(body, ("event_type", "filter", "tag", "webhook_id"))
    event_type = body.get("event_type")
    if event_type not in SUBSCRIBABLE:
        raise malformed("`event_type` is required and must be one of X Activity API's event types")
    event_type = ALIASES.get(event_type, event_type)
    flt = _filter(body.get("filter"), event_type, who)
    tag = _tag(body)
    webhook_id = _webhook_id(emu, who, body)
    existing = emu.state.activities(who.app.id)
    if any(sub.event_type == event_type and sub.filter == flt and sub.webhook_id == webhook_id for sub in existing):
        raise invalid_request(Reason.DUPLICATE_SUBSCRIPTION_FAILED, "An identical subscription already exists")
    if len(existing) >= emu.config.max_activity_subscriptions:
        raise invalid_request(
            Reason.SUBSCRIPTION_LIMIT_EXCEEDED,
            f"This application is limited to {emu.config.max_activity_subscriptions} subscriptions",
        )
    now = emu.clock.now()
    sub = ActivitySubscription(emu.new_id(), who.app.id, event_type, flt, tag, webhook_id, now, now)
    emu.state.add_activity(sub)
    return Response(_shaped(emu, sub, len(existing) + 1))


async def activity_list(emu: Emulator, req: Request, who: Principal) -> Response:
    subs = emu.state.activities(who.app.id)
    start, stop, next_token = req.page([sub.id for sub in subs], 100, 1000)
    page = subs[start:stop]
    meta: dict[str, Any] = {"total_subscriptions": len(subs), "result_count": len(page)}
    if next_token is not None:
        meta["next_token"] = next_token
    return Response({"data": [sub.json() for sub in page], "meta": meta})


def _owned_activity(emu: Emulator, who: Principal, sub_id: str) -> ActivitySubscription:
    sub = emu.state.activity(sub_id)
    if sub is None or sub.app_id != who.app.id:
        raise invalid_request(Reason.SUBSCRIPTION_NOT_FOUND, f"Subscription {sub_id} was not found")
    return sub


async def activity_update(emu: Emulator, req: Request, who: Principal) -> Response:
    sub = _owned_activity(emu, who, req.params["subscription_id"])
    body = req.json()
    _check_fields(body, ("tag", "webhook_id"))
    tag = _tag(body) if "tag" in body else sub.tag
    webhook_id = _webhook_id(emu, who, body) if "webhook_id" in body else sub.webhook_id
    emu.state.update_activity(sub.id, tag, webhook_id, emu.clock.now())
    updated = emu.state.activity(sub.id)
    assert updated is not None
    total = len(emu.state.activities(who.app.id))
    if emu.config.activity_create_shape == "subscription":
        return Response({"data": {"subscription": updated.json(), "total_subscriptions": total}})
    return Response({"data": updated.json(), "meta": {"total_subscriptions": total}})


async def activity_delete(emu: Emulator, req: Request, who: Principal) -> Response:
    sub = _owned_activity(emu, who, req.params["subscription_id"])
    emu.state.delete_activity(sub.id)
    return Response({"data": {"deleted": True}, "meta": {"total_subscriptions": len(emu.state.activities(who.app.id))}})


async def activity_delete_many(emu: Emulator, req: Request, who: Principal) -> Response:
    ids = [part for raw in req.query.get("ids", []) for part in raw.split(",") if part]
    if not 1 <= len(ids) <= 100:
        raise malformed("`ids` must list 1 to 100 subscription ids")
    data: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for sub_id in ids:
        sub = emu.state.activity(sub_id)
        if sub is None or sub.app_id != who.app.id:
            errors.append(
                {
                    "subscription_id": sub_id,
                    "reason": Reason.SUBSCRIPTION_NOT_FOUND.value,
                    "message": f"Subscription {sub_id} was not found",
                }
            )
        else:
            emu.state.delete_activity(sub_id)
            data.append({"subscription_id": sub_id, "deleted": True})
    body: dict[str, Any] = {"data": data, "meta": {"total_subscriptions": len(emu.state.activities(who.app.id))}}
    if errors:
        body["errors"] = errors
    return Response(body)
