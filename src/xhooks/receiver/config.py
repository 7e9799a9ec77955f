"""What the receiver serves: one entry per X app (a path and the consumer secrets that sign for it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from xhooks.config import mask
from xhooks.errors import ConfigError

__all__ = ["AppConfig", "DEFAULT_MAX_BODY", "DEFAULT_PATH"]

DEFAULT_PATH = "/webhook"
DEFAULT_MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class AppConfig:
    """One X app served by the receiver.

    `consumer_secrets` lists every secret accepted for signatures (several during a rotation); the
    first one answers CRC challenges. `name` identifies the app in the store (default: the path).

    Raises:
        ConfigError: no secret, an empty secret, or a path that does not start with "/".
    """

    consumer_secrets: tuple[str, ...]
    path: str = DEFAULT_PATH
    name: str = field(default="")

    def __post_init__(self) -> None:
        if not self.consumer_secrets or not all(self.consumer_secrets):
            raise ConfigError(
                "no consumer secret: pass --consumer-secret or set XHOOKS_CONSUMER_SECRET"
                " (your app's API secret key from the X developer portal)"
            )
        if not self.path.startswith("/"):
            raise ConfigError(f"the webhook path must start with '/', not {self.path!r}")
        if not self.name:
            object.__setattr__(self, "name", self.path)

    def __repr__(self) -> str:
        secrets = ", ".join(mask(secret) for secret in self.consumer_secrets)
        return f"AppConfig(path={self.path!r}, name={self.name!r}, consumer_secrets=[{secrets}])"
