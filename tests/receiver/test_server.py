from __future__ import annotations

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


# Nothing but the request deadline (0.5 s here) closes a connection before its request is complete: uvicorn's
# keep-alive timeout (30 s) starts only after a response. So an empty read proves the cut-off, and the sockets'
# timeout (a hang guard, below 30 s) turns a missing one into an error; no test measures how fast it came.
HANG_GUARD = 20.0


def test_headers_never_finished_are_cut_off_without_blocking_others(served: tuple[str, int]) -> None:
    host, port = served
    with socket.create_connection((host, port), timeout=HANG_GUARD) as slow:
        slow.sendall(b"POST /webhook HTTP/1.1\r\nhost: x\r\nx-trickle: ")  # and never the end of the headers
        assert httpx.get(f"http://{host}:{port}/healthz").status_code == 200  # others are served meanwhile
        assert slow.recv(1024) == b""  # the server closed the connection


def test_idle_connection_without_any_request_is_cut_off(served: tuple[str, int]) -> None:
    with socket.create_connection(served, timeout=HANG_GUARD) as idle:
        assert idle.recv(1024) == b""


def test_body_trickled_a_byte_at_a_time_is_cut_off_and_not_stored(served: tuple[str, int], tmp_path: Path) -> None:
    with socket.create_connection(served, timeout=HANG_GUARD) as slow:
        slow.sendall(b"POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n")
        received = b""
        for byte in b'{"data":{"event_uuid":"1"':
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.05)
        try:
            received = slow.recv(1024)
        except ConnectionResetError:  # closed while bytes were in flight; a timeout is no cut-off and fails
            received = b""
    assert received == b""  # closed without an answer
    assert httpx.get(f"http://{served[0]}:{served[1]}/healthz").status_code == 200
    with open_reader(tmp_path / "s.db") as store:
        assert store.stats().deliveries == 0
