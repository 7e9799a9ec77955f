"""`xhooks listen`: the development loop in one command.

It starts a receiver with its store, registers it as a webhook (the loopback URL with the emulator, or
`--public-url` such as a tunnel with X), optionally subscribes the user of the credentials, prints each
verified event as the store records it, and on Ctrl-C deletes what it created. `listen` is the Python
entry point; the command only resolves options.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from xhooks.client import DEFAULT_BASE_URL, ActivityFilter, AsyncXClient, Credentials
from xhooks.client.errors import DuplicateSubscriptionFailed, DuplicateUrlFailed
from xhooks.config import Settings
from xhooks.errors import ConfigError
from xhooks.protocol.text import summary_text
from xhooks.receiver import AppConfig, ServeConfig, build_server, listen_socket
from xhooks.store import EventQuery, Store, StoredEvent, open_store

__all__ = ["ListenConfig", "listen", "listen_command", "summarize", "summary_line"]


@dataclass
class ListenConfig:
    credentials: Credentials
    api_base: str = DEFAULT_BASE_URL
    db: str = "xhooks.db"
    host: str = "127.0.0.1"
    port: int = 8080
    path: str = "/webhook"
    public_url: str | None = None
    subscribe: bool = False
    """Subscribe the user of the user-context credentials (Account Activity)."""
    activity: Sequence[str] = field(default_factory=tuple)
    """X Activity event types to subscribe to for `user_id`, delivered to the webhook."""
    user_id: str | None = None
    raw: bool = False
    poll: float = 0.2

    @property
    def url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}{self.path}"


def summarize(event: StoredEvent, body: bytes) -> str:
    """One line for a stored event: time, type, user and the first text the delivery carries."""
    return summary_line(event.received_at, event.event_type, event.for_user_id, body)


def summary_line(received_at: float, event_type: str, for_user_id: str | None, body: bytes) -> str:
    """`summarize` from the parts (`xhooks stream` prints events as it commits them, before reading them back)."""
    when = datetime.fromtimestamp(received_at).strftime("%H:%M:%S")
    return f"{when} {event_type:<32} user={for_user_id or '-':<20} {summary_text(body)}".rstrip()


class _Running:
    """The receiver under uvicorn in a thread of its own (so uvicorn leaves the process's signals alone)."""

    def __init__(self, config: ListenConfig) -> None:
        apps = [AppConfig((config.credentials.consumer_secret or "",), config.path)]
        sockets = [listen_socket(config.host, config.port)]  # a port in use fails here, before the store exists
        self.server = build_server(ServeConfig(apps=apps, db=config.db, host=config.host, port=config.port))
        self.thread = threading.Thread(
            target=self.server.run, args=(sockets,), name="xhooks-listen-receiver", daemon=True
        )

    def __enter__(self) -> _Running:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError("the receiver did not start; its error is above")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


async def _new_events(store: Store, seen: StoredEvent | None) -> list[StoredEvent]:
    """Events stored after `seen`, oldest first (at most 500 per poll)."""
    if seen is None:
        return sorted(await store.events(EventQuery(limit=500)), key=lambda e: e.id)
    recent = await store.events(EventQuery(since=seen.received_at, limit=500))
    return sorted((e for e in recent if e.id > seen.id), key=lambda e: e.id)


async def listen(config: ListenConfig, stop: asyncio.Event, out: Callable[[str], None] = print) -> None:
    """Receive, register, print events until `stop` is set; then delete the webhook and subscriptions it made.

    Raises:
        ConfigError: no consumer secret, or the receiver cannot start. XApiError: X refused the registration.
    """
    if not config.credentials.consumer_secret:
        raise ConfigError(
            "listen needs the app's consumer secret: pass --consumer-secret or set XHOOKS_CONSUMER_SECRET"
        )
    reader = open_store(config.db)
    with _Running(config):
        async with AsyncXClient(config.credentials, base_url=config.api_base) as x:
            try:
                hook, created = await x.create_webhook(config.url), True
            except DuplicateUrlFailed:
                hook = next(h for h in (await x.list_webhooks()).items if h.url == config.url)
                created = False
            made: list[str] = []
            try:
                if config.subscribe:
                    try:
                        await x.add_subscription(hook.id)
                    except DuplicateSubscriptionFailed:  # what was asked for holds already: not a failure
                        out(f"the user is already subscribed to webhook {hook.id}")
                for event_type in config.activity:
                    sub = await x.create_activity_subscription(
                        event_type, ActivityFilter(user_id=config.user_id), webhook_id=hook.id
                    )
                    made.append(sub.subscription_id)
                out(f"listening on {config.url} as webhook {hook.id}; Ctrl-C to stop")
                try:
                    await _print_events(reader, config, stop, out)
                finally:
                    await reader.close()
            finally:
                for subscription_id in made:
                    await x.delete_activity_subscription(subscription_id)
                if created:
                    await x.delete_webhook(hook.id)
                    out(f"deleted webhook {hook.id}")


async def _print_events(store: Store, config: ListenConfig, stop: asyncio.Event, out: Callable[[str], None]) -> None:
    seen = next(iter(await store.events(EventQuery(limit=1))), None)
    printed_deliveries: set[int] = set()
    while not stop.is_set():
        for event in await _new_events(store, seen):
            seen = event
            delivery = await store.delivery(event.delivery_id)
            body = delivery.body if delivery else b""
            if not config.raw:
                out(summarize(event, body))
            elif event.delivery_id not in printed_deliveries:
                printed_deliveries.add(event.delivery_id)
                out(body.decode("utf-8", "replace"))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(config.poll):
                await stop.wait()


def listen_command(
    api_base: Annotated[
        str | None, typer.Option(help=f"API base URL. Env: XHOOKS_API_BASE. [default: {DEFAULT_BASE_URL}]")
    ] = None,
    public_url: Annotated[
        str | None, typer.Option(help="The https URL X should call (e.g. your tunnel's), forwarded to this receiver.")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface the receiver binds.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port the receiver binds.")] = 8080,
    path: Annotated[str, typer.Option(help="Webhook path.")] = "/webhook",
    db: Annotated[str, typer.Option(help="Store for what arrives (see `xhooks events`).")] = "xhooks.db",
    subscribe: Annotated[
        bool, typer.Option("--subscribe", help="Subscribe the access token's user (Account Activity).")
    ] = False,
    activity: Annotated[
        list[str] | None, typer.Option(help="An X Activity event type to subscribe to for --user-id (repeatable).")
    ] = None,
    user_id: Annotated[str | None, typer.Option(help="The user --activity subscriptions watch.")] = None,
    raw: Annotated[bool, typer.Option("--raw", help="Print each delivery's body instead of a summary.")] = False,
    bearer_token: Annotated[str | None, typer.Option(help="Env: XHOOKS_BEARER_TOKEN.")] = None,
    consumer_key: Annotated[str | None, typer.Option(help="Env: XHOOKS_CONSUMER_KEY.")] = None,
    consumer_secret: Annotated[str | None, typer.Option(help="Env: XHOOKS_CONSUMER_SECRET.")] = None,
    access_token: Annotated[str | None, typer.Option(help="Env: XHOOKS_ACCESS_TOKEN.")] = None,
    access_token_secret: Annotated[str | None, typer.Option(help="Env: XHOOKS_ACCESS_TOKEN_SECRET.")] = None,
    user_token: Annotated[str | None, typer.Option(help="Env: XHOOKS_USER_TOKEN.")] = None,
    config: Annotated[Path | None, typer.Option(help="A TOML config file. [default: ./xhooks.toml if present]")] = None,
) -> None:
    """Receive, register and print events live; Ctrl-C deletes the webhook again."""
    settings = Settings.load(config)
    creds = Credentials.load(
        settings,
        bearer_token=bearer_token,
        consumer_key=consumer_key,
        consumer_secret=consumer_secret,
        access_token=access_token,
        access_token_secret=access_token_secret,
        user_token=user_token,
    )
    if activity and not user_id:
        raise ConfigError("--activity needs --user-id: the user whose events to receive")
    options = ListenConfig(
        creds,
        settings.get("api_base", api_base, DEFAULT_BASE_URL),
        db,
        host,
        port,
        path,
        public_url,
        subscribe,
        tuple(activity or ()),
        user_id,
        raw,
    )
    asyncio.run(_until_interrupted(options))


async def _until_interrupted(config: ListenConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await listen(config, stop, lambda line: print(line, flush=True))
