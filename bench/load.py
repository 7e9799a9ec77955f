"""The load generator: keep `connections` HTTP/1.1 keep-alive connections to 127.0.0.1 busy with pre-built requests.

Two engines read the same request file (`write_requests`), so every target gets the same bytes in the same order:

* `wrk` (when installed): a Lua script loads the file and hands the requests out in order. wrk only reports
  counts and latency percentiles, not which request was acknowledged.
* `python`: raw asyncio protocols on uvloop, one coroutine per connection. It records every acknowledged
  request's index, so the store check can match keys exactly. Run as `python -m bench.load …`.

The request file wraps around when a run outlasts it; the wrap count is reported (a wrapped POST is a duplicate).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["LoadResult", "read_requests", "run_python", "run_wrk", "wrk_available", "write_requests"]

_MAGIC = b"XHB1"
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)")
_CLOSE = re.compile(rb"(?im)^connection:[ \t]*close")


@dataclass
class LoadResult:
    """What one load run measured, from the load generator's side."""

    engine: str
    duration_s: float
    completed: int
    statuses: dict[str, int]
    transport_errors: int
    in_flight_at_end: int
    wrapped: int
    latency_ms: dict[str, float]
    acked_file: str | None = None
    """Python engine only: a file of uint32 request indexes answered 200, in completion order."""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return self.statuses.get("200", 0)

    @property
    def errors(self) -> int:
        return self.completed - self.ok + self.transport_errors


def write_requests(path: Path, requests: Iterable[bytes]) -> int:
    """Write raw HTTP requests to `path` in the format both engines read; return how many."""
    count = 0
    with path.open("wb") as out:
        out.write(_MAGIC + b" " + b"0" * 12 + b"\n")
        for request in requests:
            out.write(b"%d\n" % len(request))
            out.write(request)
            count += 1
        out.seek(0)
        out.write(_MAGIC + b" " + b"%012d" % count + b"\n")
    return count


def read_requests(path: Path) -> list[bytes]:
    data = path.read_bytes()
    head, _, rest = data.partition(b"\n")
    count = int(head.split()[1])
    requests: list[bytes] = []
    view = memoryview(rest)
    pos = 0
    for _ in range(count):
        newline = rest.index(b"\n", pos)
        length = int(rest[pos:newline])
        requests.append(bytes(view[newline + 1 : newline + 1 + length]))
        pos = newline + 1 + length
    return requests


def _percentiles(latencies_s: Sequence[float]) -> dict[str, float]:
    if not latencies_s:
        return {"p50": float("nan"), "p99": float("nan"), "p99.9": float("nan"), "max": float("nan")}
    ordered = sorted(latencies_s)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50": at(0.50), "p99": at(0.99), "p99.9": at(0.999), "max": ordered[-1] * 1000}


# -- the Python engine ---------------------------------------------------------------------------------------


