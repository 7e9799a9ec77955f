"""Print each event `xhooks relay` publishes to NATS JetStream, until Ctrl-C (or SIGTERM).

```console
$ python examples/relay_nats.py X_EVENTS 'x.events.>' &
$ xhooks relay --db xhooks.db --to 'nats://127.0.0.1:4222?subject=x.events.{for_user_id}&stream=X_EVENTS'
```

The relay sets `Nats-Msg-Id` to the event's dedup key, so JetStream stores each event once even when a relay sends
it again. Each user has a subject of their own; the stream captures them all (the reader and, with `stream=`, the
relay create it if it is missing).
"""

from __future__ import annotations

import asyncio
import signal
import sys

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import NotFoundError


async def main(stream: str, subject: str) -> None:
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    nc = await nats.connect("nats://127.0.0.1:4222")
    try:
        js = nc.jetstream()
        try:
            await js.stream_info(stream)
        except NotFoundError:
            await js.add_stream(name=stream, subjects=[subject])
        subscription = await js.subscribe(subject, stream=stream, ordered_consumer=True)
        print("ready", flush=True)
        while not stop.is_set():
            try:
                message = await subscription.next_msg(timeout=1)  # then look at `stop` again
            except NatsTimeout:
                continue
            headers = message.headers or {}
            user = headers.get("Xhooks-For-User-Id", "-")
            print(headers["Xhooks-Event-Type"], user, headers["Nats-Msg-Id"], flush=True)
    finally:
        await nc.close()


if __name__ == "__main__":
    asyncio.run(main(*(sys.argv[1:3] if len(sys.argv) > 2 else ["X_EVENTS", "x.events.>"])))
