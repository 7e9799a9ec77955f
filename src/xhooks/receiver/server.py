"""Run the receiver under uvicorn (httptools + uvloop), with a deadline for reading each request.

uvicorn bounds idle keep-alive connections but not a client that never finishes its headers or trickles
its body a byte at a time. `_RequestDeadline` closes a connection whose request is not fully received
within `request_timeout` seconds of its first byte (or of the connection opening), so slow or hostile
clients cannot hold sockets or the receiver's memory. One timer per request at the protocol level costs
far less than an `asyncio.timeout` in the ASGI app, which measured a quarter of the hot path.

The listening socket is opened before anything else (`listen_socket`): uvicorn binds only after the
lifespan has started the store, so a port already in use would otherwise fail after the database was
created, with uvicorn's own message instead of the option to change.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from xhooks._types import ASGIApp
from xhooks.errors import ConfigError
from xhooks.metrics import Metrics
from xhooks.receiver.app import Receiver
from xhooks.receiver.config import DEFAULT_MAX_BODY, AppConfig
from xhooks.store import open_store

__all__ = ["ServeConfig", "build_server", "listen_socket", "server_config"]

BACKLOG = 2048
"""Connections the kernel queues before they are accepted (uvicorn's default)."""


class _RequestDeadline(HttpToolsProtocol):
    request_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = self.loop.call_later(self.request_timeout, self._expire)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout, self._expire)

    def on_message_complete(self) -> None:
        self._cancel_deadline()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


@dataclass
class ServeConfig:
    """Everything `xhooks serve` needs; built by the CLI from flags, `XHOOKS_*` and `xhooks.toml`."""

    apps: list[AppConfig]
    db: str = "xhooks.db"
    host: str = "127.0.0.1"
    port: int = 8080
    durability: str = "disk"
    max_body: int = DEFAULT_MAX_BODY
    request_timeout: float = 10.0
    log_level: str = "warning"
    """uvicorn's own loggers (`uvicorn.error`); the `xhooks.*` loggers are the application's to configure."""
    access_log: bool = False
    """One `uvicorn.access` line per request: off by default, since it costs on every delivery and every
    refused request already logs a line of its own (`xhooks.receiver`)."""
    uvicorn_options: dict[str, Any] = field(default_factory=dict)
    metrics: Metrics | None = None
    """Shared with the workers and the watcher of the process, so `/metrics` shows theirs too."""


def build_server(config: ServeConfig) -> uvicorn.Server:
    """A receiver on a store of its own (`config.db`) under uvicorn, not yet running: no dashboard, worker or
    watcher (`xhooks.serving` runs those beside it)."""
    store = open_store(config.db, durability=config.durability)
    receiver = Receiver(store, config.apps, max_body=config.max_body, metrics=config.metrics)
    return uvicorn.Server(server_config(config, receiver))


def server_config(config: ServeConfig, app: ASGIApp) -> uvicorn.Config:
    """uvicorn's settings for serving `app` as `xhooks serve` serves its receiver: httptools with the request
    deadline, uvloop, the lifespan on, the log settings of `config`."""
    protocol = type("RequestDeadline", (_RequestDeadline,), {"request_timeout": config.request_timeout})
    return uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        http=protocol,
        loop="uvloop",
        lifespan="on",
        access_log=config.access_log,
        proxy_headers=False,
        log_level=config.log_level,
        timeout_keep_alive=30,
        **config.uvicorn_options,
    )


def listen_socket(host: str, port: int, option: str = "--port") -> socket.socket:
    """A socket listening on `host:port`, for `uvicorn.Server.run(sockets=[…])`; `option` is the flag that
    chooses the port, named in the error.

    Raises:
        ConfigError: the port is already in use, or the address cannot be bound.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} is already in use on {host}; choose another with {option}") from exc
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}); check the address and {option}") from exc
    return sock
