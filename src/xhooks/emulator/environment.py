"""The settings that point xhooks, and your own code, at a running emulator as its dev app and dev user.

`xhooks dev env` prints them as `export XHOOKS_…=…` lines, and the `xhooks.testing` fixtures set them for a
test, so `XHooks` handlers that build an `XClient` from `Settings.load()` reach the emulator, not api.x.com.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xhooks.config import env_name

__all__ = ["dev_environment", "dev_settings"]


def dev_settings(api_base: str, credentials: Mapping[str, Any]) -> dict[str, str]:
    """The settings, by their `Settings` names, of the emulator at `api_base` whose `GET /_emulator/credentials`
    answered `credentials`: its first app's keys and its dev user's tokens (OAuth 1.0a and OAuth 2.0)."""
    app, dev = credentials["apps"][0], credentials["users"][0]
    return {
        "api_base": api_base,
        "bearer_token": app["bearer_token"],
        "consumer_key": app["consumer_key"],
        "consumer_secret": app["consumer_secret"],
        "access_token": dev["access_token"],
        "access_token_secret": dev["access_token_secret"],
        "user_token": dev["oauth2_access_token"],
    }


def dev_environment(api_base: str, credentials: Mapping[str, Any]) -> dict[str, str]:
    """`dev_settings` as `XHOOKS_*` environment variables."""
    return {env_name(name): value for name, value in dev_settings(api_base, credentials).items()}
