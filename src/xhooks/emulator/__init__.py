"""X's side of the wire on 127.0.0.1: management API, CRC on X's schedule, signed deliveries, replay, triggers.

```python
from xhooks.emulator import Emulator, EmulatorConfig, ManualClock

emulator = Emulator(EmulatorConfig(allow_local_urls=True), clock=ManualClock())
```
"""

from xhooks.emulator.app import Emulator
from xhooks.emulator.clock import Clock, ManualClock, RealClock, ScaledClock
from xhooks.emulator.config import EmulatorConfig
from xhooks.emulator.control import EVENT_TYPES, trigger

__all__ = ["EVENT_TYPES", "Clock", "Emulator", "EmulatorConfig", "ManualClock", "RealClock", "ScaledClock", "trigger"]
