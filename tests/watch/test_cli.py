"""`xhooks watch` and `xhooks recover`, each run for real as a subprocess against the emulator and a receiver."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from tests.support import free_port, serve_app, spawn, xhooks_cmd
from xhooks.clock import Clock, ManualClock, SystemClock
from xhooks.emulator import Emulator, EmulatorConfig
from xhooks.protocol import parse_envelope
from xhooks.receiver import AppConfig, Receiver
from xhooks.store import EventQuery, open_reader
from xhooks.store.sqlite import SQLiteStore


@contextlib.contextmanager
def emulator(clock: Clock, **config: object) -> Iterator[tuple[Emulator, httpx.Client]]:
    settings = {"allow_local_urls": True, "remote_urls": False, "seed": 5, **config}
    emu = Emulator(EmulatorConfig(**settings), clock)  # type: ignore[arg-type]
    with serve_app(emu) as url, httpx.Client(base_url=url, timeout=60) as http:  # a hang guard
        yield emu, http


@contextlib.contextmanager
def receiver(secret: str, db: Path, port: int = 0) -> Iterator[str]:
    app = Receiver(SQLiteStore(db), [AppConfig((secret,))], heartbeat=None)
    with serve_app(app, port=port) as url:
        yield url


def register(emu: Emulator, http: httpx.Client, url: str) -> str:
    creds = emu.credentials()
    bearer = {"authorization": f"Bearer {creds['apps'][0]['bearer_token']}"}
    webhook_id = str(http.post("/2/webhooks", json={"url": url}, headers=bearer).json()["data"]["id"])
    user = {"authorization": f"Bearer {creds['users'][0]['oauth2_access_token']}"}
    assert http.post(f"/2/account_activity/webhooks/{webhook_id}/subscriptions/all", headers=user).status_code == 200
    return webhook_id


def connection(emu: Emulator, http: httpx.Client, db: Path) -> list[str]:
    bearer = emu.credentials()["apps"][0]["bearer_token"]
    return ["--db", str(db), "--api-base", str(http.base_url), "--bearer-token", bearer]


def wait(condition: Callable[[], bool], what: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 60  # a hang guard
    while not condition():
        if time.monotonic() > deadline or (proc is not None and proc.poll() is not None):
            out = proc.stdout.read().decode() if proc and proc.poll() is not None and proc.stdout else ""
            raise AssertionError(f"timed out waiting for {what} {out}")
        time.sleep(0.05)


def test_watch_revalidates_a_webhook_x_marked_invalid(tmp_path: Path) -> None:
    db = tmp_path / "receiver.db"
    with emulator(ManualClock()) as (emu, http):
        secret = emu.credentials()["apps"][0]["consumer_secret"]
        with receiver(secret, db) as base:
            port = int(base.rsplit(":", 1)[1])
            webhook_id = register(emu, http, base + "/webhook")
        assert http.post("/_emulator/clock/advance", json={"seconds": 29 * 3600}).status_code == 200  # down 29 h
        bearer = {"authorization": f"Bearer {emu.credentials()['apps'][0]['bearer_token']}"}

        def valid() -> bool:
            return bool(http.get("/2/webhooks", headers=bearer).json()["data"][0]["valid"])

        assert not valid()
        with (
            receiver(secret, db, port),
            spawn(xhooks_cmd("watch", "--interval", "0.2", *connection(emu, http, db))) as proc,
        ):
            wait(valid, f"webhook {webhook_id} to be re-validated", proc)


def test_recover_replays_a_window_and_waits_for_its_status(tmp_path: Path) -> None:
    db = tmp_path / "receiver.db"
    with emulator(SystemClock(), retries="none") as (emu, http):
        secret = emu.credentials()["apps"][0]["consumer_secret"]
        with receiver(secret, db) as base:
            port = int(base.rsplit(":", 1)[1])
            register(emu, http, base + "/webhook")
        for event_type in ("aaa.favorite", "aaa.follow"):
            assert http.post("/_emulator/events", json={"type": event_type}).status_code == 200
        http.post("/_emulator/settle")
        failed = [d["body"] for d in http.get("/_emulator/deliveries").json()["data"] if d["state"] == "failed"]
        missed = {event.key for body in failed for event in parse_envelope(body.encode()).events}
        assert len(missed) == 2
        with receiver(secret, db, port):
            args = xhooks_cmd("recover", "--since", "5m ago", *connection(emu, http, db))
            done = subprocess.run(args, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ": complete (1 replay job, last " in done.stdout
    with open_reader(db) as store:
        assert missed <= {event.key for event in store.events(EventQuery(limit=100))}


def test_serve_runs_the_watcher_when_a_bearer_token_is_configured(tmp_path: Path) -> None:
    db, port = tmp_path / "receiver.db", free_port()
    with emulator(ManualClock()) as (emu, http):
        app = emu.credentials()["apps"][0]
        env = {
            "XHOOKS_BEARER_TOKEN": app["bearer_token"],
            "XHOOKS_API_BASE": str(http.base_url),
            "XHOOKS_WATCH_INTERVAL": "0.2",
        }
        serve = xhooks_cmd(
            "serve", "--consumer-secret", app["consumer_secret"], "--db", str(db), "--port", str(port), "--no-dashboard"
        )
        base = f"http://127.0.0.1:{port}"
        with spawn([*serve, "--no-watch"], f"{base}/healthz", env):
            webhook_id = register(emu, http, f"{base}/webhook")
        assert http.post("/_emulator/clock/advance", json={"seconds": 29 * 3600}).status_code == 200
        bearer = {"authorization": f"Bearer {app['bearer_token']}"}

        def valid() -> bool:
            return bool(http.get("/2/webhooks", headers=bearer).json()["data"][0]["valid"])

        assert not valid()
        with spawn(serve, f"{base}/healthz", env) as proc:
            wait(valid, "xhooks serve's watcher to re-validate the webhook", proc)
            gauge = f'xhooks_webhook_valid{{webhook_id="{webhook_id}"}} 1.0'  # one Metrics for the whole process
            wait(lambda: gauge in httpx.get(f"{base}/metrics").text, "the watcher's gauge at /metrics", proc)
