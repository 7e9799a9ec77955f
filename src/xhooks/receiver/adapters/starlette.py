"""Mount the receiver in a Starlette or FastAPI app.

```python
app = FastAPI()
receiver = Receiver(open_store("xhooks.db"), [AppConfig(("my-consumer-secret",))])
xhooks.receiver.adapters.starlette.mount(app, receiver)  # GET/POST /webhook; the app's lifespan opens the store
```
The receiver is an ASGI app already: each webhook path becomes a route whose endpoint is the receiver
itself (raw bytes, no framework parsing), and the app's lifespan runs the receiver's (store, heartbeat).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from xhooks.receiver.adapters._bridge import LifespanDriver
from xhooks.receiver.app import Receiver

__all__ = ["mount"]


def mount(app: Starlette, receiver: Receiver) -> None:
    """Route every webhook path of `receiver` to it, and run the receiver's lifespan inside `app`'s."""
    for path in receiver.routes:
        app.router.routes.append(Route(path, receiver))
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        driver = LifespanDriver(receiver)
        await driver.startup()
        try:
            async with inner(application) as state:
                yield state
        finally:
            await driver.shutdown()

    app.router.lifespan_context = lifespan
