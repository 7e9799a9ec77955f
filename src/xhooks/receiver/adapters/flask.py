"""Mount the receiver in a Flask app.

```python
app = Flask(__name__)
receiver = Receiver(open_store("xhooks.db"), [AppConfig(("my-consumer-secret",))])
bridge = xhooks.receiver.adapters.flask.mount(app, receiver)   # GET/POST /webhook now answer as xhooks serve
```
Flask is synchronous: each request waits (on its own thread) for the commit before its 200. Call
`bridge.close()` at exit to close the store.
"""

from __future__ import annotations

import flask

from xhooks.receiver.adapters._bridge import SyncReceiver
from xhooks.receiver.app import Receiver

__all__ = ["mount"]

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
"""Every method reaches the receiver, so it answers 405 itself, as `xhooks serve` does."""


def mount(app: flask.Flask, receiver: Receiver) -> SyncReceiver:
    """Add one URL rule per webhook path of `receiver` to `app`; return the bridge (starts the store now)."""
    bridge = SyncReceiver(receiver)

    def webhook() -> flask.Response:
        request = flask.request
        reply = bridge.handle(
            request.method,
            request.path,
            request.query_string,
            request.headers.items(),
            request.stream.read,
            request.content_length,
        )
        return flask.Response(reply.body, status=reply.status, headers=reply.framework_headers)

    for path in bridge.paths:
        app.add_url_rule(path, endpoint=f"xhooks{path}", view_func=webhook, methods=METHODS)
    return bridge
