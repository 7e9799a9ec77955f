"""Helpers of the fault suite: a real `xhooks serve` process, signed requests, what the store holds."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.support import free_port, spawn, xhooks_cmd
from xhooks.protocol import signature

SECRET = "fault-suite-consumer-secret"


def signed(body: bytes) -> dict[str, str]:
    return {"x-twitter-webhooks-signature": signature(body, SECRET), "content-type": "application/json"}


@contextlib.contextmanager
def xhooks_serve(db: Path, port: int | None = None) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`xhooks serve` on `db` (default durability), ready; yields the process and the webhook URL."""
    port = port or free_port()
    args = xhooks_cmd("serve", "--consumer-secret", SECRET, "--db", str(db), "--port", str(port))
    with spawn(args, ready_url=f"http://127.0.0.1:{port}/healthz") as proc:
        yield proc, f"http://127.0.0.1:{port}/webhook"


def stored(db: Path) -> tuple[list[bytes], dict[str, int]]:
    """Every stored delivery body, and each event key with how many rows hold it."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        bodies = [bytes(row[0]) for row in conn.execute("SELECT body FROM deliveries")]
        keys = dict(conn.execute("SELECT key, count(*) FROM events GROUP BY app, key").fetchall())
    finally:
        conn.close()
    return bodies, keys


def remount(mount_point: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mount_point)], check=True, capture_output=True)
