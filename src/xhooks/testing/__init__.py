"""Test your handlers: the emulator, a receiver running your `XHooks`, signed deliveries, and a wait for the
outcome; as pytest fixtures (`xhooks.testing.plugin`, loaded by pytest on its own once xhooks is installed).

```python
from dm_bot import hooks


@pytest.fixture
def xhooks_hooks() -> XHooks:
    return hooks


def test_answers_a_dm(xhooks_emulator, xhooks_receiver):
    xhooks_emulator.trigger("aaa.direct_message", user_id=xhooks_emulator.friend["id"], text="hello bot")
    dm, reply = xhooks_receiver.wait_handled(2, "direct_message_events")
    assert dm.status == "handled"
```

Outside pytest, the same parts are context managers: `run_emulator()`, `run_receiver(hooks, emulator, db)`.

Each name is imported from its module on first use, so pytest loading the plugin (`xhooks.testing.plugin`) in
every test run of a project that has xhooks installed does not load the emulator and the server.
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    from xhooks.testing.deliveries import DeliveryFactory, SignedDelivery
    from xhooks.testing.emulator import RunningEmulator, run_emulator
    from xhooks.testing.receiver import SETTLED, RunningReceiver, run_receiver

_HOMES: dict[str, tuple[str, ...]] = {
    "xhooks.testing.deliveries": ("DeliveryFactory", "SignedDelivery"),
    "xhooks.testing.emulator": ("RunningEmulator", "run_emulator"),
    "xhooks.testing.receiver": ("SETTLED", "RunningReceiver", "run_receiver"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "SETTLED",
    "DeliveryFactory",
    "RunningEmulator",
    "RunningReceiver",
    "SignedDelivery",
    "run_emulator",
    "run_receiver",
]

if not typing.TYPE_CHECKING:  # hidden from type checkers, which see the imports above and flag unknown names

    def __getattr__(name: str) -> object:
        if name not in _HOME_OF:
            raise AttributeError(f"module 'xhooks.testing' has no attribute {name!r}")
        value = getattr(importlib.import_module(_HOME_OF[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
