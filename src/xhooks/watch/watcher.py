"""The watcher: webhook health and downtime recovery in one loop, inside `xhooks serve` or alone (`xhooks watch`).

Every `interval` it reads X's webhooks (re-validating invalid ones), recovers missed windows for the valid
ones, checks that neither delivery path (webhook, X Activity stream) went silent while the other carries
events, and that the disk beside the store is not running out. A round that fails (X unreachable, the store
unreadable) is logged and the next round tries again: the watcher itself must never stop silently either.
`recover` is the same machinery for one window asked for by hand (`xhooks recover --since T`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from xhooks.client import DEFAULT_BASE_URL, AsyncXClient, Credentials
from xhooks.clock import Clock, SystemClock
from xhooks.errors import ConfigError, XhooksError
from xhooks.metrics import Metrics
from xhooks.store import Store, open_store
from xhooks.watch.alerts import Alerts
from xhooks.watch.disk import DiskWatch
from xhooks.watch.health import HealthWatcher
from xhooks.watch.paths import PathWatch
from xhooks.watch.recovery import JobState, Recovery, ReplayTask, Window

__all__ = ["WatchConfig", "WatchService", "Watcher", "recover", "recover_window", "run_watcher"]

logger = logging.getLogger("xhooks.watch")

FAILING_AFTER = 3
"""Rounds failed in a row (X unreachable, the store unreadable) before the alert `watch_failing` fires."""


@dataclass(frozen=True)
class WatchConfig:
    """How the watcher behaves; times are seconds on the watcher's clock, defaults follow X's rules."""

    interval: float = 60.0
    """Between two rounds (a `GET /2/webhooks` each: 15 an hour against a limit of 450 per 15 minutes)."""
    webhook_ids: tuple[str, ...] = ()
    """Watch only these webhooks (default: every webhook of the app)."""
    alert_url: str | None = None
    """POST alerts here as JSON with a Slack-compatible `text` field."""
    revalidate_backoff: float = 60.0
    max_backoff: float = 3600.0
    ready_delay: float = 600.0
    """Replay a window once its end is this far in the past (X: replayable ~10 minutes after the event)."""
    margin: float = 60.0
    job_timeout: float = 3600.0
    max_attempts: int = 3
    down_after: float | None = 120.0
    """Alert when the receiver's heartbeat is older than this (None: never)."""
    silent_path_after: float | None = 600.0
    """Alert when one delivery path (webhook, X Activity stream) has missed events the other carried this long
    ago (`xhooks.watch.paths`; None: never)."""
    silent_path_least: int = 5
    """…and it missed at least this many."""
    disk_low_share: float | None = 0.10
    """Alert `disk_low` when the free disk beside the store is below this share of its file system
    (`xhooks.watch.disk`; None: no share threshold)…"""
    disk_low_bytes: int | None = 1 << 30
    """…or below this many bytes, whichever is crossed first (None: no byte threshold; both None: no check)."""


