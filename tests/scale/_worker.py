"""A worker process for the scale tests, written against the public Store API only.

It claims events, and for each runs a transactional handler: one row in `effects` written in the same
transaction that marks the event handled. Run: `python _worker.py POSTGRES_URL NAME LEASE_SECONDS`.
It stops on SIGTERM, or after two minutes whatever happens.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time

from xhooks.errors import StoreError
from xhooks.store import open_store

EFFECT = "INSERT INTO effects (event_id, key, for_user_id, worker) VALUES ($1, $2, $3, $4)"


async def work(url: str, name: str, lease: float) -> None:
    store = open_store(url)
    await store.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    deadline = time.monotonic() + 120
    print("ready", flush=True)
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            claimed = await store.claim(name, limit=8, lease=lease, now=time.time())
        except StoreError:
            await asyncio.sleep(0.1)
            continue
        if not claimed:
            await store.wait_for_events(1.0)
            continue
        for item in claimed:
            event = item.event
            try:
                async with store.completing(event.id, name, time.time()) as conn:
                    await conn.execute(EFFECT, event.id, event.key, event.for_user_id, name)
            except StoreError:
                pass  # the lease was lost or the database is away: the lease expires and a worker retakes it
    await store.close()


if __name__ == "__main__":
    asyncio.run(work(sys.argv[1], sys.argv[2], float(sys.argv[3])))
