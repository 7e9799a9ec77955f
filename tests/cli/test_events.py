"""`xhooks events`: filters checked against the store's statuses, empty results told apart, the last error shown."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.support import free_port, spawn, xhooks_cmd
from xhooks.cli.main import app
from xhooks.dispatch import XHooks
from xhooks.protocol import signature
from xhooks.protocol.events import DirectMessage
from xhooks.store import EVENT_STATUSES, Delivery
from xhooks.store.sqlite import SQLiteStore
from xhooks.testing import DeliveryFactory, run_emulator, run_receiver

BODY = b'{"for_user_id":"7","tweet_create_events":[{"id_str":"10","text":"hi"},{"id_str":"11","text":"ho"}]}'


async def _fill(db: Path) -> None:
    """Two events from one delivery; the older one fails once, dead, with a traceback-like error."""
    store = SQLiteStore(db)
    await store.start()
    try:
        await store.record(Delivery.received("/webhook", BODY, 1.0))
        (claimed,) = await store.claim("w1", 1, 60.0, 2.0)
        await store.fail(claimed.event.id, "w1", "Traceback …\nValueError: no reply possible\n", None, 3.0)
    finally:
        await store.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "events.db"
    asyncio.run(_fill(path))
    return path


def test_an_unknown_status_is_refused_with_the_valid_ones(db: Path) -> None:
    result = CliRunner().invoke(app, ["events", "list", "--db", str(db), "--status", "bogus"])
    assert result.exit_code == 2
    for status in EVENT_STATUSES:
        assert f"'{status}'" in result.output
    assert "bogus" in result.output


def test_filters_that_match_nothing_are_not_called_an_empty_store(db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    nothing = runner.invoke(app, ["events", "list", "--db", str(db), "--status", "retry"])
    assert (nothing.exit_code, nothing.output) == (0, "No events match these filters.\n")
    other_user = runner.invoke(app, ["events", "list", "--db", str(db), "--user", "8"])
    assert other_user.output == "No events match these filters.\n"
    dead = runner.invoke(app, ["events", "list", "--db", str(db), "--status", "dead"])
    assert "dead" in dead.output and "tweet_create_events" in dead.output
    empty = tmp_path / "empty.db"
    asyncio.run(_start_and_close(empty))
    assert runner.invoke(app, ["events", "list", "--db", str(empty)]).output.startswith("No events yet.")


async def _start_and_close(db: Path) -> None:
    store = SQLiteStore(db)
    await store.start()
    await store.close()


def test_show_prints_the_last_error(db: Path) -> None:
    result = CliRunner().invoke(app, ["events", "show", "1", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "last error:\nTraceback …\nValueError: no reply possible\n" in result.output
    healthy = CliRunner().invoke(app, ["events", "show", "2", "--db", str(db)])
    assert "last error" not in healthy.output


def test_cli_and_dashboard_number_the_verifying_secret_alike(tmp_path: Path) -> None:
    db, port = tmp_path / "rotation.db", free_port()
    args = xhooks_cmd(
        "serve",
        "--consumer-secret",
        "new-secret",
        "--consumer-secret",
        "old-secret",
        "--db",
        str(db),
        "--port",
        str(port),
        "--no-watch",
    )
    base = f"http://127.0.0.1:{port}"
    with spawn(args, ready_url=f"{base}/healthz", cwd=tmp_path):
        for body, secret in ((BODY, "old-secret"), (BODY.replace(b'"7"', b'"8"'), "new-secret")):
            headers = {"x-twitter-webhooks-signature": signature(body, secret)}
            assert httpx.post(f"{base}/webhook", content=body, headers=headers).status_code == 200
        pages = [httpx.get(f"{base}/_xhooks/events/{event_id}").text for event_id in (1, 3)]
    shown = [CliRunner().invoke(app, ["events", "show", str(event_id), "--db", str(db)]).output for event_id in (1, 3)]
    old, new = "consumer secret #2 (an older secret: finish the rotation)", "consumer secret #1"
    assert old in shown[0] and old in pages[0]
    assert new in shown[1] and new in pages[1] and "#2" not in shown[1]


async def _pruned(db: Path) -> None:
    """One handled event whose body retention pruned; it stays as a tombstone."""
    from xhooks.store.retention import DAY, RetentionPolicy

    store = SQLiteStore(db)
    await store.start()
    try:
        await store.record(Delivery.received("/webhook", BODY, 1.0))
        for _ in range(2):
            (claimed,) = await store.claim("w1", 1, 60.0, 2.0)
            await store.complete(claimed.event.id, "w1", 2.0)
        await store.record(Delivery.received("/webhook", BODY.replace(b'"7"', b'"8"'), 9 * DAY))
        assert (await store.prune(RetentionPolicy(), 8 * DAY + 1)).bodies == 1
    finally:
        await store.close()


def test_show_and_stats_tell_a_tombstone(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    asyncio.run(_pruned(db))
    shown = CliRunner().invoke(app, ["events", "show", "1", "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    assert "tombstone since 1970-01-09 00:00:01.000Z: body and headers went, the key stays for dedup" in shown.output
    assert '"text":"hi"' not in shown.output
    stats = CliRunner().invoke(app, ["events", "stats", "--db", str(db)])
    assert "events 4  duplicates 0  unparsed 0  tombstones 2" in stats.output
    assert "oldest body kept: received 1970-01-10 00:00:00.000Z" in stats.output
    assert re.search(r"^store \d+\.\d KiB, [\d.]+ [KMGT]iB free$", stats.output, re.M), stats.output


def test_forget_erases_a_user_and_stats_lists_the_audit_record(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    asyncio.run(_fill(db))
    forgot = CliRunner().invoke(app, ["events", "forget", "--user", "7", "--reason", "GDPR 12", "--db", str(db)])
    assert forgot.exit_code == 0, forgot.output
    assert forgot.output.startswith("erased user:7 at ")
    assert forgot.output.rstrip().endswith(": 1 bodies, 2 events made tombstones (why: GDPR 12)")
    shown = CliRunner().invoke(app, ["events", "show", "1", "--db", str(db)]).output
    assert '"text":"hi"' not in shown and "erased (GDPR 12): its body is gone" in shown
    stats = CliRunner().invoke(app, ["events", "stats", "--db", str(db)]).output
    assert "erased: user:7 at " in stats and "(why: GDPR 12)" in stats


async def _failing_three_times(db: Path) -> None:
    """One event whose handler failed three times, recorded as the worker records a failure (`Store.fail`)."""
    store = SQLiteStore(db)
    await store.start()
    try:
        await store.record(Delivery.received("/webhook", BODY.replace(b',{"id_str":"11","text":"ho"}', b""), 1.0))
        for attempt, retry_at in ((1, 20.0), (2, 40.0), (3, None)):
            (claimed,) = await store.claim(f"w{attempt}", 1, 60.0, 20.0 * attempt)
            error = f"RuntimeError: downstream down on attempt {attempt}\n\nTraceback (most recent call last):\n  …"
            assert await store.fail(claimed.event.id, f"w{attempt}", error, retry_at, 20.0 * attempt + 1.5)
    finally:
        await store.close()


def test_show_lists_every_attempt_of_a_failing_handler(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    asyncio.run(_failing_three_times(db))
    shown = CliRunner().invoke(app, ["events", "show", "1", "--db", str(db)]).output
    assert "status=dead" in shown
    for attempt, outcome in ((1, "retry"), (2, "retry"), (3, "dead")):
        assert f"attempt {attempt} by w{attempt}: {outcome} at " in shown
        assert f"RuntimeError: downstream down on attempt {attempt}" in shown
    assert shown.count("Traceback (most recent call last)") == 4  # three attempts, and the last error again
    assert shown.count("after 1.500 s") == 3


def test_an_exported_fixture_delivered_again_reaches_the_handler_with_the_same_content(tmp_path: Path) -> None:
    """Capture → fixture (issue 18): `events export ID --fixture` scrubs a stored event's ids, `trigger
    --from-file` (and the pytest plugin's factory) delivers it again, and the handler gets the same content."""
    seen: list[DirectMessage] = []
    hooks = XHooks()
    hooks.on(DirectMessage)(lambda dm, ctx: seen.append(dm))
    fixture = tmp_path / "dm.json"
    with run_emulator() as emulator, run_receiver(hooks, emulator, tmp_path / "x.db") as receiver:
        dev, friend = emulator.dev["id"], emulator.friend["id"]
        emulator.trigger("aaa.direct_message", user_id=friend, target_id=dev, text="this broke the bot")
        (captured,) = receiver.wait_handled(1)
        export = ["events", "export", str(captured.id), "--fixture", "-o", str(fixture), "--db", str(receiver.db)]
        exported = CliRunner().invoke(app, export)
        assert exported.exit_code == 0, exported.output
        assert dev not in fixture.read_text() and friend not in fixture.read_text()
        triggered = CliRunner().invoke(app, ["trigger", "--from-file", str(fixture), "--emulator", emulator.url])
        assert triggered.exit_code == 0, triggered.output
        receiver.wait_handled(2)
        factory = DeliveryFactory(emulator, receiver.webhook_url)
        factory.send(factory.from_file(fixture))
        receiver.wait_handled(2)  # the same fixture again is the same event: deduplicated, not handled twice
        stored = receiver.events()
    original, replayed = seen
    assert len(stored) == 2 and stored[1].duplicates == 1
    assert (replayed.event_type, replayed.text, replayed.created_timestamp) == (
        original.event_type,
        original.text,
        original.created_timestamp,
    )
    assert replayed.sender_id not in (dev, friend) and replayed.for_user_id not in (dev, friend)
    assert replayed.for_user_id == replayed.recipient_id and replayed.sender_id != replayed.for_user_id
    assert set(replayed.users or {}) == {replayed.sender_id, replayed.recipient_id}
