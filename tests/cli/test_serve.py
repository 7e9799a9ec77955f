from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support import free_port, spawn, xhooks_cmd
from xhooks.cli import serve as serve_module
from xhooks.protocol import signature
from xhooks.receiver import ServeConfig


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        xhooks_cmd(*args), capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})}, timeout=60
    )


def test_serve_without_a_secret_says_what_to_do_in_one_line(tmp_path: Path) -> None:
    result = _run("serve", cwd=tmp_path, env={"XHOOKS_CONSUMER_SECRET": ""})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "XHOOKS_CONSUMER_SECRET" in result.stderr and "Traceback" not in result.stderr


def _captured(monkeypatch: pytest.MonkeyPatch) -> list[ServeConfig]:
    calls: list[ServeConfig] = []
    monkeypatch.setattr(serve_module, "serve", calls.append)
    return calls


def test_flags_beat_environment_beat_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from xhooks.cli.main import app

    (tmp_path / "xhooks.toml").write_text('port = 9001\nhost = "127.0.0.2"\ndb = "file.db"\nconsumer_secret = "f"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XHOOKS_PORT", "9002")
    calls = _captured(monkeypatch)
    result = CliRunner().invoke(app, ["serve", "--db", "flag.db", "--consumer-secret", "a", "--consumer-secret", "b"])
    slow = CliRunner().invoke(app, ["serve", "--consumer-secret", "a", "--request-timeout", "2.5"])
    assert slow.exit_code == 0, slow.output
    assert result.exit_code == 0, result.output
    config, slow_config = calls
    assert slow_config.request_timeout == 2.5
    assert (config.db, config.port, config.host) == ("flag.db", 9002, "127.0.0.2")
    assert config.apps[0].consumer_secrets == ("a", "b")
    assert (config.durability, config.request_timeout) == ("disk", 10.0)


def test_several_apps_from_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from xhooks.cli.main import app

    (tmp_path / "xhooks.toml").write_text(
        '[[apps]]\npath = "/one"\nconsumer_secret = "s1"\n[[apps]]\npath = "/two"\nconsumer_secret = ["s2", "old"]\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("XHOOKS_CONSUMER_SECRET", raising=False)
    calls = _captured(monkeypatch)
    assert CliRunner().invoke(app, ["serve"]).exit_code == 0
    assert [(a.path, a.consumer_secrets) for a in calls[0].apps] == [("/one", ("s1",)), ("/two", ("s2", "old"))]


def test_serve_then_events_commands_read_the_store(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "events.db"
    body = b'{"for_user_id":"3","direct_message_events":[{"id":"77","type":"message_create"}]}'
    args = xhooks_cmd("serve", "--consumer-secret", "s3cret", "--db", f"sqlite:///{db}", "--port", str(port))
    with spawn(args, ready_url=f"http://127.0.0.1:{port}/healthz"):
        for payload in (body, body, b"{broken"):
            sig = signature(payload, "s3cret")
            response = httpx.post(f"http://127.0.0.1:{port}/webhook", content=payload,
                                  headers={"x-twitter-webhooks-signature": sig})
            assert response.status_code == 200
    listed = json.loads(_run("events", "list", "--db", str(db), "--json", cwd=tmp_path).stdout)
    assert [e["event_type"] for e in listed] == ["malformed", "direct_message_events"]
    dm = listed[1]
    assert (dm["for_user_id"], dm["duplicates"]) == ("3", 1)
    shown = json.loads(_run("events", "show", str(dm["id"]), "--db", str(db), "--json", cwd=tmp_path).stdout)
    assert shown["body"] == body.decode()
    assert len(shown["sightings"]) == 2
    stats = json.loads(_run("events", "stats", "--db", str(db), "--json", cwd=tmp_path).stdout)
    assert (stats["deliveries"], stats["events"], stats["duplicates"], stats["unparsed"]) == (3, 2, 1, 1)
    table = _run("events", "list", "--db", str(db), cwd=tmp_path)
    assert "direct_message_events" in table.stdout and "malformed" in table.stdout


def test_events_on_a_missing_database_is_one_line(tmp_path: Path) -> None:
    result = _run("events", "list", "--db", str(tmp_path / "nope.db"), cwd=tmp_path)
    assert result.returncode == 2
    assert "no database at" in result.stderr and "Traceback" not in result.stderr


def test_show_unknown_event_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    import sqlite3

    sqlite3.connect(db).execute("CREATE TABLE events (id INTEGER)").connection.close()
    result = _run("events", "show", "5", "--db", str(db), cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
