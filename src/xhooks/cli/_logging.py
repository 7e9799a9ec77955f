"""Where the `xhooks.*` loggers go when xhooks runs as a command: stderr, in uvicorn's format, at `--log-level`.

The library only names its loggers (`xhooks.receiver`, `xhooks.serve`, `xhooks.dispatch`, `xhooks.watch`);
configuring them is the application's business, so this happens in the CLI and nowhere else. uvicorn
configures its own loggers (`uvicorn.error`, `uvicorn.access`) from the same level.
"""

from __future__ import annotations

import logging

from uvicorn.config import LOG_LEVELS
from uvicorn.logging import DefaultFormatter

from xhooks.errors import ConfigError

__all__ = ["configure_logging"]

_HANDLER_NAME = "xhooks-cli"


def configure_logging(level: str) -> str:
    """Send the `xhooks` loggers to stderr at `level` (one of uvicorn's: critical … trace); return the level.

    Raises:
        ConfigError: `level` is not one of uvicorn's levels.
    """
    name = level.lower()
    if name not in LOG_LEVELS:
        raise ConfigError(f"--log-level must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    logger = logging.getLogger("xhooks")
    for previous in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:  # a second run in one process
        logger.removeHandler(previous)
    handler = logging.StreamHandler()  # sys.stderr
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(DefaultFormatter("%(levelprefix)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(LOG_LEVELS[name])
    return name
