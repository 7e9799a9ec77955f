"""Receivers and workers as real processes on one PostgreSQL database, and a client that signs and sends.

Process output goes to files in the test's tmp_path (a pipe nobody reads could fill and stall a process).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

from tests.support import ROOT, free_port, wait_ready, xhooks_cmd
from xhooks.protocol import signature

SECRET = "scale-consumer-secret"
HOOKS = "tests.scale._hooks:hooks"


class Process:
    """One child process that can be killed and started again with the same arguments."""

    def __init__(self, name: str, args: list[str], logs: Path) -> None:
        self.name = name
        self.args = args
        self.log = logs / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Receiver(Process):
    def __init__(self, name: str, db: str, logs: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhook"
        args = xhooks_cmd("serve", "--consumer-secret", SECRET, "--db", db, "--port", str(self.port))
        super().__init__(name, args, logs)

    def start(self) -> None:
        super().start()
        wait_ready(f"http://127.0.0.1:{self.port}/healthz", proc=None)


def worker(name: str, db: str, logs: Path, lease: float) -> Process:
    """`xhooks worker` running the transactional handler of `tests/scale/_hooks.py` (from the repository root)."""
    return Process(name, xhooks_cmd("worker", "--app", HOOKS, "--db", db, "--lease", str(lease)), logs)


@contextlib.contextmanager
def running(processes: Sequence[Process]) -> Iterator[Sequence[Process]]:
    """Start every process; stop (or reap) every one of them on the way out, whatever happened."""
    try:
        for process in processes:
            process.start()
        yield processes
    finally:
        for process in processes:
            process.stop()


class Sender:
    """Signs and POSTs bodies, moving to the next receiver after a refusal or a broken connection."""

    def __init__(self, urls: list[str], client: httpx.AsyncClient, attempts: int = 60) -> None:
        self.urls = urls
        self.client = client
        self.attempts = attempts
        self.statuses: Counter[int | str] = Counter()

    async def post(self, url: str, body: bytes) -> int | str:
        try:
            response = await self.client.post(
                url, content=body, headers={"x-twitter-webhooks-signature": signature(body, SECRET)}
            )
        except httpx.TransportError:
            answer: int | str = "no answer"
        else:
            answer = response.status_code
        self.statuses[answer] += 1
        return answer

    async def deliver(self, body: bytes, first: int) -> bool:
        """True once a receiver answered 200; receivers are tried round-robin from `first`."""
        for attempt in range(self.attempts):
            if await self.post(self.urls[(first + attempt) % len(self.urls)], body) == 200:
                return True
            await asyncio.sleep(0.05)
        return False
