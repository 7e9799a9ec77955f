"""Never stop silently: re-validate webhooks X marked invalid, recover missed events with replay jobs, alert.

```python
from xhooks.watch import WatchConfig, Watcher

watcher = Watcher(async_x_client, store, WatchConfig(interval=60, alert_url="https://hooks.slack.com/…"))
await watcher.run()
```
"""

from xhooks.watch.alerts import Alert, Alerts
from xhooks.watch.health import HealthWatcher, WebhookStatus
from xhooks.watch.recovery import JobState, Recovery, ReplayTask, Window, missed_windows
from xhooks.watch.watcher import WatchConfig, Watcher, WatchService, recover, recover_window, run_watcher

__all__ = [
    "Alert",
    "Alerts",
    "HealthWatcher",
    "JobState",
    "Recovery",
    "ReplayTask",
    "WatchConfig",
    "WatchService",
    "Watcher",
    "WebhookStatus",
    "Window",
    "missed_windows",
    "recover",
    "recover_window",
    "run_watcher",
]