class Watcher:
    """Health and recovery for the webhooks of one app, over `client` (X or the emulator) and `store`.

    ```python
    async with AsyncXClient(Credentials(bearer_token="…")) as x:
        await Watcher(x, store, WatchConfig(alert_url="https://hooks.slack.com/…")).run()
    ```
    """

    def __init__(
        self,
        client: AsyncXClient,
        store: Store,
        config: WatchConfig | None = None,
        *,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config = config or WatchConfig()
        self.clock = clock or SystemClock()
        self.alerts = Alerts(self.clock, webhook_url=config.alert_url, store=store)
        self.health = HealthWatcher(
            client,
            self.alerts,
            self.clock,
            webhook_ids=config.webhook_ids,
            backoff=config.revalidate_backoff,
            max_backoff=config.max_backoff,
            metrics=metrics,
        )
        self.recovery = Recovery(
            client,
            store,
            self.alerts,
            self.clock,
            ready_delay=config.ready_delay,
            margin=config.margin,
            job_timeout=config.job_timeout,
            max_attempts=config.max_attempts,
            down_after=config.down_after,
            metrics=metrics,
        )
        self.paths = (
            None
            if config.silent_path_after is None
            else PathWatch(store, self.alerts, after=config.silent_path_after, least=config.silent_path_least)
        )
        self.disk = (
            None
            if config.disk_low_share is None and config.disk_low_bytes is None
            else DiskWatch(store, self.alerts, share=config.disk_low_share, least=config.disk_low_bytes)
        )
        self.failed_rounds = 0
        self._stopping = asyncio.Event()

    async def step(self) -> None:
        """One round: health first, then recovery for the webhooks that are valid, then the delivery paths and
        the free disk beside the store.

        Raises:
            XhooksError: X or the store could not be reached; `run` logs it and goes on.
        """
        statuses = await self.health.check()
        await self.recovery.step([status.webhook_id for status in statuses if status.valid])
        if self.paths is not None:
            await self.paths.check(self.clock.now())
        if self.disk is not None:
            await self.disk.check()

    def stop(self) -> None:
        """Ask `run` to return: a round in progress is cut short (it holds nothing the next round cannot redo)."""
        self._stopping.set()

    async def run(self, rounds: int | None = None) -> None:
        """Run rounds every `interval` until `stop()` or cancelled (or `rounds` rounds, for tests and one-shot use)."""
        done = 0
        try:
            while (rounds is None or done < rounds) and await self._unless_stopped(self._round):
                done += 1
                if rounds is None or done < rounds:
                    await self._unless_stopped(lambda: self.clock.sleep(self.config.interval))
        finally:
            await self.alerts.aclose()

    async def _round(self) -> None:
        try:
            await self.step()
        except XhooksError as exc:
            self.failed_rounds += 1
            logger.error("watch round failed (will retry in %.0f s): %s", self.config.interval, exc)
            if self.failed_rounds >= FAILING_AFTER:
                await self.alerts.fire("watch_failing", f"{self.failed_rounds} watch rounds failed in a row: {exc}")
        else:
            self.failed_rounds = 0
            await self.alerts.resolve("watch_failing", "the watcher reaches X and the store again")

    async def _unless_stopped(self, work: Callable[[], Awaitable[None]]) -> bool:
        """Do `work` unless `stop()` comes first, which cancels it; True when `work` was done."""
        if self._stopping.is_set():
            return False
        doing = asyncio.ensure_future(work())
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait((doing, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not doing.done():
                doing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await doing
        if doing.cancelled():
            return False
        doing.result()  # a failure of `work` is raised here
        return True


async def recover(
    client: AsyncXClient,
    store: Store,
    webhook_id: str,
    since: float,
    until: float,
    *,
    clock: Clock | None = None,
    poll: float = 2.0,
    timeout: float = 3600.0,
    max_attempts: int = 3,
) -> ReplayTask:
    """Replay `since`..`until` for `webhook_id` now and follow it until its `replay_job_status` is stored.

    The receiver must be running and storing into `store`, which is where the status arrives. An
    `Incomplete` job is retried up to `max_attempts` times. Returns the task in its final state (or still
    running after `timeout`).
    """
    clock = clock or SystemClock()
    alerts = Alerts(clock)
    recovery = Recovery(
        client,
        store,
        alerts,
        clock,
        ready_delay=0.0,
        margin=0.0,
        job_timeout=timeout,
        max_attempts=max_attempts,
        down_after=None,
    )
    task = recovery.request(webhook_id, Window(since, until, "requested"))
    deadline = clock.now() + timeout
    while task.state not in (JobState.COMPLETE, JobState.FAILED) and clock.now() <= deadline:
        await recovery.advance(webhook_id)
        if task.state not in (JobState.COMPLETE, JobState.FAILED):
            await clock.sleep(poll)
    return task


class WatchService:
    """The watcher as a service of a process (`xhooks.service.Service`): on the process's store, with a client
    of X of its own for as long as it runs. What `xhooks serve` runs when a bearer token is configured, and
    `xhooks watch` on its own."""

    def __init__(
        self,
        store: Store,
        credentials: Credentials,
        config: WatchConfig,
        *,
        api_base: str = DEFAULT_BASE_URL,
        metrics: Metrics | None = None,
    ) -> None:
        self.client = AsyncXClient(credentials, base_url=api_base)
        self.watcher = Watcher(self.client, store, config, metrics=metrics)

    async def run(self) -> None:
        async with self.client:
            await self.watcher.run()

    def stop(self) -> None:
        self.watcher.stop()


def run_watcher(db: str, credentials: Credentials, config: WatchConfig, *, api_base: str = DEFAULT_BASE_URL) -> None:
    """Run the watcher on the store at `db` until interrupted (what `xhooks watch` calls)."""

    async def main() -> None:
        store = open_store(db)
        await store.start()
        try:
            await WatchService(store, credentials, config, api_base=api_base).run()
        finally:
            await store.close()

    asyncio.run(main())


def recover_window(
    db: str,
    credentials: Credentials,
    since: float,
    until: float,
    *,
    webhook_id: str | None = None,
    api_base: str = DEFAULT_BASE_URL,
    timeout: float = 3600.0,
) -> ReplayTask:
    """Replay `since`..`until` now and wait for the outcome in the store at `db` (what `xhooks recover` calls).

    Without `webhook_id`, the app must have exactly one webhook.

    Raises:
        ConfigError: no webhook, or several and none chosen. ClientError: X refused.
    """

    async def main() -> ReplayTask:
        store = open_store(db)
        await store.start()
        try:
            async with AsyncXClient(credentials, base_url=api_base) as x:
                chosen = webhook_id or await _only_webhook(x)
                return await recover(x, store, chosen, since, until, timeout=timeout)
        finally:
            await store.close()

    return asyncio.run(main())


async def _only_webhook(client: AsyncXClient) -> str:
    hooks = (await client.list_webhooks()).items
    if len(hooks) != 1:
        listed = ", ".join(hook.id for hook in hooks) or "none"
        raise ConfigError(f"which webhook? this app has {len(hooks)} ({listed}); pass --webhook ID")
    return hooks[0].id
