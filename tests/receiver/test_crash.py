"""Issue #2 "done means" 3: SIGKILL under concurrent load loses no acknowledged delivery and duplicates no event."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from tests.support import free_port, spawn, xhooks_cmd
from xhooks.protocol import signature

SECRET = "crash-test-secret"


def _bodies(count: int) -> list[bytes]:
    """Mixed AAA (several events per POST), XAA and filtered-stream bodies; every 7th repeats an earlier one."""
    bodies: list[bytes] = []
    for n in range(count):
        if n % 7 == 6:
            bodies.append(bodies[n // 2])
            continue
        kind = n % 3
        if kind == 0:
            doc: dict[str, object] = {
                "for_user_id": str(n % 5),
                "tweet_create_events": [{"id_str": f"{n}0", "text": "caf\u00e9"}, {"id_str": f"{n}1"}],
            }
        elif kind == 1:
            doc = {"data": {"event_uuid": str(-n), "event_type": "post.create", "filter": {"user_id": "9"}}}
        else:
            doc = {"data": {"id": f"fs{n}", "text": "x" * 500}, "matching_rules": [{"id": "1", "tag": "t"}]}
        bodies.append(json.dumps(doc, ensure_ascii=True).encode())
    return bodies


async def _send_all(url: str, bodies: list[bytes], acked: list[bytes], concurrency: int = 16) -> None:
    queue = iter(bodies)
    async with httpx.AsyncClient(timeout=5) as client:

        async def worker() -> None:
            for body in queue:
                try:
                    response = await client.post(
                        url, content=body, headers={"x-twitter-webhooks-signature": signature(body, SECRET)}
                    )
                except httpx.TransportError:
                    continue
                if response.status_code == 200:
                    acked.append(body)

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def _serve(db: Path, port: int):  # type: ignore[no-untyped-def]
    args = xhooks_cmd("serve", "--consumer-secret", SECRET, "--db", str(db), "--port", str(port))
    return spawn(args, ready_url=f"http://127.0.0.1:{port}/healthz")


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_delivery(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhook"
    bodies = _bodies(3000)
    acked: list[bytes] = []
    with _serve(db, port) as server:

        async def load_then_kill() -> None:
            sender = asyncio.create_task(_send_all(url, bodies[:2000], acked))
            deadline = time.monotonic() + 60  # a hang guard: the kill waits for 600 acknowledgements
            while len(acked) < 600 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            os.kill(server.pid, signal.SIGKILL)
            await sender

        asyncio.run(load_then_kill())
        server.wait(60)
    killed_after = len(acked)
    assert 600 <= killed_after < 2000, f"the kill did not happen mid-run ({killed_after} acknowledged)"
    with _serve(db, port):
        asyncio.run(_send_all(url, bodies[2000:], acked))

    conn = sqlite3.connect(db)
    stored = {bytes(row[0]) for row in conn.execute("SELECT body FROM deliveries")}
    assert set(acked) <= stored, "an acknowledged delivery is missing from the store"
    assert (
        conn.execute("SELECT count(*) FROM (SELECT 1 FROM events GROUP BY app, key HAVING count(*) > 1)").fetchone()[0]
        == 0
    )
    stored_keys = {row[0] for row in conn.execute("SELECT key FROM events")}
    from xhooks.protocol import parse_envelope

    acked_keys = set(itertools.chain.from_iterable((e.key for e in parse_envelope(b).events) for b in acked))
    assert acked_keys <= stored_keys
    assert len(acked) > killed_after  # the restarted server kept acknowledging
