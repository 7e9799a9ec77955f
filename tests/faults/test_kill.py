"""SIGKILL of `xhooks serve` under load, three times over: nothing acknowledged is lost, no event is stored twice.

Each round restarts the server on the same database, first re-sends what the previous round did not see
acknowledged (as X retries), then sends new deliveries until the server is killed mid-load. A last round
without a kill re-sends whatever is still unacknowledged, so at the end every delivery has been acknowledged
once at least and the store can be compared with what was sent, key by key.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from bench.payloads import deliveries
from tests.faults._serve import SECRET, signed, stored, xhooks_serve
from xhooks.protocol import parse_envelope

ROUNDS = 3
PER_ROUND = 900
KILL_AFTER = 300


async def _deliver(url: str, bodies: Sequence[bytes], acked: set[bytes], kill_pid: int | None) -> None:
    """POST `bodies` over 16 connections; if `kill_pid` is set, SIGKILL it once KILL_AFTER more were acknowledged."""
    pending = iter(bodies)
    goal = len(acked) + KILL_AFTER

    async def sender(client: httpx.AsyncClient) -> None:
        for body in pending:
            try:
                response = await client.post(url, content=body, headers=signed(body))
            except httpx.TransportError:
                continue  # killed mid-request: unacknowledged, X would retry it
            if response.status_code == 200:
                acked.add(body)

    async def killer() -> None:
        deadline = time.monotonic() + 300  # a hang guard
        while len(acked) < goal and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        assert kill_pid is not None
        os.kill(kill_pid, signal.SIGKILL)

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=16)) as client:
        tasks = [sender(client) for _ in range(16)]
        if kill_pid is not None:
            tasks.append(killer())
        await asyncio.gather(*tasks)


@pytest.mark.slow
def test_repeated_sigkill_under_load_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "kill.db"
    sent = [d.body for d in deliveries(ROUNDS * PER_ROUND, SECRET, duplicate_share=0.1, seed=3)]
    acked: set[bytes] = set()
    for round_number in range(ROUNDS + 1):
        retries = [body for body in sent[: round_number * PER_ROUND] if body not in acked]
        fresh = sent[round_number * PER_ROUND : (round_number + 1) * PER_ROUND]
        with xhooks_serve(db) as (server, url):
            before = len(acked)
            kill = server.pid if round_number < ROUNDS else None
            asyncio.run(_deliver(url, [*retries, *fresh], acked, kill))
            if kill is not None:
                assert server.wait(60) == -signal.SIGKILL
                assert before < len(acked) < before + len(retries) + len(fresh), "the kill did not land mid-load"

    assert acked == set(sent), "the last round (no kill) should have acknowledged every delivery"
    bodies, keys = stored(db)
    assert set(bodies) == set(sent)
    expected_keys = {event.key for body in sent for event in parse_envelope(body).events}
    assert set(keys) == expected_keys, "an acknowledged event is missing, or an event was never sent"
    assert [key for key, rows in keys.items() if rows != 1] == [], "an event is stored twice"
