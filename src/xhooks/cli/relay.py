"""`xhooks relay`: carry the stored events to HTTP, Redis Streams, NATS JetStream or RabbitMQ, without the receiver."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xhooks.cli.worker import require_database
from xhooks.config import Settings
from xhooks.dispatch import RetryPolicy
from xhooks.relay import RelayConfig, parse_only, run_relays, sinks_for
from xhooks.store.migrations import redact

ToOption = Annotated[
    list[str] | None,
    typer.Option(
        "--to",
        help="A sink, by URL: https://…?secret=whsec_…, redis://…?stream=NAME, nats://…?subject=…,"
        " amqp://…?exchange=…&routing_key=…; #NAME names it. Repeat for several."
        " Env: XHOOKS_RELAY_TO (comma-separated).",
    ),
]
OnlyOption = Annotated[
    str | None, typer.Option(help="Only these event types, comma-separated: post.*,dm.* (default: every type).")
]


def relay_command(
    to: ToOption = None,
    db: Annotated[
        str | None, typer.Option(help="A SQLite file path, sqlite:///PATH or postgresql://… [default: xhooks.db]")
    ] = None,
    only: OnlyOption = None,
    batch: Annotated[int | None, typer.Option(help="Events sent per batch. [default: 256]")] = None,
    lease: Annotated[
        float | None,
        typer.Option(help="Seconds a batch is held; a dead relay's batch is resent after it. [default: 60]"),
    ] = None,
    max_attempts: Annotated[
        int | None, typer.Option(help="Attempts before an event the sink refuses is a dead letter. [default: 10]")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="A TOML config file. [default: ./xhooks.toml if present]")] = None,
) -> None:
    """Relay every stored event to each sink, at least once and in each user's order, until Ctrl-C."""
    settings = Settings.load(config)
    relay = RelayConfig(
        db=str(settings.get("db", db, "xhooks.db")),
        to=settings.get_list("relay_to", to),
        only=parse_only(settings.get("only", only)),
        batch=int(settings.get("batch", batch, 256)),
        lease=float(settings.get("lease", lease, 60.0)),
        retry=RetryPolicy(max_attempts=int(settings.get("max_attempts", max_attempts, 10)), max_delay=600.0),
    )
    names = [sink.name for sink in sinks_for(relay)]  # a wrong URL is one line before anything starts
    require_database(relay.db)
    typer.echo(f"xhooks: relaying events in {redact(str(relay.db))} to {', '.join(names)}", err=True)
    run_relays(relay)
