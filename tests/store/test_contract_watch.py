"""The health part of the store contract (CRC log, heartbeat and other spans): every engine, one test body."""

from __future__ import annotations

from xhooks.store import CrcRecord, Span, Store


async def test_crc_log_is_read_back_newest_first(store: Store) -> None:
    await store.record_crc(CrcRecord("/webhook", 10.0, 0.002, 200, "answered"))
    await store.record_crc(CrcRecord("/webhook", 20.0, 0.001, 400, "InvalidCrcToken"))
    await store.mark("up", 21.0, 21.0, 5.0)  # a waiting write flushes the queued CRC records
    logged = await store.crcs(since=0.0)
    assert [(crc.at, crc.outcome) for crc in logged] == [(20.0, "InvalidCrcToken"), (10.0, "answered")]
    assert await store.crcs(since=15.0) == [CrcRecord("/webhook", 20.0, 0.001, 400, "InvalidCrcToken")]
    assert len(await store.crcs(since=0.0, limit=1)) == 1


async def test_heartbeats_within_max_gap_make_one_span_and_a_gap_starts_another(store: Store) -> None:
    for at in (100.0, 105.0, 110.0, 200.0, 204.0):
        await store.mark("up", at, at, max_gap=15.0)
    assert await store.spans("up", since=0.0) == [Span("up", 100.0, 110.0), Span("up", 200.0, 204.0)]
    assert await store.spans("up", since=150.0) == [Span("up", 200.0, 204.0)]
    assert await store.spans("rejected", since=0.0) == []


async def test_an_overlapping_stretch_widens_the_newest_span(store: Store) -> None:
    await store.mark("recovered:1", 60.0, 120.0, max_gap=0.0)
    await store.mark("recovered:1", 30.0, 90.0, max_gap=0.0)
    await store.mark("recovered:1", 500.0, 560.0, max_gap=0.0)
    await store.mark("recovered:2", 0.0, 1000.0, max_gap=0.0)
    spans = await store.spans("recovered:1", since=0.0)
    assert spans == [Span("recovered:1", 30.0, 120.0), Span("recovered:1", 500.0, 560.0)]
