"""X's side as the emulator sees it: apps, users, webhooks and their CRC history, subscriptions, stream
links, every delivery attempt, and a button per event type. `xhooks emulator` mounts it at `/_xhooks/`.

It reads the emulator's state in process (it is part of the emulator's server) and never renders a
secret: consumer keys and tokens are masked, consumer secrets and user tokens are not shown at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from xhooks.config import mask
from xhooks.dashboard._http import Request, Response, redirect
from xhooks.dashboard._site import Site
from xhooks.dashboard.security import Guard
from xhooks.emulator import EVENT_TYPES, Emulator, trigger
from xhooks.emulator.errors import ApiError

__all__ = ["EmulatorView"]

DELIVERIES_SHOWN = 100


class EmulatorView(Site):
    """The emulator's pages, as an ASGI app to mount in the emulator.

    ```python
    emulator = Emulator(EmulatorConfig(allow_local_urls=True))
    emulator.mount("/_xhooks", EmulatorView(emulator))
    ```
    """

    title = "xhooks emulator"
    nav = (("/", "X's side"), ("/deliveries", "Deliveries"))

    def __init__(
        self,
        emulator: Emulator,
        prefix: str = "/_xhooks",
        host: str = "127.0.0.1",
        token: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(prefix, Guard(host, token), clock)
        self.emulator = emulator
        self.route("GET", "/", self.overview)
        self.route("GET", "/deliveries", self.deliveries)
        self.route("POST", "/trigger", self.trigger)

    async def overview(self, req: Request) -> Response:
        emu = self.emulator
        state = emu.state
        apps = state.apps()
        history: dict[str, list[tuple[float, Any, float]]] = {}
        for webhook_id, at, result, latency_ms in reversed(emu.crc_history):
            history.setdefault(webhook_id, []).append((at, result, latency_ms))
        webhooks = [
            {"hook": hook, "users": state.subscribers(hook.id), "crcs": history.get(hook.id, [])[:10]}
            for hook in state.webhooks()
        ]
        return self.render(
            req,
            "emulator.html",
            apps=[{"app": a, "consumer_key": mask(a.consumer_key), "bearer": mask(a.bearer_token)} for a in apps],
            users=state.users(),
            webhooks=webhooks,
            activities=state.activities(),
            links=[link for app in apps for link in state.links(app.id)],
            rules=[rule for app in apps for rule in state.rules(app.id)],
            groups=_groups(),
            now=emu.clock.now(),
        )

    async def deliveries(self, req: Request) -> Response:
        state = self.emulator.state
        webhook_id = req.arg("webhook_id")
        newest = state.db.execute("SELECT coalesce(max(id), 0) FROM deliveries").fetchone()[0]
        rows = state.deliveries(webhook_id, max(0, int(newest) - DELIVERIES_SHOWN))
        return self.render(req, "emulator_deliveries.html", rows=rows[::-1], webhooks=state.webhooks())

    async def trigger(self, req: Request) -> Response:
        event_type = req.arg("type") or ""
        try:
            result = trigger(self.emulator, event_type, req.arg("user_id"), req.arg("target_id"), req.arg("text"))
        except ApiError as exc:
            errors = exc.body.get("errors") or [{}]
            return redirect(self.url("/"), error=str(exc.body.get("detail") or errors[0].get("message") or exc))
        routed = result["routed"]
        if not routed:
            return redirect(
                self.url("/"),
                error=f"{event_type} happened, but no webhook is subscribed to it: subscribe a user or add a"
                " subscription, then trigger again",
            )
        webhooks = sorted({entry.get("webhook_id", "?") for entry in routed})
        return redirect(self.url("/deliveries"), ok=f"{event_type} sent to {', '.join(webhooks)}")


def _groups() -> list[tuple[str, list[str]]]:
    """EVENT_TYPES by family, for the trigger buttons."""
    families: dict[str, list[str]] = {"Account Activity": [], "X Activity API": [], "Filtered Stream": []}
    for name in EVENT_TYPES:
        if name.startswith("aaa."):
            families["Account Activity"].append(name)
        elif name.startswith("stream."):
            families["Filtered Stream"].append(name)
        else:
            families["X Activity API"].append(name)
    return list(families.items())
