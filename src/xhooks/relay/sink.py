"""The one contract every sink implements, and the registry that picks a sink by URL, as the store picks its engine.

A sink is `open()`, then `send(messages)` any number of times, then `close()`. `send` gets a batch in arrival order
and answers, per message, None (the sink has it: acknowledged, confirmed, stored) or a `Failure`. It must never let
a later message of one `ordering_key` (one user of one app) arrive before an earlier one: after a message fails, it
sends no later message of that key in the batch and answers `NOT_SENT` for them. `send_in_order` does exactly that
for sinks that confirm one message at a time; a sink that pipelines (Redis) keeps order by its single connection.

A `Failure` is either *unavailable* (the sink could not be reached, timed out, or said to come back later): the relay
backs off and sends again without counting an attempt, however long the outage; or a *rejection* (the sink answered
and refused this message): the relay retries it with backoff and dead-letters it after its last attempt.

| scheme | sink | extra |
|---|---|---|
| `http://`, `https://` | `xhooks.relay.http:HttpSink` (Standard Webhooks) | `xhooks[standardwebhooks]` |
| `redis://`, `rediss://` | `xhooks.relay.redis_streams:RedisStreamsSink` | `xhooks[redis]` |
| `nats://`, `tls://` | `xhooks.relay.jetstream:JetStreamSink` | `xhooks[nats]` |
| `amqp://`, `amqps://` | `xhooks.relay.rabbitmq:RabbitMQSink` | `xhooks[rabbitmq]` |

A Kafka sink would be one more module and one more row (`kafka://` → an aiokafka producer with `enable_idempotence`,
the key as message key so one user's events share a partition); there is none yet because no Kafka broker runs
where xhooks is tested, and a sink is only added with tests against the real server.

Every URL may end in `#NAME`, the sink's name in the store (`xhooks events list --sink NAME`); without one, the
name is the URL without its password and secret. `?format=raw|x|cloudevents` chooses what is sent (`message.py`).
"""

from __future__ import annotations

import asyncio
import importlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

import msgspec

from xhooks.errors import ConfigError
from xhooks.relay.message import Format, Message, require_format

__all__ = ["NOT_SENT", "SINKS", "Failure", "Outcome", "Sink", "open_sink", "query_items", "send_in_order", "target"]

SINKS: dict[str, tuple[str, str, str]] = {
    "http": ("xhooks.relay.http:HttpSink", "httpx", "standardwebhooks"),
    "https": ("xhooks.relay.http:HttpSink", "httpx", "standardwebhooks"),
    "redis": ("xhooks.relay.redis_streams:RedisStreamsSink", "redis", "redis"),
    "rediss": ("xhooks.relay.redis_streams:RedisStreamsSink", "redis", "redis"),
    "nats": ("xhooks.relay.jetstream:JetStreamSink", "nats", "nats"),
    "tls": ("xhooks.relay.jetstream:JetStreamSink", "nats", "nats"),
    "amqp": ("xhooks.relay.rabbitmq:RabbitMQSink", "aio_pika", "rabbitmq"),
    "amqps": ("xhooks.relay.rabbitmq:RabbitMQSink", "aio_pika", "rabbitmq"),
}
"""URL scheme → (the sink class, the package it imports, the extra that installs it)."""

_SECRET_OPTIONS = frozenset({"secret"})


class Failure(msgspec.Struct, frozen=True):
    """Why one message was not delivered."""

    error: str
    unavailable: bool = False
    """True: the sink could not be reached or asked to come back later; the relay backs off, counts no attempt."""


NOT_SENT = Failure("not sent: an earlier event of this user failed first", unavailable=True)

Outcome = Failure | None


