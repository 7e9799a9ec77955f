"""Alerts: one message when an alert fires and one when it resolves, a Slack-compatible body, never an exception."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support import free_port, read_store
from tests.watch.conftest import Sink
from xhooks.client import AsyncXClient, Credentials
from xhooks.clock import SteppingClock
from xhooks.store.sqlite import SQLiteStore
from xhooks.watch import Alerts, WatchConfig, Watcher
from xhooks.watch.watcher import FAILING_AFTER


async def test_an_alert_is_sent_once_while_firing_and_once_resolved(sink: tuple[Sink, str], tmp_path: Path) -> None:
    received, url = sink
    clock, store = SteppingClock(start=1_767_225_600.0), SQLiteStore(tmp_path / "alerts.db")
    await store.start()
    alerts = Alerts(clock, webhook_url=url, store=store)
    try:
        await alerts.fire("webhook_invalid:7", "X marked webhook 7 invalid")
        clock.advance(600)
        await alerts.fire("webhook_invalid:7", "still invalid")
        assert [a.name for a in alerts.active.values()] == ["webhook_invalid:7"]
        await alerts.resolve("webhook_invalid:7", "webhook 7 is valid")
        await alerts.resolve("webhook_invalid:7", "webhook 7 is valid")
    finally:
        await alerts.aclose()
        await store.close()
    assert received.states() == [("webhook_invalid:7", "firing"), ("webhook_invalid:7", "resolved")]
    firing, resolved = received.received
    assert "X marked webhook 7 invalid" in firing["text"] and firing["since"] == "2026-01-01T00:00:00Z"
    assert "webhook 7 is valid" in resolved["text"] and resolved["at"] == "2026-01-01T00:10:00Z"
    assert alerts.active == {}
    snapshot = alerts.snapshot()
    assert snapshot["active"] == [] and [h["state"] for h in snapshot["history"]] == ["resolved", "firing"]
    (span,) = read_store(tmp_path / "alerts.db", lambda store: store.spans("alert:webhook_invalid:7", since=0.0))
    assert (span.start, span.end) == (1_767_225_600.0, 1_767_226_200.0)


async def test_an_unreachable_alert_webhook_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    alerts = Alerts(SteppingClock(), webhook_url=f"http://127.0.0.1:{free_port()}/nobody-listens")
    with caplog.at_level(logging.WARNING, logger="xhooks.watch"):
        await alerts.fire("receiver_down", "no heartbeat for 300 s")
    await alerts.aclose()
    assert "receiver_down" in alerts.active
    assert any("could not send alert receiver_down" in record.getMessage() for record in caplog.records)


async def test_a_watcher_that_cannot_reach_x_says_so(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "watch.db")
    await store.start()
    try:
        unreachable = f"http://127.0.0.1:{free_port()}"
        async with AsyncXClient(Credentials(bearer_token="t"), base_url=unreachable) as x:
            watcher = Watcher(x, store, WatchConfig(interval=1.0), clock=SteppingClock())
            await watcher.run(rounds=FAILING_AFTER - 1)
            assert watcher.alerts.active == {}
            await watcher.run(rounds=1)
    finally:
        await store.close()
    assert "watch_failing" in watcher.alerts.active
