"""Relay what an intake target just stored to every sink whose server answers, and measure each relay.

For each sink in turn, `xhooks relay` runs as its own process pinned to the server's core, on the store the intake
phase filled, until that sink has every event; the figures are the relayed events per second and the relay
process's CPU per event (user + system), both counted from the first batch marked to the last. The sinks' servers
are the machine's (Redis 6379, NATS JetStream 4222, RabbitMQ 5672) and, for HTTP, a bare ASGI endpoint that answers
204 (`references/relay_endpoint.py`) under uvicorn; each run uses a stream, subject or queue of its own and removes
it afterwards. Their own CPU is not counted. A sink whose server does not answer is skipped and said so.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bench.targets import ROOT, _cpu_seconds, _pin

__all__ = ["SINKS", "bench_relays"]

SINKS = ("redis", "nats", "rabbitmq", "http")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
_PORTS = {"redis": 6379, "nats": 4222, "rabbitmq": 5672}


@dataclass
class _Sink:
    name: str
    url: str
    token: str


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _count(db: str, statement: str, *args: object) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as conn:
        (count,) = conn.execute(statement, args).fetchone()
    return int(count)


@contextlib.contextmanager
def _endpoint(name: str, token: str) -> Iterator[str]:
    """The sink's URL, with what it needs made before the relay starts and removed after it."""
    if name == "redis":
        yield f"redis://127.0.0.1:6379/0?stream=xhooks-bench-{token}#bench-redis-{token}"
        asyncio.run(_drop_redis(f"xhooks-bench-{token}"))
    elif name == "nats":
        stream = f"XHOOKS_BENCH_{token.upper()}"
        yield f"nats://127.0.0.1:4222?subject=xhooks.bench.{token}.{{for_user_id}}&stream={stream}#bench-nats-{token}"
        asyncio.run(_drop_nats(stream))
    elif name == "rabbitmq":
        queue = f"xhooks-bench-{token}"
        asyncio.run(_rabbitmq_queue(queue, declare=True))
        yield f"amqp://guest:guest@127.0.0.1:5672/?exchange=&routing_key={queue}#bench-rabbitmq-{token}"
        asyncio.run(_rabbitmq_queue(queue, declare=False))
    else:
        port = _free_port()
        app = "bench.references.relay_endpoint:app"
        args = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--log-level", "warning", "--no-access-log"]
        server = subprocess.Popen(args, cwd=ROOT)
        try:
            deadline = time.monotonic() + 30
            while not _answers(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the bench's HTTP endpoint did not start")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}/x-events?secret={SECRET}#bench-http-{token}"
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)


async def _drop_redis(stream: str) -> None:
    import redis.asyncio as redis

    client = redis.Redis(host="127.0.0.1", port=6379)
    try:
        await client.delete(stream)
    finally:
        await client.aclose()


async def _drop_nats(stream: str) -> None:
    import nats

    nc = await nats.connect("nats://127.0.0.1:4222")
    try:
        with contextlib.suppress(Exception):
            await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()


async def _rabbitmq_queue(queue: str, *, declare: bool) -> None:
    import aio_pika

    connection = await aio_pika.connect_robust("amqp://guest:guest@127.0.0.1:5672/")
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=False, auto_delete=False)
        if not declare:
            await declared.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()


def _relay_one(db: str, name: str, events: int, cpu: int | None, timeout: float) -> dict[str, Any]:
    """Run one relay until the sink has every event. The figures count from the first events marked, so the
    interpreter's start and the sink's connection are left out; a run that marks everything in one go (a store
    smaller than a few batches) counts from the start instead."""
    token = secrets.token_hex(4)
    with _endpoint(name, token) as url:
        sink = url.rpartition("#")[2]
        args = [sys.executable, "-m", "xhooks", "relay", "--db", db, "--to", url, "--batch", "256"]
        started = time.monotonic()
        relay = subprocess.Popen(args, cwd=ROOT, preexec_fn=lambda: _pin(cpu), stderr=subprocess.DEVNULL)
        try:
            first: tuple[int, float, float] | None = None
            done, at, used = 0, started, 0.0
            deadline = started + timeout
            while done < events and time.monotonic() < deadline and relay.poll() is None:
                time.sleep(0.02)
                used = _cpu_seconds(relay.pid) or used
                done = _count(db, "SELECT count(*) FROM relay_events WHERE sink = ? AND status = 'handled'", sink)
                at = time.monotonic()
                if first is None and 0 < done < events:
                    first = (done, at, used)
        finally:
            relay.send_signal(signal.SIGTERM)
            relay.wait(30)
    base_done, base_at, base_used = first or (0, started, 0.0)
    counted, seconds = done - base_done, at - base_at
    return {
        "sink": name,
        "events": events,
        "relayed": done,
        "counted_events": counted,
        "seconds": seconds,
        "relayed_per_s": counted / seconds if seconds > 0 else 0.0,
        "cpu_us_per_event": (used - base_used) / counted * 1e6 if counted else float("nan"),
        "complete": done == events,
    }


def bench_relays(db: str, sinks: tuple[str, ...], cpu: int | None, timeout: float = 300.0) -> list[dict[str, Any]]:
    """Relay `db` (a SQLite store an intake target filled) to each of `sinks` in turn; one result per sink run."""
    events = _count(db, "SELECT count(*) FROM events WHERE status != 'quarantined'")
    results = []
    for name in sinks:
        if name in _PORTS and not _answers(_PORTS[name]):
            print(f"    relay {name}: no server on 127.0.0.1:{_PORTS[name]}, skipped", flush=True)
            continue
        result = _relay_one(db, name, events, cpu, timeout)
        print(
            f"    relay {name}: {result['relayed']}/{events} events, {result['relayed_per_s']:.0f}/s, "
            f"{result['cpu_us_per_event']:.0f} us CPU/event",
            flush=True,
        )
        results.append(result)
    return results
