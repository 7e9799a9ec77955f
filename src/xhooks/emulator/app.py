"""The emulator as one ASGI application: X's management API under `/2/`, the control API under `/_emulator/`.

```python
from xhooks.emulator import Emulator, EmulatorConfig

emulator = Emulator(EmulatorConfig(db="emulator.db", allow_local_urls=True))
print(emulator.credentials())          # the dev app's keys and the dev user's tokens
uvicorn.run(emulator, host="127.0.0.1", port=8090)
```

A request is matched against `ROUTES`, authenticated, checked against the kinds of credential the endpoint
accepts (X's OpenAPI `security`), counted against its rate limit, and handed to its handler. Every failure is
an `ApiError` rendered with X's body and status.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import re
import secrets
import string
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from xhooks._types import ASGIApp, Receive, Scope, Send
from xhooks.clock import Clock, SystemClock
from xhooks.emulator import activity_stream, control, dm, dm_events, stream, subscriptions, users, webhooks
from xhooks.emulator.auth import (
    ANY,
    APP_ONLY,
    APP_OR_OAUTH1,
    USER,
    Authenticator,
    Kind,
    Principal,
    require,
    require_scopes,
)
from xhooks.emulator.config import EmulatorConfig
from xhooks.emulator.crc import CrcClient, CrcResult, is_due, next_validity
from xhooks.emulator.delivery import Deliverer
from xhooks.emulator.errors import ApiError, method_not_allowed, not_found
from xhooks.emulator.ratelimit import RateLimiter
from xhooks.emulator.scheduler import Scheduler
from xhooks.emulator.state import App, State, User, Webhook
from xhooks.emulator.web import Request, Response, read_request, send_chunks

__all__ = ["ROUTES", "Emulator", "Route"]

Handler = Callable[["Emulator", Request, Principal], Awaitable[Response]]
ALNUM = string.ascii_letters + string.digits
USER_SCOPES = "tweet.read users.read dm.read dm.write like.read follows.read mute.read block.read offline.access"
"""What a new user's OAuth 2.0 token is granted: every scope the emulated endpoints check."""


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    accepts: frozenset[Kind]
    bucket: str
    """The rate-limit window the route counts against (config `limits` / `user_limits`)."""
    scopes: tuple[str, ...] = ()
    """What an OAuth 2.0 user token must hold (X's OpenAPI `security` for `OAuth2UserToken`)."""


def _route(
    method: str,
    template: str,
    handler: Handler,
    accepts: frozenset[Kind],
    bucket: str,
    scopes: tuple[str, ...] = (),
) -> Route:
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return Route(method, re.compile(f"^{pattern}$"), handler, accepts, bucket, scopes)


