"""The Redis Streams sink: `XADD` each event to a stream, with the redis package's asyncio client.

`redis://127.0.0.1:6379/0?stream=x-events` appends one entry per event: the metadata fields (`event_type`, `key`,
`for_user_id`, `app`, `received_at`, `event_id`), `content_type`, `body` (the event's bytes) and, with `format=x`,
`signature`. Redis does not deduplicate entries, so an event sent again after a lost reply is a second entry with
the same `key`: consumers that must act once keep the keys they have seen (https://redis.io/docs/latest/commands/xadd/).

A batch is one pipeline on one connection, executed by Redis in order, so one user's entries keep their order; a
connection that breaks fails what was not confirmed, and the relay sends it again. `{for_user_id}` in the stream
name gives each user a stream of their own. Options: `stream` (required), `maxlen` (trim to about this many
entries), `timeout` (seconds, default 10).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlunsplit

import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from xhooks.errors import ConfigError
from xhooks.relay.message import Message
from xhooks.relay.sink import Failure, Outcome, Sink, target

__all__ = ["RedisStreamsSink"]

_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class RedisStreamsSink(Sink):
    options = frozenset({"stream", "maxlen", "timeout"})

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.stream = self.query.get("stream", "")
        if not self.stream:
            raise ConfigError(f"{self.name}: name the stream, e.g. redis://127.0.0.1:6379/0?stream=x-events")
        try:
            self.maxlen = int(self.query["maxlen"]) if "maxlen" in self.query else None
            self.timeout = float(self.query.get("timeout", 10.0))
        except ValueError as exc:
            raise ConfigError(f"{self.name}: maxlen and timeout must be numbers ({exc})") from None
        self._url = urlunsplit(self.parts._replace(query="", fragment=""))
        self._client: redis.Redis | None = None

    async def open(self) -> None:
        if self._client is None:
            client = redis.Redis.from_url(self._url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout)
            try:
                await client.ping()
            except BaseException:
                await client.aclose()
                raise
            self._client = client

    async def send(self, messages: Sequence[Message]) -> list[Outcome]:
        try:
            await self.open()
            assert self._client is not None
            pipe = self._client.pipeline(transaction=False)
            for message in messages:
                pipe.xadd(target(self.stream, message), _fields(message), maxlen=self.maxlen, approximate=True)
            results = await pipe.execute(raise_on_error=False)
        except _UNREACHABLE as exc:
            failure = Failure(f"{type(exc).__name__}: {exc}", unavailable=True)
            return [failure for _ in messages]
        return [_outcome(result) for result in results]

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _fields(message: Message) -> dict[Any, Any]:
    fields: dict[Any, Any] = {**message.metadata(), "content_type": message.content_type, "body": message.body}
    if message.signature is not None:
        fields["signature"] = message.signature
    return fields


def _outcome(result: object) -> Outcome:
    if isinstance(result, _UNREACHABLE):
        return Failure(f"{type(result).__name__}: {result}", unavailable=True)
    if isinstance(result, RedisError):
        return Failure(f"{type(result).__name__}: {result}")
    return None
