"""Where a server's CPU goes per acknowledged delivery: sample it with py-spy under the bench's load.

    python -m bench.profile                      # xhooks serve --durability disk, 10 s, wrk, 32 connections
    python -m bench.profile --target ceiling     # the bare ASGI reference, for comparison
    python -m bench.profile --serve-arg=--durability=process --seconds 5

It starts one target as `bench.run` does (pinned to `--server-cpu`), warms it up, then drives deliveries for
`--seconds` while `py-spy record --nonblocking` samples the server's threads, from the load generator's core.

Two measurements are combined. /proc gives the exact CPU time (user + system) each thread of the server used
over the window, divided by the acknowledged deliveries: µs per delivery per thread. py-spy's samples say where
inside a thread that time went; they are not a measure of time on their own, because py-spy counts a thread
that is runnable but waiting for the one core as busy. So each thread's samples are scaled to that thread's
/proc figure: a line reads "this much CPU per acknowledged delivery went here". A sample is charged to the
innermost frame that matches a rule of `_BUCKETS` (SQLite's C calls to the writer's Python line that made them,
`hmac` to the signature check, ...); frames of the event loop itself with nothing of Python above them
(uvloop's and httptools' C code, socket I/O) are "event loop (native)".

Sampling is statistical: with ~2,000 samples a share of 5 % is known to about ±0.5 %. py-spy is not among the
test extras; install it (`pip install py-spy`) to run this program. wrk is required (Debian: `apt-get install
wrk`).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.load import run_wrk, wrk_available
from bench.run import RESULTS, SECRET, _crc_pool, _drive, _free_port, _post_pool, _reset_db
from bench.targets import Target, reference_targets, running, xhooks_target

__all__ = ["main"]

_TICK = os.sysconf("SC_CLK_TCK")

_BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # (part, substrings of a py-spy frame "function (file:line)"); the innermost frame matching a rule wins
    ("logging", ("(logging/",)),
    ("metrics", ("xhooks/metrics.py", "prometheus_client")),
    ("signature (HMAC)", ("xhooks/protocol/signature.py", "(hmac.py", "_sign (bench/references/bare_asgi.py")),
    ("envelope parse", ("xhooks/protocol/envelope.py", "xhooks/protocol/_walk.py")),
    ("Delivery recipe", ("xhooks/store/base.py",)),
    ("SQLite writer", ("xhooks/store/sqlite.py", "_run_writer")),
    ("receiver app", ("xhooks/receiver/", "xhooks/_asgi.py", "xhooks/dashboard/mount.py", "bench/references/")),
    ("uvicorn (Python)", ("uvicorn/",)),
    ("threads, queues", ("(threading.py", "(queue.py")),
    ("event loop (native)", ("(asyncio/runners.py", "xhooks/serving.py")),
)
_THREADS = (("xhooks-sqlite-w", "_run_writer"), ("python3", "(<frozen runpy>"))
"""Which thread a stack is from, by a frame only its stacks have: (thread name in /proc, frame)."""


def _bucket(frames: Sequence[str]) -> str:
    for frame in reversed(frames):
        for name, needles in _BUCKETS:
            if any(needle in frame for needle in needles):
                return name
    return "other"


def _thread(frames: Sequence[str]) -> str:
    for name, needle in _THREADS:
        if any(needle in frame for frame in frames):
            return name
    return "other threads"


def _leaf(frames: Sequence[str]) -> str:
    """The innermost frame of xhooks's own code (or the innermost frame when there is none), without its line."""
    for frame in reversed(frames):
        if "xhooks/" in frame:
            return frame.rsplit(":", 1)[0] + ")"
    return frames[-1].rsplit(":", 1)[0] + ")" if frames else "?"


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of each thread of `pid` so far, by thread name (threads of one name summed)."""
    seconds: dict[str, float] = collections.defaultdict(float)
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rpartition(")")[2].split()
            seconds[name] += (int(fields[11]) + int(fields[12])) / _TICK
    return dict(seconds)


def _weights(samples: Sequence[tuple[list[str], int]], threads: dict[str, float], acked: int) -> dict[str, float]:
    """µs per delivery that one sample of each thread stands for: the thread's /proc CPU over its samples."""
    counts: dict[str, int] = collections.defaultdict(int)
    for frames, count in samples:
        counts[_thread(frames)] += count
    known = sum(threads.get(name, 0.0) for name, _ in _THREADS)
    cpu = {name: threads.get(name, 0.0) for name, _ in _THREADS} | {"other threads": sum(threads.values()) - known}
    return {name: cpu.get(name, 0.0) / acked * 1e6 / count for name, count in counts.items()}


def read_samples(raw: Path) -> list[tuple[list[str], int]]:
    """py-spy's raw (collapsed) format: `frame;frame;…;leaf count` per line, outermost frame first."""
    samples = []
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples.append((stack.split(";"), int(count)))
    return samples


