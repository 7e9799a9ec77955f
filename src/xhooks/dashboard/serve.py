"""Run the receiver with the dashboard: on the receiver's port under the prefix, or on a port of its own.

On its own port (`DashboardConfig.port`) the dashboard runs as a second uvicorn server in the same event
loop, sharing the receiver's store; it captures no signals, and stops when the receiver stops. Either
way the dashboard's open live streams are ended when shutdown begins, so they never hold it up. Both
sockets are opened before anything starts (`open_sockets`), so a port in use fails first.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import uvicorn

from xhooks._types import ASGIApp, Receive, Scope, Send
from xhooks.dashboard.app import Dashboard
from xhooks.dashboard.config import DashboardConfig
from xhooks.dashboard.mount import Mount
from xhooks.errors import ConfigError
from xhooks.receiver import Receiver, ServeConfig, build_server, listen_socket

__all__ = ["ServeWithDashboard", "build_servers", "open_sockets", "serve"]


@dataclass
class ServeWithDashboard(ServeConfig):
    """`xhooks serve`'s settings: the receiver's, plus the dashboard's (None: no dashboard)."""

    dashboard: DashboardConfig | None = None


class _Server(uvicorn.Server):
    """A uvicorn server that calls `on_shutdown` first when it starts shutting down."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], None], signals: bool = True) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown
        self._signals = signals

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if self._signals:
            with super().capture_signals():
                yield
        else:
            yield

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_shutdown()
        await super().shutdown(sockets)


def build_servers(config: ServeConfig, dashboard: DashboardConfig) -> tuple[uvicorn.Server, uvicorn.Server | None]:
    """The receiver's server (with the dashboard mounted unless it has its own port) and the dashboard's own
    server, if any. Neither is running yet; `serve` runs them."""
    pages: list[Dashboard] = []

    def wrap(receiver: Receiver) -> ASGIApp:
        pages.append(Dashboard(receiver.store, dashboard))
        mounted: ASGIApp = pages[0] if dashboard.port is None else _not_here
        return Mount(dashboard.prefix, mounted, receiver)

    built = build_server(config, wrap)
    main = _Server(built.config, pages[0].close)
    if dashboard.port is None:
        return main, None
    own = uvicorn.Config(
        Mount(dashboard.prefix, pages[0], _redirect_to(dashboard.prefix)),
        host=dashboard.host,
        port=dashboard.port,
        lifespan="off",
        access_log=config.access_log,
        log_level=config.log_level,
    )
    return main, _Server(own, pages[0].close, signals=False)


def open_sockets(config: ServeConfig) -> list[socket.socket]:
    """The listening sockets `serve` needs: the receiver's, then the dashboard's when it has a port of its own.

    Raises:
        ConfigError: a port is already in use (the message names `--port` or `--dashboard-port`).
    """
    sockets = [listen_socket(config.host, config.port)]
    dashboard = config.dashboard if isinstance(config, ServeWithDashboard) else None
    if dashboard is not None and dashboard.port is not None:
        try:
            sockets.append(listen_socket(dashboard.host, dashboard.port, "--dashboard-port"))
        except ConfigError:
            sockets[0].close()
            raise
    return sockets


def serve(config: ServeConfig, sockets: Sequence[socket.socket] | None = None) -> None:
    """Serve the receiver, and the dashboard when `config` has one, until interrupted.

    `sockets` come from `open_sockets(config)`, called here when not given.

    Raises:
        ConfigError: a port is already in use.
    """
    listening = list(sockets) if sockets is not None else open_sockets(config)
    if not isinstance(config, ServeWithDashboard) or config.dashboard is None:
        build_server(config).run(sockets=listening)
        return
    main, own = build_servers(config, config.dashboard)
    with asyncio.Runner(loop_factory=main.config.get_loop_factory()) as runner:
        runner.run(_serve_all(main, own, listening))


async def _serve_all(main: uvicorn.Server, own: uvicorn.Server | None, sockets: list[socket.socket]) -> None:
    if own is None:
        await main.serve(sockets=sockets[:1])
        return
    task = asyncio.get_running_loop().create_task(own.serve(sockets=sockets[1:]))
    deadline = time.monotonic() + 10
    while not own.started and not task.done() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    if not own.started:
        task.cancel()
        raise ConfigError(f"the dashboard did not start on {own.config.host}:{own.config.port}; see the log above")
    try:
        await main.serve(sockets=sockets[:1])
    finally:
        own.should_exit = True
        await task


async def _not_here(scope: Scope, receive: Receive, send: Send) -> None:
    """The dashboard prefix on the receiver's port when the dashboard has a port of its own: 404."""
    body = b"the dashboard is served on its own port (--dashboard-port)"
    await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


def _redirect_to(prefix: str) -> ASGIApp:
    """On the dashboard's own port, anything outside the prefix redirects to it."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 307, "headers": [(b"location", f"{prefix}/".encode())]})
        await send({"type": "http.response.body", "body": b""})

    return app
