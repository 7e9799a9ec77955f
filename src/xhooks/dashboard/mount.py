"""Serve a dashboard under a path prefix next to another ASGI app (the receiver), or on a port of its own.

`Mount` sends requests under `prefix` to the dashboard and everything else, the lifespan included, to the
app it sits in front of; the receiver's hot path costs one string comparison more. On a port of its own
(`own_port`), anything outside the prefix redirects to it, and the receiver's port answers 404 under the
prefix (`elsewhere`).
"""

from __future__ import annotations

from xhooks._types import ASGIApp, Receive, Scope, Send

__all__ = ["Mount", "elsewhere", "own_port"]


class Mount:
    """Route `prefix` (and everything below it) to `app`; everything else to `fallback`.

    ```python
    app = Mount("/_xhooks", Dashboard(store, DashboardConfig()), receiver)
    ```
    """

    def __init__(self, prefix: str, app: ASGIApp, fallback: ASGIApp) -> None:
        self.prefix = "/" + prefix.strip("/")
        self.app = app
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            path: str = scope["path"]
            if path == self.prefix or path.startswith(self.prefix + "/"):
                await self.app(scope, receive, send)
                return
        await self.fallback(scope, receive, send)


def own_port(prefix: str, dashboard: ASGIApp) -> Mount:
    """The app of the dashboard's own port: the dashboard under `prefix`, a redirect to it anywhere else."""

    async def redirect(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 307, "headers": [(b"location", f"{prefix}/".encode())]})
        await send({"type": "http.response.body", "body": b""})

    return Mount(prefix, dashboard, redirect)


async def elsewhere(scope: Scope, receive: Receive, send: Send) -> None:
    """The dashboard prefix on the receiver's port when the dashboard has a port of its own: 404."""
    body = b"the dashboard is served on its own port (--dashboard-port)"
    await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