def _target(name: str, db: Path, serve_args: Sequence[str]) -> Target:
    if name.startswith("xhooks-"):
        durability = name.removeprefix("xhooks-")
        base = xhooks_target(name, str(db), durability, SECRET)
        return Target(base.name, base.description, (*base.argv, *serve_args), base.ready_path, db=base.db)
    for target in reference_targets(SECRET):
        if target.name == name:
            return target
    raise SystemExit(f"unknown target {name!r}: xhooks-disk, xhooks-process, ceiling, fastapi, flask")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="xhooks-disk")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second (default 250)")
    parser.add_argument("--pool", type=int, default=150_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--load-cpu", type=int, default=1)
    parser.add_argument("--serve-arg", action="append", default=[], help="an extra argument for `xhooks serve`")
    parser.add_argument("--crc", action="store_true", help="drive CRC GETs instead of deliveries")
    parser.add_argument("--top", type=int, default=15, help="functions to list (default 15)")
    parser.add_argument(
        "--native", action="store_true", help="also sample C frames (py-spy --native: it pauses the server per sample)"
    )
    parser.add_argument("--raw", type=Path, help="also keep py-spy's samples (collapsed stacks) in this file")
    args = parser.parse_args(argv)
    if shutil.which("py-spy") is None or not wrk_available():
        print("bench.profile needs py-spy (pip install py-spy) and wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)
    pool = _post_pool(args.pool)
    db = RESULTS / "profile.db.tmp"
    target = _target(args.target, db, args.serve_arg)
    if target.db:
        _reset_db(target.db)
    port = _free_port()
    with (
        tempfile.TemporaryDirectory() as scratch,
        running(target, [port], args.server_cpu, RESULTS / "servers.log.tmp") as server,
    ):
        args.loadgen = "wrk"
        _drive("wrk", _crc_pool(), [port], 1.0, args)  # warm-up, as bench.run does
        raw = Path(scratch) / "profile.raw"
        spy = subprocess.Popen(
            ["taskset", "-c", str(args.load_cpu), "py-spy", "record", "--format", "raw"]
            + (["--native"] if args.native else ["--nonblocking"])  # native frames need a paused process
            + ["--rate", str(args.rate), "--output", str(raw), "--pid", str(server.procs[0].pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(1.0)  # py-spy attaches
        cpu, threads = server.cpu_seconds(), thread_cpu(server.procs[0].pid)
        load = run_wrk(
            _crc_pool() if args.crc else pool,
            port,
            "/webhook",
            connections=args.connections,
            duration=args.seconds,
            cpu=args.load_cpu,
            workdir=RESULTS,
        )
        cpu = server.cpu_seconds() - cpu
        threads = {name: used - threads.get(name, 0.0) for name, used in thread_cpu(server.procs[0].pid).items()}
        spy.send_signal(signal.SIGINT)
        _, spy_err = spy.communicate(timeout=30)
        if not raw.exists():
            print(f"py-spy wrote no samples: {spy_err.decode().strip()}", file=sys.stderr)
            return 1
        samples = read_samples(raw)
        if args.raw:
            shutil.copyfile(raw, args.raw)
    if target.db:
        _reset_db(target.db, recreate=False)
    total = sum(count for _, count in samples)
    if not load.ok or not total:
        print(f"nothing to attribute: {load.ok} deliveries acknowledged, {total} samples", file=sys.stderr)
        return 1
    per_ack = cpu / load.ok * 1e6
    unit = "answered CRC" if args.crc else "acknowledged delivery"
    print(f"{target.name}: {load.ok / load.duration_s:,.0f} {unit}s/s, {per_ack:.1f} µs CPU per {unit}")
    print(
        "CPU by thread (from /proc): "
        + ", ".join(
            f"{name} {used / load.ok * 1e6:.1f} µs"
            for name, used in sorted(threads.items(), key=lambda kv: -kv[1])
            if used
        )
    )
    print(f"{total:,} samples over {load.duration_s:.1f} s; each line: µs per delivery (share of the thread's CPU)")
    weights = _weights(samples, threads, load.ok)
    for title, key in (("by part", _bucket), (f"by function (top {args.top})", _leaf)):
        print(f"\n{title}")
        spent: dict[tuple[str, str], float] = collections.defaultdict(float)
        for frames, count in samples:
            spent[_thread(frames), key(frames)] += count * weights[_thread(frames)]
        ranked = sorted(spent.items(), key=lambda item: -item[1])
        for (thread, name), us in ranked if key is _bucket else ranked[: args.top]:
            print(f"  {us:7.1f} µs ({us / (threads.get(thread, 0.0) / load.ok * 1e6 or 1):4.0%})  {thread}: {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
