"""`xhooks serve` is one process with one store, one event loop and one writer, whatever parts it runs.

The process is real (`xhooks serve --app … --bearer-token …` as a subprocess, against the emulator for the
watcher); what it holds open is read from /proc: the descriptors on the database file (a connection that may
write opens it read-write; read-only readers do not) and the names of its threads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.dispatch.conftest import dm_body
from tests.support import free_port, serve_app, spawn, xhooks_cmd
from xhooks.client import AsyncXClient, Credentials
from xhooks.clock import ManualClock
from xhooks.emulator import Emulator, EmulatorConfig
from xhooks.errors import ConfigError
from xhooks.protocol import signature
from xhooks.receiver import AppConfig
from xhooks.serving import ProcessConfig, _replays
from xhooks.store.sqlite import SQLiteStore
from xhooks.stream import StreamConfig
from xhooks.watch import WatchConfig
from xhooks.watch.health import WebhookStatus
from xhooks.watch.watcher import Watcher

HANDLERS = """
import os

from xhooks.dispatch import XHooks

hooks = XHooks()


@hooks.on_any
def append(event, ctx):
    with open(os.environ["HANDLED_LOG"], "a") as log:
        log.write(ctx.event_key + "\\n")
"""
WRITER_THREAD = "xhooks-sqlite-writer"[:15]  # the kernel keeps 15 bytes of a thread's name


def _descriptors_on(pid: int, path: Path) -> tuple[int, int]:
    """(read-write, read-only): the process's open descriptors on the file `path` itself (not its -wal/-shm)."""
    read_write = read_only = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd) != str(path):
                continue
            info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
        except FileNotFoundError:  # a descriptor closed while we looked: it is not held
            continue
        flags = int(next(line for line in info.splitlines() if line.startswith("flags:")).split()[1], 8)
        if flags & os.O_ACCMODE == os.O_RDWR:
            read_write += 1
        else:
            read_only += 1
    return read_write, read_only


def _thread_names(pid: int) -> list[str]:
    return [(task / "comm").read_text().strip() for task in Path(f"/proc/{pid}/task").iterdir()]


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60  # a hang guard, not a timing
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def _emulator() -> Iterator[tuple[Emulator, httpx.Client]]:
    emulator = Emulator(EmulatorConfig(allow_local_urls=True, remote_urls=False, seed=5), ManualClock())
    with serve_app(emulator) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield emulator, http


@pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="reads /proc (Linux)")
@pytest.mark.parametrize(
    "dashboard",
    [pytest.param([], id="dashboard-mounted"), pytest.param(["--dashboard-port", "{own}"], id="dashboard-own-port")],
)
def test_serve_with_a_worker_and_a_watcher_holds_one_writer(tmp_path: Path, dashboard: list[str]) -> None:
    """Regression (issue 13): the worker and the watcher each opened a store of their own on the same file, so
    one `xhooks serve --app … --bearer-token …` held three writer connections and three writer threads."""
    db, port, own = tmp_path / "x.db", free_port(), free_port()
    log = tmp_path / "handled.log"
    (tmp_path / "handlers.py").write_text(HANDLERS)
    with _emulator() as (emulator, http):
        app, user = emulator.credentials()["apps"][0], emulator.credentials()["users"][0]
        args = xhooks_cmd(
            "serve",
            "--consumer-secret",
            app["consumer_secret"],
            "--db",
            str(db),
            "--port",
            str(port),
            "--app",
            "handlers:hooks",
            *[flag.format(own=own) for flag in dashboard],
        )
        env = {
            "XHOOKS_BEARER_TOKEN": app["bearer_token"],
            "XHOOKS_API_BASE": str(http.base_url),
            "XHOOKS_WATCH_INTERVAL": "0.2",
            "HANDLED_LOG": str(log),
        }
        base = f"http://127.0.0.1:{port}"
        with spawn(args, f"{base}/healthz", env, tmp_path) as proc:
            bearer = {"authorization": f"Bearer {app['bearer_token']}"}
            hook = http.post("/2/webhooks", json={"url": f"{base}/webhook"}, headers=bearer).json()["data"]["id"]
            subscribe = f"/2/account_activity/webhooks/{hook}/subscriptions/all"
            oauth2 = {"authorization": f"Bearer {user['oauth2_access_token']}"}
            assert http.post(subscribe, headers=oauth2).status_code == 200
            body = dm_body("7", "1")
            signed = {"x-twitter-webhooks-signature": signature(body, app["consumer_secret"])}
            assert httpx.post(f"{base}/webhook", content=body, headers=signed).status_code == 200
            _wait(lambda: log.exists() and log.read_text().count("\n") == 1, "the worker to handle the DM")
            gauge = f'xhooks_webhook_valid{{webhook_id="{hook}"}} 1.0'
            _wait(lambda: gauge in httpx.get(f"{base}/metrics").text, "a round of the watcher")
            pages = f"http://127.0.0.1:{own}" if dashboard else base
            assert httpx.get(f"{pages}/_xhooks/").status_code == 200

            read_write, _ = _descriptors_on(proc.pid, db)
            writers = _thread_names(proc.pid).count(WRITER_THREAD)
    assert (read_write, writers) == (1, 1)


def test_sigterm_stops_a_plain_serve_with_exit_status_0(tmp_path: Path) -> None:
    """Without --app too: uvicorn raises the SIGTERM again once it has stopped, and `serve` exits 0 on it."""
    port = free_port()
    args = xhooks_cmd("serve", "--consumer-secret", "s", "--db", str(tmp_path / "x.db"), "--port", str(port))
    with spawn(args, f"http://127.0.0.1:{port}/healthz", cwd=tmp_path) as proc:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0


def test_a_watcher_without_a_bearer_token_is_refused() -> None:
    with pytest.raises(ConfigError, match="the watcher needs the app's bearer token"):
        ProcessConfig(apps=[AppConfig(("s",))], watch=WatchConfig())


def test_a_stream_without_a_bearer_token_is_refused() -> None:
    with pytest.raises(ConfigError, match="the stream needs the app's bearer token"):
        ProcessConfig(apps=[AppConfig(("s",))], stream=StreamConfig())


async def test_a_stream_gap_past_the_backfill_becomes_a_replay_of_each_valid_webhook(tmp_path: Path) -> None:
    """With the watcher in the process, the stream consumer hands a long gap to its recovery (issue 14)."""
    async with AsyncXClient(Credentials(bearer_token="t")) as client:
        watcher = Watcher(client, SQLiteStore(tmp_path / "x.db"))
        recover = _replays(watcher)
        assert await recover(100.0, 700.0) is False  # no webhook known yet: the consumer alerts instead
        watcher.health.statuses["7"] = WebhookStatus("7", "https://example.com/webhook", True, 0.0)
        watcher.health.statuses["8"] = WebhookStatus("8", "https://example.com/other", False, 0.0)
        assert await recover(100.0, 700.0) is True
    assert [(task.webhook_id, task.window) for task in watcher.recovery.tasks] == [("7", (100.0, 700.0, "stream"))]
