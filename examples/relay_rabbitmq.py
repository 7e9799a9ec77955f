"""Declare an exchange and a queue for `xhooks relay`, print each event it publishes there until Ctrl-C (or
SIGTERM), then remove both. Start it first: the relay publishes `mandatory` messages, which an exchange with no
queue refuses.

```console
$ python examples/relay_rabbitmq.py x-events &
$ xhooks relay --db xhooks.db --to 'amqp://guest:guest@127.0.0.1:5672/?exchange=x-events&routing_key={event_type}'
```

Each message's `message_id` is the event's dedup key and its `type` X's event type; the metadata is in its headers.
"""

from __future__ import annotations

import asyncio
import signal
import sys

import aio_pika


async def main(exchange_name: str) -> None:
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    connection = await aio_pika.connect_robust("amqp://guest:guest@127.0.0.1:5672/")
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(exchange_name, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(f"{exchange_name}-example", durable=True)
        await queue.bind(exchange, "#")
        print("ready", flush=True)
        seen: set[str] = set()

        async def show(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                if message.message_id not in seen:
                    seen.add(str(message.message_id))
                    user = message.headers.get("xhooks-for-user-id", "-")
                    print(message.type, user, message.message_id, flush=True)

        tag = await queue.consume(show)
        await stop.wait()
        await queue.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
        await exchange.delete()
    finally:
        await connection.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "x-events"))
