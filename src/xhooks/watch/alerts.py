"""Alerts: what the watcher says when something goes wrong, and again when it is right.

An alert has a name (`webhook_invalid:<id>`, `receiver_down`, `replay_failed:<id>`, `disk_low`, …) and fires
or resolves. Firing an alert that is already firing changes nothing (no repeated messages); resolving one that
is not firing does nothing. Each change is:

- a log line on the `xhooks.watch` logger: WARNING when it fires, INFO when it resolves;
- with `webhook_url`, a JSON POST `{"text", "alert", "state": "firing"|"resolved", "since", "at"}`: `text` is
  the field Slack incoming webhooks (and Mattermost, Rocket.Chat, …) display, the rest is for machines;
- `active` and a bounded `history`, which the dashboard shows; with a store, also a span `alert:<name>` from
  firing to resolution, so another process can show it: a span that starts and ends at the same moment is
  still firing (the dashboard reads it so).

Delivering an alert never raises: a failed POST is logged and the watcher goes on.
"""

from __future__ import annotations

import collections
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from xhooks.clock import Clock, iso_utc
from xhooks.errors import StoreError
from xhooks.store import Store

__all__ = ["Alert", "Alerts"]

logger = logging.getLogger("xhooks.watch")


@dataclass(frozen=True)
class Alert:
    name: str
    message: str
    since: float


@dataclass(frozen=True)
class AlertChange:
    """One entry of the history: an alert fired or resolved at `at`."""

    alert: Alert
    state: str
    at: float
    message: str


class Alerts:
    """Fire and resolve alerts: log lines, an optional outgoing alert webhook, and state for the dashboard.

    ```python
    alerts = Alerts(SystemClock(), webhook_url="https://hooks.slack.com/services/…")
    await alerts.fire("webhook_invalid:123", "X marked webhook 123 invalid")
    await alerts.resolve("webhook_invalid:123", "webhook 123 is valid again")
    ```
    """

    def __init__(
        self,
        clock: Clock,
        *,
        webhook_url: str | None = None,
        store: Store | None = None,
        timeout: float = 5.0,
        history: int = 200,
    ) -> None:
        self.clock = clock
        self.webhook_url = webhook_url
        self.store = store
        self.timeout = timeout
        self.active: dict[str, Alert] = {}
        self.history: collections.deque[AlertChange] = collections.deque(maxlen=history)
        self._http: httpx.AsyncClient | None = None

    async def fire(self, name: str, message: str) -> None:
        """Fire `name` unless it is already firing."""
        if name in self.active:
            return
        alert = self.active[name] = Alert(name, message, self.clock.now())
        logger.warning("alert %s: %s", name, message)
        await self._publish(AlertChange(alert, "firing", alert.since, message))

    async def resolve(self, name: str, message: str) -> None:
        """Resolve `name` if it is firing."""
        alert = self.active.pop(name, None)
        if alert is None:
            return
        logger.info("resolved %s: %s", name, message)
        await self._publish(AlertChange(alert, "resolved", self.clock.now(), message))

    def snapshot(self) -> dict[str, Any]:
        """What the dashboard shows: the alerts firing now and the latest changes, newest first."""
        return {
            "active": [
                {"alert": a.name, "message": a.message, "since": iso_utc(a.since)} for a in self.active.values()
            ],
            "history": [
                {"alert": c.alert.name, "state": c.state, "message": c.message, "at": iso_utc(c.at)}
                for c in reversed(self.history)
            ],
        }

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _publish(self, change: AlertChange) -> None:
        self.history.append(change)
        if self.store is not None:
            with contextlib.suppress(StoreError, RuntimeError):  # RuntimeError: the store is not started
                await self.store.mark(f"alert:{change.alert.name}", change.alert.since, change.at, 0.0)
        if self.webhook_url is None:
            return
        icon = ":rotating_light:" if change.state == "firing" else ":white_check_mark:"
        payload = {
            "text": f"{icon} xhooks {change.state}: {change.message}",
            "alert": change.alert.name,
            "state": change.state,
            "since": iso_utc(change.alert.since),
            "at": iso_utc(change.at),
        }
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.timeout, trust_env=False)
        try:
            response = await self._http.post(self.webhook_url, json=payload)
        except httpx.HTTPError as exc:
            logger.error("could not send alert %s to the alert webhook: %s", change.alert.name, exc)
            return
        if response.status_code >= 300:
            logger.error("the alert webhook answered %s to alert %s", response.status_code, change.alert.name)
