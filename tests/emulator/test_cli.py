"""`xhooks emulator` and `xhooks trigger` as a user runs them: subprocesses on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.emulator.conftest import Consumer
from tests.support import free_port, serve_app, spawn, xhooks_cmd
from xhooks.cli.main import app
from xhooks.emulator import Emulator


@pytest.mark.parametrize(("flag", "remote"), [([], False), (["--remote-urls"], True)])
def test_emulator_contacts_loopback_only_unless_told(
    served: list[Emulator], tmp_path: Path, flag: list[str], remote: bool
) -> None:
    """The safe default: `xhooks emulator` sends CRCs and deliveries to 127.0.0.1/localhost only (issue 17)."""
    result = CliRunner().invoke(app, ["emulator", "--db", str(tmp_path / "emu.db"), "--port", "0", *flag])
    assert result.exit_code == 0, result.output
    (emulator,) = served
    assert emulator.config.remote_urls is remote and emulator.crc.remote_urls is remote


def test_emulator_command_fixes_credentials_and_trigger_routes_an_event(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = xhooks_cmd(
        "emulator",
        "--port",
        str(port),
        "--db",
        str(tmp_path / "emu.db"),
        "--allow-local-urls",
        "--clock",
        "manual",
        "--consumer-key",
        "dev-key",
    )
    env = {"XHOOKS_EMULATOR_CONSUMER_SECRET": "dev-secret", "XHOOKS_EMULATOR_BEARER_TOKEN": "dev-bearer"}
    consumer = Consumer("dev-secret")
    with spawn(args, ready_url=base + "/_emulator/clock", env=env), serve_app(consumer) as receiver:
        app = httpx.get(base + "/_emulator/credentials").json()["apps"][0]
        assert (app["consumer_key"], app["consumer_secret"], app["bearer_token"]) == (
            "dev-key",
            "dev-secret",
            "dev-bearer",
        )
        bearer = {"authorization": "Bearer dev-bearer"}
        hook = httpx.post(base + "/2/webhooks", json={"url": receiver + "/webhook"}, headers=bearer).json()["data"]
        subscription = {"event_type": "profile.update.bio", "filter": {"user_id": "0"}, "webhook_id": hook["id"]}
        dev = httpx.get(base + "/_emulator/credentials").json()["users"][0]["id"]
        subscription["filter"]["user_id"] = dev
        assert httpx.post(base + "/2/activity/subscriptions", json=subscription, headers=bearer).status_code == 200
        out = subprocess.run(
            xhooks_cmd("trigger", "profile.update.bio", "--emulator", base, "--text", "new bio"),
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        routed = json.loads(out.stdout)["routed"]
        assert [item["webhook_id"] for item in routed] == [hook["id"]]
        httpx.post(base + "/_emulator/settle")
        assert [event["data"]["payload"]["after"] for event in consumer.events()] == ["new bio"]


def test_trigger_without_an_emulator_says_what_to_do() -> None:
    out = subprocess.run(
        xhooks_cmd("trigger", "post.create", "--emulator", f"http://127.0.0.1:{free_port()}"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2 and "start it with `xhooks emulator`" in out.stderr and "Traceback" not in out.stderr
