"""The control API, outside X's `/2/` namespace: `/_emulator/…`.

It is what `xhooks trigger` and tests use to make things happen on the emulated platform: produce events,
add users, read the delivery log, move a manual clock, and wait until due work is done.

| method | path | body / query | does |
|---|---|---|---|
| GET | `/_emulator/credentials` | | the apps and users with their keys and tokens |
| POST | `/_emulator/users` | `{"username"?, "name"?, "description"?, "location"?, "url"?, "scopes"?}` | a user |
| POST | `/_emulator/events` | `{"type", "user_id"?, "target_id"?, "text"?}` | produce one event, route it as X |
| GET | `/_emulator/event-types` | | every type `events` accepts |
| POST | `/_emulator/deliveries` | the body to deliver, as is; `?webhook_id=` | deliver it, signed, to every webhook |
| GET | `/_emulator/deliveries` | `?webhook_id=&since=` | the delivery log with every attempt |
| GET | `/_emulator/clock` | | the emulator's time and whether it is manual |
| POST | `/_emulator/clock/advance` | `{"seconds"}` | move a manual clock, running everything due on the way |
| POST | `/_emulator/settle` | | wait until every job due now has finished |
| … | `/_emulator/stream/…` | | break the X Activity stream on purpose (`activity_stream.py`) |
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xhooks.clock import ManualClock
from xhooks.emulator import activity_stream
from xhooks.emulator.errors import ApiError, malformed
from xhooks.emulator.events import AAA_TYPES, ALIASES, STREAM_TYPES, XAA_TYPES, Factory
from xhooks.emulator.routing import route_aaa, route_stream, route_xaa
from xhooks.emulator.web import Request, Response

if TYPE_CHECKING:
    from xhooks.emulator.app import Emulator

__all__ = [
    "EVENT_TYPES",
    "deliver",
    "deliver_remote",
    "event_factory",
    "handle",
    "known_type",
    "trigger",
    "trigger_remote",
]

EVENT_TYPES = (*AAA_TYPES, *XAA_TYPES, *STREAM_TYPES)


def known_type(event_type: str) -> str:
    """`event_type` in its canonical spelling. Raises `ApiError` (400) for a type the emulator cannot produce."""
    event_type = ALIASES.get(event_type, event_type)
    if event_type not in EVENT_TYPES:
        raise malformed(f"Unknown event type {event_type!r}; GET /_emulator/event-types lists them")
    return event_type


def event_factory(
    emu: Emulator, user_id: str | None = None, target_id: str | None = None, text: str | None = None
) -> Factory:
    """The builders of events by `user_id` (default: the dev user) towards `target_id` (default: someone else),
    with the emulator's ids and time. Raises `ApiError` (400) for a user the emulator does not know."""
    actor = emu.state.user(user_id) if user_id else emu.dev_user()
    target = emu.state.user(target_id) if target_id else emu.counterpart(actor)
    if actor is None or target is None:
        raise malformed("user_id and target_id must be ids of users the emulator knows")
    return Factory(emu.new_id, emu.clock.now(), actor, target, text, emu.state.apps()[0].id)


def trigger(
    emu: Emulator, event_type: str, user_id: str | None = None, target_id: str | None = None, text: str | None = None
) -> dict[str, Any]:
    """Produce one event of `event_type` by `user_id` (default: the dev user) towards `target_id` and route it."""
    event_type = known_type(event_type)
    factory = event_factory(emu, user_id, target_id, text)
    if event_type in AAA_TYPES:
        routed = route_aaa(factory.aaa(event_type), emu.state, emu.deliverer)
    elif event_type in STREAM_TYPES:
        routed = route_stream(factory.stream_post(), emu.state, emu.deliverer)
    else:
        event = factory.xaa(event_type)
        style = emu.config.event_uuid_style
        routed = route_xaa(event, emu.state, emu.deliverer, emu.new_id, style, emu.activity_streams.publish)
    return {"type": event_type, "user_id": factory.actor.id, "target_id": factory.target.id, "routed": routed}


def deliver(emu: Emulator, body: bytes, webhook_id: str | None = None) -> dict[str, Any]:
    """Deliver `body` as it is (a captured event, say), signed, to `webhook_id` or to every webhook of the dev
    app, with X's retries; no routing: whoever it names, each webhook gets it once."""
    if not body:
        raise malformed("the body to deliver is empty")
    webhooks = [hook for hook in emu.state.webhooks(emu.state.apps()[0].id) if webhook_id in (None, hook.id)]
    if webhook_id is not None and not webhooks:
        raise malformed(f"no webhook {webhook_id} in the emulator")
    return {"routed": [{"webhook_id": hook.id, "delivery_id": emu.deliverer.send(hook, body)} for hook in webhooks]}


