"""Print each event `xhooks relay` appends to a Redis stream, once, until Ctrl-C (or SIGTERM).

```console
$ python examples/relay_redis.py x-events &
$ xhooks relay --db xhooks.db --to 'redis://127.0.0.1:6379/0?stream=x-events'
```

Redis keeps every entry it is given, so after a relay is killed mid-batch a key can arrive twice: the `key` field
is the event's dedup key, and the reader skips a key it has printed.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from typing import Any

import redis


def main(stream: str) -> None:
    client: Any = redis.Redis(host="127.0.0.1", port=6379)
    seen: set[bytes] = set()
    last = "0"
    print("ready", flush=True)
    while True:
        for _, entries in client.xread({stream: last}, block=0):  # 0: wait as long as it takes
            for entry_id, fields in entries:
                last = entry_id
                if fields[b"key"] not in seen:
                    seen.add(fields[b"key"])
                    user = fields.get(b"for_user_id", b"-").decode()
                    print(fields[b"event_type"].decode(), user, fields[b"key"].decode(), flush=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM ends it as Ctrl-C does
    with contextlib.suppress(KeyboardInterrupt):
        main(sys.argv[1] if len(sys.argv) > 1 else "x-events")
