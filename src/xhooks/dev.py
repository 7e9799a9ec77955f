"""`xhooks dev`: X's side (the emulator) and your receiver in one process, wired together, until Ctrl-C.

`run_dev` starts both on free loopback ports on one event loop (the ports of the last run when they are free),
creates the webhook, subscribes the dev user to Account Activity and to every X Activity type, and writes
`.xhooks/dev.json` (`xhooks.config.DEV_STATE`): the emulator's URL and keys, the store and the webhook id. Every
command run in the same directory reads it (`Settings`), so `xhooks trigger dm.received --text hi`, `xhooks
events list` and `xhooks webhooks list` need no flag, and `xhooks dev env` prints it as `export` lines.

The emulator keeps its state in `.xhooks/emulator.db` and the receiver its store in `.xhooks/xhooks.db`, so a
restart finds the same app, users and keys. A webhook or subscription a killed run left behind is reused, or
deleted when its URL is no longer this run's; on Ctrl-C everything registered is deleted again.

While it runs it prints one line per event the receiver stores and one per handler outcome (`handled`,
`ignored` as the bot's own action, `retry`, `dead`), read from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import uvicorn

from xhooks.client import AsyncXClient, Credentials, DuplicateSubscriptionFailed, SubscriptionNotFound
from xhooks.clock import SystemClock
from xhooks.config import DEV_STATE, env_name, read_dev_state
from xhooks.dashboard import DashboardConfig
from xhooks.dashboard.emulator_view import EmulatorView
from xhooks.dispatch import XHooks
from xhooks.emulator import Emulator, EmulatorConfig
from xhooks.emulator.environment import dev_settings
from xhooks.errors import ConfigError
from xhooks.protocol import activity
from xhooks.protocol.events import ActivityFilter
from xhooks.protocol.lifecycle import SETTLED_STATES
from xhooks.protocol.text import summary_text
from xhooks.receiver import AppConfig, listen_socket
from xhooks.serving import ProcessConfig, build_servers, quiet_server
from xhooks.store import EventQuery, Store, StoredEvent, open_store

__all__ = ["DevConfig", "arrival_line", "dev_environment_lines", "outcome_line", "run_dev"]

_SETTLED = frozenset(state.value for state in SETTLED_STATES)
_START_TIMEOUT = 60.0
_NEWS_KEYWORD = "xhooks"  # `xhooks trigger news.new` writes about it by default


@dataclass
class DevConfig:
    """What `xhooks dev` runs: `hooks` (your handlers, named `app` in its lines), on `host`, with its files
    in `home` and its settings in `state`."""

    hooks: XHooks | None = None
    app: str | None = None
    host: str = "127.0.0.1"
    home: Path = field(default_factory=lambda: DEV_STATE.parent)
    state: Path = DEV_STATE
    poll: float = 0.1


def dev_environment_lines(state: Path = DEV_STATE) -> list[str]:
    """`export XHOOKS_…=…` lines for the settings a running `xhooks dev` wrote to `state` (its own `dev_*`
    bookkeeping left out), for `eval "$(xhooks dev env)"`.

    Raises:
        ConfigError: there is no state: `xhooks dev` has not run in this directory.
    """
    values = read_dev_state(state)
    if not values:
        raise ConfigError(f"no {state} here: start `xhooks dev` in this directory first")
    return [
        f"export {env_name(name)}={_quote(str(value))}"
        for name, value in values.items()
        if not name.startswith("dev_") and value is not None
    ]


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _socket(host: str, port: object) -> socket.socket:
    """A listening socket on `port` (the last run's) when it is free, else on a free port."""
    if isinstance(port, int) and port > 0:
        with contextlib.suppress(ConfigError):
            return listen_socket(host, port)
    return listen_socket(host, 0)


def _port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


async def _started(server: uvicorn.Server, task: asyncio.Task[None], what: str) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            raise ConfigError(f"the {what} did not start; its error is above")
        await asyncio.sleep(0.01)


async def run_dev(config: DevConfig, stop: asyncio.Event, out: Callable[[str], None] = print) -> None:
    """Run the emulator and a receiver (with `config.hooks`) wired together until `stop` is set; then delete the
    webhook and the subscriptions, and stop both.

    Raises:
        ConfigError: a server cannot start, or `.xhooks/dev.json` is not JSON.
    """
    config.home.mkdir(parents=True, exist_ok=True)
    previous = read_dev_state(config.state)
    emulator_socket = _socket(config.host, previous.get("dev_emulator_port"))
    receiver_socket = _socket(config.host, previous.get("dev_port"))
    api_base = f"http://{config.host}:{_port(emulator_socket)}"
    emulator = Emulator(
        EmulatorConfig(db=str(config.home / "emulator.db"), allow_local_urls=True, remote_urls=False), SystemClock()
    )
    view = EmulatorView(emulator, host=config.host)
    emulator.mount(view.prefix, view)
    credentials = emulator.credentials()
    settings = {**dev_settings(api_base, credentials), "db": str(config.home / "xhooks.db")}
    client = Credentials(bearer_token=settings["bearer_token"], user_token=settings["user_token"])
    apps = [AppConfig((settings["consumer_secret"],))]
    receiver_url = f"http://{config.host}:{_port(receiver_socket)}"
    process = ProcessConfig(
        apps=apps,
        db=settings["db"],
        host=config.host,
        port=_port(receiver_socket),
        durability="process",
        hooks=config.hooks,
        dashboard=DashboardConfig(api_base=api_base, credentials=client, apps=tuple((a.path, a.name) for a in apps)),
        credentials=client,
        api_base=api_base,
    )
    receiver, _ = build_servers(process, signals=False)
    x_side = quiet_server(uvicorn.Config(emulator, lifespan="on", log_level="warning"))
    loop = asyncio.get_running_loop()
    x_task = loop.create_task(x_side.serve(sockets=[emulator_socket]))
    receiver_task = loop.create_task(receiver.serve(sockets=[receiver_socket]))
    try:
        await _started(x_side, x_task, "emulator")
        await _started(receiver, receiver_task, "receiver")
        webhook_url = receiver_url + apps[0].path
        dev_user = credentials["users"][0]
        async with AsyncXClient(client, base_url=api_base) as x:
            webhook_id = await _register(x, webhook_url, dev_user["id"])
            try:
                _write_state(
                    config.state,
                    {
                        **settings,
                        "webhook_id": webhook_id,
                        "dev_port": _port(receiver_socket),
                        "dev_emulator_port": _port(emulator_socket),
                        "dev_pid": os.getpid(),
                    },
                )
                _announce(out, config, (api_base, view.prefix), receiver_url, webhook_id, dev_user)
                await _print_outcomes(open_store(settings["db"]), config.poll, stop, out)
            finally:
                await _unregister(x, webhook_id, dev_user["id"])
                out(f"xhooks dev: deleted webhook {webhook_id} and its subscriptions")
    finally:
        receiver.should_exit = True
        with contextlib.suppress(Exception):
            await receiver_task
        x_side.should_exit = True
        with contextlib.suppress(Exception):
            await x_task


async def _register(x: AsyncXClient, url: str, user_id: str) -> str:
    """The webhook at `url` (one a killed run left is reused; the dev app's others are deleted, so X's webhook
    limit is never hit), with `user_id` subscribed to Account Activity and to every X Activity type."""
    webhook_id = None
    for hook in (await x.list_webhooks()).items:
        if hook.url == url:
            webhook_id = hook.id
            if not hook.valid:
                await x.validate_webhook(hook.id)
        else:
            await _unregister(x, hook.id, user_id)
    if webhook_id is None:
        webhook_id = (await x.create_webhook(url)).id
    with contextlib.suppress(DuplicateSubscriptionFailed):  # a killed run subscribed the user already
        await x.add_subscription(webhook_id)
    subscribed = {
        sub.event_type for sub in (await x.list_activity_subscriptions()).items if sub.webhook_id == webhook_id
    }
    for event_type in activity.EVENT_TYPES:
        if event_type not in subscribed:
            flt = ActivityFilter(keyword=_NEWS_KEYWORD) if event_type == "news.new" else ActivityFilter(user_id=user_id)
            await x.create_activity_subscription(event_type, flt, webhook_id=webhook_id)
    return webhook_id


async def _unregister(x: AsyncXClient, webhook_id: str, user_id: str) -> None:
    """Delete the webhook and every subscription to it."""
    made = [
        sub.subscription_id for sub in (await x.list_activity_subscriptions()).items if sub.webhook_id == webhook_id
    ]
    for subscription_id in made:
        await x.delete_activity_subscription(subscription_id)
    with contextlib.suppress(SubscriptionNotFound):  # not subscribed: nothing to remove
        await x.remove_subscription(webhook_id, user_id)
    await x.delete_webhook(webhook_id)


def _write_state(path: Path, values: dict[str, Any]) -> None:
    """Write the state for other terminals, readable by this user only (it holds the emulator's keys)."""
    partial = path.with_suffix(".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(values, file, indent=2)
    partial.replace(path)


def _announce(
    out: Callable[[str], None],
    config: DevConfig,
    x_side: tuple[str, str],
    receiver_url: str,
    webhook_id: str,
    dev: Any,
) -> None:
    api_base, view = x_side
    handlers = f"handlers {config.app}" if config.app else "no handlers (--app module:hooks runs yours)"
    out(f"xhooks dev: X (the emulator) at {api_base}, receiver at {receiver_url}/webhook, {handlers}")
    out(f"xhooks dev: dashboard {receiver_url}/_xhooks/, the emulator's view of X's side {api_base}{view}/")
    count = len(activity.EVENT_TYPES)
    out(
        f"xhooks dev: webhook {webhook_id}; @{dev['username']} subscribed to Account Activity and"
        f" {count} X Activity types"
    )
    out(
        "xhooks dev: from another terminal here: xhooks trigger dm.received --text hi · xhooks events list ·"
        ' eval "$(xhooks dev env)"; Ctrl-C to stop'
    )


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at).strftime("%H:%M:%S")


def arrival_line(event: StoredEvent, body: bytes) -> str:
    """`HH:MM:SS <- type #id user=… "text"`: the event as it is stored, with the words it carries if any."""
    text = summary_text(body)
    said = f' "{text}"' if text else ""
    return f"{_clock(event.received_at)} <- {event.event_type} #{event.id} user={event.for_user_id or '-'}{said}"


def outcome_line(event: StoredEvent, now: float) -> str:
    detail = {
        "ignored": " (the bot's own action: no handler ran)",
        "retry": f" (attempt {event.attempts} failed: {_first_line(event.last_error)})",
        "dead": f" (gave up after {event.attempts} attempts: {_first_line(event.last_error)})",
    }.get(event.status, "")
    return f"{_clock(now)} -> {event.status} #{event.id} {event.event_type}{detail}"


def _first_line(text: str | None) -> str:
    return (text or "").splitlines()[0] if text else "no error recorded"


async def _print_outcomes(store: Store, poll: float, stop: asyncio.Event, out: Callable[[str], None]) -> None:
    """Print each event stored from now on, and each change of its status until it is settled."""
    try:
        last_id = max((event.id for event in await store.events(EventQuery(limit=1))), default=0)
        shown: dict[int, tuple[str, int]] = {}
        while not stop.is_set():
            fresh = sorted(
                (event for event in await store.events(EventQuery(limit=500)) if event.id > last_id),
                key=lambda event: event.id,
            )
            for event in fresh:
                delivery = await store.delivery(event.delivery_id)
                out(arrival_line(event, delivery.body if delivery else b""))
                last_id = event.id
                shown[event.id] = ("pending", 0)
            for event_id in sorted(shown):
                now = await store.event(event_id)
                if now is None:
                    del shown[event_id]
                    continue
                if (now.status, now.attempts) != shown[event_id] and now.status in (*_SETTLED, "retry"):
                    out(outcome_line(now, time.time()))
                shown[event_id] = (now.status, now.attempts)
                if now.status in _SETTLED:
                    del shown[event_id]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll):
                    await stop.wait()
    finally:
        await store.close()
