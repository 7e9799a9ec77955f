"""One delivery path silent while the other carries events: the rule, and the watcher's alert (issue 14)."""

from __future__ import annotations

from pathlib import Path

from tests.watch.conftest import Sink, world_at
from xhooks.clock import ManualClock
from xhooks.store import Delivery, Store
from xhooks.store.base import DeliveryPath, StoredEvent
from xhooks.store.sqlite import SQLiteStore
from xhooks.watch import Alerts, WatchConfig, Watcher
from xhooks.watch.paths import PathWatch, silent_paths

WEBHOOK, STREAM = DeliveryPath.WEBHOOK, DeliveryPath.STREAM
START = 1_767_225_600.0


def _event(
    n: int, webhook_at: float | None, stream_at: float | None, kind: str = "post.create", user: str = "1"
) -> StoredEvent:
    first = [at for at in (webhook_at, stream_at) if at is not None]
    return StoredEvent(
        id=n, app="/webhook", key=f"k{n}", event_type=kind, for_user_id=user, delivery_id=n, index=0,
        received_at=min(first), status="handled", attempts=1, duplicates=0, last_seen_at=max(first),
        first_path="webhook" if webhook_at == min(first) else "stream", webhook_at=webhook_at, stream_at=stream_at,
    )  # fmt: skip


def _both(count: int, at: float) -> list[StoredEvent]:
    return [_event(n, at + n, at + n + 0.5) for n in range(count)]


def _stream_only(count: int, at: float, kind: str = "post.create", first_id: int = 100) -> list[StoredEvent]:
    return [_event(first_id + n, None, at + n, kind) for n in range(count)]


def test_paths_that_carry_the_same_events_are_not_silent() -> None:
    assert silent_paths(_both(50, 0.0), now=10_000.0, after=600.0, least=5) == []


def test_the_webhook_is_silent_when_the_stream_carried_its_kind_of_events_long_enough_ago() -> None:
    events = _both(10, 0.0) + _stream_only(5, 100.0)
    [silence] = silent_paths(events, now=100.0 + 4 + 600.0, after=600.0, least=5)
    assert (silence.path, silence.last_at, silence.missed, silence.alert) == (WEBHOOK, 9.0, 5, "path_silent:webhook")


def test_too_few_or_too_recent_misses_are_no_silence() -> None:
    assert silent_paths(_both(10, 0.0) + _stream_only(4, 100.0), now=10_000.0, after=600.0, least=5) == []
    recent = _both(10, 0.0) + _stream_only(5, 100.0)
    assert silent_paths(recent, now=100.0 + 4 + 599.0, after=600.0, least=5) == []  # the fifth is 599 s old


def test_events_only_the_stream_is_subscribed_to_are_no_evidence_against_the_webhook() -> None:
    """A subscription without a webhook_id delivers only to the stream: its events never count as missed."""
    events = _both(10, 0.0) + _stream_only(50, 100.0, kind="profile.update.bio")
    assert silent_paths(events, now=10_000.0, after=600.0, least=5) == []


def test_a_path_never_used_is_never_silent_and_the_stream_can_be_the_silent_one() -> None:
    assert silent_paths(_stream_only(50, 0.0), now=10_000.0, after=600.0, least=5) == []
    events = _both(10, 0.0) + [_event(100 + n, 100.0 + n, None) for n in range(6)]
    assert [(s.path, s.missed) for s in silent_paths(events, now=10_000.0, after=600.0, least=5)] == [(STREAM, 6)]


def _xaa(uuid: str) -> bytes:
    return f'{{"data":{{"event_uuid":"{uuid}","event_type":"post.create","filter":{{"user_id":"1"}}}}}}'.encode()


async def _record(store: Store, uuid: str, at: float, *paths: DeliveryPath) -> None:
    for path in paths:
        await store.record(Delivery.received("/webhook", _xaa(uuid), at, path=path))


async def test_the_alert_fires_once_stays_while_silent_and_resolves_when_the_path_carries_again(
    tmp_path: Path, sink: tuple[Sink, str]
) -> None:
    received, url = sink
    clock, store = ManualClock(START), SQLiteStore(tmp_path / "paths.db")
    await store.start()
    alerts = Alerts(clock, webhook_url=url, store=store)
    watch = PathWatch(store, alerts, after=600.0, least=5, sample=20)
    try:
        for n in range(5):
            await _record(store, f"both-{n}", START + n, STREAM, WEBHOOK)
        for n in range(6):  # the webhook stops: X marked it invalid, say
            await _record(store, f"stream-{n}", START + 10 + n, STREAM)
        clock.advance(300.0)
        assert await watch.check(clock.now()) == []  # the misses are younger than `after`: it may still catch up
        clock.advance(600.0)
        [silence] = await watch.check(clock.now())
        assert silence.path is WEBHOOK and silence.missed == 6
        for n in range(30):  # a long silence pushes every webhook event out of the sample: still firing
            await _record(store, f"later-{n}", clock.now() + n, STREAM)
        clock.advance(1200.0)
        assert await watch.check(clock.now()) == [] and "path_silent:webhook" in alerts.active
        await _record(store, "back", clock.now(), STREAM, WEBHOOK)
        assert await watch.check(clock.now()) == [] and alerts.active == {}
    finally:
        await alerts.aclose()
        await store.close()
    assert received.states() == [("path_silent:webhook", "firing"), ("path_silent:webhook", "resolved")]
    firing = received.received[0]
    assert "webhook path has carried nothing since" in firing["text"] and "stream carried 6 events" in firing["text"]


async def test_a_watcher_round_checks_the_paths_unless_told_not_to(tmp_path: Path) -> None:
    for world in world_at(tmp_path):
        async with world.client() as x, world.watcher_store() as store:
            start = world.clock.now()
            for n in range(5):
                await _record(store, f"both-{n}", start + n, STREAM, WEBHOOK)
            for n in range(5):
                await _record(store, f"stream-{n}", start + 10 + n, STREAM)
            await world.advance(900.0)
            quiet = Watcher(x, store, WatchConfig(silent_path_after=None), clock=world.clock)
            await quiet.step()
            assert quiet.paths is None and quiet.alerts.active == {}
            watcher = Watcher(x, store, clock=world.clock)
            await watcher.step()
            assert list(watcher.alerts.active) == ["path_silent:webhook"]
            await watcher.alerts.aclose()
