"""Mount the receiver in a Django project.

```python
# urls.py
receiver = Receiver(open_store("xhooks.db"), [AppConfig(("my-consumer-secret",))])
urlpatterns = [*xhooks.receiver.adapters.django.urls(receiver), ...]
```
The views are CSRF-exempt (X signs its requests instead) and read the raw body without Django's form
parsing. Django is synchronous here: each request waits (on its own thread) for the commit before its 200.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt

from xhooks.receiver.adapters._bridge import SyncReceiver
from xhooks.receiver.app import Receiver

__all__ = ["urls"]


def urls(receiver: Receiver) -> list[URLPattern]:
    """One URL pattern per webhook path of `receiver`. The bridge (which starts the store) is `pattern.bridge`."""
    bridge = SyncReceiver(receiver)

    def webhook(request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH")
        reply = bridge.handle(
            request.method or "GET",
            request.path_info,
            request.META.get("QUERY_STRING", "").encode("latin-1"),
            request.headers.items(),
            request.read,
            int(declared) if declared and declared.isdigit() else None,
        )
        response = HttpResponse(reply.body, status=reply.status)
        for name, value in reply.framework_headers:
            response[name] = value
        return response

    view: Any = csrf_exempt(webhook)
    patterns: list[URLPattern] = [path(route.lstrip("/"), view, name=f"xhooks{route}") for route in bridge.paths]
    for pattern in patterns:
        pattern.bridge = bridge
    return patterns
