from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT, free_port, spawn, wait_ready, xhooks_cmd
from xhooks.cli import serve as serve_module
from xhooks.protocol import signature
from xhooks.receiver import ServeConfig


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        xhooks_cmd(*args), capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})}, timeout=60
    )


def test_serve_without_a_secret_says_what_to_do_in_one_line(tmp_path: Path) -> None:
    result = _run("serve", cwd=tmp_path, env={"XHOOKS_CONSUMER_SECRET": ""})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "XHOOKS_CONSUMER_SECRET" in result.stderr and "Traceback" not in result.stderr


def _captured(monkeypatch: pytest.MonkeyPatch) -> list[ServeConfig]:
    """The configs `xhooks serve` would serve, with no socket opened and nothing served."""
    calls: list[ServeConfig] = []
    monkeypatch.setattr(serve_module, "open_sockets", lambda config: [])
    monkeypatch.setattr(serve_module, "serve", lambda config, sockets: calls.append(config))
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
            response = httpx.post(
                f"http://127.0.0.1:{port}/webhook", content=payload, headers={"x-twitter-webhooks-signature": sig}
            )
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


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("XHOOKS_")}


@contextlib.contextmanager
def _occupied() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("command", "flag"),
    [
        pytest.param(["serve", "--consumer-secret", "s", "--port", "{port}"], "--port", id="serve"),
        pytest.param(
            ["serve", "--consumer-secret", "s", "--app", "tests.scale._hooks:hooks", "--port", "{port}"],
            "--port",
            id="serve-with-a-worker",
        ),
        pytest.param(
            ["serve", "--consumer-secret", "s", "--port", "{free}", "--dashboard-port", "{port}"],
            "--dashboard-port",
            id="dashboard-port",
        ),
        pytest.param(["listen", "--consumer-secret", "s", "--port", "{port}"], "--port", id="listen"),
        pytest.param(["emulator", "--port", "{port}"], "--port", id="emulator"),
    ],
)
def test_a_port_in_use_is_one_line_and_no_database(tmp_path: Path, command: list[str], flag: str) -> None:
    with _occupied() as port:
        args = [part.format(port=port, free=free_port()) for part in [*command, "--db", str(tmp_path / "x.db")]]
        env = {**_clean_env(), "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        result = subprocess.run(xhooks_cmd(*args), capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"error: port {port} is already in use on 127.0.0.1; choose another with {flag}\n"
    assert list(tmp_path.iterdir()) == []


def _serve_and_stop(tmp_path: Path, *flags: str) -> str:
    """Run `xhooks serve` with `flags`, send one forged POST and one CRC, stop it; return what it printed (uvicorn's
    access log goes to stdout, everything else to stderr)."""
    port = free_port()
    log = tmp_path / "serve.log"
    args = xhooks_cmd(
        "serve", "--consumer-secret", "s3cret", "--db", str(tmp_path / "x.db"), "--port", str(port), *flags
    )
    with log.open("w") as err:
        proc = subprocess.Popen(args, stdout=err, stderr=err, cwd=tmp_path, env=_clean_env())
        try:
            wait_ready(f"http://127.0.0.1:{port}/healthz")
            forged = {"x-twitter-webhooks-signature": "sha256=AAAA"}
            assert httpx.post(f"http://127.0.0.1:{port}/webhook", content=b"{}", headers=forged).status_code == 403
            crc = httpx.get(f"http://127.0.0.1:{port}/webhook", params={"crc_token": "dGhpcy1pcy1hLWNyYy10b2tlbg"})
            assert crc.status_code == 200
        finally:
            proc.terminate()
            proc.wait(20)
    return log.read_text()


def test_serve_logs_what_it_serves_and_every_refusal(tmp_path: Path) -> None:
    logged = _serve_and_stop(tmp_path)
    port = logged.split("serving http://127.0.0.1:")[1].split(":")[0]
    assert (
        f"INFO:     xhooks.serve: serving http://127.0.0.1:{port}: webhook /webhook; store {tmp_path / 'x.db'}"
        f" (durability disk); dashboard http://127.0.0.1:{port}/_xhooks/;"
        " worker off (--app runs your handlers here); watcher off; stream off;"
        " relay off (--relay-to URL relays to HTTP, Redis, NATS or RabbitMQ);"
        " pruning every 300 s (bodies 7 d, dead letters 30 d, quarantined 30 d, tombstones 30 d)\n"
    ) in logged
    assert "WARNING:  xhooks.receiver: POST /webhook refused with 403 SignatureMismatch" in logged
    assert "INFO:     xhooks.receiver: CRC GET /webhook answered" in logged
    assert '"POST /webhook HTTP/1.1" 403' not in logged  # no access log unless asked
    assert "Traceback" not in logged


def test_log_level_warning_keeps_only_the_refusals(tmp_path: Path) -> None:
    logged = _serve_and_stop(tmp_path, "--log-level", "warning")
    assert logged.startswith("WARNING:  xhooks.receiver: POST /webhook refused with 403 SignatureMismatch")
    assert logged.count("\n") == 1, logged


def test_access_log_on_request(tmp_path: Path) -> None:
    logged = _serve_and_stop(tmp_path, "--access-log")
    assert '"POST /webhook HTTP/1.1" 403' in logged
    assert '"GET /webhook?crc_token=dGhpcy1pcy1hLWNyYy10b2tlbg HTTP/1.1" 200' in logged


def test_an_unknown_log_level_is_one_line(tmp_path: Path) -> None:
    result = _run("serve", "--consumer-secret", "s", "--log-level", "loud", cwd=tmp_path, env=_clean_env())
    assert result.returncode == 2
    assert result.stderr == (
        "error: --log-level must be one of critical, error, warning, info, debug, trace, not 'loud'\n"
    )
