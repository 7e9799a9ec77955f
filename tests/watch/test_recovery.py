"""Recovery: the pure rules (windows, X's replay limits, the job's life), then the whole loop against the emulator:
the receiver is down past X's retries, and after it restarts a replay job brings every missed event back."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.watch.conftest import World, until, watch, world_at
from xhooks.client import AsyncXClient, Credentials
from xhooks.clock import SteppingClock
from xhooks.dispatch import Context, Worker, XHooks
from xhooks.protocol import parse_envelope
from xhooks.protocol.events import Event
from xhooks.store import Span, Store
from xhooks.store.sqlite import SQLiteStore
from xhooks.watch import Alerts, JobState, Recovery, ReplayTask, WatchConfig, Watcher, Window, missed_windows
from xhooks.watch.recovery import IllegalTransition, replay_range

T = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def test_gaps_between_heartbeats_and_rejected_stretches_are_windows() -> None:
    up = [Span("up", T, T + 100), Span("up", T + 400, T + 500), Span("up", T + 2000, T + 3000)]
    rejected = [Span("rejected", T + 450, T + 460), Span("rejected", T + 5000, T + 5001)]
    assert missed_windows(up, rejected, margin=60) == [
        Window(T + 40, T + 2060, "down+rejected"),  # two gaps and a rejected stretch, overlapping once widened
        Window(T + 4940, T + 5061, "rejected"),
    ]


def test_one_span_and_no_rejections_is_no_window() -> None:
    assert missed_windows([Span("up", T, T + 3600)], [], margin=60) == []


def test_replay_waits_for_x_delay_then_asks_for_whole_minutes() -> None:
    window = Window(T + 125, T + 370, "down")
    assert replay_range(window, now=T + 370 + 599, ready_delay=600) is None
    assert replay_range(window, now=T + 370 + 600, ready_delay=600) == (T + 120, T + 360)


def test_replay_cuts_a_window_to_the_past_24_hours_and_refuses_one_wholly_older() -> None:
    day = 24 * 3600
    first, last = replay_range(Window(T, T + 7200, "down"), now=T + day + 600, ready_delay=600)  # type: ignore[misc]
    assert first > T + 600 and first % 60 == 0 and last == T + 7200
    with pytest.raises(ValueError, match="24 hours"):
        replay_range(Window(T, T + 60, "down"), now=T + 2 * day, ready_delay=600)


def test_an_illegal_move_raises_and_leaves_the_task_as_it_was() -> None:
    task = ReplayTask("1", Window(T, T + 60, "down"))
    with pytest.raises(IllegalTransition):
        task.move("complete")
    assert task.state is JobState.WAITING
    task.move("created")
    task.move("incomplete")
    task.move("created")
    task.move("complete")
    assert task.state is JobState.COMPLETE  # type: ignore[comparison-overlap]  # move() changed it
    with pytest.raises(IllegalTransition):
        task.move("created")
    assert task.state is JobState.COMPLETE


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from world_at(tmp_path)


def _keys(bodies: list[str]) -> set[str]:
    return {event.key for body in bodies for event in parse_envelope(body.encode()).events}


@contextlib.asynccontextmanager
async def handling(store: Store) -> AsyncIterator[collections.Counter[str]]:
    """A dispatch worker over `store` whose one handler counts the runs of each event (by key)."""
    runs: collections.Counter[str] = collections.Counter()
    hooks = XHooks()

    @hooks.on_any
    async def count(event: Event, ctx: Context) -> None:
        runs[ctx.event_key] += 1

    worker = Worker(store, hooks, poll_interval=0.02)
    task = asyncio.ensure_future(worker.run())
    try:
        yield runs
    finally:
        worker.stop()
        await asyncio.wait_for(task, 60)


async def test_events_missed_while_the_receiver_was_down_come_back_by_replay(world: World) -> None:
    config = WatchConfig(interval=30.0, down_after=None)

    def complete() -> float | None:
        return world.metrics.registry.get_sample_value("xhooks_replay_jobs", {"state": "complete"})

    async with world.watcher_store() as store, handling(store) as runs:
        async with world.receiver():
            webhook_id = world.register()
            world.trigger("aaa.tweet_create")
            await until(lambda: sum(runs.values()) == 1, "the event sent while up, handled")
        for event_type in ("aaa.favorite", "aaa.follow", "aaa.direct_message"):
            world.trigger(event_type)
        await world.advance(600)  # down ten minutes: X tries at 0, 6, 36 and 281 s, then gives up
        assert {d["state"] for d in world.deliveries() if d["kind"] == "event"} == {"delivered", "failed"}
        missed = _keys([d["body"] for d in world.deliveries() if d["state"] == "failed"])
        assert len(missed) >= 3 and not missed & {event.key for event in world.stored()}
        async with world.receiver(), world.client() as x:
            watcher = Watcher(x, store, config, clock=world.clock, metrics=world.metrics)
            await watch(world, watcher, lambda: complete() == 1, "the replay job to complete")
        await until(lambda: missed <= set(runs), "the recovered events to be handled")
    stored = world.stored()
    assert missed <= {event.key for event in stored}
    assert len(stored) == len({event.key for event in stored})  # the overlap with what was stored is deduplicated
    assert set(runs.values()) == {1}  # every event handled once, replayed or not
    replays = [d for d in world.deliveries() if d["kind"] == "replay"]
    assert replays and all(d["state"] == "delivered" for d in replays)
    assert [t.state for t in watcher.recovery.tasks] == [JobState.COMPLETE]
    assert world.read(lambda store: store.spans(f"recovered:{webhook_id}", since=0.0))


async def test_an_incomplete_replay_job_is_retried_until_complete(world: World) -> None:
    async with world.receiver():
        world.register()
    world.trigger("aaa.favorite")  # missed: the receiver is down past X's retries
    await world.advance(600)
    assert [d["state"] for d in world.deliveries()] == ["failed"]
    missed = _keys([d["body"] for d in world.deliveries()])
    config = WatchConfig(interval=30.0, down_after=None, max_attempts=1000)
    async with world.client() as x, world.watcher_store() as store:
        watcher = Watcher(x, store, config, clock=world.clock, metrics=world.metrics)
        async with world.receiver(max_body=400):  # refuses the replayed events (413), takes the small job status
            await watch(world, watcher, lambda: watcher.recovery.tasks[0].attempts == 2, "a second replay job")
        async with world.receiver():
            await watch(world, watcher, lambda: watcher.recovery.tasks[0].state is JobState.COMPLETE, "the retry")
    (task,) = watcher.recovery.tasks
    assert task.attempts == 2
    statuses = [d["body"] for d in world.deliveries() if d["kind"] == "replay_status"]
    assert len(statuses) == 2
    assert '"job_state":"Incomplete"' in statuses[0] and '"job_state":"Complete"' in statuses[1]
    assert missed <= {event.key for event in world.stored()}


async def test_deliveries_refused_for_a_wrong_secret_come_back_once_it_is_fixed(world: World) -> None:
    async with world.receiver():
        webhook_id = world.register()
    async with world.receiver(secret="the-secret-of-another-app"):  # up and beating, but every POST is refused (403)
        world.trigger("aaa.favorite")
        await world.advance(300)  # X's retries, all refused
        assert [d["state"] for d in world.deliveries()] == ["failed"]
        assert world.read(lambda store: store.spans("rejected", since=0.0))
    missed = _keys([d["body"] for d in world.deliveries()])
    config = WatchConfig(interval=30.0, down_after=None)
    async with world.receiver(), world.client() as x, world.watcher_store() as store:
        watcher = Watcher(x, store, config, clock=world.clock)
        await watch(world, watcher, lambda: missed <= {e.key for e in world.stored()}, "the refused event, replayed")
    assert [task.window.cause for task in watcher.recovery.tasks] == ["rejected"]  # the receiver was never down
    assert webhook_id == watcher.recovery.tasks[0].webhook_id


async def test_a_silent_heartbeat_fires_receiver_down_and_a_new_beat_resolves_it(tmp_path: Path) -> None:
    clock, store = SteppingClock(start=T), SQLiteStore(tmp_path / "beats.db")
    await store.start()
    alerts = Alerts(clock)
    try:
        async with AsyncXClient(Credentials(bearer_token="unused")) as x:  # no webhook to watch: X is never called
            recovery = Recovery(x, store, alerts, clock, down_after=120.0)
            await store.mark("up", T, T, 30.0)
            clock.advance(100)
            await recovery.step([])
            assert alerts.active == {}
            clock.advance(100)
            await recovery.step([])
            assert "receiver_down" in alerts.active
            await store.mark("up", clock.now(), clock.now(), 30.0)
            await recovery.step([])
            assert alerts.active == {}
    finally:
        await store.close()


async def test_a_longer_window_over_a_recovered_one_is_recovered_again(tmp_path: Path) -> None:
    clock, store = SteppingClock(start=T + 700), SQLiteStore(tmp_path / "spans.db")
    await store.start()
    try:
        for start, end in ((T, T + 100), (T + 400, T + 500), (T + 560, T + 700)):
            await store.mark("up", start, end, 0.0)
        await store.mark("recovered:1", T + 40, T + 460, 0.0)
        async with AsyncXClient(Credentials(bearer_token="unused")) as x:  # not ready to replay: X is never called
            recovery = Recovery(x, store, Alerts(clock), clock, down_after=None)
            recovery.tasks.append(ReplayTask("1", Window(T + 40, T + 460, "down"), JobState.COMPLETE))
            await recovery.step(["1"])
    finally:
        await store.close()
    assert [(t.window, t.state) for t in recovery.tasks] == [
        (Window(T + 40, T + 460, "down"), JobState.COMPLETE),
        (Window(T + 40, T + 620, "down"), JobState.WAITING),  # the first gap and a second one, merged by the margin
    ]
