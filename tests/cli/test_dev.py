"""`xhooks dev` as a user runs it: one process in one terminal, `xhooks trigger`/`events`/`webhooks` from another
with no flags (they read `.xhooks/dev.json` in the same directory), Ctrl-C cleans up, a restart reuses the state.

Issue 18, "Done means" 1 and 4: the README's first two commands, read from README.md and run as written (in a
scratch directory holding examples/dm_bot.py): `xhooks dev --app examples.dm_bot:hooks`, then `xhooks trigger
dm.received --text "hello bot"` from another process, show the handled line and the bot's ignored echo, with
nothing copied between them; SIGINT leaves nothing registered in the emulator's state.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_listen import Lines
from tests.support import ROOT, xhooks_cmd

pytestmark = pytest.mark.timeout(300)

READY = "Ctrl-C to stop"


def _env() -> dict[str, str]:
    """A terminal with nothing configured: no XHOOKS_* variable; this checkout's code."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("XHOOKS_")}
    return {**env, "PYTHONPATH": str(ROOT / "src")}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A project directory holding the example bot as examples/dm_bot.py."""
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "dm_bot.py", tmp_path / "examples")
    return tmp_path


def _quick_start() -> list[list[str]]:
    """The arguments of the README's first-screen commands (the block that starts `xhooks dev`), as written."""
    (block,) = [
        b for b in re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text("utf-8"), re.S) if "xhooks dev" in b
    ]
    commands = [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]
    assert all(words[0] == "xhooks" for words in commands)
    return [words[1:] for words in commands]


@contextlib.contextmanager
def _dev(home: Path, args: list[str] | None = None) -> Iterator[tuple[subprocess.Popen[str], Lines]]:
    """`xhooks dev …` in `home`, once it says it is ready; killed if still running."""
    args = xhooks_cmd(*(args or ["dev", "--app", "examples.dm_bot:hooks"]))
    proc = subprocess.Popen(args, cwd=home, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = Lines(proc)
    try:
        lines.wait_for(READY)
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(60)
        lines.close()


def _run(home: Path, *args: str) -> str:
    """One command from "another terminal" in the same directory; its output."""
    result = subprocess.run(xhooks_cmd(*args), cwd=home, env=_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _state(home: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((home / ".xhooks" / "dev.json").read_text())
    return state


def _registered(home: Path) -> dict[str, int]:
    """What the emulator's state holds: webhooks and subscriptions of both kinds."""
    with contextlib.closing(sqlite3.connect(home / ".xhooks" / "emulator.db")) as db:
        tables = ("webhooks", "aaa_subscriptions", "activity_subscriptions")
        return {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}


def test_the_readme_quick_start_works_as_written_and_sigint_cleans_up(home: Path) -> None:
    dev, trigger = _quick_start()  # two commands, in two terminals, and no value copied from one to the other
    assert dev[0] == "dev" and trigger[0] == "trigger"
    with _dev(home, dev) as (proc, lines):
        webhook_id = _state(home)["webhook_id"]
        assert _registered(home)["activity_subscriptions"] > 30  # every X Activity type, for the dev user
        _run(home, *trigger)
        assert "dm.received" in lines.wait_for('"hello bot"')  # the arrival line says what the DM says
        assert "dm.received" in lines.wait_for("-> handled #")
        echo = lines.wait_for("-> ignored #")  # the bot's reply, delivered back to its own webhook
        assert "the bot's own action" in echo
        listed = _run(home, "events", "list")
        assert "dm.received" in listed and "handled" in listed and "ignored" in listed
        assert webhook_id in _run(home, "webhooks", "list")
        exports = _run(home, "dev", "env")
        assert f"export XHOOKS_WEBHOOK_ID='{webhook_id}'" in exports
        assert f"export XHOOKS_API_BASE='{_state(home)['api_base']}'" in exports
        proc.send_signal(signal.SIGINT)
        lines.wait_for(f"deleted webhook {webhook_id}")
        assert proc.wait(60) == 0
    assert _registered(home) == {"webhooks": 0, "aaa_subscriptions": 0, "activity_subscriptions": 0}


def test_a_restart_after_a_kill_reuses_the_state(home: Path) -> None:
    with _dev(home) as (proc, _):
        first = _state(home)
        proc.kill()  # no clean-up at all: the webhook and every subscription stay registered
        proc.wait(60)
    assert _registered(home)["webhooks"] == 1
    with _dev(home) as (proc, lines):  # no "webhook limit", no "already subscribed"
        again = _state(home)
        assert again["consumer_key"] == first["consumer_key"]  # the same app and keys: exports stay valid
        assert _registered(home)["webhooks"] == 1
        _run(home, "trigger", "dm.received", "--text", "still there?")
        assert "dm.received" in lines.wait_for("-> handled #")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    assert _registered(home)["webhooks"] == 0


def test_dev_env_without_a_running_dev_says_what_to_do(tmp_path: Path) -> None:
    result = subprocess.run(xhooks_cmd("dev", "env"), cwd=tmp_path, env=_env(), capture_output=True, text=True)
    assert result.returncode == 2
    assert "start `xhooks dev` in this directory first" in result.stderr
