"""The dashboard in headless Chromium: what a person sees and clicks, against a real receiver and emulator."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.dashboard.conftest import Stack, running_stack
from tests.support import read_store
from xhooks.emulator.control import trigger_remote
from xhooks.store.sqlite import SQLiteStore

T = TypeVar("T")


def test_overview_shows_counters_alerts_and_what_to_do_next(stack: Stack, page: Any) -> None:
    page.goto(f"{stack.dashboard}/")
    assert page.locator("h1").first.inner_text() == "Overview"
    assert "No open alerts" in page.locator(".all-clear").inner_text()
    assert "X lists no webhook for this app" in page.locator("#x-webhooks").inner_text()
    assert "Nothing has arrived yet" in page.locator("main").inner_text()
    assert page.locator(".card").count() == 9 + 4  # the counters, then the storage cards
    storage = page.locator("#storage").inner_text()
    assert "store size" in storage and "free disk (" in storage and "oldest body kept" in storage
    assert "next prune" in storage and "not run by this process" not in storage  # serve hands its pruner over


def test_triggered_event_appears_in_the_live_tail_without_reload_and_shows_its_raw_body(
    stack: Stack, page: Any
) -> None:
    stack.subscribe()
    page.goto(f"{stack.dashboard}/live")
    page.wait_for_selector("#live-status.live")
    page.evaluate("window.stillTheSamePage = true")

    emulator = page.context.new_page()
    emulator.goto(f"{stack.emulator_url}/_xhooks/")
    emulator.click("button.trigger[data-type='aaa.follow']")
    assert "aaa.follow sent to" in emulator.locator(".flash.ok").inner_text()

    row = page.locator("#live tbody tr[data-id]").first
    row.wait_for()
    assert "follow" in row.inner_text()
    assert page.evaluate("window.stillTheSamePage") is True
    received = row.locator("time")
    assert received.get_attribute("title").endswith(" UTC")
    assert "UTC" not in received.inner_text()  # shown in the viewer's zone

    row.locator("a").click()
    page.wait_for_selector("#raw-body")
    raw = page.locator("#raw-body").inner_text()
    (event,) = stack.events()
    delivery = read_store(stack.db, lambda store: store.delivery(event.delivery_id))
    assert delivery is not None
    assert raw == delivery.body.decode()
    assert '"follow_events"' in raw
    assert "x-twitter-webhooks-signature" in page.locator("#headers").inner_text()
    assert "verified" in page.locator("dl.facts").first.inner_text()
    assert page.locator("#sightings tbody tr").count() == 1


def _with_store(stack: Stack, work: Callable[[SQLiteStore], Awaitable[T]]) -> T:
    """Run `work` on a second store of the same file, on a loop of its own (Playwright owns this thread's)."""

    async def run() -> T:
        store = SQLiteStore(stack.db)
        await store.start()
        try:
            return await work(store)
        finally:
            await store.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def _dead_letter(stack: Stack) -> int:
    """A stored event whose handlers 'failed' for good, made through the store's own claim/fail API."""

    async def kill(store: SQLiteStore) -> int:
        (claimed,) = await store.claim("test-worker", 1, 30.0, now=1e10)
        assert await store.fail(claimed.event.id, "test-worker", "KeyError: 'user'", None, now=1e10)
        return claimed.event.id

    return _with_store(stack, kill)


def test_dead_letter_is_redispatched_from_the_page(stack: Stack, page: Any) -> None:
    stack.subscribe()
    trigger_remote(stack.emulator_url, "aaa.favorite")
    _wait_for_events(stack, 1)
    event_id = _dead_letter(stack)

    page.goto(f"{stack.dashboard}/")
    assert "1 event dead-lettered" in page.locator(".alerts").inner_text()
    page.goto(f"{stack.dashboard}/dead")
    row = page.locator("table.grid tbody tr", has_text="KeyError")
    assert row.count() == 1
    row.locator("button", has_text="Re-dispatch").click()
    assert "1 event re-dispatched" in page.locator(".flash.ok").inner_text()
    assert "No dead letters" in page.locator("table.grid").inner_text()
    event = read_store(stack.db, lambda store: store.event(event_id))
    assert event is not None and (event.status, event.attempts) == ("pending", 0)


def test_webhook_is_created_and_deleted_against_the_emulator(stack: Stack, page: Any) -> None:
    page.goto(f"{stack.dashboard}/webhooks")
    assert "No webhook is registered" in page.locator("#webhooks").inner_text()
    page.fill("#create-webhook input[name=url]", stack.webhook_url)
    page.click("#create-webhook button")
    assert "created" in page.locator(".flash.ok").inner_text()
    (hook,) = stack.emulator.state.webhooks()
    assert hook.url == stack.webhook_url and hook.valid
    row = page.locator(f"#webhooks tr[data-webhook='{hook.id}']")
    assert "valid" in row.inner_text()

    page.goto(f"{stack.dashboard}/")
    crc_answered = page.locator("table.grid", has_text="Receiver path").locator("tbody tr").first
    assert "200" in crc_answered.inner_text()  # the emulator's CRC, answered by this receiver

    page.goto(f"{stack.dashboard}/webhooks")
    row.locator("button", has_text="Delete").click()
    assert f"webhook {hook.id} deleted" in page.locator(".flash.ok").inner_text()
    assert stack.emulator.state.webhooks() == []
    assert "No webhook is registered" in page.locator("#webhooks").inner_text()


def test_emulator_view_lists_webhooks_with_their_crc_history(stack: Stack, page: Any) -> None:
    webhook_id = stack.subscribe()
    page.goto(f"{stack.emulator_url}/_xhooks/")
    row = page.locator("#emu-webhooks tbody tr", has_text=webhook_id)
    assert "valid" in row.inner_text()
    assert stack.dev["id"] in row.inner_text()
    assert "none since the emulator started" not in row.inner_text()  # the CRC sent when it was created
    assert "ms" in row.locator("td").last.inner_text()
    text = page.locator("main").inner_text()
    assert stack.bearer not in text and stack.emulator.credentials()["apps"][0]["consumer_secret"] not in text


def _wait_for_events(stack: Stack, count: int) -> None:
    deadline = time.monotonic() + 60  # a hang guard
    while len(stack.events()) < count:
        assert time.monotonic() < deadline, "the emulator's delivery never arrived"
        time.sleep(0.05)


def test_watcher_alerts_and_gaps_to_recover_are_shown(stack: Stack, page: Any) -> None:
    now = time.time()

    async def outage(store: SQLiteStore) -> None:
        await store.mark("up", now - 3600, now - 3000, 5.0)
        await store.mark("up", now - 1200, now - 10, 5.0)  # down for 30 minutes in between
        await store.mark("alert:receiver_down", now - 2990, now - 2990, 0.0)

    _with_store(stack, outage)
    page.goto(f"{stack.dashboard}/")
    assert "Watcher alert receiver_down" in page.locator(".alerts").inner_text()
    page.goto(f"{stack.dashboard}/replay")
    gap = page.locator("#gaps tbody tr").first  # the oldest: the half hour without heartbeat
    assert "down" in gap.inner_text() and "not yet" in gap.inner_text()
    gap.locator("a").click()
    assert page.input_value("input[name=from_date]").endswith("Z")
    assert page.input_value("input[name=from_date]") != "1h ago"


def test_replay_form_asks_x_and_explains_a_refused_window(stack: Stack, page: Any) -> None:
    stack.subscribe()
    page.goto(f"{stack.dashboard}/replay")
    assert "past 24 hours" in page.locator("aside.rules").inner_text()
    page.fill("input[name=from_date]", "2d ago")
    page.click("#replay-form button")
    assert "X replays only the past 24 hours" in page.locator(".flash.bad").inner_text()
    page.fill("input[name=from_date]", "30m ago")
    page.click("#replay-form button")
    assert "accepted" in page.locator(".flash.ok").inner_text()


def test_live_tail_survives_reconnects_without_losing_or_repeating_events(tmp_path: Path, page: Any) -> None:
    with running_stack(tmp_path / "xhooks.db", stream_seconds=0.3) as short:  # every stream ends after 0.3 s
        short.subscribe()
        page.goto(f"{short.dashboard}/live")
        page.wait_for_selector("#live-status.live")
        live = page.locator("#live")
        for number, name in enumerate(("aaa.follow", "aaa.favorite", "aaa.direct_message", "aaa.retweet"), 1):
            connections = int(live.get_attribute("data-connections") or 0)
            trigger_remote(short.emulator_url, name)
            _wait_for_events(short, number)
            page.wait_for_function(  # the stream ends and the browser reconnects in between
                "n => Number(document.getElementById('live').dataset.connections) > n", arg=connections
            )
        rows = page.locator("#live tbody tr[data-id]")
        rows.nth(3).wait_for()
        shown = sorted(int(row.get_attribute("data-id")) for row in rows.all())
        assert shown == sorted(event.id for event in short.events())
        assert int(live.get_attribute("data-connections")) > 1  # it did reconnect
        assert live.get_attribute("data-received") == "4"  # and each event came once: resumed, not replayed
