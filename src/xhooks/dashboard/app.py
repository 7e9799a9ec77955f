"""The consumer's dashboard: overview, live tail, event search and detail, dead letters; the management
pages (webhooks, subscriptions, stream links, replay) are in `manage.py`.

Store reads are awaited: the engine runs them off the event loop (SQLite: its reader threads; PostgreSQL: its
pool), so the receiver that shares this loop never waits for a page.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from xhooks.client import AsyncXClient, CallPolicy
from xhooks.client.times import parse_time
from xhooks.dashboard import manage
from xhooks.dashboard._http import Request, Response, redirect
from xhooks.dashboard._site import Site
from xhooks.dashboard.config import DashboardConfig
from xhooks.dashboard.live import event_row, newest_id, tail
from xhooks.dashboard.security import Guard
from xhooks.errors import ClientError, ConfigError, StoreError
from xhooks.protocol.lifecycle import DeliveryState
from xhooks.store.base import EVENT_STATUSES, SINK_RATE_WINDOW, CrcRecord, EventQuery, Store, StoredEvent
from xhooks.store.pruner import Pruner

__all__ = ["Dashboard"]

PAGE_SIZE = 50
ALERTS_LOOK_BACK = 7 * 86400.0


class Dashboard(Site):
    """The dashboard as an ASGI app; `xhooks serve` mounts it at `config.prefix`.

    ```python
    store = open_store("xhooks.db")
    pruner = Pruner(store, RetentionPolicy())                      # the overview shows its next round
    dashboard = Dashboard(store, DashboardConfig(apps=(("/webhook", "/webhook"),)), pruner=pruner)
    app = Mount("/_xhooks", dashboard, Receiver(store, apps, services=[pruner]))  # its lifespan starts both
    ```
    """

    title = "xhooks"
    nav = (
        ("/", "Overview"),
        ("/live", "Live"),
        ("/events", "Events"),
        ("/dead", "Dead letters"),
        ("/webhooks", "Webhooks"),
        ("/replay", "Replay"),
    )

    def __init__(
        self,
        store: Store,
        config: DashboardConfig | None = None,
        clock: Callable[[], float] = time.time,
        pruner: Pruner | None = None,
    ) -> None:
        self.config = config or DashboardConfig()
        super().__init__(self.config.prefix, Guard(self.config.host, self.config.token), clock)
        self.store = store
        self.pruner = pruner
        """The background pruner of this process, whose next round the overview shows; None: none runs here."""
        self.route("GET", "/", self.overview)
        self.route("GET", "/live", self.live)
        self.route("GET", "/live/stream", self.live_stream)
        self.route("GET", "/events", self.events)
        self.route("GET", "/events/{event_id}", self.event)
        self.route("GET", "/dead", self.dead)
        self.route("POST", "/dead/redispatch", self.redispatch)
        manage.register(self)

    def client(self) -> AsyncXClient:
        """A client that never waits out a rate limit: a page shows X's 429 instead of hanging."""
        policy = CallPolicy(max_retries=0, max_pages=5)
        return AsyncXClient(self.config.credentials, base_url=self.config.api_base, timeout=10.0, policy=policy)

    @property
    def can_manage(self) -> bool:
        return bool(self.config.credentials.bearer_token)

    # -- overview ----------------------------------------------------------------------------------------

    async def overview(self, req: Request) -> Response:
        stats = await self.store.stats()
        last_crc: dict[str, CrcRecord] = {}
        for crc in await self.store.crcs(0.0, 500):
            last_crc.setdefault(crc.app, crc)
        by_path = {path: last_crc.get(name) for path, name in self.config.apps}
        webhooks: list[dict[str, Any]] = []
        x_error = ""
        if self.can_manage:
            try:
                async with self.client() as x:
                    listed = await x.list_webhooks()
            except ClientError as exc:
                x_error = str(exc)
            else:
                for hook in listed.items:
                    webhooks.append({"hook": hook, "crc": by_path.get(urlsplit(hook.url).path)})
        paths = list(by_path.items())
        ids = [entry["hook"].id for entry in webhooks]
        firing = await _watcher_alerts(self.store, ids, self.clock())
        return self.render(
            req,
            "overview.html",
            stats=stats,
            storage=await self.store.storage(),
            pruner=self.pruner,
            webhooks=webhooks,
            x_error=x_error,
            paths=paths,
            alerts=firing + _alerts(stats, webhooks),
            sinks=await self.store.sinks(self.clock() - SINK_RATE_WINDOW),
            rate_window=SINK_RATE_WINDOW,
            recent=await self.store.events(EventQuery(limit=10)),
            can_manage=self.can_manage,
        )

    # -- live tail ---------------------------------------------------------------------------------------

    async def live(self, req: Request) -> Response:
        recent = await self.store.events(EventQuery(limit=25))
        return self.render(req, "live.html", recent=[event_row(e) for e in recent], after=newest_id(recent))

    async def live_stream(self, req: Request) -> Response:
        resume = req.headers.get("last-event-id") or req.query.get("after", "")
        if resume.isdigit():
            last_id = int(resume)
        else:
            last_id = newest_id(await self.store.events(EventQuery(limit=1)))
        stream = tail(self.store, last_id, (self.closing, req.disconnected), max_seconds=self.config.stream_seconds)
        return Response(content_type="text/event-stream", headers=[("x-accel-buffering", "no")], stream=stream)

    # -- events ------------------------------------------------------------------------------------------

    def _query(self, req: Request, **fixed: Any) -> tuple[EventQuery, str]:
        """The `EventQuery` a search form describes, and what was wrong with it (empty when nothing was)."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        times: dict[str, float | None] = {"since": None, "until": None}
        problem = ""
        for name in times:
            text = req.arg(name)
            if text:
                try:
                    times[name] = parse_time(text, now).timestamp()
                except ConfigError as exc:
                    problem = str(exc)
        before = req.arg("before")
        status = fixed.get("status", req.arg("status"))
        query = EventQuery(
            app=req.arg("app"),
            event_type=req.arg("type"),
            for_user_id=req.arg("user"),
            status=status,
            since=times["since"],
            until=times["until"],
            limit=PAGE_SIZE,
            after_id=int(before) if before and before.isdigit() else None,
        )
        return query, problem

    async def events(self, req: Request) -> Response:
        query, problem = self._query(req)
        rows = await self.store.events(query)
        stats = await self.store.stats()
        return self.render(
            req,
            "events.html",
            rows=rows,
            problem=problem,
            types=sorted(stats.by_type),
            statuses=list(EVENT_STATUSES),
            more=len(rows) == PAGE_SIZE,
            total=stats.events,
        )

    async def event(self, req: Request) -> Response:
        event_id = req.params["event_id"]
        event: StoredEvent | None = await self.store.event(int(event_id)) if event_id.isdigit() else None
        if event is None:
            return self.render(req, "not_found.html", status=404)
        delivery = await self.store.delivery(event.delivery_id)
        sightings = await self.store.sightings(event.id)
        attempts = await self.store.attempts(event.id)
        body = delivery.body.decode("utf-8", "replace") if delivery else ""
        try:
            pretty = json.dumps(json.loads(body), indent=2, ensure_ascii=False) if body else ""
        except ValueError:
            pretty = ""
        return self.render(
            req,
            "event.html",
            event=event,
            delivery=delivery,
            body=body,
            pretty=pretty,
            sightings=sightings,
            attempts=attempts,
        )

    # -- dead letters ------------------------------------------------------------------------------------

    async def dead(self, req: Request) -> Response:
        query, problem = self._query(req, status=DeliveryState.DEAD.value)
        rows = await self.store.events(query)
        return self.render(req, "dead.html", rows=rows, problem=problem, more=len(rows) == PAGE_SIZE)

    async def redispatch(self, req: Request) -> Response:
        """Make one dead event (`event_id`) or every dead event matching the filters due again."""
        back = self.url("/dead")
        event_id = req.arg("event_id")
        if event_id is not None:
            if not event_id.isdigit():
                return redirect(back, error=f"{event_id!r} is not an event id")
            query = EventQuery(event_id=int(event_id), status=DeliveryState.DEAD.value)
        else:
            query, problem = self._query(req, status=DeliveryState.DEAD.value)
            if problem:
                return redirect(back, error=problem)
        try:
            count = await self.store.redispatch(query, self.clock())
        except StoreError as exc:
            return redirect(back, error=str(exc))
        if event_id is not None and count == 0:
            return redirect(back, error=f"event {event_id} is not a dead letter (any more)")
        return redirect(back, ok=f"{count} event{'s' if count != 1 else ''} re-dispatched: pending again")


async def _watcher_alerts(store: Store, webhook_ids: list[str], now: float) -> list[tuple[str, str, str]]:
    """The watcher's alerts still firing, read from the spans it keeps in the store (`alert:<name>`: a span
    that starts and ends at the same moment has fired and not been resolved)."""
    names = [("receiver_down", "/replay"), ("disk_low", "/")]
    for webhook_id in webhook_ids:
        names += [(f"webhook_invalid:{webhook_id}", "/webhooks"), (f"replay_failed:{webhook_id}", "/replay")]
    firing = []
    for name, link in names:
        spans = await store.spans(f"alert:{name}", now - ALERTS_LOOK_BACK)
        if spans and spans[-1].start == spans[-1].end:
            since = datetime.fromtimestamp(spans[-1].start, UTC).strftime("%Y-%m-%d %H:%M UTC")
            firing.append(("bad", f"Watcher alert {name}, firing since {since}.", link))
    return firing


def _alerts(stats: Any, webhooks: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Open problems worth a look, as (severity, message, link): derived from the store and X's answers."""
    alerts = []
    for entry in webhooks:
        hook = entry["hook"]
        if not hook.valid:
            alerts.append(
                ("bad", f"Webhook {hook.id} is invalid: X has stopped delivering to it. Validate it.", "/webhooks")
            )
    dead = stats.by_status.get(DeliveryState.DEAD.value, 0)
    if dead:
        alerts.append(("bad", f"{dead} event{'s' if dead != 1 else ''} dead-lettered: handlers gave up.", "/dead"))
    refused = sum(stats.rejections.values())
    if refused:
        alerts.append(
            (
                "warn",
                f"{refused} request{'s' if refused != 1 else ''} refused (signature or CRC token):"
                " check the consumer secret, or someone is probing the endpoint.",
                "/",
            )
        )
    if stats.unparsed:
        alerts.append(("warn", f"{stats.unparsed} deliveries stored but not parsed as a known event shape.", "/events"))
    return alerts
