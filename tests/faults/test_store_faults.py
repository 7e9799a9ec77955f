"""A store that cannot commit (disk full, file system read-only): 503, never a 200 without a commit, and the
server recovers by itself once the fault clears.

The database lives on a private 4 MB tmpfs, because the tests run as root and root writes through chmod.
Linux refuses to remount a file system read-only while a file on it is open for writing (EBUSY), and a live
store holds its database open; so the read-only test first makes a commit fail (disk full), which makes the
store drop its connection, frees the space, and only then remounts read-only: from there on the read-only
mount is the only fault.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults._serve import remount, signed, stored, xhooks_serve

_BIG = 256 * 1024  # larger than anything the full file system can still absorb


def _body(n: int, size: int = 2_000) -> bytes:
    doc = {
        "data": {"id": f"{n}", "text": "x" * size, "created_at": "2026-11-26T18:00:00.000Z"},
        "matching_rules": [{"id": "1", "tag": "faults"}],
    }
    return json.dumps(doc).encode()


@contextlib.contextmanager
def _filled(mount_point: Path) -> Iterator[Path]:
    """Fill the file system to ENOSPC with one file; remove it on exit."""
    filler = mount_point / "filler"
    with filler.open("wb") as out, contextlib.suppress(OSError):
        for _ in range(10_000):
            out.write(b"\0" * 65536)
            out.flush()
    try:
        yield filler
    finally:
        filler.unlink(missing_ok=True)


def _post(client: httpx.Client, url: str, body: bytes, acked: list[bytes]) -> int:
    status = client.post(url, content=body, headers=signed(body)).status_code
    if status == 200:
        acked.append(body)
    return status


def _post_until(client: httpx.Client, url: str, wanted: int, first: int, acked: list[bytes], size: int) -> list[int]:
    """POST fresh bodies (numbered from `first`) until one is answered `wanted`, for at most 60 s (a hang guard)."""
    statuses: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and wanted not in statuses:
        statuses.append(_post(client, url, _body(first + len(statuses), size), acked))
    return statuses


def _health(client: httpx.Client, url: str) -> int:
    return client.get(url.replace("/webhook", "/healthz")).status_code


@pytest.mark.slow
def test_disk_full_answers_503_then_recovers_without_restart(tmpfs: Path) -> None:
    db = tmpfs / "full.db"
    acked: list[bytes] = []
    with xhooks_serve(db) as (_, url), httpx.Client(timeout=60) as client:
        assert [_post(client, url, _body(n), acked) for n in range(20)] == [200] * 20
        with _filled(tmpfs):
            during = _post_until(client, url, 503, 1_000, acked, _BIG)
            assert during[-1] == 503, f"a full disk never made the receiver answer 503: {during}"
            assert set(during) <= {200, 503}
            health = client.get(url.replace("/webhook", "/healthz"))  # its heartbeat alone would still commit
            assert (health.status_code, health.json()["store"]) == (503, "failing")
        after = _post_until(client, url, 200, 2_000, acked, 2_000)
        assert after[-1] == 200, f"the receiver did not recover once space was freed: {after}"
        assert _health(client, url) == 200
    bodies, _ = stored(db)
    assert set(acked) <= set(bodies), "a delivery answered 200 is not in the store"


def _remount_read_only(mount_point: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            remount(mount_point, "ro")
            return
        except subprocess.CalledProcessError:  # EBUSY while a commit holds the file open for writing
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.slow
def test_read_only_store_answers_503_then_recovers_without_restart(tmpfs: Path) -> None:
    db = tmpfs / "ro.db"
    acked: list[bytes] = []
    with xhooks_serve(db) as (_, url), httpx.Client(timeout=60) as client:
        assert [_post(client, url, _body(n), acked) for n in range(20)] == [200] * 20
        with _filled(tmpfs):  # a failed commit makes the store let go of its file
            assert _post_until(client, url, 503, 1_000, acked, _BIG)[-1] == 503
        _remount_read_only(tmpfs)
        try:
            during = [_post(client, url, _body(3_000 + n), acked) for n in range(10)]
            assert during == [503] * 10
            assert _health(client, url) == 503
        finally:
            remount(tmpfs, "rw")
        after = _post_until(client, url, 200, 4_000, acked, 2_000)
        assert after[-1] == 200, f"the receiver did not recover once the mount was writable again: {after}"
        assert _health(client, url) == 200
    bodies, _ = stored(db)
    assert set(acked) <= set(bodies), "a delivery answered 200 is not in the store"
    assert not any(body in bodies for body in (_body(3_000 + n) for n in range(10)))
