"""Fixtures for the dashboard tests: the emulator (X's side, with its view mounted), `xhooks serve`'s
receiver with the dashboard mounted (built by the same code as the command), and headless Chromium.

Everything listens on 127.0.0.1; the browser is Debian's Chromium driven by Playwright, never downloaded.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import read_store, run_server, serve_app
from xhooks.client import Credentials, XClient
from xhooks.dashboard import DashboardConfig
from xhooks.dashboard.emulator_view import EmulatorView
from xhooks.emulator import Emulator, EmulatorConfig
from xhooks.receiver import AppConfig
from xhooks.serving import ProcessConfig, build_servers
from xhooks.store.base import EventQuery, StoredEvent

CONSUMER_SECRET = "dashboard-consumer-secret-0123456789abcdef"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Stack:
    emulator: Emulator
    emulator_url: str
    receiver_url: str
    db: Path
    bearer: str
    dev: dict[str, Any]

    @property
    def dashboard(self) -> str:
        return f"{self.receiver_url}/_xhooks"

    @property
    def webhook_url(self) -> str:
        return f"{self.receiver_url}/webhook"

    def x(self) -> XClient:
        """A client of the emulator acting as the dev app and its dev user (OAuth 2.0 user token)."""
        creds = Credentials(bearer_token=self.bearer, user_token=self.dev["oauth2_access_token"])
        return XClient(creds, base_url=self.emulator_url)

    def subscribe(self) -> str:
        """Register this receiver with the emulator and subscribe the dev user; return the webhook id."""
        with self.x() as x:
            hook = x.create_webhook(self.webhook_url)
            x.add_subscription(hook.id)
        return hook.id

    def events(self, **query: Any) -> list[StoredEvent]:
        return list(read_store(self.db, lambda store: store.events(EventQuery(**query))))


def _emulator() -> Emulator:
    emulator = Emulator(EmulatorConfig(allow_local_urls=True, remote_urls=False, consumer_secret=CONSUMER_SECRET))
    view = EmulatorView(emulator)
    emulator.mount(view.prefix, view)
    return emulator


def dashboard_config(stack_emulator_url: str, bearer: str, **overrides: Any) -> DashboardConfig:
    fields: dict[str, Any] = {
        "api_base": stack_emulator_url,
        "credentials": Credentials(bearer_token=bearer),
        "apps": (("/webhook", "/webhook"),),
        **overrides,
    }
    return DashboardConfig(**fields)


@contextlib.contextmanager
def receiver_with_dashboard(db: Path, dashboard: DashboardConfig) -> Iterator[str]:
    """`xhooks serve`'s server (receiver + dashboard, as the command builds it) on 127.0.0.1; yields its URL."""
    config = ProcessConfig(apps=[AppConfig((CONSUMER_SECRET,))], db=str(db), port=0, dashboard=dashboard)
    main, own = build_servers(config)
    assert own is None
    with run_server(main) as url:
        yield url


@contextlib.contextmanager
def running_stack(db: Path, **dashboard: Any) -> Iterator[Stack]:
    """The emulator, and the receiver with the dashboard (`dashboard` overrides its settings)."""
    emulator = _emulator()
    with serve_app(emulator) as emulator_url:
        creds = emulator.credentials()
        bearer = creds["apps"][0]["bearer_token"]
        with receiver_with_dashboard(db, dashboard_config(emulator_url, bearer, **dashboard)) as url:
            yield Stack(emulator, emulator_url, url, db, bearer, creds["users"][0])


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path / "xhooks.db") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module: Playwright's sync API keeps an event loop running in this thread while
    it is open, which `asyncio.run` in other modules' tests must not meet."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page; confirmation dialogs are accepted."""
    context = browser.new_context(viewport={"width": 1360, "height": 900}, timezone_id="Europe/Paris")
    context.set_default_timeout(30_000)  # a hang guard for every wait of the page
    tab = context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())
    yield tab
    context.close()
