"""The retention soak (issue 15, done-means 1): `xhooks serve --app` at a steady rate with a short retention.

```
python -m bench.retention                  # 2 phases x 180 s at 40 deliveries/s, about 10 minutes
python -m bench.retention --duration 900   # longer
```

Two phases, the same signed deliveries (fresh ids, no duplicates) at the same paced rate (open loop: delivery
`i` is sent at `i / rate` s whatever the answers before it did) to a fresh SQLite store each:

1. `pruning`: background pruning every `--interval` s with a short retention (below);
2. `no pruning`: the same server with `XHOOKS_RETENTION_BACKGROUND=0`.

Each serves `bench.references.soak_handler:hooks` in the same process (`xhooks serve --app`), so every event is
claimed and handled. Every `--sample-every` s the program reads the store's size (the SQLite file and its WAL)
and, through a read-only connection, how many deliveries still hold their body. After the load it waits until
no event is unfinished, then checks:

- (a) the store's size levels off: the growth rate of the second half of the pruning phase against the
  no-pruning phase's (`levels_off`);
- (b) every event is handled (every stored event's status is `handled`);
- (c) in the pruning phase, once every delivery of the first 10 s has been pruned, the exact signed bytes of the
  first delivery are sent again: the answer is 200, the number of events does not change, the store's duplicate
  count and `/metrics`' `xhooks_duplicates_total` grow by its events (a tombstone recognised the key);
- (d) intake latency (p50/p99/max as the paced client saw it, from the time a delivery was due to its answer) in
  both phases.

How days pass: they do not. The store and the pruner read the wall clock (`SystemClock`; `xhooks.clock` only
speeds time up in the emulator and tests), and no setting of `xhooks serve` changes that. A retention is a
number of days as a float, so the soak uses fractional days: `body_days = dead_days = quarantine_days =
0.0002` (17.3 s), set through `XHOOKS_RETENTION_*` like any deployment would. Tombstones cannot be shortened
that way: `tombstone_days` may not go below `TOMBSTONE_FLOOR` (6 days, X's replay window and a day), so they
outlive the bodies by construction and none expires during a soak. The size that levels off is therefore the
bodies' share; each event still leaves a tombstone (its event row, a body-less delivery row and their index
entries) that stays until `tombstone_days`, and the soak reports that cost per event. Tombstone expiry itself
is covered by the tests on both engines (tests/store/test_contract_retention.py, which passes the pruner's time
explicitly).

It prints a table of size over time and the figures, and writes `bench/results/latest-retention.json` and
`latest-retention.png`. Everything runs on 127.0.0.1; every phase is bounded by `--duration` and a drain limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import sqlite3
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.payloads import Delivery, deliveries
from bench.targets import ROOT, Target, running, xhooks_target

__all__ = ["levels_off", "main", "metric_value", "percentiles", "slope"]

RESULTS = Path(__file__).resolve().parent / "results"
SECRET = "xhooks-bench-consumer-secret-not-a-real-one"
APP = "bench.references.soak_handler:hooks"
UNFINISHED = ("pending", "claimed", "retry")


def slope(samples: Sequence[tuple[float, float]]) -> float:
    """The least-squares growth rate (units per second) of `(seconds, value)` samples; 0 for fewer than two."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if spread == 0:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in samples) / spread


def levels_off(
    pruned: Sequence[tuple[float, float]], unpruned: Sequence[tuple[float, float]], since: float, share: float = 0.25
) -> dict[str, Any]:
    """Whether the size samples of the pruning run level off: their growth rate from `since` s on is at most
    `share` of the run without pruning over the same window. Returns both rates (bytes/s) and the verdict."""
    late_pruned = [(t, v) for t, v in pruned if t >= since]
    late_unpruned = [(t, v) for t, v in unpruned if t >= since]
    rate_pruned, rate_unpruned = slope(late_pruned), slope(late_unpruned)
    enough = len(late_pruned) >= 3 and len(late_unpruned) >= 3 and rate_unpruned > 0
    return {
        "since_s": since,
        "growth_pruned_bytes_per_s": rate_pruned,
        "growth_unpruned_bytes_per_s": rate_unpruned,
        "ratio": rate_pruned / rate_unpruned if enough else None,
        "share": share,
        "levels_off": (rate_pruned <= share * rate_unpruned) if enough else None,
    }