AAA = "/2/account_activity/webhooks/{webhook_id}/subscriptions"
USERS_READ = ("tweet.read", "users.read")
DM_READ = ("dm.read", "tweet.read", "users.read")
DM_WRITE = ("dm.read", "dm.write", "tweet.read", "users.read")
ROUTES = (
    _route("POST", "/2/webhooks", webhooks.create, APP_OR_OAUTH1, "webhooks.create"),
    _route("GET", "/2/webhooks", webhooks.listing, APP_ONLY, "webhooks.list"),
    _route("POST", "/2/webhooks/replay", webhooks.replay, APP_ONLY, "webhooks.replay"),
    _route("PUT", "/2/webhooks/{webhook_id}", webhooks.validate, APP_OR_OAUTH1, "webhooks.validate"),
    _route("DELETE", "/2/webhooks/{webhook_id}", webhooks.delete, APP_OR_OAUTH1, "webhooks.delete"),
    _route("POST", AAA + "/all", subscriptions.aaa_subscribe, USER, "aaa.subscribe"),
    _route("GET", AAA + "/all", subscriptions.aaa_check, USER, "aaa.check"),
    _route("GET", AAA + "/all/list", subscriptions.aaa_list, APP_ONLY, "aaa.list"),
    _route("DELETE", AAA + "/{user_id}/all", subscriptions.aaa_delete, APP_ONLY, "aaa.delete"),
    _route("GET", "/2/account_activity/subscriptions/count", subscriptions.aaa_count, APP_ONLY, "aaa.count"),
    _route("POST", "/2/activity/subscriptions", subscriptions.activity_create, ANY, "activity.create"),
    _route("GET", "/2/activity/subscriptions", subscriptions.activity_list, ANY, "activity.list"),
    _route("DELETE", "/2/activity/subscriptions", subscriptions.activity_delete_many, APP_ONLY, "activity.delete"),
    _route(
        "PUT", "/2/activity/subscriptions/{subscription_id}", subscriptions.activity_update, APP_ONLY, "activity.update"
    ),
    _route(
        "DELETE",
        "/2/activity/subscriptions/{subscription_id}",
        subscriptions.activity_delete,
        APP_ONLY,
        "activity.delete",
    ),
    _route("GET", "/2/activity/stream", activity_stream.stream, APP_ONLY, "activity.stream"),
    _route("GET", "/2/connections", activity_stream.connections, APP_ONLY, "connections.list"),
    _route("DELETE", "/2/connections", activity_stream.kill_by_uuids, APP_ONLY, "connections.delete"),
    _route("DELETE", "/2/connections/all", activity_stream.kill_all, APP_ONLY, "connections.delete_all"),
    _route("DELETE", "/2/connections/{endpoint_id}", activity_stream.kill_by_endpoint, APP_ONLY, "connections.delete"),
    _route("GET", "/2/tweets/search/webhooks", stream.links, APP_ONLY, "links.list"),
    _route("GET", "/2/tweets/search/stream/webhooks", stream.links, APP_ONLY, "links.list"),
    _route("POST", "/2/tweets/search/webhooks/{webhook_id}", stream.link, APP_ONLY, "links.create"),
    _route("DELETE", "/2/tweets/search/webhooks/{webhook_id}", stream.unlink, APP_ONLY, "links.delete"),
    _route("GET", "/2/tweets/search/stream/rules", stream.rules, APP_ONLY, "rules.list"),
    _route("POST", "/2/tweets/search/stream/rules", stream.update_rules, APP_ONLY, "rules.update"),
    _route("GET", "/2/tweets/search/stream/rules/counts", stream.rule_counts, APP_ONLY, "rules.counts"),
    _route("POST", "/2/dm_conversations/with/{participant_id}/messages", dm.send_message, USER, "dm.send", DM_WRITE),
    _route(
        "POST",
        "/2/dm_conversations/{dm_conversation_id}/messages",
        dm.send_to_conversation,
        USER,
        "dm.send_conversation",
        DM_WRITE,
    ),
    _route("POST", "/2/dm_conversations", dm.create_conversation, USER, "dm.create", DM_WRITE),
    _route(
        "GET", "/2/dm_conversations/with/{participant_id}/dm_events", dm_events.by_participant, USER, "dm.with", DM_READ
    ),
    _route("GET", "/2/dm_conversations/{id}/dm_events", dm_events.by_conversation, USER, "dm.conversation", DM_READ),
    _route("GET", "/2/dm_events", dm_events.listing, USER, "dm.events", DM_READ),
    _route("GET", "/2/dm_events/{event_id}", dm_events.by_id, USER, "dm.event", DM_READ),
    _route("DELETE", "/2/dm_events/{event_id}", dm_events.delete, USER, "dm.delete", DM_WRITE),
    _route("POST", "/2/users/{id}/dm/block", dm.block, USER, "dm.block", DM_WRITE),
    _route("POST", "/2/users/{id}/dm/unblock", dm.unblock, USER, "dm.unblock", DM_WRITE),
    _route("GET", "/2/users/me", users.me, USER, "users.me", USERS_READ),
    _route("GET", "/2/users/by/username/{username}", users.by_username, ANY, "users.by_username", USERS_READ),
    _route("GET", "/2/users/by", users.by_usernames, ANY, "users.by", USERS_READ),
    _route("GET", "/2/users/{id}", users.by_id, ANY, "users.by_id", USERS_READ),
    _route("GET", "/2/users", users.by_ids, ANY, "users.lookup", USERS_READ),
)


