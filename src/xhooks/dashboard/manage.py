"""The management pages: webhooks (list, create, validate, delete), Account Activity subscriptions, X
Activity subscriptions, Filtered Stream links, and replay jobs, all through `AsyncXClient`.

Each action is a form POST answered with a redirect carrying a one-line result (`ok=` or `error=`), so a
reload never repeats an action. X's refusals arrive as the client's errors and are shown as they are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from xhooks.client import AsyncXClient
from xhooks.client.times import check_replay_window, parse_time
from xhooks.dashboard._http import Request, Response, redirect
from xhooks.errors import ClientError, ConfigError
from xhooks.protocol.replay import REPLAY_WINDOW
from xhooks.store.erasure import UNSUBSCRIBED
from xhooks.watch import missed_windows

if TYPE_CHECKING:
    from xhooks.dashboard.app import Dashboard

__all__ = ["register"]

Action = Callable[["Dashboard", AsyncXClient, Request], Awaitable[str]]
"""A form POST: the dashboard (its store, clock and settings), a client of X, the request; returns the result line."""


def register(dash: Dashboard) -> None:
    dash.route("GET", "/webhooks", lambda req: webhooks_page(dash, req))
    dash.route("GET", "/replay", lambda req: replay_page(dash, req))
    for path, action in ACTIONS.items():
        dash.route("POST", path, _runner(dash, action))


def _runner(dash: Dashboard, action: Action) -> Callable[[Request], Awaitable[Response]]:
    async def run(req: Request) -> Response:
        back = dash.url("/replay" if req.path == "/replay" else "/webhooks")
        if not dash.can_manage:
            return redirect(back, error="no bearer token: set XHOOKS_BEARER_TOKEN (and XHOOKS_API_BASE) first")
        try:
            async with dash.client() as x:
                message = await action(dash, x, req)
        except (ClientError, ConfigError) as exc:
            return redirect(back, error=str(exc))
        return redirect(back, ok=message)

    return run


async def _gather(x: AsyncXClient) -> dict[str, Any]:
    """Everything the webhooks page lists; a listing X refuses becomes a note instead of failing the page."""
    found: dict[str, Any] = {"webhooks": [], "subscriptions": {}, "activity": [], "links": [], "notes": []}
    found["webhooks"] = list((await x.list_webhooks()).items)
    for hook in found["webhooks"]:
        try:
            found["subscriptions"][hook.id] = list((await x.list_subscriptions(hook.id)).user_ids)
        except ClientError as exc:
            found["notes"].append(f"Account Activity subscriptions of {hook.id}: {exc}")
    for key, listing in (("activity", x.list_activity_subscriptions), ("links", x.list_stream_links)):
        try:
            found[key] = list((await listing()).items)
        except ClientError as exc:
            found["notes"].append(f"{'X Activity subscriptions' if key == 'activity' else 'Stream links'}: {exc}")
    return found


async def webhooks_page(dash: Dashboard, req: Request) -> Response:
    found: dict[str, Any] = {}
    x_error = ""
    if dash.can_manage:
        try:
            async with dash.client() as x:
                found = await _gather(x)
        except ClientError as exc:
            x_error = str(exc)
    return dash.render(
        req,
        "webhooks.html",
        can_manage=dash.can_manage,
        api_base=dash.config.api_base,
        x_error=x_error,
        has_user=dash.config.credentials.has_oauth1 or bool(dash.config.credentials.user_token),
        **{"webhooks": [], "subscriptions": {}, "activity": [], "links": [], "notes": [], **found},
    )


async def _recovery(dash: Dashboard, webhook_ids: list[str], since: float) -> list[dict[str, Any]]:
    """The windows of the past 24 hours whose events may be missing (receiver down, deliveries refused), as
    the watcher computes them, and whether a replay has recovered each one for every webhook."""
    store = dash.store
    windows = missed_windows(await store.spans("up", since), await store.spans("rejected", since), margin=60.0)
    recovered = [span for hook in webhook_ids for span in await store.spans(f"recovered:{hook}", since)]
    return [
        {
            "window": window,
            "recovered": any(span.start <= window.start and window.end <= span.end for span in recovered),
            "from_date": _minute(max(window.start, since)),
            "to_date": _minute(window.end),
        }
        for window in windows
    ]


def _minute(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%MZ")


async def replay_page(dash: Dashboard, req: Request) -> Response:
    webhooks: list[Any] = []
    x_error = ""
    if dash.can_manage:
        try:
            async with dash.client() as x:
                webhooks = list((await x.list_webhooks()).items)
        except ClientError as exc:
            x_error = str(exc)
    earliest = dash.clock() - REPLAY_WINDOW
    return dash.render(
        req,
        "replay.html",
        can_manage=dash.can_manage,
        webhooks=webhooks,
        x_error=x_error,
        earliest=earliest,
        windows=await _recovery(dash, [hook.id for hook in webhooks], earliest),
    )


def _field(req: Request, name: str) -> str:
    value = req.arg(name)
    if value is None:
        raise ConfigError(f"{name.replace('_', ' ')} is required")
    return value


async def _create(dash: Dashboard, x: AsyncXClient, req: Request) -> str:
    hook = await x.create_webhook(_field(req, "url"))
    return f"webhook {hook.id} created for {hook.url} (the CRC passed)"


async def _validate(dash: Dashboard, x: AsyncXClient, req: Request) -> str:
    webhook_id = req.params["webhook_id"]
    result = await x.validate_webhook(webhook_id)
    return f"webhook {webhook_id} {'is valid' if result.valid else 'failed the CRC: still invalid'}"


async def _delete(dash: Dashboard, x: AsyncXClient, req: Request) -> str:
    webhook_id = req.params["webhook_id"]
    await x.delete_webhook(webhook_id)
    return f"webhook {webhook_id} deleted"


async def _subscribe(dash: Dashboard, x: AsyncXClient, req: Request) -> str:
    webhook_id = req.params["webhook_id"]
    await x.add_subscription(webhook_id)
    return f"the configured user is subscribed to {webhook_id}"


async def _unsubscribe(dash: Dashboard, x: AsyncXClient, req: Request) -> str:
    """Unsubscribe the user, then erase what the store holds of them (`erase_on_unsubscribe`, on by default)."""
    webhook_id, user_id = req.params["webhook_id"], req.params["user_id"]
    await x.remove_subscription(webhook_id, user_id)
    if not dash.config.erase_on_unsubscribe:
        return f"user {user_id} unsubscribed from {webhook_id}"
    record = await dash.store.erase(user_id, UNSUBSCRIBED, dash.clock())
    return (
        f"user {user_id} unsubscribed from {webhook_id}; {record.deliveries} stored bodies of theirs erased"
        f" ({record.events} events kept as tombstones)"
    )


async def _delete_activity(dash: Dashboard, x: AsyncXClient, req: Request) -> str:
    subscription_id = req.params["subscription_id"]
    await x.delete_activity_subscription(subscription_id)
    return f"X Activity subscription {subscription_id} deleted"


async def _link(dash: Dashboard, x: AsyncXClient, req: Request) -> str:
    webhook_id = req.params["webhook_id"]
    await x.create_stream_link(webhook_id)
    return f"Filtered Stream now delivers to {webhook_id}"


async def _unlink(dash: Dashboard, x: AsyncXClient, req: Request) -> str:
    webhook_id = req.params["webhook_id"]
    await x.delete_stream_link(webhook_id)
    return f"Filtered Stream no longer delivers to {webhook_id}"


async def _replay(dash: Dashboard, x: AsyncXClient, req: Request) -> str:
    now = datetime.now(UTC)
    from_date = parse_time(_field(req, "from_date"), now)
    to_date = parse_time(_field(req, "to_date"), now)
    check_replay_window(from_date, to_date, now)
    job = await x.create_replay_job(_field(req, "webhook_id"), from_date, to_date)
    return (
        f"replay job {job.job_id} accepted: X re-sends what it delivered to the webhook between"
        f" {from_date:%Y-%m-%d %H:%M} and {to_date:%Y-%m-%d %H:%M} UTC; duplicates are recognised on arrival"
    )


ACTIONS: dict[str, Action] = {
    "/webhooks": _create,
    "/webhooks/{webhook_id}/validate": _validate,
    "/webhooks/{webhook_id}/delete": _delete,
    "/webhooks/{webhook_id}/subscriptions": _subscribe,
    "/webhooks/{webhook_id}/subscriptions/{user_id}/delete": _unsubscribe,
    "/activity/{subscription_id}/delete": _delete_activity,
    "/links/{webhook_id}": _link,
    "/links/{webhook_id}/delete": _unlink,
    "/replay": _replay,
}