def percentiles(latencies_s: Sequence[float]) -> dict[str, float]:
    """p50, p99, p99.9 and max of `latencies_s`, in milliseconds (NaN when empty)."""
    if not latencies_s:
        return {key: math.nan for key in ("p50", "p99", "p99.9", "max")}
    ordered = sorted(latencies_s)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50": at(0.50), "p99": at(0.99), "p99.9": at(0.999), "max": ordered[-1] * 1000}


def metric_value(text: str, name: str) -> float:
    """The value of the unlabelled sample `name` in a Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        head, _, value = line.partition(" ")
        if head == name:
            return float(value.split()[0])
    return 0.0


def _sizes(db: str) -> tuple[int, int]:
    def size(path: str) -> int:
        with contextlib.suppress(OSError):
            return os.path.getsize(path)
        return 0

    return size(db), size(db + "-wal")


def _query(db: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


class _Sampler:
    """Reads the store's size and body count every `every` s in a thread of its own."""

    def __init__(self, db: str, every: float) -> None:
        self.db, self.every = db, every
        self.samples: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _take(self) -> None:
        main, wal = _sizes(self.db)
        try:
            (bodies, events), *_ = _query(
                self.db,
                "SELECT (SELECT count(*) FROM deliveries WHERE pruned_at IS NULL), (SELECT count(*) FROM events)",
            )
        except sqlite3.Error:
            bodies = events = -1
        self.samples.append(
            {"at_s": time.monotonic() - self._started, "db": main, "wal": wal, "bodies": bodies, "events": events}
        )

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._take()

    def __enter__(self) -> _Sampler:
        self._started = time.monotonic()
        self._take()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._take()


