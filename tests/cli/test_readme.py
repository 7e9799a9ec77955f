"""The README's emulator walk-throughs, run command by command in the order it gives them.

The commands are read from README.md itself, so the test fails when the README's sequence stops working.
Only what a reader supplies is filled in: free ports instead of 8090 and 8080 (added to the commands that
bind them, replaced in the URLs), the emulator's keys and ids where the README writes KEY, TOKEN, `…`,
WEBHOOK_ID, FRIEND_ID or DEV_ID, and `examples/` copied to a scratch directory so `../bot.db` lands there.
The second walk-through runs after the first, against the same emulator (still running in "terminal 1"),
so its `listen --subscribe` meets the webhook and the subscription the first one made; the third (the stream,
no public URL) runs last on the same emulator.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.test_listen import Lines
from tests.support import ROOT, free_port, wait_ready, xhooks_cmd
from xhooks.store import EventQuery, open_reader

pytestmark = pytest.mark.timeout(300)


def _walkthroughs() -> list[list[str]]:
    """The README's bash blocks that start the emulator, as lists of command lines."""
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text("utf-8"), re.S)
    chosen = [block.replace("\\\n", " ") for block in blocks if "xhooks emulator" in block]
    return [[line for line in block.splitlines() if line.strip()] for block in chosen]


class Reader:
    """Plays the reader: runs each line, keeps the exports, fills in what the README leaves to the reader."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.emulator_port, self.receiver_port = free_port(), free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("XHOOKS_")}
        self.filled: dict[str, str] = {}
        self.emulator: subprocess.Popen[str] | None = None
        self.background: list[tuple[subprocess.Popen[str], Lines]] = []
        self.outputs: list[str] = []

    def _fill(self, word: str) -> str:
        word = word.replace("127.0.0.1:8090", f"127.0.0.1:{self.emulator_port}")
        word = word.replace("127.0.0.1:8080", f"127.0.0.1:{self.receiver_port}")
        return self.filled.get(word, word)

    def run(self, line: str) -> None:
        words = shlex.split(line, comments=True)
        cwd = self.home
        if words[0].startswith("("):  # (cd DIR && xhooks …)
            words = [words[0][1:], *words[1:-1], words[-1].removesuffix(")")]
            assert words[0] == "cd" and words[2] == "&&", line
            cwd, words = self.home / words[1], words[3:]
        if words[0] == "export":
            for assignment in words[1:]:
                name, _, value = assignment.partition("=")
                self.env[name] = self.filled[name] if value == "…" else self._fill(value)
            return
        assert words[0] == "xhooks", line
        args = [self._fill(word) for word in words[1:]]
        if args[0] == "emulator":
            self._emulator(args)
        elif args[0] in ("serve", "listen", "stream"):
            self._receiver(args, cwd)
        else:
            done = subprocess.run(xhooks_cmd(*args), capture_output=True, text=True, cwd=cwd, env=self.env, timeout=60)
            assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
            self.outputs.append(done.stdout)
            if args[:2] == ["webhooks", "create"]:
                self.filled["WEBHOOK_ID"] = re.findall(r"\bid\s*│\s*(\d+)", done.stdout)[0]

    def _emulator(self, args: list[str]) -> None:
        if self.emulator is not None:
            return  # still running in terminal 1
        self.emulator = subprocess.Popen(
            xhooks_cmd(*args, "--port", str(self.emulator_port)),
            cwd=self.home,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        base = f"http://127.0.0.1:{self.emulator_port}"
        wait_ready(f"{base}/_emulator/credentials")
        creds = httpx.get(f"{base}/_emulator/credentials").json()  # what the emulator prints on start
        app, dev, friend = creds["apps"][0], creds["users"][0], creds["users"][1]
        self.filled.update(
            KEY=app["consumer_key"],
            TOKEN=dev["access_token"],
            TOKEN_SECRET=dev["access_token_secret"],
            XHOOKS_CONSUMER_KEY=app["consumer_key"],
            XHOOKS_ACCESS_TOKEN=dev["access_token"],
            XHOOKS_ACCESS_TOKEN_SECRET=dev["access_token_secret"],
            DEV_ID=dev["id"],
            FRIEND_ID=friend["id"],
        )

    def _receiver(self, args: list[str], cwd: Path) -> None:
        port = [] if args[0] == "stream" else ["--port", str(self.receiver_port)]
        proc = subprocess.Popen(
            xhooks_cmd(*args, *port),
            cwd=cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = Lines(proc)
        self.background.append((proc, lines))
        if args[0] == "stream":
            lines.wait_for("reading the X Activity stream", timeout=30)
        elif args[0] == "listen":
            lines.wait_for("listening on", timeout=30)
        else:
            wait_ready(f"http://127.0.0.1:{self.receiver_port}/healthz", timeout=30)

    def interrupt(self) -> list[int]:
        """Ctrl-C in every terminal but the emulator's; their exit codes."""
        codes = []
        for proc, lines in self.background:
            proc.send_signal(signal.SIGINT)
            codes.append(proc.wait(30))
            lines.close()
        self.background.clear()
        return codes

    def close(self) -> None:
        for proc, _ in self.background:
            proc.kill()
            proc.wait()
        if self.emulator is not None:
            self.emulator.terminate()
            self.emulator.wait(30)


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[Reader]:
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    home = Reader(tmp_path)
    try:
        yield home
    finally:
        home.close()


def _settled(db: Path, count: int) -> list[str]:
    """Wait (at most 30 s) until `count` events of `db` are handled or ignored; their statuses, newest first."""
    deadline = time.monotonic() + 30
    while True:
        if db.exists():
            with open_reader(db) as store:
                statuses = [event.status for event in store.events(EventQuery())]
        else:
            statuses = []
        if statuses.count("handled") + statuses.count("ignored") >= count or time.monotonic() > deadline:
            return statuses
        time.sleep(0.05)


def test_the_readme_walkthroughs_work_as_written(reader: Reader, tmp_path: Path) -> None:
    dm_bot, offline, stream_only = _walkthroughs()
    *setup, last = dm_bot
    assert last.startswith("xhooks events list --db bot.db"), last
    for line in setup:
        reader.run(line)
    assert _settled(tmp_path / "bot.db", 2) == ["ignored", "handled"]  # the bot's echoed reply, the friend's DM
    reader.run(last)
    rows = [row for row in reader.outputs[-1].splitlines() if "direct_message_events" in row]
    assert len(rows) == 2 and ["ignored" in row for row in rows] == [True, False]
    assert "handled" in rows[1]
    reader.interrupt()

    for line in offline:  # the webhook and the subscription of the first walk-through are still there
        reader.run(line)
        if line.startswith("xhooks trigger"):
            reader.background[0][1].wait_for("direct_message_events", timeout=30)
    assert any("already subscribed" in line for line in reader.background[0][1].seen)
    assert reader.interrupt() == [0]

    for line in stream_only:  # no webhook for this subscription: only the stream carries its events
        reader.run(line)
        if line.startswith("xhooks trigger"):
            reader.background[0][1].wait_for("profile.update.bio", timeout=30)
    assert "seen on: stream=1" in reader.outputs[-1]
    assert reader.interrupt() == [0]
