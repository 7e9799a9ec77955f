"""Slow clients (headers never finished; a body trickled a byte at a time) do not block other requests, and
the server cuts them off after a bounded time.

The server is `xhooks serve`'s own (`build_server`: uvicorn, httptools, uvloop and its request deadline) with
the request timeout shortened from its 10 s default to 1 s so that the test stays fast.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.payloads import deliveries
from tests.faults._serve import SECRET, signed
from tests.support import free_port, run_server
from xhooks.receiver import AppConfig, ServeConfig, build_server

SLOW = 16
CUT_OFF_WITHIN = 60.0  # seconds; the timeouts are 1 s, so this is a hang guard, not a measurement


@pytest.fixture
def port(tmp_path: Path) -> Iterator[int]:
    config = ServeConfig(
        apps=[AppConfig((SECRET,))], db=str(tmp_path / "slow.db"), port=free_port(), request_timeout=1.0
    )
    with run_server(build_server(config)):
        yield config.port


def _open_slow(port: int, trickle: bool) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if trickle:
        body_length = 2_000
        sock.sendall(
            b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"x-twitter-webhooks-signature: sha256=AAAA\r\nContent-Length: %d\r\n\r\n{" % body_length
        )
    else:
        sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
    return sock


def _until_cut_off(sockets: list[socket.socket], trickle: bool) -> dict[socket.socket, bytes]:
    """Keep the slow clients going (a byte each every 50 ms when `trickle`) until the server closes them;
    return what each one received before the close."""
    received = {sock: b"" for sock in sockets}
    open_ = set(sockets)
    deadline = time.monotonic() + CUT_OFF_WITHIN
    while open_ and time.monotonic() < deadline:
        readable, _, _ = select.select(list(open_), [], [], 0.05)
        for sock in readable:
            try:
                chunk = sock.recv(4096)
            except ConnectionResetError:
                chunk = b""
            received[sock] += chunk
            if not chunk:
                open_.discard(sock)
        for sock in list(open_):
            if trickle:
                try:
                    sock.send(b" ")
                except OSError:
                    open_.discard(sock)
    assert not open_, f"{len(open_)} slow connections were still open after {CUT_OFF_WITHIN} s"
    return received


@pytest.mark.slow
@pytest.mark.parametrize(
    "trickle", [pytest.param(False, id="headers-never-finished"), pytest.param(True, id="body-a-byte-at-a-time")]
)
def test_slow_clients_do_not_block_others_and_are_cut_off(port: int, trickle: bool) -> None:
    slow = [_open_slow(port, trickle) for _ in range(SLOW)]
    try:
        with httpx.Client(timeout=60) as client:  # a hang guard
            url = f"http://127.0.0.1:{port}/webhook"
            statuses = [
                client.post(url, content=d.body, headers=signed(d.body)).status_code
                for d in deliveries(50, SECRET, duplicate_share=0, seed=5)
            ]
            crc = client.get(url, params={"crc_token": "c2xvdy1jbGllbnRzLXRlc3QtdG9rZW4"})
        assert statuses == [200] * 50
        assert crc.status_code == 200
        received = _until_cut_off(slow, trickle)
    finally:
        for sock in slow:
            sock.close()
    answers = set(received.values())
    assert all(answer == b"" or answer.startswith(b"HTTP/1.1 4") for answer in answers), answers
