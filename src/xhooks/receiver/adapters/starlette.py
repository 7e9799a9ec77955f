"""Mount the receiver in a Starlette or FastAPI app.

```python
app = FastAPI()
receiver = Receiver(open_store("xhooks.db"), [AppConfig(("my-consumer-secret",))])
xhooks.receiver.adapters.starlette.mount(app, receiver)  # GET/POST /webhook; the app's lifespan opens the store
```
The receiver is an ASGI app already: each webhook path becomes a route whose endpoint is the receiver
itself (raw bytes, no framework parsing), and the store is started and closed by the app's lifespan.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from xhooks.receiver.app import Receiver

__all__ = ["mount"]


def mount(app: Starlette, receiver: Receiver) -> None:
    """Route every webhook path of `receiver` to it, and open/close its store with `app`'s lifespan."""
    for path in receiver.routes:
        app.router.routes.append(Route(path, receiver))
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        await receiver.store.start()
        try:
            async with inner(application) as state:
                yield state
        finally:
            await receiver.store.close()

    app.router.lifespan_context = lifespan
