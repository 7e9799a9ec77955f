"""X's `event_uuid` styles, end to end: the emulator (in a thread) delivers over HTTP to `xhooks serve --app`
(a subprocess) on SQLite and on PostgreSQL.

One Post mentioning user A, by user B, reaches one webhook twice: as `post.mention.create` (filter A) and
as `post.create` (filter B). With X's default style both carry the Post's id as `event_uuid`. Each must be
its own stored event with its own handler call, and every delivery sent twice (`duplicate_rate=1`) must
stay a duplicate (issue 12).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.emulator.conftest import Running, start
from tests.postgres_support import fresh_schema_url
from tests.support import free_port, spawn, xhooks_cmd
from xhooks.cli.main import app
from xhooks.emulator import Emulator, EmulatorConfig
from xhooks.errors import ConfigError
from xhooks.store import EventQuery, open_reader

pytestmark = pytest.mark.timeout(120)

HANDLERS = """
import os

from xhooks.dispatch import XHooks

hooks = XHooks()


@hooks.on_any
def log(event, ctx):
    with open(os.environ["CALLS_LOG"], "a") as calls:
        calls.write(f"{event.event_type} {event.for_user_id} {event.event_uuid}\\n")
"""

STYLES = {
    "post_id": None,  # checked against the Post's id below
    "negative": re.compile(r"-[0-9]{1,19}"),
    "uuid": re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
}


def _sqlite(tmp_path: Path) -> str:
    return str(tmp_path / "receiver.db")


def _postgres(tmp_path: Path) -> str:
    return fresh_schema_url(f"uuid_{tmp_path.name}")


@pytest.fixture(params=list(STYLES))
def running(request: pytest.FixtureRequest) -> Iterator[Running]:
    config = EmulatorConfig(
        allow_local_urls=True, remote_urls=False, seed=3, duplicate_rate=1.0, event_uuid_style=request.param
    )
    yield from start(config)


def _subscribe(running: Running, webhook_id: str, event_type: str, user_id: str) -> None:
    body = {"event_type": event_type, "filter": {"user_id": user_id}, "tag": event_type, "webhook_id": webhook_id}
    response = running.http.post("/2/activity/subscriptions", json=body, headers=running.bearer)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "db_for", [pytest.param(_sqlite, id="sqlite"), pytest.param(_postgres, id="postgres", marks=pytest.mark.postgres)]
)
def test_one_post_to_two_subscriptions_is_two_events_and_two_handler_calls(
    running: Running, tmp_path: Path, db_for: Callable[[Path], str]
) -> None:
    db, calls, port = db_for(tmp_path), tmp_path / "calls.log", free_port()
    (tmp_path / "uuid_handlers.py").write_text(HANDLERS)
    secret = running.app["consumer_secret"]
    args = xhooks_cmd(
        "serve",
        "--consumer-secret",
        secret,
        "--db",
        db,
        "--port",
        str(port),
        "--no-dashboard",
        "--app",
        "uuid_handlers:hooks",
    )
    mentioned, author = running.dev["id"], running.friend["id"]
    with spawn(args, f"http://127.0.0.1:{port}/healthz", {"CALLS_LOG": str(calls)}, tmp_path):
        webhook_id = running.register(f"http://127.0.0.1:{port}/webhook")["id"]
        _subscribe(running, webhook_id, "post.mention.create", mentioned)
        _subscribe(running, webhook_id, "post.create", author)
        routed = running.trigger("post.mention.create", user_id=author, target_id=mentioned)["routed"]
        running.settle()  # every delivery and its duplicate answered 200, so stored
        _wait_until_handled(db)
    log = running.deliveries(webhook_id)
    assert (
        sorted((entry["kind"], entry["state"]) for entry in log)
        == [("duplicate", "delivered")] * 2 + [("event", "delivered")] * 2
    )
    sent = [json.loads(entry["body"])["data"] for entry in log if entry["kind"] == "event"]
    assert {json.loads(entry["body"])["data"]["event_uuid"] for entry in log} == {data["event_uuid"] for data in sent}
    assert [data["event_uuid"] for data in sent] == [item["event_uuid"] for item in routed]
    assert len({data["payload"]["id"] for data in sent}) == 1  # one Post
    pattern = STYLES[running.emulator.config.event_uuid_style]
    if pattern is None:
        assert all(data["event_uuid"] == data["payload"]["id"] for data in sent)
    else:
        assert all(pattern.fullmatch(data["event_uuid"]) for data in sent)
    assert sorted(calls.read_text().splitlines()) == sorted(
        f"{data['event_type']} {data['filter']['user_id']} {data['event_uuid']}" for data in sent
    )
    assert {data["event_type"] for data in sent} == {"post.mention.create", "post.create"}
    with open_reader(db) as store:
        events = store.events(EventQuery())
        assert sorted((e.event_type, e.for_user_id, e.status, e.duplicates) for e in events) == [
            ("post.create", author, "handled", 1),
            ("post.mention.create", mentioned, "handled", 1),
        ]
        assert store.stats().deliveries == 4


def _wait_until_handled(db: str) -> None:
    with open_reader(db) as store:
        deadline = time.monotonic() + 60  # a hang guard
        while {event.status for event in store.events(EventQuery())} != {"handled"}:
            assert time.monotonic() < deadline, "the events were not handled"
            time.sleep(0.02)


def test_an_unknown_event_uuid_style_is_refused() -> None:
    with pytest.raises(ConfigError, match="event_uuid_style must be one of post_id, negative, uuid"):
        EmulatorConfig(event_uuid_style="random")


def test_emulator_command_passes_the_event_uuid_style(served: list[Emulator], tmp_path: Path) -> None:
    db = str(tmp_path / "emu.db")
    args = ["emulator", "--db", db, "--port", "0", "--clock", "manual", "--event-uuid-style", "uuid"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert [emulator.config.event_uuid_style for emulator in served] == ["uuid"]
    assert EmulatorConfig().event_uuid_style == "post_id"  # X's examples: a Post event's event_uuid is its id
