"""Client fixtures: the emulator and a consumer (from the emulator's own test fixtures), and a client of each kind.

The `x` fixture is an `XClient` or an `AsyncXClient` behind `Synced`, so one test body covers both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.emulator.conftest import Consumer, Running, start
from tests.support import serve_app
from xhooks.client import AsyncXClient, Credentials, XClient
from xhooks.emulator import EmulatorConfig


class Synced:
    """An `AsyncXClient` called from sync code: every method runs on one event loop that outlives the calls."""

    def __init__(self, client: AsyncXClient) -> None:
        self._client = client
        self._runner = asyncio.Runner()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._client, name)
        return lambda *args, **kwargs: self._runner.run(method(*args, **kwargs))

    def close(self) -> None:
        self._runner.run(self._client.aclose())
        self._runner.close()


def credentials(running: Running, user: dict[str, Any] | None = None, oauth2: bool = False) -> Credentials:
    """The dev app's credentials, acting as `user` (default: the dev user) by OAuth 1.0a or OAuth 2.0."""
    user = user or running.dev
    if oauth2:
        return Credentials(bearer_token=running.app["bearer_token"], user_token=user["oauth2_access_token"])
    return Credentials(
        bearer_token=running.app["bearer_token"],
        consumer_key=running.app["consumer_key"],
        consumer_secret=running.app["consumer_secret"],
        access_token=user["access_token"],
        access_token_secret=user["access_token_secret"],
    )


def make_client(kind: str, base_url: str, creds: Credentials, **options: Any) -> Any:
    """An `XClient` ("sync") or a `Synced` `AsyncXClient` ("async")."""
    if kind == "sync":
        return XClient(creds, base_url=base_url, **options)
    return Synced(AsyncXClient(creds, base_url=base_url, **options))


@pytest.fixture
def config() -> EmulatorConfig:
    """Override in a test module (or parametrize indirectly) to change the emulator's behaviour."""
    return EmulatorConfig(allow_local_urls=True, remote_urls=False, seed=1, max_webhooks=2)


@pytest.fixture
def running(config: EmulatorConfig) -> Iterator[Running]:
    yield from start(config)


@pytest.fixture
def hook_url(running: Running) -> Iterator[str]:
    """A consumer that answers the CRC with the dev app's secret; its webhook URL."""
    with serve_app(Consumer(running.app["consumer_secret"])) as url:
        yield url + "/webhook"


@pytest.fixture(params=["sync", "async"])
def x(request: pytest.FixtureRequest, running: Running) -> Iterator[Any]:
    client = make_client(request.param, running.url, credentials(running))
    yield client
    client.close()
