"""Run the emulator under uvicorn (what `xhooks emulator` calls)."""

from __future__ import annotations

import uvicorn

from xhooks.emulator.app import Emulator

__all__ = ["serve"]


def serve(emulator: Emulator, host: str = "127.0.0.1", port: int = 8090, log_level: str = "warning") -> None:
    """Serve `emulator` until interrupted."""
    uvicorn.run(emulator, host=host, port=port, log_level=log_level, lifespan="on")
