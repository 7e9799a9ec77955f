"""Benchmark xhooks against what users would otherwise run, on this machine, in one run.

    python -m bench.run               # ~10 s per target and phase; prints the table and ratios
    python -m bench.run --quick       # ~3 s per target, smaller request file
    python -m bench.run --soak 300    # xhooks only, 5 minutes under load, memory sampled every few seconds

After the webhook targets, the same run measures the X Activity stream intake (`bench/stream.py`): `xhooks
stream` on the server core, committing `--stream-events` lines; `--stream-events 0` skips it.

Each server is pinned to one core and the load generator to the other. Results go to
bench/results/<timestamp>.json and .png, copied to latest.json and latest.png. See bench/README.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.util
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import report
from bench.check import check_store
from bench.load import LoadResult, read_requests, run_python, run_wrk, write_requests, wrk_available
from bench.payloads import crc_query, deliveries, post_request
from bench.relay import SINKS, bench_relays
from bench.stream import stream_intake
from bench.targets import ROOT, Target, core_busy_seconds, reference_targets, running, xhooks_target

SECRET = "xhooks-bench-consumer-secret-not-a-real-one"
RESULTS = Path(__file__).resolve().parent / "results"
POSTGRES_ADMIN = os.environ.get("XHOOKS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
POSTGRES_URL = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/xhooks_bench"
"""A database of the bench's own, dropped and created again before each PostgreSQL target (and dropped after)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _post_pool(count: int, first: int = 0) -> Path:
    """The request file of `count` signed deliveries (cached between runs: generation takes seconds)."""
    path = RESULTS / f"requests-{count}-{first}.tmp"
    if not path.exists():
        partial = path.with_suffix(".part.tmp")
        write_requests(partial, (post_request("/webhook", d) for d in deliveries(count, SECRET, first=first)))
        partial.replace(path)
    return path


