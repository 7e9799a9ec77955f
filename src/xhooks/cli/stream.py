"""`xhooks stream`: read the app's X Activity stream into the store, printing one line per new event.

No public URL and no CRC are needed: the stream is a connection the consumer opens (docs/stream.md). The events
land in the same store, with the same keys, as the receiver's, so `xhooks worker` handles them and an event that
also reaches a webhook is handled once.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from uvicorn.config import LOG_LEVELS

from xhooks.cli._logging import configure_logging
from xhooks.cli.listen import summary_line
from xhooks.client import DEFAULT_BASE_URL, Credentials
from xhooks.config import Settings
from xhooks.errors import ConfigError
from xhooks.protocol.activity_stream import BACKFILL_LIMIT
from xhooks.receiver.config import DEFAULT_PATH
from xhooks.store import Delivery, Intake, open_store
from xhooks.stream import StreamConsumer, StreamState

__all__ = ["stream_command", "stream_until_stopped"]


def _printer(out: Callable[[str], None], raw: bool) -> Callable[[Delivery, Intake], None]:
    def printed(delivery: Delivery, intake: Intake) -> None:
        if not intake.new_events:
            return  # a backfilled repeat, or the webhook's copy came first
        if raw:
            out(delivery.body.decode("utf-8", "replace"))
            return
        for event in delivery.events:
            out(summary_line(delivery.received_at, event.event_type, event.for_user_id, delivery.body))

    return printed


async def stream_until_stopped(db: str, out: Callable[[str], None], raw: bool = False, **consumer: Any) -> None:
    """Open the store, run a `StreamConsumer(store, **consumer)` on it until SIGINT or SIGTERM, then close both."""
    store = open_store(db)
    await store.start()
    try:
        reader = StreamConsumer(store, on_record=_printer(out, raw), **consumer)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, reader.stop)
        running = asyncio.create_task(reader.run())
        connected = asyncio.create_task(reader.wait_for(lambda c: c.state is StreamState.STREAMING))
        await asyncio.wait({running, connected}, return_when=asyncio.FIRST_COMPLETED)
        if connected.done():
            out(f"reading the X Activity stream of {consumer['api_base']} into {db}; Ctrl-C to stop")
        else:
            connected.cancel()
        await running
    finally:
        await store.close()


def stream_command(
    api_base: Annotated[
        str | None, typer.Option(help=f"API base URL. Env: XHOOKS_API_BASE. [default: {DEFAULT_BASE_URL}]")
    ] = None,
    bearer_token: Annotated[str | None, typer.Option(help="The app's Bearer token. Env: XHOOKS_BEARER_TOKEN.")] = None,
    db: Annotated[
        str | None, typer.Option(help="The store: a SQLite path or postgresql://… [default: xhooks.db]")
    ] = None,
    backfill_minutes: Annotated[
        int, typer.Option(min=0, max=BACKFILL_LIMIT, help="The most backfill asked for after a gap (X allows 0-5).")
    ] = BACKFILL_LIMIT,
    app_name: Annotated[
        str,
        typer.Option(
            "--app",
            help="The app's name in the store: the receiver's webhook path, so that an event "
            "seen on both paths is one event.",
        ),
    ] = DEFAULT_PATH,
    reclaim_connections: Annotated[
        bool,
        typer.Option(
            "--reclaim-connections",
            help="On TooManyConnections, end the app's other activity-stream "
            "connections (only when no other consumer of this app should run).",
        ),
    ] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Print each event's line instead of a summary.")] = False,
    log_level: Annotated[
        str | None, typer.Option(help=f"Log level of xhooks (stderr): {', '.join(LOG_LEVELS)}. [default: warning]")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="A TOML config file. [default: ./xhooks.toml if present]")] = None,
) -> None:
    """Read the X Activity stream into the store and print each new event; no public URL needed."""
    settings = Settings.load(config)
    configure_logging(str(settings.get("log_level", log_level, "warning")))
    creds = Credentials.load(settings, bearer_token=bearer_token)
    if not creds.bearer_token:
        raise ConfigError("the stream needs the app's Bearer token: pass --bearer-token or set XHOOKS_BEARER_TOKEN")
    asyncio.run(
        stream_until_stopped(
            str(settings.get("db", db, "xhooks.db")),
            lambda line: print(line, flush=True),
            raw,
            app=app_name,
            bearer_token=creds.bearer_token,
            api_base=str(settings.get("api_base", api_base, DEFAULT_BASE_URL)),
            backfill_minutes=backfill_minutes,
            reclaim_connections=reclaim_connections,
        )
    )