async def _paced(port: int, sent: Sequence[Delivery], rate: float, connections: int) -> dict[str, Any]:
    """Send `sent` at `rate` a second (open loop); latency is from when a delivery was due to its answer."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30.0) as client:

        async def send(delivery: Delivery, due: float) -> None:
            nonlocal errors
            try:
                answer = await client.post("/webhook", content=delivery.body, headers=_headers(delivery))
            except httpx.HTTPError:
                errors += 1
                return
            latencies.append(time.perf_counter() - due)
            statuses[str(answer.status_code)] = statuses.get(str(answer.status_code), 0) + 1

        started = time.perf_counter()
        tasks = []
        late = 0.0
        for index, delivery in enumerate(sent):
            due = started + index / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                late = max(late, -wait)
            tasks.append(asyncio.create_task(send(delivery, due)))
        await asyncio.wait(tasks, timeout=60.0)
        elapsed = time.perf_counter() - started
    return {
        "sent": len(sent),
        "seconds": elapsed,
        "statuses": statuses,
        "transport_errors": errors,
        "latency_ms": percentiles(latencies),
        "most_late_send_ms": late * 1000,
    }


def _headers(delivery: Delivery) -> dict[str, str]:
    return {"content-type": "application/json; charset=utf-8", "x-twitter-webhooks-signature": delivery.signature}


def _drain(db: str, limit: float) -> float:
    """Wait (at most `limit` s) until no stored event is unfinished; return how long it took."""
    started = time.monotonic()
    marks = ", ".join("?" for _ in UNFINISHED)
    while time.monotonic() - started < limit:
        ((left,),) = _query(db, f"SELECT count(*) FROM events WHERE status IN ({marks})", *UNFINISHED)
        if left == 0:
            break
        time.sleep(0.5)
    return time.monotonic() - started


def _counts(db: str) -> dict[str, Any]:
    (events, duplicates), *_ = _query(db, "SELECT count(*), coalesce(sum(duplicates), 0) FROM events")
    by_status = dict(_query(db, "SELECT status, count(*) FROM events GROUP BY status"))
    (stored, pruned), *_ = _query(db, "SELECT count(*), count(pruned_at) FROM deliveries")
    ((tombstones,),) = _query(db, "SELECT count(*) FROM events WHERE pruned_at IS NOT NULL")
    return {
        "events": events,
        "duplicates": duplicates,
        "by_status": by_status,
        "deliveries": stored,
        "pruned_deliveries": pruned,
        "tombstones": tombstones,
    }


def _resend(db: str, port: int, first: Delivery, limit: float) -> dict[str, Any]:
    """Once every delivery of the first 10 s has been pruned, send `first` again byte for byte and compare."""
    started = time.monotonic()
    due_sql = (
        "SELECT count(*) FROM deliveries WHERE pruned_at IS NULL"
        " AND received_at < (SELECT min(received_at) + 10 FROM deliveries)"
    )
    while _query(db, due_sql)[0][0] and time.monotonic() - started < limit:
        time.sleep(1.0)
    ((unpruned_early,),) = _query(db, due_sql)
    metrics = f"http://127.0.0.1:{port}/metrics"
    before, counter_before = _counts(db), metric_value(httpx.get(metrics).text, "xhooks_duplicates_total")
    answer = httpx.post(f"http://127.0.0.1:{port}/webhook", content=first.body, headers=_headers(first))
    time.sleep(1.0)
    after, counter_after = _counts(db), metric_value(httpx.get(metrics).text, "xhooks_duplicates_total")
    recognised = (
        unpruned_early == 0
        and answer.status_code == 200
        and after["events"] == before["events"]
        and after["duplicates"] > before["duplicates"]
        and counter_after > counter_before
    )
    return {
        "waited_s": time.monotonic() - started,
        "early_bodies_left": unpruned_early,
        "status": answer.status_code,
        "events_before": before["events"],
        "events_after": after["events"],
        "store_duplicates_before": before["duplicates"],
        "store_duplicates_after": after["duplicates"],
        "metric_duplicates_before": counter_before,
        "metric_duplicates_after": counter_after,
        "recognised": recognised,
    }


def _target(db: str, prune: bool, args: argparse.Namespace) -> Target:
    base = xhooks_target("xhooks-soak", db, "disk", SECRET)
    argv = (*base.argv, "--app", APP, "--no-dashboard", "--log-level", "warning")
    days = f"{args.body_days:g}"
    env: dict[str, str] = {"XHOOKS_RETENTION_BACKGROUND": "1" if prune else "0"}
    if prune:
        env |= {
            "XHOOKS_RETENTION_BODY_DAYS": days,
            "XHOOKS_RETENTION_DEAD_DAYS": days,
            "XHOOKS_RETENTION_QUARANTINE_DAYS": days,
            "XHOOKS_RETENTION_INTERVAL": f"{args.interval:g}",
        }
    return Target(base.name, base.description, argv, base.ready_path, db=db, env=tuple(env.items()))


def _port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def phase(name: str, prune: bool, sent: Sequence[Delivery], args: argparse.Namespace) -> dict[str, Any]:
    """One phase: serve, send `sent` paced, sample the size, drain, check, stop."""
    db = str(RESULTS / f"bench-retention-{'pruned' if prune else 'kept'}.db.tmp")
    for suffix in ("", "-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)
    port = _port()
    print(
        f"{name}: xhooks serve --app on port {port}, {len(sent)} deliveries at {args.rate:g}/s"
        f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)",
        flush=True,
    )
    with running(_target(db, prune, args), [port], args.server_cpu, RESULTS / "servers.log.tmp") as server:
        with _Sampler(db, args.sample_every) as sampler:
            load = asyncio.run(_paced(port, sent, args.rate, args.connections))
        drained = _drain(db, 60.0)
        resend = _resend(db, port, sent[0], args.body_days * 86_400 + 3 * args.interval + 30) if prune else None
        counts = _counts(db)
        rss_mb = max((rss for _, rss in server.rss_samples), default=0) / 1024
    for suffix in ("", "-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)
    return {
        "name": name,
        "pruning": prune,
        "load": load,
        "drain_s": drained,
        "samples": sampler.samples,
        "counts": counts,
        "all_handled": counts["events"] > 0 and set(counts["by_status"]) == {"handled"},
        "resend": resend,
        "peak_rss_mb": rss_mb,
        "load_average_at_end": os.getloadavg(),
    }


def _size_table(pruned: dict[str, Any], kept: dict[str, Any], rows: int = 12) -> str:
    def size(sample: dict[str, float]) -> float:
        return (sample["db"] + sample["wal"]) / 1e6

    def near(samples: list[dict[str, float]], at: float) -> dict[str, float]:
        return min(samples, key=lambda sample: abs(sample["at_s"] - at))

    lines = [
        "   t s | pruning: file+WAL MB  bodies held  events | no pruning: file+WAL MB  events",
        "-------+-------------------------------------------+---------------------------------",
    ]
    samples = pruned["samples"]
    step = max(1, math.ceil((len(samples) - 1) / rows))
    for a in [*samples[:-1:step], samples[-1]]:
        b = near(kept["samples"], a["at_s"])
        lines.append(
            f"{a['at_s']:6.0f} | {size(a):20.2f} {a['bodies']:12.0f} {a['events']:7.0f} |"
            f" {size(b):23.2f} {b['events']:7.0f}"
        )
    return "\n".join(lines)


def _series(result: dict[str, Any]) -> list[tuple[float, float]]:
    return [(sample["at_s"], sample["db"] + sample["wal"]) for sample in result["samples"]]


def _plot(pruned: dict[str, Any], kept: dict[str, Any], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (size, bodies) = plt.subplots(1, 2, figsize=(11, 4.5))
    for result, color in ((pruned, "#1f77b4"), (kept, "#999999")):
        p99 = result["load"]["latency_ms"]["p99"]
        series = _series(result)
        size.plot([t for t, _ in series], [v / 1e6 for _, v in series], color=color, label=f"{result['name']}")
        bodies.plot(
            [s["at_s"] for s in result["samples"]],
            [s["bodies"] for s in result["samples"]],
            color=color,
            label=f"{result['name']} (intake p99 {p99:.1f} ms)",
        )
    size.set_title("store size (SQLite file + WAL), MB")
    bodies.set_title("deliveries still holding their body")
    for axis in (size, bodies):
        axis.set_xlabel("s since start")
        axis.set_ylim(bottom=0)
        axis.legend()
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _source() -> dict[str, Any]:
    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], capture_output=True, text=True, cwd=ROOT, check=False)
        return done.stdout.strip()

    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain", "src"))}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retention", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of load per phase (default 180)")
    parser.add_argument("--rate", type=float, default=40.0, help="deliveries a second, paced (default 40)")
    parser.add_argument("--body-days", type=float, default=0.0002, help="body, dead and quarantine retention")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between pruning rounds (default 2)")
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between size samples")
    parser.add_argument("--connections", type=int, default=8, help="the paced client's keep-alive connections")
    parser.add_argument("--server-cpu", type=int, default=0, help="the core the server is pinned to")
    parser.add_argument("--only-pruning", action="store_true", help="skip the phase without pruning")
    args = parser.parse_args(argv)
    if args.duration > 3_600:
        parser.error("--duration is at most 3600 s a phase")
    count = int(args.rate * args.duration)
    sent = list(deliveries(count, SECRET, duplicate_share=0.0, seed=15))
    print(
        f"retention soak: {count} deliveries a phase at {args.rate:g}/s for {args.duration:g} s; bodies kept"
        f" {args.body_days:g} d ({args.body_days * 86_400:.1f} s), pruning every {args.interval:g} s",
        flush=True,
    )
    pruned = phase("pruning", True, sent, args)
    kept = phase("no pruning", False, sent, args) if not args.only_pruning else pruned
    verdict = levels_off(_series(pruned), [] if args.only_pruning else _series(kept), since=args.duration / 2)
    called = {True: "levels off", False: "GROWING", None: "no verdict without the phase without pruning"}
    final = pruned["samples"][-1]
    events = max(pruned["counts"]["events"], 1)
    per_event = {
        result["name"]: (result["samples"][-1]["db"] + result["samples"][-1]["wal"])
        / max(result["counts"]["events"], 1)
        for result in (pruned, kept)
    }
    print()
    print(_size_table(pruned, kept))
    print()
    for result in (pruned, kept) if not args.only_pruning else (pruned,):
        load, counts = result["load"], result["counts"]
        latency = load["latency_ms"]
        print(
            f"{result['name']:>10}: {load['sent']} sent, {load['statuses']} answers, {load['transport_errors']}"
            f" transport errors; intake p50 {latency['p50']:.1f} ms, p99 {latency['p99']:.1f} ms, max"
            f" {latency['max']:.1f} ms; {counts['events']} events {counts['by_status']}, {counts['tombstones']}"
            f" tombstones; {per_event[result['name']]:.0f} bytes of store per event"
        )
    ratio = verdict["ratio"]
    print(
        f"(a) growth in the second half: {verdict['growth_pruned_bytes_per_s'] / 1e3:.1f} kB/s with pruning,"
        f" {verdict['growth_unpruned_bytes_per_s'] / 1e3:.1f} kB/s without"
        f" ({'n/a' if ratio is None else f'{ratio:.0%}'}) -> {called[verdict['levels_off']]};"
        f" what still grows is tombstones, {verdict['growth_pruned_bytes_per_s'] / args.rate:.0f} bytes an event,"
        " until tombstone_days"
    )
    print(f"(b) every event handled: {pruned['all_handled'] and (args.only_pruning or kept['all_handled'])}")
    resend = pruned["resend"]
    print(
        f"(c) re-sent the first delivery after its body was pruned: {resend['status']}, events"
        f" {resend['events_before']} -> {resend['events_after']}, duplicates in the store"
        f" {resend['store_duplicates_before']} -> {resend['store_duplicates_after']}, xhooks_duplicates_total"
        f" {resend['metric_duplicates_before']:g} -> {resend['metric_duplicates_after']:g}"
        f" -> {'recognised' if resend['recognised'] else 'NOT RECOGNISED'}"
    )
    print(
        f"(d) intake p99: {pruned['load']['latency_ms']['p99']:.1f} ms with pruning,"
        + (" (no phase without)" if args.only_pruning else f" {kept['load']['latency_ms']['p99']:.1f} ms without")
    )
    print(f"bodies held at the end: {final['bodies']:.0f} of {events} events")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out = {
        "at": stamp,
        "source": _source(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "settings": vars(args),
        "phases": [pruned] if args.only_pruning else [pruned, kept],
        "levels_off": verdict,
        "bytes_per_event": per_event,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest-retention.json").write_text(json.dumps(out, indent=1) + "\n")
    title = f"retention soak {stamp}, {args.rate:g}/s for {args.duration:g} s, bodies {args.body_days:g} d"
    _plot(pruned, kept, RESULTS / "latest-retention.png", title)
    print("wrote bench/results/latest-retention.json and latest-retention.png")
    ok = bool(verdict["levels_off"]) and pruned["all_handled"] and resend["recognised"]
    return 0 if ok or args.only_pruning else 1


if __name__ == "__main__":
    raise SystemExit(main())
