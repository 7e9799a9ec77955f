"""Pruning in the background of `xhooks serve` and `xhooks worker` (a `xhooks.service.Service`), and by hand.

Every `policy.interval` seconds the `Pruner` erases what users who revoked the app's access had stored and the
events of deleted Posts (`Store.erase_signalled`, each unless turned off in the policy), then removes what the
policy no longer keeps (`Store.prune`), one batch per transaction, yielding to the event loop between batches:
on SQLite each batch is one job of the writer,
so deliveries arriving meanwhile commit between two batches and wait for at most one. A round that fails (the
store is down, a PostgreSQL batch met a concurrent change) is logged and tried again at the next round.

```python
receiver = Receiver(store, apps, services=[Pruner(store, RetentionPolicy(body_days=3))])
report = prune("xhooks.db", RetentionPolicy(), dry_run=True)     # what would go now (`xhooks db prune`)
record = forget("xhooks.db", "2244994945", "GDPR request 12")       # `xhooks events forget --user`
```
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from xhooks.clock import Clock, SystemClock
from xhooks.errors import StoreError
from xhooks.metrics import Metrics
from xhooks.store.base import Store
from xhooks.store.erasure import POST_DELETE_TYPES, REVOKE_TYPES, ErasureRecord
from xhooks.store.registry import open_store
from xhooks.store.retention import PruneReport, RetentionPolicy

__all__ = ["Pruner", "background_pruner", "forget", "prune"]

logger = logging.getLogger("xhooks.store")


class Pruner:
    """Prune `store` by `policy` every `policy.interval` seconds of `clock`, until `stop()`.

    `last` is the report of the newest round and `next_at` when the next one starts (for the dashboard; with
    `metrics`, also the gauge `xhooks_next_prune_timestamp_seconds`).
    """

    def __init__(
        self, store: Store, policy: RetentionPolicy, clock: Clock | None = None, metrics: Metrics | None = None
    ) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock or SystemClock()
        self.metrics = metrics
        self.last = PruneReport()
        self.erased: list[ErasureRecord] = []
        """Every erasure the pruner made on X's revoke events, oldest first."""
        self.next_at: float | None = None
        self.rounds = 0
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.last = await self.round()
            except StoreError as exc:
                logger.warning("pruning failed, trying again in %g s: %s", self.policy.interval, exc)
            self.rounds += 1
            if self.last.bodies or self.last.tombstones:
                logger.info(
                    "pruned %d bodies (%d bytes) and %d tombstones",
                    self.last.bodies,
                    self.last.bytes,
                    self.last.tombstones,
                )
            self.next_at = self.clock.now() + self.policy.interval
            if self.metrics is not None:
                self.metrics.pruning(self.next_at)
            await self._wait(self.policy.interval)

    async def round(self) -> PruneReport:
        """Erase what revoked users stored and deleted Posts' events (`policy.erase_on_revoke`, `erase_on_delete`),
        then prune batch after batch until one is not full (or `stop()` is called); return what pruning removed."""
        kinds = (REVOKE_TYPES if self.policy.erase_on_revoke else ()) + (
            POST_DELETE_TYPES if self.policy.erase_on_delete else ()
        )
        if kinds:
            for record in await self.store.erase_signalled(self.clock.now(), kinds):
                logger.info("erased %s (%s): %d bodies", record.scope, record.reason, record.deliveries)
                self.erased.append(record)
        total = PruneReport()
        while not self._stopping.is_set():
            report = await self.store.prune(self.policy, self.clock.now())
            total += report
            if not report.more:
                break
            await asyncio.sleep(0)  # let intake and claims in between two batches
        return total

    async def _wait(self, seconds: float) -> None:
        sleeping = asyncio.ensure_future(self.clock.sleep(seconds))
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({sleeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeping, stopping):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def stop(self) -> None:
        self._stopping.set()


def background_pruner(store: Store, policy: RetentionPolicy | None, metrics: Metrics | None = None) -> Pruner | None:
    """The pruner `serve` and `worker` run beside their work: None when retention is off (`policy` None) or
    pruning is left to `xhooks db prune` (`background = false`)."""
    return Pruner(store, policy, metrics=metrics) if policy is not None and policy.background else None


def prune(db: str | Path, policy: RetentionPolicy, *, dry_run: bool = False, now: float | None = None) -> PruneReport:
    """Prune the store at `db` by `policy` until nothing more is due at `now` (default: the time now); with
    `dry_run`, change nothing and count what would go. What `xhooks db prune` runs.

    Raises:
        StoreError: the store cannot be opened or written.
    """

    async def main() -> PruneReport:
        store = open_store(str(db))
        at = time.time() if now is None else now
        if dry_run:
            try:
                return await store.prune(policy, at, dry_run=True)
            finally:
                await store.close()
        await store.start()
        try:
            return await Pruner(store, policy).round()
        finally:
            await store.close()

    return asyncio.run(main())


def forget(db: str | Path, user_id: str, reason: str = "forget", now: float | None = None) -> ErasureRecord:
    """Erase every stored body of the events of `user_id` in the store at `db`, and write the audit record
    (`store/erasure.py`): what `xhooks events forget --user` runs.

    Raises:
        StoreError: the store cannot be opened or written.
    """

    async def main() -> ErasureRecord:
        store = open_store(str(db))
        await store.start()
        try:
            return await store.erase(user_id, reason, time.time() if now is None else now)
        finally:
            await store.close()

    return asyncio.run(main())
