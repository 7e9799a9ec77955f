"""Webhook health against the emulator on X's manual clock: a wrong secret fails X's scheduled CRCs, X marks the
webhook invalid, an alert goes out, and once the receiver is fixed the watcher re-validates it by itself.

The receiver checks the signature X puts on a CRC, so with a wrong secret it answers 403: a transient failure
for X, which marks the webhook invalid after 28 hours without a success.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.watch.conftest import Sink, World, watch, world_at
from xhooks.watch import WatchConfig, Watcher


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    # X's scheduled CRC also re-validates a webhook once its URL answers again; here it runs every 29 hours
    # (the first one fails and makes the webhook invalid), so the watcher has 29 hours to be the one that fixes it.
    yield from world_at(tmp_path, crc_interval=29 * 3600.0)


async def test_invalid_webhook_is_revalidated_once_the_receiver_is_fixed(world: World, sink: tuple[Sink, str]) -> None:
    alerts, alert_url = sink
    async with world.receiver(heartbeat=None):
        webhook_id = world.register()
    config = WatchConfig(interval=600.0, revalidate_backoff=600.0, max_backoff=3600.0, alert_url=alert_url)
    async with world.client() as x, world.watcher_store() as store:
        watcher = Watcher(x, store, config, clock=world.clock, metrics=world.metrics)
        async with world.receiver(secret="a-secret-from-another-app", heartbeat=None):  # a deploy gone wrong
            await watch(world, watcher, lambda: not world.valid(webhook_id), "X's scheduled CRC to invalidate it")
            await watch(world, watcher, lambda: ("webhook_invalid:" + webhook_id, "firing") in alerts.states(), "alert")
        logged = world.read(lambda store: store.crcs(since=0.0))  # the receiver logged X's CRCs: refused, then
        assert logged[0].outcome == "SignatureMismatch" and logged[-1].outcome == "answered"
        async with world.receiver(heartbeat=None):  # fixed: nobody touches the webhook
            await watch(world, watcher, lambda: ("webhook_invalid:" + webhook_id, "resolved") in alerts.states(), "fix")
            assert world.valid(webhook_id)
            world.trigger("aaa.favorite")
            assert len(world.stored("favorite_events")) == 1  # delivered after re-validation
    failures = [outcome for outcome in watcher.health.outcomes if outcome.result != "valid"]
    assert failures and all(outcome.result.startswith("CrcValidationFailed") for outcome in failures)
    assert watcher.health.outcomes[-1].result == "valid"
    gaps = [later.at - earlier.at for earlier, later in zip(failures, failures[1:], strict=False)]
    assert all(gap >= min(600.0 * 2**n, 3600.0) for n, gap in enumerate(gaps))  # backoff, on the watcher's clock
    firing = next(alert for alert in alerts.received if alert["state"] == "firing")
    assert "invalid" in firing["text"] and webhook_id in firing["text"]
    assert world.metrics.registry.get_sample_value("xhooks_webhook_valid", {"webhook_id": webhook_id}) == 1
