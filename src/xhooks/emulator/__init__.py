"""X's side of the wire on 127.0.0.1: management API, CRC on X's schedule, signed deliveries, replay, triggers.

```python
from xhooks.emulator import Emulator, EmulatorConfig

emulator = Emulator(EmulatorConfig(allow_local_urls=True), clock=ManualClock())
```
"""

from xhooks.emulator.app import Emulator
from xhooks.emulator.config import EmulatorConfig
from xhooks.emulator.control import EVENT_TYPES, trigger

__all__ = ["EVENT_TYPES", "Emulator", "EmulatorConfig", "trigger"]
