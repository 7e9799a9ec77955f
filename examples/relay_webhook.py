"""A service that takes the events `xhooks relay` POSTs: it verifies each with the `standardwebhooks` library and
keeps the first copy of each `webhook-id` (the event's dedup key), printing it.

```console
$ export RELAY_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw     # any whsec_ + base64 secret, shared by both
$ python examples/relay_webhook.py 9000 &
$ xhooks relay --db xhooks.db --to "http://127.0.0.1:9000/x-events?secret=$RELAY_SECRET"
```

A POST that fails verification gets 401, which the relay counts as a refusal (retried, then a dead letter). A
copy already kept gets 204 again, so the relay marks it delivered.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

webhook = Webhook(os.environ["RELAY_SECRET"])
seen: set[str] = set()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    try:
        webhook.verify(body, headers)
    except WebhookVerificationError:
        status = 401
    else:
        status = 204
        if headers["webhook-id"] not in seen:
            seen.add(headers["webhook-id"])
            print(
                headers["xhooks-event-type"], headers.get("xhooks-for-user-id", "-"), headers["webhook-id"], flush=True
            )
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})


if __name__ == "__main__":
    print("ready", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 9000, log_level="warning")
