"""The disk beside the store running out: alert `disk_low` before a full disk turns every delivery into a 503.

When the disk is full the receiver answers 503, X retries, and after enough failures X stops delivering; the
alert must come while there is still time to shorten retention or add space. Each round reads `Store.storage`
and the alert fires while the free disk is below either threshold, whichever is crossed first:

- `share` of the file system (default 10 %): the usual early warning, and on a large disk plenty of time;
- `least` bytes (default 1 GiB): on a small disk 10 % is too little time (at 20 events/s of 2–3 KB a store
  grows about 4 GB a day, so 400 MB of a 4 GB disk is two hours).

It resolves once free disk is back above the threshold by a tenth (`RESOLVE_ABOVE`), so a disk hovering at the
line (pruning frees space in batches, intake takes it back) does not fire and resolve every round. Where free
disk is unknown (PostgreSQL: the server's disk is not visible to a client) nothing fires: watch it on the
database host.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from xhooks.store import Storage, Store
from xhooks.store.base import byte_size
from xhooks.watch.alerts import Alerts

__all__ = ["ALERT", "RESOLVE_ABOVE", "DiskWatch", "low_disk_threshold"]

ALERT = "disk_low"
RESOLVE_ABOVE = 1.1
"""A firing alert resolves once free disk is above this many times its threshold."""


def low_disk_threshold(storage: Storage, share: float | None, least: int | None) -> int | None:
    """The free bytes below which the disk is low: the larger of `share` of the file system and `least` (either
    None: not used); None when free disk is unknown or neither threshold is set."""
    if storage.free is None or storage.total is None:
        return None
    limits = [int(share * storage.total)] if share is not None else []
    limits += [least] if least is not None else []
    return max(limits) if limits else None


class DiskWatch:
    """Fire and resolve `disk_low` from the store's free disk, once per watcher round.

    `measure` reads the storage (default: `store.storage`); tests pass a fake instead of filling a disk.
    """

    def __init__(
        self,
        store: Store,
        alerts: Alerts,
        *,
        share: float | None,
        least: int | None,
        measure: Callable[[], Awaitable[Storage]] | None = None,
    ) -> None:
        self.alerts, self.share, self.least = alerts, share, least
        self.measure = measure or store.storage

    async def check(self) -> Storage:
        """Read the storage and fire or resolve the alert; return what was read. Raises `StoreError`."""
        storage = await self.measure()
        threshold = low_disk_threshold(storage, self.share, self.least)
        if threshold is None or storage.free is None:
            return storage
        if storage.free < threshold:
            await self.alerts.fire(
                ALERT,
                f"{byte_size(storage.free)} free on the store's disk ({_share(storage)} of"
                f" {byte_size(storage.total or 0)}), below {byte_size(threshold)}; the store takes"
                f" {byte_size(storage.size)}: shorten [retention] or free space before commits fail",
            )
        elif ALERT in self.alerts.active and storage.free > threshold * RESOLVE_ABOVE:
            await self.alerts.resolve(ALERT, f"{byte_size(storage.free)} free on the store's disk again")
        return storage


def _share(storage: Storage) -> str:
    ratio = storage.free_ratio
    return "?" if ratio is None else f"{ratio:.0%}"
