"""Background pruning (`store/pruner.py`): a service of `serve` and `worker`, driven here by a hand-moved clock."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

from tests.store.test_contract import _delivery, _xaa
from xhooks.clock import ManualClock
from xhooks.metrics import Metrics
from xhooks.receiver import AppConfig
from xhooks.serving import ProcessConfig, _services
from xhooks.store import EventQuery, Store
from xhooks.store.pruner import Pruner, background_pruner, prune
from xhooks.store.retention import DAY, PruneReport, RetentionPolicy
from xhooks.store.sqlite import SQLiteStore

T0 = 1_767_225_600.0


async def _handled(store: Store, count: int) -> None:
    for n in range(count):
        await store.record(_delivery(_xaa(str(n)), at=T0 + n))
    while claimed := await store.claim("w", 100, 30.0, T0 + count):
        for item in claimed:
            assert await store.complete(item.event.id, "w", T0 + count)


async def _rounds(pruner: Pruner, count: int) -> None:
    async def wait() -> None:
        while pruner.rounds < count:
            await asyncio.sleep(0)

    await asyncio.wait_for(wait(), 60)  # a hang guard; the clock is moved by hand


async def test_the_pruner_prunes_every_interval_of_its_clock_in_batches(store: Store) -> None:
    await _handled(store, 5)
    clock = ManualClock(T0 + 10)
    pruner = Pruner(store, RetentionPolicy(body_days=1, batch=2, interval=3600), clock)
    task = asyncio.ensure_future(pruner.run())
    try:
        await _rounds(pruner, 1)
        assert pruner.last == PruneReport() and pruner.next_at == T0 + 10 + 3600  # nothing old enough yet
        clock.set(T0 + 2 * DAY)
        await _rounds(pruner, 2)
        assert (pruner.last.bodies, pruner.last.more) == (5, False)  # three batches of at most two, in one round
        assert all(event.pruned_at == T0 + 2 * DAY for event in await store.events(EventQuery()))
    finally:
        pruner.stop()
        await asyncio.wait_for(task, 60)
    assert task.result() is None


async def test_stop_ends_a_pruner_waiting_for_its_next_round(store: Store) -> None:
    pruner = Pruner(store, RetentionPolicy(), ManualClock(T0))
    task = asyncio.ensure_future(pruner.run())
    await _rounds(pruner, 1)
    pruner.stop()
    await asyncio.wait_for(task, 60)  # the clock never moved: stop alone ended the wait
    assert task.done() and pruner.rounds == 1


async def test_prune_by_hand_dry_run_then_for_real(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "x.db")
    await store.start()
    try:
        await _handled(store, 3)
    finally:
        await store.close()
    policy = RetentionPolicy(body_days=1, batch=2)
    dry = await asyncio.to_thread(prune, tmp_path / "x.db", policy, dry_run=True, now=T0 + 2 * DAY)
    done = await asyncio.to_thread(prune, tmp_path / "x.db", policy, now=T0 + 2 * DAY)
    again = await asyncio.to_thread(prune, tmp_path / "x.db", policy, dry_run=True, now=T0 + 2 * DAY)
    assert (dry.bodies, done.bodies, again.bodies) == (3, 3, 0)
    assert dry.bytes == done.bytes > 0


def test_serve_prunes_in_the_background_unless_turned_off(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "x.db")
    apps = [AppConfig(("s",))]
    on = ProcessConfig(apps=apps).retention
    off = ProcessConfig(apps=apps, retention=RetentionPolicy(background=False)).retention
    pruner = background_pruner(store, on)
    assert pruner is not None and background_pruner(store, off) is None and background_pruner(store, None) is None
    assert _services(ProcessConfig(apps=apps), store, Metrics(), pruner) == [pruner]


async def test_the_pruner_sets_the_next_prune_gauge_after_each_round(store: Store) -> None:
    metrics, clock = Metrics(), ManualClock(T0)
    pruner = Pruner(store, RetentionPolicy(interval=3600), clock, metrics)
    sample = metrics.registry.get_sample_value
    assert math.isnan(sample("xhooks_next_prune_timestamp_seconds") or 0.0)  # unknown until a round has run
    task = asyncio.ensure_future(pruner.run())
    try:
        await _rounds(pruner, 1)
        assert sample("xhooks_next_prune_timestamp_seconds") == T0 + 3600
    finally:
        pruner.stop()
        await task


async def test_a_round_erases_what_a_revoking_user_stored_unless_turned_off(tmp_path: Path) -> None:
    revoke = (Path(__file__).parents[1] / "fixtures" / "x-api" / "examples" / "xaa.oauth.revoke.json").read_bytes()
    (ref,) = _delivery(revoke).events
    assert ref.for_user_id is not None
    for erase_on_revoke, erased in ((False, []), (True, [f"user:{ref.for_user_id}"])):
        store = SQLiteStore(tmp_path / f"{erase_on_revoke}.db")
        await store.start()
        try:
            await store.record(_delivery(_xaa("1", user=ref.for_user_id), at=T0))
            await store.record(_delivery(revoke, at=T0 + 1))
            pruner = Pruner(store, RetentionPolicy(erase_on_revoke=erase_on_revoke), ManualClock(T0 + 2))
            await pruner.round()
            assert [record.scope for record in pruner.erased] == erased
            assert [bool(record.scope) for record in (await store.stats()).erasures] == [True] * len(erased)
        finally:
            await store.close()
