"""The RabbitMQ sink: publish each event to an exchange with publisher confirms, with aio-pika.

`amqp://guest:guest@127.0.0.1:5672/?exchange=x-events&routing_key={event_type}` publishes every event as a
persistent message whose `message_id` is the event's dedup key (a consumer drops a copy sent again by it), `type`
X's event type, `timestamp` when it was received, `app_id` `xhooks`, and the metadata as `xhooks-*` headers. The
channel is in confirm mode, so an event is delivered once the broker has taken responsibility for it
(https://www.rabbitmq.com/docs/confirms#publisher-confirms); messages are `mandatory`, so one that no queue is
bound for comes back as a refusal rather than vanishing. The exchange must exist; `exchange=` (empty) is the
default exchange, where the routing key names a queue.

`{event_type}` and `{for_user_id}` in the routing key are replaced per event; each user's events are published one
after another on one channel. Options: `exchange` (required, may be empty), `routing_key` (default empty),
`timeout` (seconds per confirm, default 10), `concurrency` (default 64).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import urlunsplit

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractRobustConnection
from aio_pika.exceptions import AMQPError, ChannelInvalidStateError, DeliveryError, PublishError

from xhooks.errors import ConfigError
from xhooks.relay.message import Message
from xhooks.relay.sink import Failure, Outcome, Sink, send_in_order, target

__all__ = ["RabbitMQSink"]


class RabbitMQSink(Sink):
    options = frozenset({"exchange", "routing_key", "timeout", "concurrency"})

    def __init__(self, url: str) -> None:
        super().__init__(url)
        if "exchange" not in self.query:
            raise ConfigError(f"{self.name}: name the exchange, e.g. amqp://…/?exchange=x-events&routing_key=x")
        self.exchange_name = self.query["exchange"]
        self.routing_key = self.query.get("routing_key", "")
        try:
            self.timeout = float(self.query.get("timeout", 10.0))
            self.concurrency = int(self.query.get("concurrency", 64))
        except ValueError as exc:
            raise ConfigError(f"{self.name}: timeout and concurrency must be numbers ({exc})") from None
        self._server = urlunsplit(self.parts._replace(query="", fragment=""))
        self._connection: AbstractRobustConnection | None = None
        self._exchange: AbstractExchange | None = None

    async def open(self) -> None:
        if self._connection is not None:
            return
        connection = await aio_pika.connect_robust(self._server, timeout=self.timeout)
        try:
            channel = await connection.channel(publisher_confirms=True)
            exchange = (
                await channel.get_exchange(self.exchange_name, ensure=True)
                if self.exchange_name
                else channel.default_exchange
            )
        except BaseException:
            await connection.close()
            raise
        self._connection, self._exchange = connection, exchange

    async def send(self, messages: Sequence[Message]) -> list[Outcome]:
        try:
            await self.open()
        except (AMQPError, OSError, TimeoutError) as exc:
            return [Failure(f"{type(exc).__name__}: {exc}", unavailable=True) for _ in messages]
        return await send_in_order(messages, self._publish, self.concurrency)

    async def _publish(self, message: Message) -> Outcome:
        assert self._exchange is not None
        headers: dict[str, str] = message.headers()
        if message.signature is not None:
            headers["x-twitter-webhooks-signature"] = message.signature
        amqp = aio_pika.Message(
            message.body,
            content_type=message.content_type,
            message_id=message.key,
            type=message.event_type,
            timestamp=dt.datetime.fromtimestamp(message.received_at, dt.UTC),
            app_id="xhooks",
            headers=dict(headers),
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        try:
            await self._exchange.publish(amqp, target(self.routing_key, message), mandatory=True, timeout=self.timeout)
        except (DeliveryError, PublishError) as exc:  # returned unroutable, or nacked by the broker
            return Failure(f"{type(exc).__name__}: {exc}")
        except (AMQPError, ChannelInvalidStateError, OSError, TimeoutError) as exc:
            return Failure(f"{type(exc).__name__}: {exc}", unavailable=True)
        return None

    async def close(self) -> None:
        connection, self._connection, self._exchange = self._connection, None, None
        if connection is not None:
            await connection.close()
