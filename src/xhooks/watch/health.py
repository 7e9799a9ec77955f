"""Webhook health: notice that X marked a webhook invalid, and re-validate it, with backoff, until it is valid.

X marks a webhook invalid when a CRC fails outright (a wrong `response_token`, a redirect) or after 28 hours
of transient failures, and then delivers nothing, and tells no one: "it just stopped after a few hours".
`HealthWatcher.check` reads `GET /2/webhooks`; when a watched webhook is invalid it asks X to run a CRC now
(`PUT /2/webhooks/{id}`), and fires an alert if that fails. While it fails (the receiver is still wrong) it backs off,
`backoff` seconds doubling up to `max_backoff`, so a long outage costs a few calls an hour, far from the
rate limit (450 per 15 minutes). The first PUT that passes brings deliveries back and resolves the alert.
Every attempt is recorded in `outcomes` (and logged); `statuses` is what the dashboard shows.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from xhooks.client import AsyncXClient
from xhooks.clock import Clock
from xhooks.errors import ClientError
from xhooks.metrics import Metrics
from xhooks.watch.alerts import Alerts

__all__ = ["HealthWatcher", "Outcome", "WebhookStatus"]

logger = logging.getLogger("xhooks.watch")


@dataclass
class WebhookStatus:
    """What the watcher knows of one webhook."""

    webhook_id: str
    url: str
    valid: bool
    checked_at: float
    invalid_since: float | None = None
    failed_attempts: int = 0
    """Re-validations that failed since it turned invalid."""
    next_attempt_at: float = 0.0


@dataclass(frozen=True)
class Outcome:
    """One re-validation: when, of which webhook, and what X said (`valid`, or the error)."""

    at: float
    webhook_id: str
    result: str


class HealthWatcher:
    """Poll X for the webhooks' validity and re-validate invalid ones.

    `webhook_ids` limits the watch to those webhooks (default: every webhook of the app).
    """

    def __init__(
        self,
        client: AsyncXClient,
        alerts: Alerts,
        clock: Clock,
        *,
        webhook_ids: Sequence[str] = (),
        backoff: float = 60.0,
        max_backoff: float = 3600.0,
        metrics: Metrics | None = None,
    ) -> None:
        self.client = client
        self.alerts = alerts
        self.clock = clock
        self.webhook_ids = frozenset(webhook_ids)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.metrics = metrics
        self.statuses: dict[str, WebhookStatus] = {}
        self.outcomes: collections.deque[Outcome] = collections.deque(maxlen=200)

    async def check(self) -> list[WebhookStatus]:
        """Read X's webhooks once, re-validate the invalid ones that are due; return the watched webhooks.

        Raises:
            ClientError: X could not be asked (the list call failed).
        """
        listing = await self.client.list_webhooks()
        now = self.clock.now()
        seen = set()
        for hook in listing.items:
            if self.webhook_ids and hook.id not in self.webhook_ids:
                continue
            seen.add(hook.id)
            status = self.statuses.get(hook.id)
            if status is None:
                status = self.statuses[hook.id] = WebhookStatus(hook.id, hook.url, True, now)
            status.url, status.checked_at = hook.url, now
            if hook.valid:
                await self._valid(status)
            else:
                await self._invalid(status, now)
            if self.metrics is not None:
                self.metrics.webhook_valid.labels(hook.id).set(1 if status.valid else 0)
        for gone in set(self.statuses) - seen:
            del self.statuses[gone]
            await self.alerts.resolve(_alert(gone), f"webhook {gone} no longer exists")
        return list(self.statuses.values())

    async def _valid(self, status: WebhookStatus) -> None:
        status.valid, status.invalid_since, status.failed_attempts, status.next_attempt_at = True, None, 0, 0.0
        await self.alerts.resolve(_alert(status.webhook_id), f"webhook {status.webhook_id} ({status.url}) is valid")

    async def _invalid(self, status: WebhookStatus, now: float) -> None:
        if status.invalid_since is None:
            status.valid, status.invalid_since = False, now
        if now < status.next_attempt_at:
            return
        try:
            validated = await self.client.validate_webhook(status.webhook_id)
        except ClientError as exc:
            result = f"{type(exc).__name__}: {exc}"
        else:
            result = "valid" if validated.valid else "not valid"
        self.outcomes.append(Outcome(now, status.webhook_id, result))
        if result == "valid":
            logger.info("webhook %s re-validated", status.webhook_id)
            await self._valid(status)
            return
        status.failed_attempts += 1
        delay = min(self.backoff * 2 ** (status.failed_attempts - 1), self.max_backoff)
        status.next_attempt_at = now + delay
        logger.warning("re-validating webhook %s failed (%s); next try in %.0f s", status.webhook_id, result, delay)
        await self.alerts.fire(
            _alert(status.webhook_id),
            f"X marked webhook {status.webhook_id} ({status.url}) invalid and re-validating it failed: nothing is"
            f" delivered until a CRC passes ({result})",
        )


def _alert(webhook_id: str) -> str:
    return f"webhook_invalid:{webhook_id}"