class _Connection(asyncio.Protocol):
    """One client connection: write a request, resolve `waiter` with (status, close) when the answer is complete."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[tuple[int, bool]] | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not asyncio.Transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None or self.waiter.done():
            return
        head = bytes(self.buffer[:end])
        match = _CONTENT_LENGTH.search(head)
        total = end + 4 + (int(match.group(1)) if match else 0)
        if len(self.buffer) < total:
            return
        del self.buffer[:total]
        self.waiter.set_result((int(head[9:12]), _CLOSE.search(head) is not None))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed before the answer"))


class _Run:
    def __init__(self, requests: Sequence[bytes], max_requests: int, deadline: float) -> None:
        self.requests = requests
        self.max_requests = max_requests
        self.deadline = deadline
        self.issued = 0
        self.completed = 0
        self.transport_errors = 0
        self.in_flight = 0
        self.statuses: dict[int, int] = {}
        self.latencies: list[float] = []
        self.acked = array("I")

    def next_index(self) -> int | None:
        if self.issued >= self.max_requests or time.perf_counter() >= self.deadline:
            return None
        self.issued += 1
        return (self.issued - 1) % len(self.requests)


async def _client(run: _Run, port: int) -> None:
    loop = asyncio.get_running_loop()
    conn: _Connection | None = None
    while (index := run.next_index()) is not None:
        if conn is None or conn.lost:
            try:
                _, conn = await loop.create_connection(_Connection, "127.0.0.1", port)
            except OSError:
                run.transport_errors += 1
                conn = None
                await asyncio.sleep(0.01)
                continue
        assert conn.transport is not None
        conn.waiter = loop.create_future()
        run.in_flight += 1
        started = time.perf_counter()
        conn.transport.write(run.requests[index])
        try:
            status, close = await conn.waiter
        except ConnectionError:
            run.in_flight -= 1
            run.transport_errors += 1
            conn = None
            continue
        run.in_flight -= 1
        run.latencies.append(time.perf_counter() - started)
        run.completed += 1
        run.statuses[status] = run.statuses.get(status, 0) + 1
        if status == 200:
            run.acked.append(index)
        if close:
            if conn.transport is not None:
                conn.transport.close()
            conn = None
    if conn is not None and conn.transport is not None:
        conn.transport.close()


async def _drive(
    requests: Sequence[bytes], ports: Sequence[int], connections: int, duration: float, max_requests: int, grace: float
) -> _Run:
    started = time.perf_counter()
    run = _Run(requests, max_requests, started + duration)
    tasks = [asyncio.create_task(_client(run, ports[n % len(ports)])) for n in range(connections)]
    _, pending = await asyncio.wait(tasks, timeout=duration + grace)
    for task in pending:  # a connection the server never answered: its request counts as in flight
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    run.deadline = time.perf_counter() - started  # reuse as elapsed
    return run


def _python_main(args: argparse.Namespace) -> None:
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    requests = read_requests(Path(args.requests))
    run = asyncio.run(_drive(requests, args.port, args.connections, args.duration, args.max_requests, args.grace))
    Path(args.acked).write_bytes(run.acked.tobytes())
    result = LoadResult(
        engine="python",
        duration_s=min(run.deadline, args.duration + args.grace),
        completed=run.completed,
        statuses={str(code): count for code, count in sorted(run.statuses.items())},
        transport_errors=run.transport_errors,
        in_flight_at_end=run.in_flight,
        wrapped=max(0, run.issued - len(requests)),
        latency_ms=_percentiles(run.latencies),
        acked_file=args.acked,
    )
    json.dump(asdict(result), sys.stdout)


def run_python(
    requests_file: Path,
    ports: Sequence[int],
    *,
    connections: int,
    duration: float,
    max_requests: int,
    cpu: int | None,
    workdir: Path,
) -> LoadResult:
    """Run the Python engine in its own process (pinned to `cpu`) and return its result.

    Connections are spread evenly over `ports` (several receiver processes sharing one store).
    """
    acked = workdir / f"acked-{ports[0]}-{time.monotonic_ns()}.tmp"
    grace = 10.0
    command = [
        sys.executable,
        "-m",
        "bench.load",
        "--requests",
        str(requests_file),
        *[f"--port={port}" for port in ports],
        "--connections",
        str(connections),
        "--duration",
        str(duration),
        "--max-requests",
        str(max_requests),
        "--grace",
        str(grace),
        "--acked",
        str(acked),
    ]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    done = subprocess.run(
        command,
        capture_output=True,
        check=True,
        timeout=duration + grace + 120,
        cwd=Path(__file__).resolve().parents[1],
    )
    return LoadResult(**json.loads(done.stdout))


# -- the wrk engine -----------------------------------------------------------------------------------------

_LUA = """
local path = %(path)s
pool, total, issued, ok, other = {}, 0, 0, 0, 0
function init(args)
  local f = assert(io.open(path, "rb"))
  total = tonumber(f:read("*l"):match(" (%%d+)"))
  for k = 1, total do
    local length = tonumber(f:read("*l"))
    pool[k] = f:read(length)
  end
  f:close()
end
function request()
  issued = issued + 1
  return pool[(issued - 1) %% total + 1]
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local t = threads[1]
  io.write(string.format(
    "\\nXHB-RESULT {\\"issued\\":%%d,\\"ok\\":%%d,\\"other\\":%%d,\\"total\\":%%d,\\"completed\\":%%d," ..
    "\\"duration_us\\":%%d,\\"connect\\":%%d,\\"read\\":%%d,\\"write\\":%%d,\\"timeout\\":%%d," ..
    "\\"p50\\":%%d,\\"p99\\":%%d,\\"p999\\":%%d,\\"max\\":%%d}\\n",
    t:get("issued"), t:get("ok"), t:get("other"), t:get("total"), summary.requests, summary.duration,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    requests_file: Path, port: int, path: str, *, connections: int, duration: float, cpu: int | None, workdir: Path
) -> LoadResult:
    """Run wrk with one thread (pinned to `cpu`) over the request file and return its result."""
    script = workdir / f"load-{port}.lua.tmp"
    script.write_text(_LUA % {"path": json.dumps(str(requests_file))})
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}{path}",
    ]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    with tempfile.TemporaryFile() as err:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=err, check=True, timeout=duration + 180)
    line = next(line for line in done.stdout.decode().splitlines() if line.startswith("XHB-RESULT "))
    raw = json.loads(line.removeprefix("XHB-RESULT "))
    transport = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    statuses = {"200": raw["ok"]}
    if raw["other"]:
        statuses["other"] = raw["other"]
    script.unlink()
    return LoadResult(
        engine="wrk",
        duration_s=raw["duration_us"] / 1e6,
        completed=raw["ok"] + raw["other"],
        statuses=statuses,
        transport_errors=transport,
        in_flight_at_end=max(0, raw["issued"] - raw["ok"] - raw["other"]),
        wrapped=max(0, raw["issued"] - raw["total"]),
        latency_ms={
            "p50": raw["p50"] / 1000,
            "p99": raw["p99"] / 1000,
            "p99.9": raw["p999"] / 1000,
            "max": raw["max"] / 1000,
        },
        notes=[f"wrk: issued {raw['issued']} requests"],
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="xhooks bench load generator (Python engine)")
    parser.add_argument("--requests", required=True)
    parser.add_argument("--port", type=int, action="append", required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=10_000_000)
    parser.add_argument("--grace", type=float, default=10.0)
    parser.add_argument("--acked", required=True)
    parser.add_argument("--cpu", type=int)
    _python_main(parser.parse_args(argv))


if __name__ == "__main__":
    main()