class Sink(ABC):
    """A system that relayed events go to. Subclasses read their options in `__init__` (raising `ConfigError`
    for a wrong one, before anything connects) and list them in `options`."""

    options: ClassVar[frozenset[str]] = frozenset()
    """The query options this sink reads, besides `format`."""
    foreign_options: ClassVar[bool] = False
    """True when other query options belong to the target (an HTTP endpoint's own query) instead of being typos."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = {name: value for name, value, _ in query_items(parts.query)}
        unknown = set(query) - self.options - {"format"}
        if unknown and not self.foreign_options:
            raise ConfigError(f"{type(self).__name__} has no option {sorted(unknown)[0]!r}; it reads {self._known()}")
        try:
            self.format = Format(query.pop("format", Format.RAW.value))
        except ValueError:
            raise ConfigError(f"format must be raw, x or cloudevents, not {query.get('format')!r}") from None
        require_format(self.format)
        self.parts = parts
        self.query = query
        self.name = parts.fragment or _redacted(parts)

    def _known(self) -> str:
        return ", ".join(sorted(self.options | {"format"}))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, format={self.format.value!r})"

    @abstractmethod
    async def open(self) -> None:
        """Connect. A sink that cannot be reached raises; the relay retries with backoff until it can."""

    @abstractmethod
    async def send(self, messages: Sequence[Message]) -> list[Outcome]:
        """Deliver `messages` in order (see the module docstring); one outcome per message, in the same order.

        Never raises for the sink's own errors: they are failures. A connection that broke is reopened by the
        next `send`.
        """

    @abstractmethod
    async def close(self) -> None:
        """Release connections; safe to call when `open` failed or was never called."""


def target(template: str, message: Message) -> str:
    """A stream, subject or routing key for `message`: `{for_user_id}` in it becomes the user (`none` without), so
    each user can have a stream or subject of their own, and `{event_type}` the event's type."""
    return template.replace("{for_user_id}", message.for_user_id or "none").replace("{event_type}", message.event_type)


def _redacted(parts: SplitResult) -> str:
    """The URL without its password, its secret option and its fragment: a sink's name when it is given none."""
    userinfo, at, host = parts.netloc.rpartition("@")
    netloc = f"{userinfo.partition(':')[0]}{at}{host}"
    query = "&".join(raw for name, _, raw in query_items(parts.query) if name not in _SECRET_OPTIONS)
    return urlunsplit(parts._replace(netloc=netloc, query=query, fragment=""))


def query_items(query: str) -> list[tuple[str, str, str]]:
    """`(name, value, as written)` for each `name=value` of a URL's query, percent-decoded. A `+` stays a `+`: a
    sink URL is configuration, not a form, and a Standard Webhooks secret is base64, where `+` is common."""
    items = []
    for raw in query.split("&"):
        if raw:
            name, _, value = raw.partition("=")
            items.append((unquote(name), unquote(value), raw))
    return items


def open_sink(url: str) -> Sink:
    """Build (not open) the sink for `url`, chosen by its scheme.

    ```python
    sink = open_sink("redis://127.0.0.1:6379/0?stream=x-events#bus")
    ```

    Raises:
        ConfigError: an unknown scheme, a wrong option, or the sink's extra is not installed.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SINKS:
        known = ", ".join(f"{name}://" for name in SINKS)
        raise ConfigError(f"no sink for {scheme or 'this'} URL {url!r}; use one of {known}")
    path, package, extra = SINKS[scheme]
    module_name, _, class_name = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.partition(".")[0] != package:
            raise
        raise ConfigError(f"the {scheme}:// sink needs an extra: pip install 'xhooks[{extra}]'") from exc
    sink: Sink = getattr(module, class_name)(url)
    return sink


async def send_in_order(
    messages: Sequence[Message], send_one: Callable[[Message], Awaitable[Outcome]], concurrency: int
) -> list[Outcome]:
    """Send each user's messages one after another, users side by side (at most `concurrency` at once); after a
    user's message fails, answer `NOT_SENT` for that user's later ones. Messages without a user are independent."""
    outcomes: list[Outcome] = [None] * len(messages)
    queues: dict[object, list[int]] = {}
    for index, message in enumerate(messages):
        queues.setdefault(message.ordering_key or index, []).append(index)
    gate = asyncio.Semaphore(concurrency)

    async def one_user(indexes: list[int]) -> None:
        async with gate:
            for position, index in enumerate(indexes):
                outcome = await send_one(messages[index])
                outcomes[index] = outcome
                if outcome is not None:
                    for later in indexes[position + 1 :]:
                        outcomes[later] = NOT_SENT
                    return

    await asyncio.gather(*(one_user(indexes) for indexes in queues.values()))
    return outcomes