def _crc_pool(count: int = 2_000) -> Path:
    path = RESULTS / f"crc-{count}.tmp"
    if not path.exists():
        requests = (f"GET /webhook?{crc_query(n)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() for n in range(count))
        write_requests(path, requests)
    return path


def _drive(engine: str, pool: Path, ports: list[int], duration: float, args: argparse.Namespace) -> LoadResult:
    if engine == "wrk" and len(ports) == 1:
        return run_wrk(
            pool,
            ports[0],
            "/webhook",
            connections=args.connections,
            duration=duration,
            cpu=args.load_cpu,
            workdir=RESULTS,
        )
    return run_python(
        pool,
        ports,
        connections=args.connections,
        duration=duration,
        max_requests=10**9,
        cpu=args.load_cpu,
        workdir=RESULTS,
    )


def _phase(load: LoadResult) -> dict[str, Any]:
    out = asdict(load)
    if load.acked_file:  # a scratch file, deleted after the check: keep its name, not this machine's path
        out["acked_file"] = Path(load.acked_file).name
    out["acked_per_s"] = load.ok / load.duration_s if load.duration_s else 0.0
    out["ok_per_s"] = out["acked_per_s"]
    out["errors"] = load.errors
    return out


def _reset_db(db: str, recreate: bool = True) -> None:
    """Remove what a previous run left in `db`: the SQLite files, or the bench's PostgreSQL database."""
    if db.startswith("postgres"):
        import asyncio

        import asyncpg  # the postgres extra's driver: the bench needs nothing the tests do not install

        name = db.rsplit("/", 1)[1]

        async def reset() -> None:
            conn = await asyncpg.connect(POSTGRES_ADMIN)
            try:
                await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                if recreate:
                    await conn.execute(f"CREATE DATABASE {name}")
            finally:
                await conn.close()

        asyncio.run(reset())
        return
    for suffix in ("", "-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)


def bench_target(
    target: Target, post_pool: Path, posts: Sequence[bytes], engine: str, args: argparse.Namespace
) -> dict[str, Any]:
    """Start `target`, drive deliveries then CRC requests at it, stop it, and check its store."""
    if target.db:
        _reset_db(target.db)
    ports = [_free_port() for _ in range(target.ports)]
    print(f"  {target.name}: {target.description} (port {', '.join(map(str, ports))})", flush=True)
    with running(target, ports, args.server_cpu, RESULTS / "servers.log.tmp") as server:
        _drive(engine, _crc_pool(), ports, min(1.0, args.duration), args)  # warm-up
        cpu, busy, started = server.cpu_seconds(), _core_busy(args.server_cpu), time.monotonic()
        delivered = _drive(engine, post_pool, ports, args.duration, args)
        cpu, busy = server.cpu_seconds() - cpu, _core_busy(args.server_cpu) - busy
        elapsed = time.monotonic() - started
        crc = _drive(engine, _crc_pool(), ports, max(2.0, args.duration / 2), args)
    result: dict[str, Any] = {
        "name": target.name,
        "description": target.description,
        "engine": delivered.engine,
        "deliveries": _phase(delivered),
        "crc": _phase(crc),
        "peak_rss_mb": server.peak_hwm_kb / 1024,
        "store_check": check_store(target.db, posts, delivered) if target.db else None,
    }
    if target.db and target.name in args.relay_after and not target.db.startswith("postgres"):
        result["relays"] = bench_relays(target.db, args.relay_sinks, args.server_cpu)
    if target.db:
        _reset_db(target.db, recreate=False)
    if delivered.acked_file and not target.db:
        Path(delivered.acked_file).unlink(missing_ok=True)
    if crc.acked_file:
        Path(crc.acked_file).unlink(missing_ok=True)
    result["deliveries"]["server_cpu_us_per_ack"] = cpu / delivered.ok * 1e6 if delivered.ok else math.nan
    result["deliveries"]["other_load_on_server_core"] = max(0.0, busy - cpu) / elapsed if busy else math.nan
    line = result["deliveries"]
    print(
        f"    {line['acked_per_s']:.0f} acked/s, p99 {line['latency_ms']['p99']:.2f} ms, "
        f"errors {line['errors']}, CRC {result['crc']['ok_per_s']:.0f}/s",
        flush=True,
    )
    return result


def _core_busy(cpu: int | None) -> float:
    return core_busy_seconds(cpu) if cpu is not None else 0.0


def _median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round whose acknowledged deliveries/s is the median, all rounds' figures kept under `rounds`."""
    ordered = sorted(rounds, key=lambda result: result["deliveries"]["acked_per_s"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["rounds"] = [
        {
            "acked_per_s": r["deliveries"]["acked_per_s"],
            "p99_ms": r["deliveries"]["latency_ms"]["p99"],
            "crc_per_s": r["crc"]["ok_per_s"],
            "store_ok": (r["store_check"] or {}).get("ok"),
        }
        for r in rounds
    ]
    if any(r["store_check"] is not None and not r["store_check"]["ok"] for r in rounds):
        chosen["store_check"] = next(
            r["store_check"] for r in rounds if r["store_check"] and not r["store_check"]["ok"]
        )
    return chosen


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def _targets(args: argparse.Namespace, workdir: Path) -> Iterator[Target]:
    chosen = set(args.targets.split(",")) if args.targets else None
    candidates = [
        xhooks_target("xhooks-disk", str(workdir / "bench-disk.db"), "disk", SECRET),
        xhooks_target("xhooks-process", str(workdir / "bench-process.db"), "process", SECRET),
        *reference_targets(SECRET),
    ]
    if importlib.util.find_spec("xhooks.store.postgres") is None:
        print("postgres: not supported by this build")
    elif not _postgres_reachable():
        print("postgres: not reachable on 127.0.0.1:5432, skipped")
    else:
        candidates += [
            xhooks_target("xhooks-pg-1", POSTGRES_URL, "disk", SECRET),
            xhooks_target("xhooks-pg-2", POSTGRES_URL, "disk", SECRET, ports=2),
        ]
    for target in candidates:
        if chosen is None or target.name in chosen:
            yield target


def soak(args: argparse.Namespace, engine: str) -> dict[str, Any]:
    """Keep xhooks (disk) under load for `args.soak` seconds with fresh ids, sampling its RSS every few seconds."""
    db = str(RESULTS / "bench-soak.db")
    _reset_db(db)
    target = xhooks_target("xhooks-disk", db, "disk", SECRET)
    chunk_seconds, chunk_size = 20.0, args.pool
    loaded = 0.0
    with (
        concurrent.futures.ThreadPoolExecutor(1) as executor,
        running(
            target, [_free_port()], args.server_cpu, RESULTS / "servers.log.tmp", sample_every=args.soak_every
        ) as server,
    ):
        upcoming = executor.submit(_post_pool, chunk_size, 0)
        chunk = 0
        chunks: list[dict[str, float]] = []
        while loaded < args.soak:
            pool = upcoming.result()
            chunk += 1
            upcoming = executor.submit(_post_pool, chunk_size, chunk * chunk_size)
            seconds = min(chunk_seconds, args.soak - loaded)
            result = _drive(engine, pool, server.ports, seconds, args)
            loaded += result.duration_s
            chunks.append({"at_s": loaded, "acked_per_s": result.ok / result.duration_s, "errors": result.errors})
            print(
                f"  soak {loaded:5.0f}/{args.soak:.0f} s: {result.ok / result.duration_s:.0f} acked/s, "
                f"RSS {server.rss_samples[-1][1] / 1024 if server.rss_samples else 0:.1f} MB",
                flush=True,
            )
            if result.acked_file:
                Path(result.acked_file).unlink(missing_ok=True)
            if chunk > 1:
                pool.unlink(missing_ok=True)
        upcoming.result().unlink(missing_ok=True)
    _reset_db(db, recreate=False)
    samples = server.rss_samples
    warm = [rss for t, rss in samples if t >= samples[-1][0] * 0.2] or [rss for _, rss in samples]
    growth_mb = (warm[-1] - warm[0]) / 1024
    return {
        "seconds": loaded,
        "rss_samples": samples,
        "chunks": chunks,
        "rss_first_mb": samples[0][1] / 1024,
        "rss_last_mb": samples[-1][1] / 1024,
        "peak_rss_mb": server.peak_hwm_kb / 1024,
        "growth_mb": growth_mb,
        "flat": growth_mb < max(5.0, 0.1 * warm[0] / 1024),
    }


def _source() -> dict[str, Any]:
    """Which xhooks was measured: the commit, and whether src/ had uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {"commit": git("rev-parse", "--short", "HEAD"), "src_dirty": bool(git("status", "--porcelain", "src"))}


def _machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    return {"cpus": os.cpu_count(), "cpu_model": model, "python": sys.version.split()[0], "platform": sys.platform}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of deliveries per target (default 10)")
    parser.add_argument("--quick", action="store_true", help="3 s per target and a smaller request file")
    parser.add_argument("--soak", type=float, default=0.0, help="instead: keep xhooks under load this many seconds")
    parser.add_argument("--soak-every", type=float, default=3.0, help="RSS sampling period during --soak")
    parser.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="auto: wrk when installed, else the Python generator",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="run every target this many times, interleaved; report each target's median round (default 3)",
    )
    parser.add_argument("--pool", type=int, default=0, help="signed deliveries in the request file")
    parser.add_argument("--targets", default="", help="comma-separated subset, e.g. xhooks-disk,ceiling")
    parser.add_argument(
        "--relay",
        default=",".join(SINKS),
        help=f"after xhooks-disk's intake, relay its store to these sinks (default {','.join(SINKS)}; '' for none)",
    )
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--load-cpu", type=int, default=1)
    parser.add_argument("--stream-events", type=int, default=-1, help="lines for the stream phase (0: skip it)")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.rounds = min(args.duration, 3.0), 1
    args.pool = args.pool or (40_000 if args.quick else 150_000)
    args.relay_sinks = tuple(name for name in args.relay.split(",") if name)
    unknown = set(args.relay_sinks) - set(SINKS)
    if unknown:
        parser.error(f"--relay: no sink {sorted(unknown)[0]!r}; choose from {','.join(SINKS)}")
    args.relay_after = ("xhooks-disk",) if args.relay_sinks else ()
    if args.stream_events < 0:
        args.stream_events = 5_000 if args.quick else 20_000
    if (os.cpu_count() or 1) < 2:
        print("only one CPU: server and load generator share it; figures are not comparable", file=sys.stderr)
        args.server_cpu = args.load_cpu = None
    engine = "wrk" if args.loadgen == "wrk" or (args.loadgen == "auto" and wrk_available()) else "python"
    if engine == "wrk" and not wrk_available():
        parser.error("wrk is not installed (apt-get install wrk), use --loadgen python")
    RESULTS.mkdir(exist_ok=True)
    if args.load_cpu is not None:
        os.sched_setaffinity(0, {args.load_cpu})  # this process prepares requests: keep it off the server's core
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    started = time.time()

    results: list[dict[str, Any]] = []
    streamed: dict[str, Any] | None = None
    soaked: dict[str, Any] | None = None
    if args.soak:
        print(f"soak: xhooks serve (disk) for {args.soak:.0f} s, load generator: {engine}")
        soaked = soak(args, engine)
        print(
            f"RSS first {soaked['rss_first_mb']:.1f} MB, last {soaked['rss_last_mb']:.1f} MB, "
            f"growth after warm-up {soaked['growth_mb']:+.1f} MB -> {'flat' if soaked['flat'] else 'GROWING'}"
        )
    else:
        print(f"preparing {args.pool} signed deliveries (cached in bench/results/*.tmp) ...", flush=True)
        post_pool = _post_pool(args.pool)
        posts = read_requests(post_pool)
        print(
            f"load generator: {engine}, {args.connections} connections, {args.duration:.0f} s per target; "
            f"server on CPU {args.server_cpu}, load on CPU {args.load_cpu}",
            flush=True,
        )
        targets = list(_targets(args, RESULTS))
        rounds: dict[str, list[dict[str, Any]]] = {target.name: [] for target in targets}
        for number in range(args.rounds):
            if args.rounds > 1:
                print(f"round {number + 1} of {args.rounds}")
            for target in targets:  # interleaved, so that a busy spell on the machine hits every target alike
                rounds[target.name].append(bench_target(target, post_pool, posts, engine, args))
        results = [_median_round(rounds[target.name]) for target in targets]
        print()
        print(report.table(results))
        print()
        for name, values in report.ratios(results).items():
            print(f"{name}: " + ", ".join(f"{key} {value:.2f}" for key, value in values.items()))
        relayed = report.relay_table(results)
        if relayed:
            print()
            print(relayed)
        if args.stream_events:
            streamed = stream_intake(args.stream_events, RESULTS, args.server_cpu)
            print(
                f"\nxhooks stream (X Activity stream intake, SQLite disk): {streamed['events_per_s']:.0f} events/s,"
                f" {streamed['cpu_us_per_event']:.0f} µs CPU per event,"
                f" {streamed['committed']}/{streamed['events']} committed"
            )
    warnings = report.interference(results)
    if warnings:
        print("\nthis machine was not quiet; these figures are low and noisy:\n  " + "\n  ".join(warnings))
    verdicts = report.verdicts(results, soaked)
    if verdicts:
        print()
        for goal, measured, met in verdicts:
            print(f"  [{'met' if met else 'n/a' if met is None else 'MISSED'}] {goal}: {measured}")

    record = {
        "timestamp": stamp,
        "wall_seconds": time.time() - started,
        "machine": _machine(),
        "source": _source(),
        "settings": {key: value for key, value in vars(args).items()},
        "engine": engine,
        "results": results,
        "ratios": report.ratios(results),
        "warnings": warnings,
        "verdicts": [{"target": g, "measured": m, "met": ok} for g, m, ok in verdicts],
        "soak": soaked,
        "stream": streamed,
    }
    kind = "-soak" if soaked else ""
    out = RESULTS / f"{stamp}{kind}.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    machine: Any = record["machine"]
    title = f"xhooks bench {stamp}, {machine['cpu_model']}, {engine}, {args.connections} connections"
    report.plot(results, soaked, out.with_suffix(".png"), title)
    shutil.copyfile(out, RESULTS / f"latest{kind}.json")
    shutil.copyfile(out.with_suffix(".png"), RESULTS / f"latest{kind}.png")
    print(f"\nwrote {out.relative_to(ROOT)} and latest{kind}.json / latest{kind}.png")
    stored = all(result.get("store_check") in (None,) or result["store_check"]["ok"] for result in results)
    return 0 if stored and (streamed is None or streamed["ok"]) else 1


if __name__ == "__main__":
    sys.exit(main())
