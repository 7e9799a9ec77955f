"""The README's "forward X's events to your stack" examples, run as written against the machine's servers.

Each bash block of that section is read from README.md and run line by line: `pip install` lines are skipped (the
test extra has them), `export` sets the environment, and every other line starts in the background, a reader
first (the test waits for its `ready`), then `xhooks relay`. Only what a reader supplies is changed: the store
(`xhooks.db` becomes a store holding a few events of every shape), names made unique to this run (so a parallel
run never reads this one's events), and a free port for 9000. The reader must print every event's key.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.relay.conftest import mixed
from tests.support import ROOT, free_port, xhooks_cmd
from xhooks.store import Delivery, EventQuery
from xhooks.store.sqlite import SQLiteStore

pytestmark = pytest.mark.timeout(300)

SECTION = "## Forward X's events to your stack"


def _blocks() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index(SECTION) :].split("\n## ", 1)[0]
    return [block.strip().splitlines() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


@pytest.fixture(scope="module")
def store_with_events(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    import asyncio

    db = tmp_path_factory.mktemp("readme") / "xhooks.db"

    async def fill() -> set[str]:
        store = SQLiteStore(db, durability="process")
        await store.start()
        try:
            for at, body in enumerate(mixed(12, duplicates=0.0)):
                await store.record(Delivery.received("/webhook", body, 1_700_000_000.0 + at))
            return {event.key for event in await store.events(EventQuery(limit=100))}
        finally:
            await store.close()

    return db, asyncio.run(fill())


class Output:
    """A process's output lines, collected on a thread, with a way to wait for one."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, done: object, timeout: float = 120.0) -> None:
        assert callable(done)
        with self._changed:
            if not self._changed.wait_for(lambda: done(self.lines), timeout):
                raise AssertionError(f"not printed in time; got {self.lines}")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.parametrize("block", _blocks(), ids=["redis", "nats", "rabbitmq", "http"])
def test_a_readme_example_relays_every_event_to_its_reader(
    block: list[str], store_with_events: tuple[Path, set[str]], processes: list[subprocess.Popen[str]]
) -> None:
    db, keys = store_with_events
    token = secrets.token_hex(4)
    replacements = {
        "xhooks.db": str(db),
        "x-events": f"x-events-{token}",
        "X_EVENTS": f"X_EVENTS_{token.upper()}",
        "x.events": f"x.events{token}",
        "9000": str(free_port()),
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("XHOOKS_")}
    reader: Output | None = None
    for line in block:
        if line.startswith("python3 -m pip install"):
            continue
        for written, used in replacements.items():
            line = line.replace(written, used)
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = value
            continue
        words = [re.sub(r"\$(\w+)", lambda m: env[m.group(1)], word) for word in shlex.split(line.rstrip(" &"))]
        command = xhooks_cmd(*words[1:]) if words[0] == "xhooks" else [sys.executable, *words[1:]]
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        processes.append(process)
        if reader is None:
            reader = Output(process)
            reader.wait_for(lambda lines: "ready" in lines)
    assert reader is not None and len(processes) == 2
    reader.wait_for(lambda lines: {line.split()[-1] for line in lines if line != "ready"} >= keys)
    printed = [line.split() for line in reader.lines if line != "ready"]
    assert {key for *_, key in printed} == keys
    assert all(len(columns) == 3 for columns in printed)  # event type, user (or -), key
