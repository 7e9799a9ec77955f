"""The emulator as a test sees it: served on a free loopback port, on a manual clock, with its dev app and users."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from xhooks.clock import ManualClock
from xhooks.emulator import Emulator, EmulatorConfig
from xhooks.emulator.environment import dev_environment
from xhooks.testing.servers import in_thread

__all__ = ["RunningEmulator", "run_emulator"]

HTTP_TIMEOUT = 60.0
"""A hang guard on every control call (`settle` waits for the deliveries it starts)."""


@dataclass
class RunningEmulator:
    """An emulator serving at `url`, and what a test needs of it: the dev app's keys, the dev user (the one your
    bot acts as), a friend (someone else), the control API (`trigger`, `settle`, `advance`) and the X API."""

    emulator: Emulator
    url: str
    http: httpx.Client
    """A client on `url`: `http.get("/_emulator/deliveries")`, `http.post("/2/webhooks", …)`."""

    @property
    def credentials(self) -> dict[str, Any]:
        """`GET /_emulator/credentials`: the apps and users with their keys and tokens."""
        return self.emulator.credentials()

    @property
    def app(self) -> dict[str, Any]:
        """The dev app: `id`, `consumer_key`, `consumer_secret`, `bearer_token`."""
        return dict(self.credentials["apps"][0])

    @property
    def dev(self) -> dict[str, Any]:
        """The dev user (`id`, `username`, `access_token`, `oauth2_access_token` …): the user your bot is."""
        return dict(self.credentials["users"][0])

    @property
    def friend(self) -> dict[str, Any]:
        """Another user, who DMs, follows or mentions the dev user."""
        return dict(self.credentials["users"][1])

    @property
    def environment(self) -> dict[str, str]:
        """The `XHOOKS_*` variables that point xhooks (and your code's `XClient`) here, as the dev app and user."""
        return dev_environment(self.url, self.credentials)

    def trigger(
        self, event_type: str, user_id: str | None = None, target_id: str | None = None, text: str | None = None
    ) -> dict[str, Any]:
        """Make an event happen (`POST /_emulator/events`), by `user_id` (default: the dev user) towards
        `target_id`, and route it to the subscribed webhooks as X would. Returns where it went."""
        fields = {"type": event_type, "user_id": user_id, "target_id": target_id, "text": text}
        return self._post("/_emulator/events", {k: v for k, v in fields.items() if v is not None})

    def settle(self) -> None:
        """Wait until every delivery and job due now has finished (`POST /_emulator/settle`)."""
        self._post("/_emulator/settle", None)

    def advance(self, seconds: float) -> None:
        """Move the manual clock forward, running every retry, CRC and replay due on the way."""
        self._post("/_emulator/clock/advance", {"seconds": seconds})

    def deliveries(self, webhook_id: str | None = None) -> list[dict[str, Any]]:
        """The delivery log, every attempt included (`GET /_emulator/deliveries`)."""
        params = {"webhook_id": webhook_id} if webhook_id else {}
        data: list[dict[str, Any]] = self.http.get("/_emulator/deliveries", params=params).json()["data"]
        return data

    def _post(self, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        response = self.http.post(path, json=body)
        if response.status_code != 200:
            raise AssertionError(f"the emulator refused POST {path}: {response.status_code} {response.text}")
        result: dict[str, Any] = response.json()
        return result


@contextlib.contextmanager
def run_emulator(config: EmulatorConfig | None = None) -> Iterator[RunningEmulator]:
    """Serve an emulator on a free 127.0.0.1 port, on a manual clock, for the block. By default it keeps its
    state in memory, delivers to loopback URLs only, and is seeded (duplicates and jitter repeat run to run)."""
    emulator = Emulator(config or EmulatorConfig(allow_local_urls=True, remote_urls=False, seed=1), ManualClock())
    server = uvicorn.Server(uvicorn.Config(emulator, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    with in_thread(server) as url, httpx.Client(base_url=url, timeout=HTTP_TIMEOUT) as http:
        yield RunningEmulator(emulator, url, http)
