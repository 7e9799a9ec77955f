"""examples/dm_bot.py against the emulator, over real HTTP: it answers a DM once and ignores its own echo."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.conftest import Running, start
from tests.support import ROOT, free_port, spawn, xhooks_cmd
from xhooks.emulator import EmulatorConfig
from xhooks.protocol.events import DirectMessage, decode_event
from xhooks.store import EventQuery, open_reader

EXAMPLES = ROOT / "examples"


@pytest.fixture
def running() -> Iterator[Running]:
    yield from start(EmulatorConfig(allow_local_urls=True, remote_urls=False, seed=3))


def _dms(db: Path) -> list[tuple[str, DirectMessage]]:
    """(status, DM) for every stored DM event, oldest first."""
    found = []
    with open_reader(db) as store:
        for event in reversed(store.events(EventQuery(event_type="direct_message_events"))):
            delivery = store.delivery(event.delivery_id)
            assert delivery is not None
            decoded = decode_event(delivery.body, event.index, event.event_type)
            assert isinstance(decoded, DirectMessage)
            found.append((event.status, decoded))
    return found


@contextlib.contextmanager
def _bot(running: Running, db: Path, mode: str) -> Iterator[str]:
    port = free_port()
    secret = running.app["consumer_secret"]
    serve = ["serve", "--consumer-secret", secret, "--db", str(db), "--port", str(port), "--no-dashboard"]
    env = {"XHOOKS_USER_TOKEN": running.dev["oauth2_access_token"], "XHOOKS_API_BASE": running.url}
    ready = f"http://127.0.0.1:{port}/healthz"
    with contextlib.ExitStack() as stack:
        if mode == "serve --app":
            stack.enter_context(spawn(xhooks_cmd(*serve, "--app", "dm_bot:hooks"), ready, env, EXAMPLES))
        else:
            stack.enter_context(spawn(xhooks_cmd(*serve), ready, env, EXAMPLES))
            worker = xhooks_cmd("worker", "--app", "dm_bot:hooks", "--db", str(db))
            stack.enter_context(spawn(worker, None, env, EXAMPLES))
        yield f"http://127.0.0.1:{port}/webhook"


@pytest.mark.parametrize("mode", ["serve --app", "serve + worker"])
def test_dm_bot_answers_once_and_ignores_its_own_reply(running: Running, tmp_path: Path, mode: str) -> None:
    db = tmp_path / "bot.db"
    with _bot(running, db, mode) as url:
        webhook_id = running.register(url)["id"]
        path = f"/2/account_activity/webhooks/{webhook_id}/subscriptions/all"
        assert running.http.post(path, headers=running.user_bearer(running.dev)).status_code == 200
        sent = running.http.post(
            f"/2/dm_conversations/with/{running.dev['id']}/messages",
            json={"text": "hello bot"},
            headers=running.user_bearer(running.friend),
        )
        assert sent.status_code == 201, sent.text
        deadline = time.monotonic() + 30
        while not (len(dms := _dms(db)) >= 2 and [status for status, _ in dms] == ["handled", "ignored"]):
            assert time.monotonic() < deadline, f"the bot did not answer: {dms}"
            running.settle()
            time.sleep(0.05)
        running.settle()  # had the bot answered its own reply while handling it, that third DM is stored now
        dms = _dms(db)
    assert [(dm.sender_id, dm.text) for _, dm in dms] == [
        (running.friend["id"], "hello bot"),
        (running.dev["id"], "You said: hello bot"),
    ]
    assert all(dm.for_user_id == running.dev["id"] for _, dm in dms)
