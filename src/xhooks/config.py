"""One place that resolves settings: explicit arguments, then `XHOOKS_*` environment variables, then `xhooks.toml`,
then the state a running `xhooks dev` keeps in `.xhooks/dev.json` (the emulator's URL and keys, the webhook id).

Every command and every library entry point that reads configuration goes through `Settings`, so the order
is the same everywhere and lives nowhere else. Secret values are masked in `repr`.

```python
settings = Settings.load()                      # reads ./xhooks.toml if present, and os.environ
secrets = settings.get_list("consumer_secret", explicit=cli_values)
days = settings.section("retention").get("body_days", explicit=None, default=7)  # XHOOKS_RETENTION_BODY_DAYS
```

A section is a table of `xhooks.toml` (`[retention]`); its environment variables carry the table's name after
the prefix (`XHOOKS_RETENTION_BODY_DAYS` for `body_days` in `[retention]`).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from xhooks.errors import ConfigError

__all__ = ["DEV_STATE", "Settings", "env_name", "mask", "read_dev_state"]

ENV_PREFIX = "XHOOKS_"
DEFAULT_FILE = "xhooks.toml"
DEV_STATE = Path(".xhooks") / "dev.json"
"""Where `xhooks dev` keeps its settings, relative to the directory it runs in (and every command reads them)."""


def env_name(name: str, prefix: str = ENV_PREFIX) -> str:
    """The environment variable of the setting `name`: `consumer_secret` → `XHOOKS_CONSUMER_SECRET` (in a
    section, `prefix` carries the table's name: `XHOOKS_RETENTION_`)."""
    return prefix + name.upper()


def mask(secret: str | bytes | None) -> str:
    """Show enough of a secret to recognise it, never enough to use it: `abcd…(25 chars)`."""
    if not secret:
        return "<unset>"
    text = secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret
    return f"{text[:4]}…({len(text)} chars)" if len(text) > 8 else "****"


def read_dev_state(path: Path = DEV_STATE) -> dict[str, Any]:
    """The settings `xhooks dev` wrote to `path`; empty when there are none.

    Raises:
        ConfigError: the file exists but is not a JSON object.
    """
    try:
        values = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not JSON ({exc}); delete it and run `xhooks dev` again") from exc
    if not isinstance(values, dict):
        raise ConfigError(f"{path} is not a JSON object; delete it and run `xhooks dev` again")
    return values


class Settings:
    """Resolved configuration sources (environment and file); ask it for one setting at a time."""

    def __init__(
        self,
        environ: Mapping[str, str],
        file_values: Mapping[str, Any],
        file_path: Path | None,
        dev_values: Mapping[str, Any] | None = None,
        prefix: str = ENV_PREFIX,
    ) -> None:
        self._environ = environ
        self._file = {**(dev_values or {}), **file_values}  # the file's values win over `xhooks dev`'s state
        self.file_path = file_path
        self.prefix = prefix

    @classmethod
    def load(cls, path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """Read `path` (default `./xhooks.toml`, or `XHOOKS_CONFIG`) if it exists, `xhooks dev`'s state
        (`DEV_STATE`) if it exists, and the environment.

        Raises:
            ConfigError: the file exists but is not valid TOML, or an explicit `path` does not exist.
        """
        env = os.environ if environ is None else environ
        explicit = path is not None or ENV_PREFIX + "CONFIG" in env
        file_path = Path(path if path is not None else env.get(ENV_PREFIX + "CONFIG", DEFAULT_FILE))
        dev = read_dev_state()
        if not file_path.exists():
            if explicit:
                raise ConfigError(f"config file {file_path} does not exist; create it or drop the option")
            return cls(env, {}, None, dev)
        try:
            values = tomllib.loads(file_path.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file_path} is not valid TOML ({exc}); fix the file") from exc
        return cls(env, values, file_path, dev)

    def get(self, name: str, explicit: Any = None, default: Any = None) -> Any:
        """The value of `name`: `explicit` if not None, else `XHOOKS_<NAME>`, else the file's `name`, else default."""
        if explicit is not None:
            return explicit
        env_value = self._environ.get(env_name(name, self.prefix))
        if env_value is not None:
            return env_value
        return self._file.get(name, default)

    def section(self, name: str) -> Settings:
        """The settings of the `[name]` table of the file, with environment variables `XHOOKS_<NAME>_<KEY>`.

        Raises:
            ConfigError: `name` in the file is not a table.
        """
        values = self._file.get(name, {})
        if not isinstance(values, dict):
            raise ConfigError(f"{name} in {self.file_path} must be a table: [{name}] followed by key = value lines")
        return Settings(self._environ, values, self.file_path, prefix=f"{self.prefix}{name.upper()}_")

    def get_list(self, name: str, explicit: Sequence[str] | None = None) -> list[str]:
        """A list setting; the environment form is comma-separated (`XHOOKS_CONSUMER_SECRET=old,new`)."""
        if explicit:
            return list(explicit)
        env_value = self._environ.get(env_name(name, self.prefix))
        if env_value is not None:
            return [part.strip() for part in env_value.split(",") if part.strip()]
        value = self._file.get(name, [])
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(value)
        raise ConfigError(f"{name} in {self.file_path} must be a string or a list of strings")

    def __repr__(self) -> str:
        return f"Settings(file={self.file_path}, keys={sorted(self._file)})"
