"""The pytest plugin (`pytest11` entry point `xhooks`): fixtures to test your handlers against the emulator.

| fixture | gives |
|---|---|
| `xhooks_emulator` | a `RunningEmulator`: X's side on a free 127.0.0.1 port, on a manual clock |
| `xhooks_hooks` | your `XHooks`: set `xhooks_app = "module:hooks"` in pytest's ini, or override this fixture |
| `xhooks_environment` | the `XHOOKS_*` variables of the emulator's dev app and user, set for the test |
| `xhooks_receiver` | a `RunningReceiver` running `xhooks_hooks`, subscribed to the dev user's events |
| `xhooks_delivery` | a `DeliveryFactory`: signed deliveries of every event type, POSTed to the receiver |

Every fixture is function-scoped and named `xhooks_…`, so it clashes with none of your own. Nothing heavy is
imported until a test asks for a fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from xhooks.dispatch import XHooks
    from xhooks.testing.deliveries import DeliveryFactory
    from xhooks.testing.emulator import RunningEmulator
    from xhooks.testing.receiver import RunningReceiver

APP_INI = "xhooks_app"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(APP_INI, "The XHooks the xhooks_hooks fixture loads, as module:attribute (e.g. bot:hooks).")


@pytest.fixture
def xhooks_emulator() -> Iterator[RunningEmulator]:
    """The emulator, served on a free 127.0.0.1 port for the test, on a manual clock, its state in memory."""
    from xhooks.testing.emulator import run_emulator

    with run_emulator() as emulator:
        yield emulator


@pytest.fixture
def xhooks_hooks(request: pytest.FixtureRequest) -> XHooks:
    """Your handlers: the `XHooks` that the ini option `xhooks_app` names (`module:attribute`, imported from the
    current directory as `xhooks serve --app` does). Override this fixture to return one yourself."""
    from xhooks.dispatch import load_hooks

    spec = request.config.getini(APP_INI)
    if not spec:
        raise pytest.UsageError(
            f"xhooks_hooks needs your XHooks: set `{APP_INI} = module:hooks` in pytest's ini options,"
            " or define a fixture `xhooks_hooks` that returns it"
        )
    return load_hooks(str(spec))


@pytest.fixture
def xhooks_environment(xhooks_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point `Settings.load()` (and so `XClient`, `Credentials.load`, your handlers) at the emulator, as its dev
    app and dev user, for the test; returns the variables set."""
    environment = xhooks_emulator.environment
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return environment


@pytest.fixture
def xhooks_receiver(
    xhooks_emulator: RunningEmulator, xhooks_hooks: XHooks, xhooks_environment: dict[str, str], tmp_path: Path
) -> Iterator[RunningReceiver]:
    """A receiver and a worker running `xhooks_hooks` on a store in `tmp_path`, on a free 127.0.0.1 port,
    registered as the emulator's webhook with the dev user subscribed: what the emulator routes for the dev
    user reaches your handlers, and what they send through the emulator comes back as events."""
    from xhooks.testing.receiver import run_receiver

    with run_receiver(xhooks_hooks, xhooks_emulator, tmp_path / "xhooks.db") as receiver:
        yield receiver


@pytest.fixture
def xhooks_delivery(xhooks_emulator: RunningEmulator, xhooks_receiver: RunningReceiver) -> DeliveryFactory:
    """Signed deliveries of any event type for the receiver: `xhooks_delivery.deliver("dm.received", text="hi")`."""
    from xhooks.testing.deliveries import DeliveryFactory

    return DeliveryFactory(xhooks_emulator, xhooks_receiver.webhook_url)
