"""The dashboard's Unsubscribe erases what the store holds of the user (issue 15), unless told not to."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from tests.dashboard.conftest import Stack, running_stack
from tests.support import read_store
from xhooks.emulator.control import trigger_remote
from xhooks.store.erasure import UNSUBSCRIBED


def _csrf(client: httpx.Client, url: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(url).text)
    assert match is not None
    return match.group(1)


def _stored_dm(stack: Stack) -> None:
    trigger_remote(stack.emulator_url, "aaa.direct_message", text="keep me?")
    deadline = time.monotonic() + 60  # a hang guard: the emulator delivers at once
    while not stack.events() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stack.events()


@pytest.mark.parametrize("erase", [True, False], ids=["erases", "keeps"])
def test_unsubscribing_from_the_dashboard_erases_the_users_bodies(tmp_path: Path, erase: bool) -> None:
    with running_stack(tmp_path / "xhooks.db", erase_on_unsubscribe=erase) as stack:
        hook = stack.subscribe()
        _stored_dm(stack)
        user = stack.dev["id"]
        with httpx.Client() as client:
            csrf = _csrf(client, f"{stack.dashboard}/webhooks")
            done = client.post(f"{stack.dashboard}/webhooks/{hook}/subscriptions/{user}/delete", data={"csrf": csrf})
        assert done.status_code == 303 and "ok=" in done.headers["location"]
        assert user not in stack.emulator.state.subscribers(hook)
        stats = read_store(stack.db, lambda store: store.stats())
        (event,) = stack.events()
        body = read_store(stack.db, lambda store: store.delivery(event.delivery_id))
    if erase:
        assert "stored+bodies+of+theirs+erased" in done.headers["location"]
        assert [(r.reason, r.scope, r.deliveries) for r in stats.erasures] == [(UNSUBSCRIBED, f"user:{user}", 1)]
        assert body is not None and body.body == b""
    else:
        assert stats.erasures == []
        assert body is not None and b"keep me?" in body.body
