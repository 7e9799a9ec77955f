"""Manage X webhooks from Python: `XClient` (sync) and `AsyncXClient` over httpx, typed results, X's errors.

```python
from xhooks.client import Credentials, DuplicateUrlFailed, XClient

with XClient(Credentials(bearer_token="…")) as x:
    try:
        x.create_webhook("https://your.domain/webhook")
    except DuplicateUrlFailed:
        pass
    for hook in x.list_webhooks().items:
        print(hook.id, hook.url, hook.valid)
```

Every error X answers is an `XApiError`; one subclass per reason X names (`CrcValidationFailed`, …), and
`Unauthorized`, `Forbidden`, `RateLimited` by status. A failure to reach X is a `TransportError`.
"""

from xhooks.client._call import Auth, Call, CallPolicy, UnexpectedResponse
from xhooks.client._client import DEFAULT_BASE_URL, AsyncXClient, BaseClient, XClient
from xhooks.client.auth import Credentials
from xhooks.client.errors import (
    CrcValidationFailed,
    DuplicateSubscriptionFailed,
    DuplicateUrlFailed,
    Forbidden,
    QueryParamInvalid,
    RateLimited,
    ReplayConflictError,
    SubscriptionLimitExceeded,
    SubscriptionNotFound,
    Unauthorized,
    UrlValidationFailed,
    WebhookIdInvalid,
    WebhookLimitExceeded,
)
from xhooks.client.models import ActivityFilter
from xhooks.errors import TransportError, XApiError

__all__ = [
    "DEFAULT_BASE_URL",
    "ActivityFilter",
    "AsyncXClient",
    "Auth",
    "BaseClient",
    "Call",
    "CallPolicy",
    "CrcValidationFailed",
    "Credentials",
    "DuplicateSubscriptionFailed",
    "DuplicateUrlFailed",
    "Forbidden",
    "QueryParamInvalid",
    "RateLimited",
    "ReplayConflictError",
    "SubscriptionLimitExceeded",
    "SubscriptionNotFound",
    "TransportError",
    "Unauthorized",
    "UnexpectedResponse",
    "UrlValidationFailed",
    "WebhookIdInvalid",
    "WebhookLimitExceeded",
    "XApiError",
    "XClient",
]
