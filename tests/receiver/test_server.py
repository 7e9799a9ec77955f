from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import run_server
from xhooks.receiver import AppConfig, ServeConfig, build_server
from xhooks.store import open_reader


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, int]]:
    config = ServeConfig([AppConfig(("s",))], db=str(tmp_path / "s.db"), port=0, request_timeout=0.5)
    with run_server(build_server(config)) as url:
        yield "127.0.0.1", int(url.rsplit(":", 1)[1])


def test_headers_never_finished_are_cut_off_without_blocking_others(served: tuple[str, int]) -> None:
    host, port = served
    with socket.create_connection((host, port), timeout=5) as slow:
        slow.sendall(b"POST /webhook HTTP/1.1\r\nhost: x\r\nx-trickle: ")  # and never the end of the headers
        started = time.monotonic()
        assert httpx.get(f"http://{host}:{port}/healthz").status_code == 200  # others are served meanwhile
        assert slow.recv(1024) == b""  # the server closed the connection
        assert time.monotonic() - started < 4.5  # closed by the deadline, not by the 5 s socket timeout


def test_idle_connection_without_any_request_is_cut_off(served: tuple[str, int]) -> None:
    with socket.create_connection(served, timeout=5) as idle:
        assert idle.recv(1024) == b""


def test_body_trickled_a_byte_at_a_time_is_cut_off_and_not_stored(served: tuple[str, int], tmp_path: Path) -> None:
    with socket.create_connection(served, timeout=5) as slow:
        slow.sendall(b"POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n")
        started = time.monotonic()
        received = b""
        for byte in b'{"data":{"event_uuid":"1"':
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.05)
        with contextlib.suppress(OSError):
            received = slow.recv(1024)
    assert received == b""  # closed without an answer
    assert time.monotonic() - started < 4.5
    assert httpx.get(f"http://{served[0]}:{served[1]}/healthz").status_code == 200
    with open_reader(tmp_path / "s.db") as store:
        assert store.stats().deliveries == 0
