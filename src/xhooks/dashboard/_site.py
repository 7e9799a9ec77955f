"""What the consumer dashboard and the emulator's view share: ASGI handling, the security gate, routing,
templates, static files and streamed responses.

Every request goes through `_gate` before its handler: the login rule, the session cookie, the DNS
rebinding guard, and for state-changing requests the cross-site and CSRF checks (see `security.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from xhooks._types import Receive, Scope, Send
from xhooks.dashboard._http import Request, Response, read_request, redirect
from xhooks.dashboard.security import SESSION_COOKIE, Guard, cross_site
from xhooks.store.base import byte_size

__all__ = ["Handler", "Site"]

Handler = Callable[[Request], Awaitable[Response]]
_STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_SECURITY_HEADERS = [
    ("content-security-policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cache-control", "no-store"),
]


def _timestamp(epoch: float | None) -> Markup:
    """A `<time>` the page's script shows in the viewer's zone; the UTC time is its text and its tooltip."""
    if epoch is None:
        return Markup('<span class="muted">never</span>')
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    iso = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    utc = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(iso, utc, utc)


def _x_timestamp(text: str | None) -> Markup | str:
    """A time as X writes it (`2025-04-24T20:00:00.000Z`) as a `<time>`; anything else as it came."""
    if not text:
        return _timestamp(None)
    try:
        return _timestamp(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return text


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("xhooks.dashboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["ts"] = _timestamp
    env.globals["x_ts"] = _x_timestamp
    env.globals["byte_size"] = byte_size
    return env


class Site:
    """An ASGI app of server-rendered pages under `prefix`, guarded by `guard`.

    Subclasses register their pages with `route` and list their navigation in `nav`.
    """

    title = "xhooks"
    nav: tuple[tuple[str, str], ...] = ()

    def __init__(self, prefix: str, guard: Guard, clock: Callable[[], float] = time.time) -> None:
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.guard = guard
        self.clock = clock
        self.closing = asyncio.Event()
        self.env = _environment()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.route("GET", "/static/{name}", self._static)
        self.route("GET", "/login", self._login_form)
        self.route("POST", "/login", self._login)
        self.route("POST", "/logout", self._logout)

    def route(self, method: str, template: str, handler: Handler) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self._routes.append((method, re.compile(f"^{pattern}$"), handler))

    def close(self) -> None:
        """End every open stream (the server is shutting down)."""
        self.closing.set()

    def url(self, path: str) -> str:
        return self.prefix + path

    # -- ASGI --------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        try:
            request = await read_request(scope, receive, self.prefix)
        except ValueError as exc:
            await self._send(send, Response(str(exc), 413, "text/plain; charset=utf-8"))
            return
        cookie: list[tuple[str, str]] = []
        response = self._gate(request, cookie)
        if response is None:
            response = await self._dispatch(request)
        response.headers += cookie
        await self._send(send, response, request.disconnected if response.stream else None, receive)

    def _gate(self, req: Request, cookie: list[tuple[str, str]]) -> Response | None:
        """The security decision for `req`, or None to let it through (and `cookie` to set, if any)."""
        plain = "text/plain; charset=utf-8"
        if self.guard.refused:
            return Response(self.guard.refused, 403, plain)
        if not self.guard.host_allowed(req.headers.get("host")):
            return Response("this dashboard answers only on 127.0.0.1 / localhost (DNS rebinding guard)", 421, plain)
        now = self.clock()
        sid = self.guard.session(req.cookies.get(SESSION_COOKIE), now)
        open_path = req.path == "/login" or req.path.startswith("/static/")
        if req.method not in ("GET", "HEAD"):
            reason = cross_site(req.headers, req.scheme)
            if reason:
                return Response(reason, 403, plain)
        if sid is None:
            if self.guard.login_required and not open_path:
                if req.method == "GET" and "text/html" in req.headers.get("accept", "text/html"):
                    return redirect(self.url("/login"))
                return Response("log in first", 401, plain)
            if not self.guard.login_required:
                value = self.guard.new_session(now)
                cookie.append(("set-cookie", self._cookie(req, value, self.guard.session_seconds)))
                sid = self.guard.session(value, now)
        if sid is not None:
            req.sid, req.csrf = sid, self.guard.csrf(sid)
        if req.method not in ("GET", "HEAD") and req.path != "/login":
            given = req.form.get("csrf") or req.headers.get("x-csrf-token")
            if sid is None or not self.guard.check_csrf(sid, given):
                return Response("missing or wrong CSRF token; reload the page and try again", 403, plain)
        return None

    def _cookie(self, req: Request, value: str, max_age: float) -> str:
        secure = "; Secure" if req.scheme == "https" else ""
        path = self.prefix or "/"
        return f"{SESSION_COOKIE}={value}; Path={path}; Max-Age={int(max_age)}; HttpOnly; SameSite=Strict{secure}"

    async def _dispatch(self, req: Request) -> Response:
        allowed = []
        for method, pattern, handler in self._routes:
            match = pattern.match(req.path)
            if match is None:
                continue
            if method == req.method or (method == "GET" and req.method == "HEAD"):
                req.params = match.groupdict()
                return await handler(req)
            allowed.append(method)
        if allowed:
            return Response("method not allowed", 405, "text/plain; charset=utf-8", [("allow", ", ".join(allowed))])
        return self.render(req, "not_found.html", status=404)

    async def _send(
        self, send: Send, response: Response, disconnected: asyncio.Event | None = None, receive: Receive | None = None
    ) -> None:
        headers = [(b"content-type", response.content_type.encode())]
        headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in _SECURITY_HEADERS]
        headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.headers]
        if response.stream is None:
            body = response.encoded()
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        assert disconnected is not None and receive is not None
        watcher = asyncio.get_running_loop().create_task(_watch_disconnect(receive, disconnected))
        try:
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            async for chunk in response.stream:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except OSError:
            pass  # the client went away mid-stream
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    # -- rendering ---------------------------------------------------------------------------------------

    def render(self, req: Request, template: str, status: int = 200, **context: Any) -> Response:
        page = self.env.get_template(template).render(
            site=self,
            req=req,
            url=self.url,
            csrf=req.csrf,
            ok=req.query.get("ok", ""),
            error=req.query.get("error", ""),
            **context,
        )
        return Response(page, status)

    # -- built-in routes ---------------------------------------------------------------------------------

    async def _static(self, req: Request) -> Response:
        name = req.params["name"]
        suffix = name[name.rfind(".") :]
        resource = resources.files("xhooks.dashboard").joinpath("static", name)
        if suffix not in _STATIC_TYPES or "/" in name or not resource.is_file():
            return Response("no such file", 404, "text/plain; charset=utf-8")
        return Response(resource.read_bytes(), content_type=_STATIC_TYPES[suffix])

    async def _login_form(self, req: Request) -> Response:
        return self.render(req, "login.html", login_required=self.guard.login_required)

    async def _login(self, req: Request) -> Response:
        if not self.guard.check_token(req.form.get("token", "")):
            return redirect(self.url("/login"), error="wrong token")
        response = redirect(self.url("/"))
        value = self.guard.new_session(self.clock())
        response.headers.append(("set-cookie", self._cookie(req, value, self.guard.session_seconds)))
        return response

    async def _logout(self, req: Request) -> Response:
        response = redirect(self.url("/login") if self.guard.login_required else self.url("/"))
        response.headers.append(("set-cookie", self._cookie(req, "", 0)))
        return response


async def _watch_disconnect(receive: Receive, disconnected: asyncio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            disconnected.set()
            return
