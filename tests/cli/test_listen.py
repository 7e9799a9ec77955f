"""`xhooks listen` as a subprocess: registered on the emulator, an event printed, the webhook gone after SIGINT."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import free_port, serve_app, xhooks_cmd
from xhooks.cli.listen import summarize
from xhooks.client import Credentials, XClient
from xhooks.clock import SystemClock
from xhooks.emulator import Emulator, EmulatorConfig
from xhooks.receiver import AppConfig, Receiver
from xhooks.store import StoredEvent
from xhooks.store.sqlite import SQLiteStore


class Lines:
    """The output of a process, line by line, read on a thread so that waiting on it is bounded."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._stdout = proc.stdout
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._stdout or ():
            self._queue.put(line)

    def close(self) -> None:
        """After the process has exited: finish reading, then close the pipe."""
        self._thread.join(10)
        if self._stdout:
            self._stdout.close()

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not printed within {timeout}s; output so far: {''.join(self.seen)}")


@pytest.fixture
def emulator() -> Iterator[tuple[Emulator, str, dict[str, Any]]]:
    emu = Emulator(EmulatorConfig(allow_local_urls=True, remote_urls=False, seed=1), SystemClock())
    with serve_app(emu) as url:
        yield emu, url, emu.credentials()


def test_listen_registers_prints_an_event_and_deletes_the_webhook_on_sigint(
    emulator: tuple[Emulator, str, dict[str, Any]], tmp_path: Path
) -> None:
    emu, api, creds = emulator
    app, dev = creds["apps"][0], creds["users"][0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("XHOOKS_")}
    env.update(
        XHOOKS_API_BASE=api,
        XHOOKS_BEARER_TOKEN=app["bearer_token"],
        XHOOKS_CONSUMER_KEY=app["consumer_key"],
        XHOOKS_CONSUMER_SECRET=app["consumer_secret"],
        XHOOKS_ACCESS_TOKEN=dev["access_token"],
        XHOOKS_ACCESS_TOKEN_SECRET=dev["access_token_secret"],
    )
    port = free_port()
    args = xhooks_cmd(
        "listen",
        "--port",
        str(port),
        "--db",
        str(tmp_path / "listen.db"),
        "--subscribe",
        "--activity",
        "post.create",
        "--user-id",
        dev["id"],
    )
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    lines = Lines(proc)
    try:
        lines.wait_for("listening on")
        with XClient(Credentials(bearer_token=app["bearer_token"]), base_url=api) as x:
            hooks = x.list_webhooks().items
            assert [h.url for h in hooks] == [f"http://127.0.0.1:{port}/webhook"]
            assert x.list_subscriptions(hooks[0].id).user_ids == (dev["id"],)
            triggered = httpx.post(f"{api}/_emulator/events", json={"type": "aaa.tweet_create", "text": "hello listen"})
            assert triggered.status_code == 200, triggered.text
            line = lines.wait_for("tweet_create_events")
            assert f"user={dev['id']}" in line and "hello listen" in line
            assert len(x.list_activity_subscriptions().items) == 1
            httpx.post(f"{api}/_emulator/events", json={"type": "post.create", "text": "an activity post"})
            assert "an activity post" in lines.wait_for("post.create")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(20) == 0, "".join(lines.seen)
            lines.wait_for(f"deleted webhook {hooks[0].id}")
            assert x.list_webhooks().items == ()
            assert x.list_activity_subscriptions().items == ()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        lines.close()


def _event(event_type: str = "direct_message_events") -> StoredEvent:
    return StoredEvent(1, "/webhook", "k", event_type, "42", 1, 0, 0.0, "received", 0, 0, 0.0)


def test_summary_is_one_line_with_type_user_and_the_first_text() -> None:
    body = b'{"for_user_id":"42","direct_message_events":[{"message_create":{"message_data":{"text":"hi\\nthere"}}}]}'
    line = summarize(_event(), body)
    assert "\n" not in line
    assert "direct_message_events" in line and "user=42" in line and line.endswith("hi there")


def test_summary_cuts_long_text_and_survives_bodies_that_are_not_json() -> None:
    assert summarize(_event(), b'{"text": "' + b"x" * 500 + b'"}').endswith("x\u2026")
    assert summarize(_event("malformed"), b"\xff not json").endswith("(10 bytes, not JSON)")


def test_listen_subscribe_on_a_user_already_subscribed_is_not_a_failure(
    emulator: tuple[Emulator, str, dict[str, Any]], tmp_path: Path
) -> None:
    """A webhook and a subscription left from an earlier run (or `xhooks subscriptions add`): listen reuses both."""
    _, api, creds = emulator
    app, dev = creds["apps"][0], creds["users"][0]
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhook"
    user = Credentials(
        bearer_token=app["bearer_token"],
        consumer_key=app["consumer_key"],
        consumer_secret=app["consumer_secret"],
        access_token=dev["access_token"],
        access_token_secret=dev["access_token_secret"],
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("XHOOKS_")}
    env.update(
        XHOOKS_API_BASE=api,
        XHOOKS_BEARER_TOKEN=app["bearer_token"],
        XHOOKS_CONSUMER_KEY=app["consumer_key"],
        XHOOKS_CONSUMER_SECRET=app["consumer_secret"],
        XHOOKS_ACCESS_TOKEN=dev["access_token"],
        XHOOKS_ACCESS_TOKEN_SECRET=dev["access_token_secret"],
    )
    with XClient(user, base_url=api) as x:
        earlier = Receiver(SQLiteStore(tmp_path / "earlier.db"), [AppConfig((app["consumer_secret"],))])
        with serve_app(earlier, port=port):  # an earlier receiver on the URL answers the registration's CRC
            hook = x.create_webhook(url)
            x.add_subscription(hook.id)
        args = xhooks_cmd("listen", "--port", str(port), "--db", str(tmp_path / "listen.db"), "--subscribe")
        proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path
        )
        lines = Lines(proc)
        try:
            lines.wait_for("already subscribed")
            lines.wait_for(f"listening on {url} as webhook {hook.id}")
            httpx.post(f"{api}/_emulator/events", json={"type": "aaa.tweet_create", "text": "still listening"})
            assert "still listening" in lines.wait_for("tweet_create_events")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(20) == 0, "".join(lines.seen)
            assert [h.id for h in x.list_webhooks().items] == [hook.id]  # not listen's to delete
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            lines.close()