def _random(length: int) -> str:
    return "".join(secrets.choice(ALNUM) for _ in range(length))


class Emulator:
    """X's side of the wire for one or more apps, persisted in `config.db`."""

    def __init__(self, config: EmulatorConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.clock: Clock = clock or SystemClock()
        self.state = State(self.config.db)
        self.scheduler = Scheduler(self.clock)
        self.auth = Authenticator(self.state)
        on = self.config.rate_limits
        self.limiter = RateLimiter(self.clock, self.config.limits if on else {}, self.config.user_limits if on else {})
        self.http = httpx.AsyncClient(verify=True, trust_env=False)
        self.crc = CrcClient(self.http, self.config.crc_timeout, self.config.remote_urls)
        self.deliverer = Deliverer(self.state, self.scheduler, self.http, self.config)
        self.activity_streams = activity_stream.ActivityStreams(self.clock)
        self.replay_delay = 1.0
        """Seconds between accepting a replay job and starting it (X queues jobs)."""
        self._runner: asyncio.Task[None] | None = None
        self.crc_history: collections.deque[tuple[str, float, CrcResult, float]] = collections.deque(maxlen=500)
        """The last CRCs sent: (webhook_id, at, result, latency in ms), oldest first; kept in memory."""
        self._mounts: dict[str, ASGIApp] = {}
        self._ensure_identity()

    def mount(self, prefix: str, app: ASGIApp) -> None:
        """Serve `app` at `prefix` and below, next to the API (the dashboard's view of the emulator)."""
        self._mounts["/" + prefix.strip("/")] = app

    # identity -------------------------------------------------------------------------------------------

    def new_id(self) -> str:
        return self.state.new_id(self.clock.now())

    def _ensure_identity(self) -> None:
        """Create the dev app, dev user and a counterpart on first start; apply credentials fixed by config."""
        cfg = self.config
        apps = self.state.apps()
        if not apps:
            app = App(
                str(20_000_000 + secrets.randbelow(9_000_000)),
                "xhooks-emulator-app",
                cfg.consumer_key or _random(25),
                cfg.consumer_secret or _random(50),
                cfg.bearer_token or "AAAAAAAAAAAAAAAAAAAAA" + _random(80),
            )
            self.state.add_app(app, self.clock.now())
            self.add_user(
                "xhooks_dev",
                "xhooks Developer",
                cfg.access_token,
                cfg.access_token_secret,
                description="Building with the X API and xhooks",
                location="Boulder, CO",
                url="https://example.com/xhooks",
            )
            self.add_user("xhooks_friend", "xhooks Friend", location="Burlington, MA")
        else:
            app = apps[0]
            if cfg.consumer_key or cfg.consumer_secret or cfg.bearer_token:
                self.state.update_app_credentials(
                    app.id,
                    cfg.consumer_key or app.consumer_key,
                    cfg.consumer_secret or app.consumer_secret,
                    cfg.bearer_token or app.bearer_token,
                )
            dev = self.dev_user()
            if cfg.access_token or cfg.access_token_secret:
                self.state.update_user_tokens(
                    dev.id,
                    cfg.access_token or dev.access_token or "",
                    cfg.access_token_secret or dev.access_token_secret or "",
                    dev.oauth2_token or "",
                )

    def add_user(
        self,
        username: str | None = None,
        name: str | None = None,
        access_token: str | None = None,
        access_token_secret: str | None = None,
        *,
        description: str = "",
        location: str = "",
        url: str = "",
        scopes: str = USER_SCOPES,
    ) -> User:
        user_id = self.new_id()
        username = username or f"user_{user_id[-6:]}"
        user = User(
            user_id,
            username,
            name or username.replace("_", " ").title(),
            self.clock.now(),
            access_token or f"{user_id}-{_random(30)}",
            access_token_secret or _random(45),
            _random(60),
            scopes,
            description,
            location,
            url,
        )
        self.state.add_user(user, self.state.apps()[0].id if self.state.apps() else None)
        return user

    def dev_user(self) -> User:
        return self.state.users()[0]

    def dev_user_id(self) -> str:
        return self.dev_user().id

    def counterpart(self, user: User | None) -> User | None:
        """Someone other than `user` to follow, DM or mention."""
        return next((other for other in self.state.users() if user is None or other.id != user.id), None)

    @staticmethod
    def user_credentials(user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "access_token": user.access_token,
            "access_token_secret": user.access_token_secret,
            "oauth2_access_token": user.oauth2_token,
            "scopes": user.scopes,
        }

    def credentials(self) -> dict[str, Any]:
        return {
            "apps": [
                {
                    "id": app.id,
                    "name": app.name,
                    "consumer_key": app.consumer_key,
                    "consumer_secret": app.consumer_secret,
                    "bearer_token": app.bearer_token,
                }
                for app in self.state.apps()
            ],
            "users": [self.user_credentials(user) for user in self.state.users()],
        }

    # CRC --------------------------------------------------------------------------------------------------

    async def run_crc(self, webhook: Webhook) -> CrcResult:
        """Send a CRC to `webhook` now and apply X's verdict rules to it."""
        app = self.state.app(webhook.app_id)
        assert app is not None
        started = time.monotonic()
        result = await self.crc.check(webhook.url, app.consumer_secret)
        now = self.clock.now()
        self.crc_history.append((webhook.id, now, result, (time.monotonic() - started) * 1000))
        self.state.record_crc(webhook.id, now, next_validity(webhook, result, now), result.verdict.value == "valid")
        return result

    async def crc_sweep(self) -> None:
        """The scheduled check: every webhook that is due gets a CRC; then the next sweep is scheduled."""
        now = self.clock.now()
        for webhook in self.state.webhooks():
            if is_due(webhook, now, self.config.crc_cadence):
                await self.run_crc(webhook)
        self.scheduler.after(self._crc_interval, self.crc_sweep)

    @property
    def _crc_interval(self) -> float:
        return 3600.0 if self.config.crc_cadence == "hourly" else self.config.crc_interval

    # lifecycle --------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the scheduler loop and the CRC schedule (the ASGI lifespan does this)."""
        if self._runner is not None:
            return
        for job_id in self.state.interrupted_replays():
            self.state.finish_replay(job_id, "Incomplete")
        self.deliverer.resume()
        self.scheduler.after(self._crc_interval, self.crc_sweep)
        self._runner = asyncio.get_running_loop().create_task(self.scheduler.run())

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        await self.http.aclose()

    # ASGI -------------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if self._runner is None:
            await self.start()
        for prefix, mounted in self._mounts.items():
            if scope["path"] == prefix or scope["path"].startswith(prefix + "/"):
                await mounted(scope, receive, send)
                return
        try:
            request = await read_request(scope, receive)
            if request.path.startswith("/_emulator/"):
                response = await control.handle(self, request)
            else:
                response = await self.dispatch(request)
        except ApiError as error:
            response = Response(error.body, error.status, error.headers, "application/problem+json")
        if response.chunks is not None:
            await send_chunks(response, receive, send)
            return
        body = response.encode()
        headers = [(b"content-type", response.content_type.encode()), (b"content-length", str(len(body)).encode())]
        headers += [(name.encode(), value.encode()) for name, value in response.headers.items()]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def dispatch(self, request: Request) -> Response:
        """Answer `request` with the route its method and path select, or X's 405 / 404."""
        allowed: list[str] = []
        for route in ROUTES:
            match = route.pattern.match(request.path)
            if match is None:
                continue
            if route.method != request.method:
                allowed.append(route.method)
                continue
            request.params = match.groupdict()
            who = self.auth.authenticate(request)
            require(who, route.accepts)
            require_scopes(who, route.scopes, f"{route.method} {request.path}")
            limit_headers = self.limiter.take(who, route.bucket)
            try:
                response = await route.handler(self, request, who)
            except ApiError as error:  # a refused request is counted, and says so, like an answered one
                error.headers.update(limit_headers)
                raise
            response.headers.update(limit_headers)
            return response
        if allowed:
            raise method_not_allowed(sorted(set(allowed)))
        raise not_found(request.path)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return
