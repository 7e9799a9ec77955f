"""`/metrics`: scraped over real HTTP, parsed with prometheus_client's own parser; each metric moves with its cause."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.receiver.conftest import SECRET
from tests.support import serve_app
from xhooks.clock import SteppingClock
from xhooks.dispatch import Context, RetryPolicy, Worker, XHooks
from xhooks.errors import ConfigError
from xhooks.metrics import Metrics
from xhooks.protocol import parse_envelope, signature
from xhooks.protocol.events import Event
from xhooks.receiver import AppConfig, Receiver
from xhooks.store import Delivery, Storage
from xhooks.store.sqlite import SQLiteStore

TOKEN = "dGhpcy1pcy1hLWNyYy10b2tlbi1mcm9tLXg"
TWEET = b'{"for_user_id":"1","tweet_create_events":[{"id_str":"10","text":"hi"}]}'
FAVORITE = b'{"for_user_id":"1","favorite_events":[{"id":"f1","favorited_status":{"id_str":"10"}}]}'

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    response = httpx.get(url + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def url(tmp_path: Path, metrics: Metrics) -> Iterator[str]:
    receiver = Receiver(
        SQLiteStore(tmp_path / "metrics.db"), [AppConfig((SECRET,))], max_body=4096, metrics=metrics, clock=lambda: 5e8
    )
    with serve_app(receiver) as base:
        yield base


def _post(url: str, body: bytes, secret: str | None = SECRET) -> int:
    headers = {"x-twitter-webhooks-signature": signature(body, secret)} if secret else {}
    return httpx.post(url + "/webhook", content=body, headers=headers).status_code


def test_a_stored_delivery_counts_its_result_events_and_intake_latency(url: str) -> None:
    before = scrape(url)
    assert _post(url, TWEET) == 200
    assert _post(url, FAVORITE) == 200
    after = scrape(url)
    assert moved(before, after, "xhooks_deliveries_total", result="stored") == 2
    assert moved(before, after, "xhooks_events_total", type="tweet_create_events") == 1
    assert moved(before, after, "xhooks_events_total", type="favorite_events") == 1
    assert moved(before, after, "xhooks_intake_latency_seconds_count") == 2
    assert value(after, "xhooks_intake_latency_seconds_sum") > 0
    assert moved(before, after, "xhooks_duplicates_total") == 0


def test_a_delivery_seen_again_counts_as_duplicate(url: str) -> None:
    assert _post(url, TWEET) == 200
    before = scrape(url)
    assert _post(url, TWEET) == 200
    after = scrape(url)
    assert moved(before, after, "xhooks_duplicates_total") == 1
    assert moved(before, after, "xhooks_deliveries_total", result="duplicate") == 1
    assert moved(before, after, "xhooks_deliveries_total", result="stored") == 0


@pytest.mark.parametrize(
    ("secret", "result"),
    [pytest.param("another-apps-secret", "signature_mismatch", id="mismatch"), pytest.param(None, "signature_missing")],
)
def test_a_refused_signature_counts_as_failure(url: str, secret: str | None, result: str) -> None:
    before = scrape(url)
    assert _post(url, TWEET, secret) in (401, 403)
    after = scrape(url)
    assert moved(before, after, "xhooks_signature_failures_total") == 1
    assert moved(before, after, "xhooks_deliveries_total", result=result) == 1
    assert moved(before, after, "xhooks_events_total", type="tweet_create_events") == 0


def test_a_body_over_the_limit_counts_as_too_large(url: str) -> None:
    before = scrape(url)
    assert _post(url, b"x" * 5000) == 413
    assert moved(before, scrape(url), "xhooks_deliveries_total", result="too_large") == 1


def test_an_answered_crc_counts_its_latency_and_time_of_success(url: str) -> None:
    before = scrape(url)
    assert value(before, "xhooks_last_crc_success_timestamp_seconds") == 0
    assert httpx.get(url + "/webhook", params={"crc_token": TOKEN}).status_code == 200
    assert httpx.get(url + "/webhook", params={"crc_token": "not a token"}).status_code == 400
    after = scrape(url)
    assert moved(before, after, "xhooks_crc_requests_total", result="answered") == 1
    assert moved(before, after, "xhooks_crc_requests_total", result="InvalidCrcToken") == 1
    assert moved(before, after, "xhooks_crc_latency_seconds_count") == 1
    assert value(after, "xhooks_last_crc_success_timestamp_seconds") == 5e8


async def test_dispatch_metrics_move_as_a_worker_handles_retries_and_dead_letters(tmp_path: Path) -> None:
    metrics, clock, store = Metrics(), SteppingClock(start=1000.0), SQLiteStore(tmp_path / "dispatch.db")
    hooks = XHooks()

    @hooks.on_any
    async def broken(event: Event, ctx: Context) -> None:
        raise RuntimeError("downstream is down")

    await store.start()
    try:
        await store.record(Delivery.received("/webhook", TWEET, 990.0))
        worker = Worker(store, hooks, clock=clock, retry=RetryPolicy(max_attempts=2, base=0.0), metrics=metrics)
        assert await worker.run_once() == 1
        assert await worker.run_once() == 1
    finally:
        await store.close()
    sample = metrics.registry.get_sample_value
    assert sample("xhooks_dispatch_lag_seconds_count") == 2
    assert sample("xhooks_dispatch_lag_seconds_sum") == 20.0  # received at 990, started at 1000 (twice)
    assert sample("xhooks_handler_failures_total") == 2
    assert sample("xhooks_handler_retries_total") == 1
    assert sample("xhooks_dead_letters") == 1


def test_stored_counts_a_mixed_delivery_as_stored() -> None:
    metrics = Metrics()
    events = parse_envelope(b'{"for_user_id":"1","tweet_create_events":[{"id_str":"1"},{"id_str":"2"}]}').events
    metrics.stored(events, duplicates=1, seconds=0.001)
    metrics.stored(events, duplicates=2, seconds=0.001)
    text = metrics.render().decode()
    assert 'xhooks_deliveries_total{result="stored"} 1.0' in text
    assert 'xhooks_deliveries_total{result="duplicate"} 1.0' in text
    assert 'xhooks_events_total{type="tweet_create_events"} 4.0' in text


def test_metrics_path_cannot_be_a_webhook_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="/metrics"):
        Receiver(SQLiteStore(tmp_path / "x.db"), [AppConfig((SECRET,), path="/metrics")])


def test_a_scrape_reads_the_stores_size_free_disk_and_oldest_body(url: str, tmp_path: Path) -> None:
    before = scrape(url)
    assert math.isnan(value(before, "xhooks_oldest_body_timestamp_seconds"))  # nothing kept yet
    assert math.isnan(value(before, "xhooks_next_prune_timestamp_seconds"))  # no pruner in this process
    assert _post(url, TWEET) == 200
    after = scrape(url)
    db = tmp_path / "metrics.db"
    on_disk = db.stat().st_size + (tmp_path / "metrics.db-wal").stat().st_size
    assert value(after, "xhooks_store_size_bytes") == on_disk > value(before, "xhooks_store_size_bytes")
    assert value(after, "xhooks_oldest_body_timestamp_seconds") == 5e8  # the receiver's clock
    disk = shutil.disk_usage(tmp_path)
    assert value(after, "xhooks_disk_total_bytes") == disk.total
    assert 0 < value(after, "xhooks_disk_free_bytes") <= disk.total


def test_storage_gauges_read_nan_when_the_store_cannot_be_measured() -> None:
    metrics = Metrics()
    metrics.storage(Storage(10, 20, 30, 40.0))
    metrics.storage(None)  # a failed read must not leave the last numbers up
    sample = metrics.registry.get_sample_value
    names = ("store_size_bytes", "disk_free_bytes", "disk_total_bytes", "oldest_body_timestamp_seconds")
    assert all(math.isnan(sample(f"xhooks_{name}") or 0.0) for name in names)
