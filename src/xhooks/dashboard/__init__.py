"""The dashboard: server-rendered pages over the store and the client, with a live tail (Server-Sent Events).

`xhooks serve` mounts it at `/_xhooks/` next to the receiver (loopback only unless a login token is set);
`xhooks emulator` mounts `EmulatorView`, X's side as the emulator sees it.

```python
from xhooks.dashboard import Dashboard, DashboardConfig, Mount

app = Mount("/_xhooks", Dashboard(store, DashboardConfig()), receiver)
```
"""

from xhooks.dashboard.app import Dashboard
from xhooks.dashboard.config import DEFAULT_PREFIX, DashboardConfig
from xhooks.dashboard.mount import Mount
from xhooks.dashboard.security import Guard

__all__ = ["DEFAULT_PREFIX", "Dashboard", "DashboardConfig", "Guard", "Mount"]
