"""The small HTTP layer the dashboard's pages need: a parsed request, a response, and reading a form body."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from xhooks._asgi import BodyTooLarge, Disconnected, read_body
from xhooks._types import Receive, Scope

__all__ = ["MAX_FORM", "Request", "Response", "read_request", "redirect"]

MAX_FORM = 64 * 1024
HTML = "text/html; charset=utf-8"


@dataclass
class Request:
    method: str
    path: str
    """The path below the dashboard's prefix, always starting with '/'."""
    query: dict[str, str]
    headers: dict[str, str]
    cookies: dict[str, str]
    form: dict[str, str]
    scheme: str
    params: dict[str, str] = field(default_factory=dict)
    sid: str = ""
    csrf: str = ""
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)

    def arg(self, name: str) -> str | None:
        """A query or form value, stripped; None when absent or blank."""
        value = self.form.get(name, self.query.get(name, "")).strip()
        return value or None


@dataclass
class Response:
    body: bytes | str = b""
    status: int = 200
    content_type: str = HTML
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: AsyncIterator[bytes] | None = None
    """A streamed body (Server-Sent Events); `body` is ignored when set."""

    def encoded(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


def redirect(location: str, **flash: str) -> Response:
    """303 See Other to `location`, with a one-line message (`ok=` or `error=`) shown by the next page."""
    query = urlencode({key: value for key, value in flash.items() if value})
    target = f"{location}{'&' if '?' in location else '?'}{query}" if query else location
    return Response(status=303, headers=[("location", target)])


async def read_request(scope: Scope, receive: Receive, prefix: str) -> Request:
    """Parse `scope` and, for a form POST, its body (at most `MAX_FORM` bytes; more is a `ValueError`)."""
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
    form: dict[str, str] = {}
    if scope["method"] not in ("GET", "HEAD"):
        try:
            body = await read_body(receive, MAX_FORM)
        except BodyTooLarge:
            raise ValueError(f"form body over {MAX_FORM} bytes") from None
        except Disconnected:
            body = b""
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    cookies = SimpleCookie()
    cookies.load(headers.get("cookie", ""))
    path: str = scope["path"].removeprefix(prefix) or "/"
    return Request(
        method=scope["method"],
        path=path,
        query=dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)),
        headers=headers,
        cookies={name: morsel.value for name, morsel in cookies.items()},
        form=form,
        scheme=scope.get("scheme", "http"),
    )
