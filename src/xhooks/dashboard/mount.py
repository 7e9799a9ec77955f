"""Serve a dashboard under a path prefix next to another ASGI app (the receiver).

`Mount` sends requests under `prefix` to the dashboard and everything else, the lifespan included, to the
app it sits in front of; the receiver's hot path costs one string comparison more.
"""

from __future__ import annotations

from xhooks._types import ASGIApp, Receive, Scope, Send

__all__ = ["Mount"]


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
