"""The NATS JetStream sink: publish each event and wait for JetStream's acknowledgement, with nats-py.

`nats://127.0.0.1:4222?subject=x.events` publishes every event to that subject with `Nats-Msg-Id` set to its dedup
key, so JetStream itself drops a copy sent again within the stream's duplicate window (two minutes unless the stream
says otherwise; `Nats-Msg-Id` in https://docs.nats.io/nats-concepts/jetstream/headers);
the metadata travels as `Xhooks-*` headers. Publishing waits for the stream's ack, so an event is delivered once it
is stored. `{for_user_id}` in the subject gives each user a subject of their own (`x.events.{for_user_id}`).

With `stream=NAME` the sink creates that stream on the subject (`*` in place of `{for_user_id}`) if it is missing;
otherwise a stream must already capture the subject. Each user's events are published one after another.
Options: `subject` (required), `stream`, `timeout` (seconds per publish, default 10), `concurrency` (default 64).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlunsplit

import nats
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.errors import MaxPayloadError
from nats.js import JetStreamContext
from nats.js.errors import APIError, NotFoundError

from xhooks.errors import ConfigError
from xhooks.relay.message import Message
from xhooks.relay.sink import Failure, Outcome, Sink, send_in_order, target

__all__ = ["JetStreamSink"]


class JetStreamSink(Sink):
    options = frozenset({"subject", "stream", "timeout", "concurrency"})

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.subject = self.query.get("subject", "")
        if not self.subject:
            raise ConfigError(f"{self.name}: name the subject, e.g. nats://127.0.0.1:4222?subject=x.events")
        self.stream = self.query.get("stream")
        try:
            self.timeout = float(self.query.get("timeout", 10.0))
            self.concurrency = int(self.query.get("concurrency", 64))
        except ValueError as exc:
            raise ConfigError(f"{self.name}: timeout and concurrency must be numbers ({exc})") from None
        self._server = urlunsplit(self.parts._replace(query="", fragment=""))
        self._nc: NATS | None = None
        self._js: JetStreamContext | None = None

    async def open(self) -> None:
        if self._nc is not None:
            return
        nc = await nats.connect(
            self._server,
            connect_timeout=self.timeout,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
        )
        try:
            js = nc.jetstream(timeout=self.timeout)
            if self.stream is not None:
                await _ensure_stream(js, self.stream, self.subject.replace("{for_user_id}", "*"))
        except BaseException:
            await nc.close()
            raise
        self._nc, self._js = nc, js

    async def send(self, messages: Sequence[Message]) -> list[Outcome]:
        try:
            await self.open()
        except (NatsError, OSError, TimeoutError) as exc:
            return [Failure(f"{type(exc).__name__}: {exc}", unavailable=True) for _ in messages]
        return await send_in_order(messages, self._publish, self.concurrency)

    async def _publish(self, message: Message) -> Outcome:
        assert self._js is not None
        headers = {"Nats-Msg-Id": message.key, "Content-Type": message.content_type, **_titled(message.headers())}
        if message.signature is not None:
            headers["X-Twitter-Webhooks-Signature"] = message.signature
        try:
            await self._js.publish(target(self.subject, message), message.body, timeout=self.timeout, headers=headers)
        except MaxPayloadError as exc:
            return Failure(f"MaxPayloadError: {exc}")
        except APIError as exc:  # JetStream answered: no stream for the subject (503) is an outage, the rest a refusal
            return Failure(f"{type(exc).__name__}: {exc}", unavailable=exc.code == 503)
        except (NatsError, OSError, TimeoutError) as exc:
            return Failure(f"{type(exc).__name__}: {exc}", unavailable=True)
        return None

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            await nc.close()


def _titled(headers: dict[str, str]) -> dict[str, str]:
    return {"-".join(part.capitalize() for part in name.split("-")): value for name, value in headers.items()}


async def _ensure_stream(js: JetStreamContext, name: str, subject: str) -> None:
    try:
        await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(name=name, subjects=[subject])
