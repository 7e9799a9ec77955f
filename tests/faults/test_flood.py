"""A flood of 10,000 byte-identical copies of one delivery: one event, and every copy counted as a duplicate."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bench.load import run_python, write_requests
from bench.payloads import deliveries, post_request
from tests.faults._serve import SECRET, xhooks_serve

COPIES = 10_000


@pytest.mark.slow
def test_flood_of_one_event_stores_one_event_and_counts_every_copy(tmp_path: Path) -> None:
    delivery = next(deliveries(1, SECRET, seed=11))
    requests = tmp_path / "flood.requests"
    write_requests(requests, [post_request("/webhook", delivery)] * COPIES)
    db = tmp_path / "flood.db"
    with xhooks_serve(db) as (_, url):
        port = int(url.split(":")[2].split("/")[0])
        result = run_python(
            requests, [port], connections=32, duration=60, max_requests=COPIES, cpu=None, workdir=tmp_path
        )
    assert result.statuses == {"200": COPIES}
    assert result.transport_errors == 0
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM deliveries").fetchone()[0] == COPIES
    assert conn.execute("SELECT count(*), sum(duplicates) FROM events").fetchall() == [(1, COPIES - 1)]
    assert conn.execute("SELECT count(*) FROM sightings").fetchone()[0] == COPIES - 1
