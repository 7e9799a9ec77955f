"""The stream intake on the bench: how fast `xhooks stream` commits X Activity lines, and its CPU per event.

The source is a stand-in for X's `GET /2/activity/stream`, not the emulator (whose routing, in Python, would be
what is measured): it writes `count` pre-encoded X Activity bodies (the same 1-3 KB bodies as the webhook phase's
X Activity deliveries), one per line, as fast as the socket takes them, then keep-alives until it is stopped. The
consumer runs as `xhooks stream` on a fresh SQLite file (durability disk), pinned to the server core like the
receivers. The figures: events committed per second from the connection to the last commit, and the consumer's
CPU time per event over the same stretch.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.payloads import delivery_body
from bench.targets import ROOT, _cpu_seconds, _pin, _tree

ACTIVITY_SHAPES = (4, 5, 6)
"""The indexes of `payloads._SHAPES` that are X Activity bodies (post.create, like.create, follow.follow)."""


def activity_lines(count: int) -> list[bytes]:
    numbers = (n for n in range(count * 8) if n % 8 in ACTIVITY_SHAPES)
    return [delivery_body(n) for n, _ in zip(numbers, range(count), strict=False)]


class _Source:
    """A one-connection HTTP stream on 127.0.0.1: the lines once, then a keep-alive a second."""

    def __init__(self, lines: list[bytes]) -> None:
        self.body = b"".join(line + b"\r\n" for line in lines)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connected_at: float | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            self.connected_at = time.monotonic()
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n")
            conn.sendall(self.body)
            while not self.stop.wait(1.0):
                with contextlib.suppress(OSError):
                    conn.sendall(b"\r\n")

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def _committed(db: Path) -> int:
    if not db.exists():
        return 0
    with contextlib.suppress(sqlite3.Error), contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as c:
        return int(c.execute("SELECT count(*) FROM events WHERE stream_at IS NOT NULL").fetchone()[0])
    return 0


@contextlib.contextmanager
def _consumer(port: int, db: Path, cpu: int | None, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    args = [sys.executable, "-m", "xhooks", "stream", "--api-base", f"http://127.0.0.1:{port}"]
    args += ["--bearer-token", "bench", "--db", str(db)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=out, env=env, cwd=ROOT, preexec_fn=lambda: _pin(cpu)
        )
        try:
            yield proc
        finally:
            proc.terminate()
            proc.wait(30)


def stream_intake(count: int, workdir: Path, cpu: int | None, timeout: float = 300.0) -> dict[str, Any]:
    """Run the stream phase once: `count` lines through `xhooks stream` into a fresh SQLite file."""
    db = workdir / "bench-stream.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    source = _Source(activity_lines(count))
    try:
        with _consumer(source.port, db, cpu, workdir / "servers.log.tmp") as proc:
            deadline = time.monotonic() + timeout
            while source.connected_at is None and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.01)
            cpu_before = sum(_cpu_seconds(pid) for pid in _tree(proc.pid))
            while (stored := _committed(db)) < count and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)
            done = time.monotonic()
            cpu_used = sum(_cpu_seconds(pid) for pid in _tree(proc.pid)) - cpu_before
    finally:
        source.close()
    elapsed = done - (source.connected_at or done)
    result = {
        "events": count,
        "committed": stored,
        "seconds": elapsed,
        "events_per_s": stored / elapsed if elapsed else 0.0,
        "cpu_us_per_event": cpu_used / stored * 1e6 if stored else float("nan"),
        "ok": stored == count,
    }
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    return result
