"""The disk beside the store running out (`xhooks.watch.disk`, issue 15): the threshold, and the alert `disk_low`
fired once, held near the line and resolved, with a fake disk-usage reading instead of a filled disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.watch.conftest import Sink, world_at
from xhooks.cli.watch import disk_low
from xhooks.clock import ManualClock
from xhooks.config import Settings
from xhooks.errors import ConfigError
from xhooks.store import Storage
from xhooks.store.sqlite import SQLiteStore
from xhooks.watch import Alerts, WatchConfig, Watcher
from xhooks.watch.disk import ALERT, DiskWatch, low_disk_threshold

GIB = 1 << 30
START = 1_767_225_600.0


def _disk(free: int | None, total: int | None = 100 * GIB) -> Storage:
    return Storage(3 * GIB, free, None if free is None else total, START)


def test_the_threshold_is_whichever_of_share_and_bytes_is_crossed_first() -> None:
    assert low_disk_threshold(_disk(50 * GIB), 0.10, GIB) == 10 * GIB  # a large disk: the share comes first
    assert low_disk_threshold(_disk(GIB, total=4 * GIB), 0.10, GIB) == GIB  # a small one: the bytes do
    assert low_disk_threshold(_disk(GIB), None, 2 * GIB) == 2 * GIB
    assert low_disk_threshold(_disk(GIB), 0.25, None) == 25 * GIB
    assert low_disk_threshold(_disk(GIB), None, None) is None
    assert low_disk_threshold(_disk(None), 0.10, GIB) is None  # PostgreSQL: the server's disk is unknown


class _FakeDisk:
    """What `Store.storage` would say, set by the test."""

    def __init__(self) -> None:
        self.free: int | None = 50 * GIB

    async def __call__(self) -> Storage:
        return _disk(self.free)


async def test_the_alert_fires_once_while_low_holds_near_the_line_and_resolves_with_room_again(
    tmp_path: Path, sink: tuple[Sink, str]
) -> None:
    received, url = sink
    store, disk = SQLiteStore(tmp_path / "disk.db"), _FakeDisk()
    await store.start()
    alerts = Alerts(ManualClock(START), webhook_url=url, store=store)
    watch = DiskWatch(store, alerts, share=0.10, least=GIB, measure=disk)
    try:
        await watch.check()
        assert alerts.active == {}
        disk.free = 9 * GIB  # below 10 % of 100 GiB
        for _ in range(3):
            await watch.check()
        assert list(alerts.active) == [ALERT]
        disk.free = 10 * GIB + GIB // 2  # above the line, but not by a tenth: still firing
        await watch.check()
        assert list(alerts.active) == [ALERT]
        disk.free = 12 * GIB
        await watch.check()
        assert alerts.active == {}
        disk.free = None  # the store moved to PostgreSQL, say: nothing to judge, nothing fires
        await watch.check()
        assert alerts.active == {}
    finally:
        await alerts.aclose()
        await store.close()
    assert received.states() == [(ALERT, "firing"), (ALERT, "resolved")]
    assert (
        received.received[0]["text"].startswith(
            "disk_low: 9.0 GiB free on the store's disk (9% of 100.0 GiB), below 10.0 GiB; the store takes 3.0 GiB"
        )
        or "9.0 GiB free on the store's disk (9% of 100.0 GiB), below 10.0 GiB" in received.received[0]["text"]
    )


async def test_a_watcher_round_checks_the_disk_unless_both_thresholds_are_off(tmp_path: Path) -> None:
    for world in world_at(tmp_path):
        async with world.client() as x, world.watcher_store() as store:
            off = Watcher(x, store, WatchConfig(disk_low_share=None, disk_low_bytes=None), clock=world.clock)
            assert off.disk is None
            watcher = Watcher(x, store, clock=world.clock)
            assert watcher.disk is not None and watcher.disk.measure == store.storage  # the real reading by default
            low = _FakeDisk()
            low.free = GIB // 2
            watcher.disk.measure = low
            await watcher.step()
            assert list(watcher.alerts.active) == [ALERT]


def test_the_thresholds_come_from_the_file_or_the_environment_and_off_turns_one_off() -> None:
    assert disk_low(Settings({}, {}, None)) == {"disk_low_share": 0.10, "disk_low_bytes": GIB}
    from_file = Settings({}, {"disk_low_share": 0.2, "disk_low_bytes": 5 * GIB}, None)
    assert disk_low(from_file) == {"disk_low_share": 0.2, "disk_low_bytes": 5 * GIB}
    from_env = Settings({"XHOOKS_DISK_LOW_SHARE": "off", "XHOOKS_DISK_LOW_BYTES": "2048"}, {}, None)
    assert disk_low(from_env) == {"disk_low_share": None, "disk_low_bytes": 2048}
    for wrong in ({"disk_low_share": 10}, {"disk_low_bytes": "lots"}):
        with pytest.raises(ConfigError, match="disk_low"):
            disk_low(Settings({}, wrong, None))
