"""Hypothesis drives arbitrary bodies, signature headers and CRC query strings straight into the ASGI receiver.

Whatever arrives: never a 5xx, a POST is acknowledged exactly when its signature is right, a CRC is answered
only with the right token, and nothing that was not correctly signed ends up in the store.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.payloads import delivery_body
from tests.faults._serve import SECRET, stored
from xhooks.protocol import signature
from xhooks.receiver import AppConfig, Receiver
from xhooks.store.sqlite import SQLiteStore

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
_bodies = st.one_of(
    st.binary(max_size=2_048),
    _json.map(lambda doc: json.dumps(doc).encode()),
    st.integers(0, 10_000).map(delivery_body),
    st.builds(lambda n, cut: delivery_body(n)[:cut], st.integers(0, 10_000), st.integers(0, 3_000)),
)
_header_bytes = st.binary(max_size=80).filter(lambda raw: b"\r" not in raw and b"\n" not in raw)
_SIGNATURE_KINDS = (
    "right",
    "right-padded",
    "absent",
    "empty",
    "other-body",
    "other-secret",
    "no-prefix",
    "truncated",
    "random",
)
_SIGNED = ("right", "right-padded")


def _signature(kind: str, body: bytes, noise: bytes) -> bytes | None:
    right = signature(body, SECRET).encode()
    return {
        "right": right,
        "right-padded": b"  " + right + b" ",
        "absent": None,
        "empty": b"",
        "other-body": signature(body + b" ", SECRET).encode(),
        "other-secret": signature(body, SECRET + "x").encode(),
        "no-prefix": right.removeprefix(b"sha256="),
        "truncated": right[:-3],
        "random": noise,
    }[kind]


class _Response(NamedTuple):
    status_code: int
    body: bytes


class _Client:
    """One event loop, one started store and the receiver on it, called as ASGI with arbitrary bytes (no HTTP
    client in between to clean up the query string or the headers), shared by every Hypothesis example."""

    def __init__(self, db: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.store = SQLiteStore(db)
        self.loop.run_until_complete(self.store.start())
        self.app = Receiver(self.store, [AppConfig((SECRET,))], max_body=64 * 1024)

    def send(self, method: str, query: bytes, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> _Response:
        return self.loop.run_until_complete(self._call(method, query, headers, body))

    async def _call(self, method: str, query: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> _Response:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": "/webhook",
            "raw_path": b"/webhook",
            "query_string": query,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        incoming = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[MutableMapping[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return incoming.pop(0) if incoming else {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        assert sent[0]["type"] == "http.response.start", sent
        return _Response(sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:]))

    def close(self) -> None:
        self.loop.run_until_complete(self.store.close())
        self.loop.close()


@pytest.mark.slow
def test_fuzzed_posts_never_fail_and_only_signed_bodies_are_stored(tmp_path: Path) -> None:
    db = tmp_path / "fuzz.db"
    client = _Client(db)
    signed_bodies: set[bytes] = set()

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        body=_bodies,
        kind=st.sampled_from(_SIGNATURE_KINDS),
        noise=_header_bytes,
        content_type=st.sampled_from([b"application/json", b"text/plain", b"", b"\xff\xfe"]),
        repeat=st.booleans(),
    )
    def post(body: bytes, kind: str, noise: bytes, content_type: bytes, repeat: bool) -> None:
        headers = [(b"content-type", content_type)]
        value = _signature(kind, body, noise)
        if value is not None:
            headers += [(b"x-twitter-webhooks-signature", value)] * (2 if repeat else 1)
        response = client.send("POST", b"", headers, body)
        assert response.status_code < 500, response.body
        if kind in _SIGNED:
            assert response.status_code == 200
            signed_bodies.add(body)
        else:
            assert response.status_code in (401, 403), (kind, response.status_code)

    try:
        post()
    finally:
        client.close()
    bodies, keys = stored(db)
    assert set(bodies) == signed_bodies, "a body that was not correctly signed reached the store"
    assert all(rows == 1 for rows in keys.values())


_tokens = st.one_of(
    st.binary(min_size=16, max_size=64).map(lambda raw: base64.b64encode(raw).decode()),
    st.binary(min_size=16, max_size=64).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
    st.text(max_size=200),
)


@pytest.mark.slow
def test_fuzzed_crc_requests_never_fail_and_sign_only_token_shaped_tokens(tmp_path: Path) -> None:
    client = _Client(tmp_path / "crc.db")

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        query=st.one_of(
            _tokens.map(lambda token: str(httpx.QueryParams({"crc_token": token})).encode()), st.binary(max_size=300)
        ),
        header=st.none() | _header_bytes,
    )
    def crc(query: bytes, header: bytes | None) -> None:
        headers = [] if header is None else [(b"x-twitter-webhooks-signature", header)]
        response = client.send("GET", query, headers)
        assert response.status_code < 500, response.body
        if response.status_code == 200:
            tokens = parse_qs(query.decode("latin-1"), keep_blank_values=True)["crc_token"]
            assert json.loads(response.body) == {"response_token": signature(tokens[0].encode(), SECRET)}
        else:
            assert response.status_code in (400, 401, 403)

    try:
        crc()
    finally:
        client.close()
