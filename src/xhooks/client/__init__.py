"""Manage X webhooks from Python: `XClient` (sync) and `AsyncXClient` over httpx, typed results, X's errors.

```python
from xhooks.client import Credentials, XClient

with XClient(Credentials(bearer_token="…")) as x:
    for hook in x.list_webhooks().items:
        print(hook.id, hook.url, hook.valid)
```
"""

from xhooks.client._call import Auth, Call, CallPolicy, UnexpectedResponse
from xhooks.client._client import DEFAULT_BASE_URL, AsyncXClient, BaseClient, XClient
from xhooks.client.auth import Credentials
from xhooks.client.models import ActivityFilter

__all__ = [
    "DEFAULT_BASE_URL",
    "ActivityFilter",
    "AsyncXClient",
    "Auth",
    "BaseClient",
    "Call",
    "Credentials",
    "CallPolicy",
    "UnexpectedResponse",
    "XClient",
]