async def handle(emu: Emulator, req: Request) -> Response:
    route = (req.method, req.path.removeprefix("/_emulator"))
    if route == ("GET", "/credentials"):
        return Response(emu.credentials())
    if route == ("POST", "/users"):
        body = req.json(required=False)
        profile = {name: body[name] for name in ("description", "location", "url", "scopes") if name in body}
        if not all(isinstance(value, str) for value in profile.values()):
            raise malformed("`description`, `location`, `url` and `scopes` must be strings")
        user = emu.add_user(body.get("username"), body.get("name"), **profile)
        return Response(emu.user_credentials(user), status=201)
    if route == ("POST", "/events"):
        body = req.json()
        event_type = body.get("type")
        if not isinstance(event_type, str):
            raise malformed("`type` is required")
        return Response(trigger(emu, event_type, body.get("user_id"), body.get("target_id"), body.get("text")))
    if route == ("GET", "/event-types"):
        return Response(
            {"account_activity": list(AAA_TYPES), "activity": list(XAA_TYPES), "stream": list(STREAM_TYPES)}
        )
    if route == ("POST", "/deliveries"):
        return Response(deliver(emu, req.body, req.arg("webhook_id")))
    if route == ("GET", "/deliveries"):
        since = req.arg("since") or "0"
        return Response({"data": emu.state.deliveries(req.arg("webhook_id"), int(since) if since.isdigit() else 0)})
    if route == ("GET", "/clock"):
        return Response({"now": emu.clock.now(), "manual": isinstance(emu.clock, ManualClock)})
    if route == ("POST", "/clock/advance"):
        seconds = req.json().get("seconds")
        if not isinstance(seconds, int | float) or seconds < 0:
            raise malformed("`seconds` must be a non-negative number")
        if not isinstance(emu.clock, ManualClock):
            raise ApiError(409, {"title": "Conflict", "detail": "Only a manual clock (--clock manual) can be advanced"})
        await emu.scheduler.advance(float(seconds))
        return Response({"now": emu.clock.now()})
    if route[1].startswith("/stream/"):
        return await activity_stream.control(emu, req, route)
    if route == ("POST", "/settle"):
        await emu.scheduler.settle()
        return Response({"now": emu.clock.now(), "pending": emu.scheduler.pending})
    raise ApiError(404, {"title": "Not Found", "detail": f"No control endpoint {req.method} {req.path}"})


def trigger_remote(
    base_url: str,
    event_type: str,
    user_id: str | None = None,
    target_id: str | None = None,
    text: str | None = None,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Ask a running emulator at `base_url` to produce an event (what `xhooks trigger` calls).

    Raises:
        ConfigError: the emulator is not reachable or refuses the event.
    """
    import httpx

    from xhooks.errors import ConfigError

    fields = {"type": event_type, "user_id": user_id, "target_id": target_id, "text": text}
    try:
        response = httpx.post(
            f"{base_url.rstrip('/')}/_emulator/events",
            json={k: v for k, v in fields.items() if v is not None},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise ConfigError(f"cannot reach the emulator at {base_url} ({exc}); start it with `xhooks emulator`") from None
    if response.status_code != 200:
        raise ConfigError(f"the emulator refused the event: {response.text}")
    result: dict[str, Any] = response.json()
    return result


def deliver_remote(base_url: str, body: bytes, webhook_id: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
    """Ask a running emulator at `base_url` to deliver `body` as it is (what `xhooks trigger --from-file` calls).

    Raises:
        ConfigError: the emulator is not reachable or refuses the body.
    """
    import httpx

    from xhooks.errors import ConfigError

    params = {"webhook_id": webhook_id} if webhook_id else {}
    try:
        response = httpx.post(
            f"{base_url.rstrip('/')}/_emulator/deliveries", content=body, params=params, timeout=timeout
        )
    except httpx.HTTPError as exc:
        raise ConfigError(f"cannot reach the emulator at {base_url} ({exc}); start it with `xhooks emulator`") from None
    if response.status_code != 200:
        raise ConfigError(f"the emulator refused the delivery: {response.text}")
    result: dict[str, Any] = response.json()
    return result
