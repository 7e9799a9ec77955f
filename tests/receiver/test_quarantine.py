"""Issue 12: the CRC answer signs any token-shaped `crc_token`, and that signature is valid for a body made of the
token. Such a body is kept but quarantined: a real `xhooks serve --app …` (receiver, worker and dashboard in one
process on 127.0.0.1) stores it, never hands it to a handler, and shows it in the CLI, the stats and the dashboard.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path

import httpx

from tests.support import free_port, spawn, xhooks_cmd
from xhooks.protocol import parse_envelope, signature

SECRET = "quarantine-consumer-secret-0123456789"
HANDLERS = """
import os

from xhooks.dispatch import XHooks

hooks = XHooks()


def _log(name, ctx):
    with open(os.environ["HANDLED_LOG"], "a") as log:
        log.write(f"{name} {ctx.event_key}\\n")


@hooks.on("malformed")
def typed(event, ctx):
    _log("typed", ctx)


@hooks.on_any
def any_event(event, ctx):
    _log("any", ctx)
"""
FORGED = [b"dGhpcy1pcy1hLWNyYy10b2tlbi1mcm9tLXg", b"12345678901234567890"]  # the second is a JSON number
GENUINE = b'{"data":{"event_uuid":"77","event_type":"post.create","filter":{"user_id":"1"},"payload":{"id":"77"}}}'
GENUINE_KEY = parse_envelope(GENUINE).events[0].key


def _forge(url: str, token: bytes) -> httpx.Response:
    """What the black-box probe did: ask the CRC to sign the token, then POST the token with that signature."""
    crc = httpx.get(url, params={"crc_token": token.decode()})
    assert crc.status_code == 200
    signed = crc.json()["response_token"]
    return httpx.post(url, content=token, headers={"x-twitter-webhooks-signature": signed})


def _wait_for_line(log: Path, line: str, timeout: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        lines = log.read_text().splitlines() if log.exists() else []
        if line in lines:
            return lines
        if time.monotonic() > deadline:
            raise AssertionError(f"{line!r} was not handled; handled: {lines}")
        time.sleep(0.02)


def _cli(*args: str) -> str:
    done = subprocess.run(xhooks_cmd(*args), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_crc_oracle_body_is_stored_quarantined_and_never_handled(tmp_path: Path) -> None:
    db, log, port = tmp_path / "x.db", tmp_path / "handled.log", free_port()
    (tmp_path / "handlers.py").write_text(HANDLERS)
    serve = xhooks_cmd(
        "serve",
        "--consumer-secret",
        SECRET,
        "--db",
        str(db),
        "--port",
        str(port),
        "--app",
        "handlers:hooks",
        "--no-watch",
    )
    base = f"http://127.0.0.1:{port}"
    with spawn(serve, ready_url=f"{base}/healthz", env={"HANDLED_LOG": str(log)}, cwd=tmp_path):
        for token in FORGED:
            assert _forge(f"{base}/webhook", token).status_code == 200  # stored, so acknowledged
        genuine = httpx.post(
            f"{base}/webhook", content=GENUINE, headers={"x-twitter-webhooks-signature": signature(GENUINE, SECRET)}
        )
        assert genuine.status_code == 200
        # The worker claims oldest first: once the later, genuine event is handled, the forged ones were passed over.
        handled = _wait_for_line(log, f"any {GENUINE_KEY}")
        page = httpx.get(f"{base}/_xhooks/events", params={"status": "quarantined"})
        detail = httpx.get(f"{base}/_xhooks/events/1")  # the first forged body
        metrics = httpx.get(f"{base}/metrics").text
    assert handled == [f"any {GENUINE_KEY}"]  # neither the typed handler nor on_any ever saw a forged body

    keys = {f"raw:{hashlib.sha256(token).hexdigest()}" for token in FORGED}
    listed = json.loads(_cli("events", "list", "--status", "quarantined", "--json", "--db", str(db)))
    assert {event["key"] for event in listed} == keys
    assert all((e["status"], e["event_type"], e["attempts"]) == ("quarantined", "malformed", 0) for e in listed)
    table = _cli("events", "list", "--status", "quarantined", "--db", str(db))
    assert table.count("quarantined") == 2 and "post.create" not in table

    stats = json.loads(_cli("events", "stats", "--json", "--db", str(db)))
    assert stats["by_status"] == {"quarantined": 2, "handled": 1}
    assert "quarantined=2" in _cli("events", "stats", "--db", str(db))

    assert page.status_code == 200
    assert "<option selected>quarantined</option>" in page.text  # the filter offers it and keeps it chosen
    assert page.text.count('<span class="pill quarantined">quarantined</span>') == 2
    assert page.text.count("<code>malformed</code>") == 2 and "<code>post.create</code>" not in page.text
    assert "never handed to handlers" in detail.text
    assert 'xhooks_deliveries_total{result="quarantined"} 2.0' in metrics
