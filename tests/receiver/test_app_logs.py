"""The receiver's log lines (`xhooks.receiver`): one per CRC, per refused POST and per 503, over real HTTP."""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.receiver.conftest import SECRET
from xhooks.protocol import signature

TOKEN = "dGhpcy1pcy1hLWNyYy10b2tlbi1mcm9tLXg"
BODY = b'{"for_user_id":"1","tweet_create_events":[{"id_str":"10","text":"hi"}]}'


@pytest.fixture(autouse=True)
def _info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="xhooks.receiver")


def _logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What `xhooks.receiver` logged, as `LEVEL message` lines."""
    return [f"{r.levelname} {r.getMessage()}" for r in caplog.records if r.name == "xhooks.receiver"]


def _chunks(size: int) -> Iterator[bytes]:
    for _ in range(size // 8192 + 1):
        yield b"x" * 8192


def test_refused_posts_log_one_line_each(base_url: str, caplog: pytest.LogCaptureFixture) -> None:
    url = base_url + "/webhook"
    assert httpx.post(url, content=BODY).status_code == 401
    assert httpx.post(url, content=BODY, headers={"x-twitter-webhooks-signature": "sha256=AAAA"}).status_code == 403
    assert httpx.post(url, content=b"x" * (64 * 1024 + 1)).status_code == 413
    assert httpx.post(url, content=_chunks(64 * 1024)).status_code == 413  # no content-length: counted while read
    signed = {"x-twitter-webhooks-signature": signature(BODY, SECRET)}
    assert httpx.post(url, content=BODY, headers=signed).status_code == 200
    assert _logged(caplog) == [
        "WARNING POST /webhook refused with 401 SignatureMissing: the request has no x-twitter-webhooks-signature"
        " header",
        "WARNING POST /webhook refused with 403 SignatureMismatch: x-twitter-webhooks-signature does not match the body"
        " for any configured secret",
        "WARNING POST /webhook refused with 413: body over 65536 bytes",
        "WARNING POST /webhook refused with 413: body over 65536 bytes",
    ]


def test_each_crc_logs_whether_it_was_answered(base_url: str, caplog: pytest.LogCaptureFixture) -> None:
    assert httpx.get(base_url + "/webhook", params={"crc_token": TOKEN}).status_code == 200
    assert httpx.get(base_url + "/second", params={"crc_token": "short"}).status_code == 400
    assert _logged(caplog) == [
        "INFO CRC GET /webhook answered",
        "WARNING CRC GET /second refused with 400 InvalidCrcToken: crc_token must be 16 to 128 characters;"
        " refusing to sign it",
    ]


def test_an_outage_logs_its_first_503_in_full_then_counts_and_says_when_it_ends(
    base_url: str, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One line per 503 flooded the log in a disk-full outage (and blocked a process whose output pipe filled)."""
    signed = {"x-twitter-webhooks-signature": signature(BODY, SECRET)}
    assert httpx.post(base_url + "/webhook", content=BODY, headers=signed).status_code == 200
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database: SQLITE_BUSY
    try:
        for _ in range(5):
            assert httpx.post(base_url + "/webhook", content=BODY, headers=signed).status_code == 503
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert httpx.post(base_url + "/webhook", content=BODY, headers=signed).status_code == 200
    first, *middle, last = _logged(caplog)
    assert first.startswith("ERROR POST /webhook answered 503, the store cannot commit: ")
    assert "database is locked" in first
    counted = [int(line.split()[1]) for line in middle]  # a busy machine may take 10 s for the five: a summary
    assert all(line.startswith("ERROR ") and "more POSTs answered 503" in line for line in middle)
    assert 1 + sum(counted) <= 5
    assert last.startswith("INFO POST /webhook committed: the store commits again after 5 POSTs answered 503 over ")


def test_a_crc_flood_logs_a_bounded_number_of_lines_and_counts_the_rest(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A line per CRC cost a fifth of a flooded CRC's CPU (bench/README.md); every CRC is still accounted for."""
    from xhooks.receiver.app import CRC_LOG_PER_SECOND

    flood = 300
    started = time.monotonic()
    with httpx.Client(base_url=base_url) as client:
        answers = [client.get("/webhook", params={"crc_token": TOKEN}).status_code for _ in range(flood)]
    seconds = time.monotonic() - started
    assert answers == [200] * flood

    def accounted() -> int:
        lines = _logged(caplog)
        counted = [re.match(r"WARNING (\d+) more CRC GETs answered or refused within a second", line) for line in lines]
        return lines.count("INFO CRC GET /webhook answered") + sum(int(m.group(1)) for m in counted if m)

    deadline = time.monotonic() + 60  # a hang guard: the last second's count is logged when its window closes
    while accounted() < flood and time.monotonic() < deadline:
        time.sleep(0.05)
    assert accounted() == flood
    one_by_one = _logged(caplog).count("INFO CRC GET /webhook answered")
    assert 1 <= one_by_one <= CRC_LOG_PER_SECOND * (int(seconds) + 2) < flood
