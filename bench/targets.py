"""The servers the benchmark drives: xhooks and its three references, each a process pinned to one core.

Every server listens on 127.0.0.1 only. A sampler thread reads the resident memory of the server's whole
process tree (gunicorn's master and worker together) from /proc while it runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = ["ROOT", "Running", "Target", "core_busy_seconds", "reference_targets", "running", "xhooks_target"]

ROOT = Path(__file__).resolve().parents[1]
_UVICORN = ["--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level", "warning"]


@dataclass(frozen=True)
class Target:
    """How to start one server. `{port}` in `argv` is replaced by the port it must listen on."""

    name: str
    description: str
    argv: tuple[str, ...]
    ready_path: str
    db: str | None = None
    """The xhooks store (a SQLite file or a PostgreSQL URL) to check after the run; None for references."""
    ports: int = 1
    """How many receiver processes (each on its own port) make up this target."""
    env: tuple[tuple[str, str], ...] = ()

    def command(self, port: int) -> list[str]:
        return [part.replace("{port}", str(port)) for part in self.argv]


def xhooks_target(name: str, db: str, durability: str, secret: str, ports: int = 1) -> Target:
    argv = (
        sys.executable,
        "-m",
        "xhooks",
        "serve",
        "--consumer-secret",
        secret,
        "--db",
        db,
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--path",
        "/webhook",
        "--durability",
        durability,
    )
    return Target(name, f"xhooks serve --durability {durability}", argv, "/healthz", db=db, ports=ports)


def reference_targets(secret: str) -> list[Target]:
    flask = (
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--bind",
        "127.0.0.1:{port}",
        "--log-level",
        "warning",
        "bench.references.flask_quickstart:app",
    )
    fastapi = (
        sys.executable,
        "-m",
        "uvicorn",
        "bench.references.fastapi_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        *_UVICORN,
    )
    bare = (
        sys.executable,
        "-m",
        "uvicorn",
        "bench.references.bare_asgi:app",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        *_UVICORN,
    )
    crc = "/webhook?crc_token=YmVuY2gtcmVhZHktY2hlY2stdG9rZW4"
    env = (("BENCH_CONSUMER_SECRET", secret),)
    return [
        Target("flask", "X quickstart Flask + signature check, gunicorn 1 sync worker", flask, crc, env=env),
        Target("fastapi", "FastAPI + HMAC + in-memory dedup set, uvicorn", fastapi, crc, env=env),
        Target("ceiling", "bare ASGI callable, HMAC only, uvicorn", bare, crc, env=env),
    ]


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in task.read_text().split()]
    return found


def _tree(pid: int) -> list[int]:
    pids: list[int] = []
    queue = [pid]
    while queue and len(pids) < 256:
        current = queue.pop()
        pids.append(current)
        queue += _children(current)
    return pids


def _status_kb(pid: int, field_name: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


@dataclass
class Running:
    """A started server: its processes, ports, and memory samples `(seconds since start, RSS kB)`."""

    procs: list[subprocess.Popen[bytes]]
    ports: list[int]
    started: float = field(default_factory=time.monotonic)
    rss_samples: list[tuple[float, int]] = field(default_factory=list)
    peak_hwm_kb: int = 0
    """The largest sum of VmHWM (each process's own peak RSS) over the server's process tree."""

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's whole process tree (live processes only)."""
        return sum(_cpu_seconds(pid) for proc in self.procs for pid in _tree(proc.pid))

    def sample(self) -> None:
        pids = [pid for proc in self.procs for pid in _tree(proc.pid)]
        rss = sum(_status_kb(pid, "VmRSS") for pid in pids)
        self.peak_hwm_kb = max(self.peak_hwm_kb, sum(_status_kb(pid, "VmHWM") for pid in pids))
        self.rss_samples.append((time.monotonic() - self.started, rss))


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` (all its threads), in seconds."""
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    return 0.0


def core_busy_seconds(cpu: int) -> float:
    """Time CPU `cpu` spent running processes (user, system) or stolen by the hypervisor since boot, from
    /proc/stat; interrupt handling (the loopback network's softirqs) is left out."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            user, nice, system, _idle, _iowait, _irq, _softirq, steal = (int(v) for v in line.split()[1:9])
            return (user + nice + system + steal) / _TICK
    return 0.0


def _pin(cpu: int | None) -> None:
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def _wait_ready(url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode} before it was ready")
        with contextlib.suppress(httpx.TransportError):
            httpx.get(url, timeout=1.0)
            return
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@contextlib.contextmanager
def running(
    target: Target, ports: list[int], cpu: int | None, log: Path, sample_every: float = 0.25
) -> Iterator[Running]:
    """Start `target` (one process per port, all pinned to `cpu`), wait until it answers, sample its memory."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **dict(target.env)}
    procs: list[subprocess.Popen[bytes]] = []
    stop = threading.Event()
    with log.open("ab") as out:
        try:
            for port in ports:
                procs.append(
                    subprocess.Popen(
                        target.command(port),
                        stdout=subprocess.DEVNULL,
                        stderr=out,
                        env=env,
                        cwd=ROOT,
                        preexec_fn=lambda: _pin(cpu),
                    )
                )
            for port in ports:
                _wait_ready(f"http://127.0.0.1:{port}{target.ready_path}", procs)
            server = Running(procs, ports)

            def sampler() -> None:
                while not stop.wait(sample_every):
                    server.sample()

            thread = threading.Thread(target=sampler, daemon=True)
            thread.start()
            yield server
            stop.set()
            thread.join()
            server.sample()
        finally:
            stop.set()
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
