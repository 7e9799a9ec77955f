"""The dashboard's settings; built by `xhooks serve` from flags, `XHOOKS_*` and `xhooks.toml`."""

from __future__ import annotations

from dataclasses import dataclass, field

from xhooks.client import DEFAULT_BASE_URL, Credentials
from xhooks.config import mask
from xhooks.errors import ConfigError

__all__ = ["DEFAULT_PREFIX", "DashboardConfig"]

DEFAULT_PREFIX = "/_xhooks"


@dataclass(frozen=True, repr=False)
class DashboardConfig:
    """Where the dashboard is served and what it may do.

    - `prefix`: its path, next to the receiver's webhook paths.
    - `host`: the interface it is reachable on (the receiver's `--host` when it shares the receiver's port,
      else `--dashboard-host`). Anything but loopback requires a login with `token`.
    - `port`: its own port, or None to share the receiver's.
    - `api_base`, `credentials`: how the webhooks and replay pages reach X (or the emulator) through the
      client; without a bearer token those pages say how to configure one.
    - `stream_seconds`: how long one live-tail stream lasts before the browser reconnects and resumes.
    - `apps`: the receiver's `(path, app name)` pairs, to pair X's webhooks with the CRCs the receiver logged.
    - `erase_on_unsubscribe`: Unsubscribe also erases the user's stored bodies (`[retention]`, `store/erasure.py`).

    Raises:
        ConfigError: a prefix that does not start with "/" or is "/" itself.
    """

    prefix: str = DEFAULT_PREFIX
    host: str = "127.0.0.1"
    port: int | None = None
    token: str | None = None
    api_base: str = DEFAULT_BASE_URL
    credentials: Credentials = field(default_factory=Credentials)
    apps: tuple[tuple[str, str], ...] = ()
    stream_seconds: float = 300.0
    erase_on_unsubscribe: bool = True

    def __post_init__(self) -> None:
        if not self.prefix.startswith("/") or not self.prefix.strip("/"):
            raise ConfigError(f"the dashboard prefix must be a path like /_xhooks, not {self.prefix!r}")

    def __repr__(self) -> str:
        return (
            f"DashboardConfig(prefix={self.prefix!r}, host={self.host!r}, port={self.port!r},"
            f" token={mask(self.token)}, api_base={self.api_base!r}, credentials={self.credentials!r})"
        )
