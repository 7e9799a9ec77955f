"""Run the emulator under uvicorn (what `xhooks emulator` calls)."""

from __future__ import annotations

import socket
from collections.abc import Sequence

import uvicorn

from xhooks.emulator.app import Emulator

__all__ = ["serve"]


def serve(
    emulator: Emulator,
    host: str = "127.0.0.1",
    port: int = 8090,
    log_level: str = "warning",
    sockets: Sequence[socket.socket] | None = None,
) -> None:
    """Serve `emulator` until interrupted; on `sockets` when given (already listening), else on `host:port`."""
    config = uvicorn.Config(emulator, host=host, port=port, log_level=log_level, lifespan="on")
    uvicorn.Server(config).run(sockets=list(sockets) if sockets is not None else None)
