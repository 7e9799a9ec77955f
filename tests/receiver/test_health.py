"""`/healthz` follows the outcome of delivery commits, not only its own heartbeat (issue 15, storage health).

A real SQLite file, and a trigger that refuses every new delivery the way a full disk does: the receiver's small
heartbeat still commits, a delivery does not. Without the rule, `/healthz` answered 200 all along.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.receiver.conftest import SECRET
from tests.support import serve_app
from xhooks.clock import ManualClock
from xhooks.protocol import signature
from xhooks.receiver import AppConfig, Receiver
from xhooks.store.sqlite import SQLiteStore

BODY = b'{"for_user_id":"1","tweet_create_events":[{"id_str":"10","text":"hi"}]}'
FULL = "CREATE TRIGGER full BEFORE INSERT ON deliveries BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, ManualClock]]:
    db, clock = tmp_path / "health.db", ManualClock(1_767_225_600.0)
    receiver = Receiver(SQLiteStore(db), [AppConfig((SECRET,))], clock=clock.now, heartbeat=None)
    with serve_app(receiver) as url:
        yield url, db, clock


def _post(url: str, n: int) -> int:
    body = BODY.replace(b'"10"', f'"{n}"'.encode())
    headers = {"x-twitter-webhooks-signature": signature(body, SECRET)}
    return httpx.post(url + "/webhook", content=body, headers=headers).status_code


def _disk(db: Path, full: bool) -> None:
    with sqlite3.connect(db, isolation_level=None) as conn:
        conn.execute(FULL if full else "DROP TRIGGER full")
    conn.close()


def test_health_is_503_while_deliveries_fail_even_though_the_heartbeat_commits(
    served: tuple[str, Path, ManualClock],
) -> None:
    url, db, clock = served
    assert _post(url, 1) == 200
    _disk(db, full=True)
    assert [_post(url, n) for n in (2, 3)] == [503, 503]
    clock.advance(2.0)
    health = httpx.get(url + "/healthz")
    assert (health.status_code, health.json()) == (503, {"store": "failing", "failures": 2, "for_seconds": 2.0})
    _disk(db, full=False)
    assert _post(url, 4) == 200  # one commit that succeeds clears it at once
    assert httpx.get(url + "/healthz").json() == {"store": "writable"}


def test_after_the_window_without_a_post_the_heartbeat_decides_and_the_next_failure_decides_again(
    served: tuple[str, Path, ManualClock],
) -> None:
    """A receiver out of rotation gets no POST that could clear it: past the window (default 30 s), the heartbeat
    lets it back."""
    url, db, clock = served
    _disk(db, full=True)
    assert _post(url, 1) == 503
    clock.advance(29.0)
    assert httpx.get(url + "/healthz").status_code == 503
    clock.advance(1.0)
    assert httpx.get(url + "/healthz").json() == {"store": "writable"}  # only deliveries are refused
    assert _post(url, 2) == 503
    health = httpx.get(url + "/healthz")
    assert (health.status_code, health.json()["failures"]) == (503, 2)  # the same outage, counted on
