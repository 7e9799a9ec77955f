"""The few HTTP pieces the emulator's hand-written router needs: a parsed request, a JSON response, and a
streamed one."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from xhooks._asgi import BodyTooLarge, Disconnected, read_body
from xhooks._types import Receive, Scope, Send
from xhooks.emulator.errors import invalid_value, malformed

__all__ = ["Request", "Response", "read_request", "send_chunks"]


@dataclass
class Request:
    method: str
    path: str
    query_string: bytes
    headers: dict[str, str]
    body: bytes
    base_url: str
    params: dict[str, str] = field(default_factory=dict)
    """Path parameters captured by the route."""

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.query_string.decode("latin-1"), keep_blank_values=True)

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def page(self, ids: list[str], default: int, most: int) -> tuple[int, int, str | None]:
        """The page of a list whose items have `ids` that `max_results` and `pagination_token` ask for, as
        `(start, stop, next_token)`; a token is the id of the page's first item. X's 400 for a bad value."""
        raw = self.arg("max_results") or str(default)
        if not raw.isdigit() or not 1 <= int(raw) <= most:
            raise invalid_value("max_results", raw, f"is not between 1 and {most}")
        start, token = 0, self.arg("pagination_token")
        if token is not None:
            if token not in ids:
                raise invalid_value("pagination_token", token, "is not valid")
            start = ids.index(token)
        stop = start + int(raw)
        return start, stop, ids[stop] if stop < len(ids) else None

    def boolean(self, name: str) -> bool:
        """A boolean query parameter: `true` or `false` in any case (X parses them so, and `xdk` sends `True`);
        absent is false, anything else is X's 400."""
        value = self.arg(name)
        if value is None or value.lower() == "false":
            return False
        if value.lower() == "true":
            return True
        raise invalid_value(name, value, "is not one of [true,false]")

    def json(self, required: bool = True) -> dict[str, Any]:
        """The body as a JSON object; an empty body is `{}` unless `required`."""
        if not self.body.strip():
            if required:
                raise malformed("A JSON request body is required")
            return {}
        try:
            value = json.loads(self.body)
        except ValueError as exc:
            raise malformed(f"The request body is not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise malformed("The request body must be a JSON object")
        return value

    @property
    def url(self) -> str:
        query = self.query_string.decode("latin-1")
        return self.base_url + self.path + (f"?{query}" if query else "")


@dataclass
class Response:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    chunks: AsyncGenerator[bytes, None] | None = None
    """A streamed body (`body` unused): written chunk by chunk until it ends or the client goes away."""

    def encode(self) -> bytes:
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")


async def send_chunks(response: Response, receive: Receive, send: Send) -> None:
    """Write a streamed `response` until its chunks end or the client disconnects; either way the generator is
    closed, so its own cleanup runs."""
    assert response.chunks is not None
    chunks = response.chunks
    headers = [(b"content-type", response.content_type.encode())]
    headers += [(name.encode(), value.encode()) for name, value in response.headers.items()]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})

    async def pump() -> None:
        async for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    tasks = [asyncio.ensure_future(pump()), asyncio.ensure_future(gone())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task
        await chunks.aclose()


async def read_request(scope: Scope, receive: Receive, max_body: int = 1 << 20) -> Request:
    try:
        body = await read_body(receive, max_body)
    except BodyTooLarge:
        raise malformed("The request body is too large") from None
    except Disconnected:
        body = b""
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
    scheme = scope.get("scheme", "http")
    host = headers.get("host")
    if host is None:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return Request(
        method=scope["method"],
        path=scope["path"],
        query_string=scope.get("query_string", b""),
        headers=headers,
        body=body,
        base_url=f"{scheme}://{host}",
    )
