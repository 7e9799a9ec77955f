"""`xhooks events list|show|export|stats|redispatch|forget`: read the store, export an event, re-run chosen
events, erase a user's."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from xhooks.config import Settings
from xhooks.dispatch import redispatch
from xhooks.errors import ConfigError
from xhooks.protocol.lifecycle import DeliveryState
from xhooks.protocol.scrub import scrub
from xhooks.store import EVENT_STATUSES, EventQuery, SyncReader, open_reader
from xhooks.store.base import SINK_RATE_WINDOW, byte_size
from xhooks.store.erasure import ErasureRecord
from xhooks.store.pruner import forget

app = typer.Typer(help="Read what the receiver stored.", no_args_is_help=True)

DbOption = Annotated[
    str | None, typer.Option(help="The store: a SQLite path, sqlite:///PATH or postgresql://… [default: xhooks.db]")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
SinkOption = Annotated[
    str | None,
    typer.Option(help="A relay sink's name (its #NAME, or its URL without password): its events, with its status."),
]


def _reader(db: str | None) -> SyncReader:
    return open_reader(str(Settings.load().get("db", db, "xhooks.db")))


def _time(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%fZ")[:-4] + "Z"


def _print_json(value: object) -> None:
    sys.stdout.write(msgspec.json.encode(value).decode() + "\n")


def _status(value: str) -> str:
    """`value` if it is a stored status (`EVENT_STATUSES`, the lifecycle's states)."""
    if value not in EVENT_STATUSES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(map(repr, EVENT_STATUSES))}.")
    return value


@app.command("list")
def list_command(
    db: DbOption = None,
    event_type: Annotated[str | None, typer.Option("--type", help="Only this event type, e.g. post.create")] = None,
    user: Annotated[str | None, typer.Option(help="Only events for this for_user_id")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="Only events in this state", parser=_status, metavar=f"[{'|'.join(EVENT_STATUSES)}]"),
    ] = None,
    sink: SinkOption = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List stored events, newest first (with --sink: the events a relay took for that sink, in its status)."""
    query = EventQuery(event_type=event_type, for_user_id=user, status=status, limit=limit, sink=sink)
    with _reader(db) as store:
        events = store.events(query)
    if as_json:
        _print_json(events)
        return
    if not events and sink is not None and query == EventQuery(limit=limit, sink=sink):
        typer.echo(f"No events for sink {sink!r} yet: is `xhooks relay --to …#{sink}` running? (names: see its log)")
        return
    if not events and query != EventQuery(limit=limit):
        typer.echo("No events match these filters.")
        return
    if not events:
        typer.echo("No events yet. Start `xhooks serve`, register its URL with X (or the emulator), and wait.")
        return
    table = Table("id", "received (UTC)", "type", "for user", "status", "dups", "key")
    for event in events:
        table.add_row(
            str(event.id),
            _time(event.received_at),
            event.event_type,
            event.for_user_id or "",
            event.status,
            str(event.duplicates),
            event.key,
        )
    Console(width=None if sys.stdout.isatty() else 240).print(table)  # no wrapping when piped


@app.command("show")
def show_command(event_id: int, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show one event with its delivery: every attempt of its handlers, raw body, headers and every sighting."""
    with _reader(db) as store:
        event = store.event(event_id)
        if event is None:
            raise ConfigError(f"no event {event_id}; list them with `xhooks events list`")
        delivery = store.delivery(event.delivery_id)
        sightings = store.sightings(event_id)
        attempts = store.attempts(event_id)
    if as_json:
        body = delivery.body.decode("utf-8", "replace") if delivery else None
        headers = delivery.headers if delivery else []
        _print_json({"event": event, "body": body, "headers": headers, "sightings": sightings, "attempts": attempts})
        return
    typer.echo(f"event {event.id}  {event.event_type}  for_user_id={event.for_user_id}  status={event.status}")
    typer.echo(f"key {event.key}\nreceived {_time(event.received_at)}  duplicates {event.duplicates}")
    if event.last_error:
        typer.echo(f"\nlast error:\n{event.last_error.rstrip()}")
    for attempt in attempts:
        took = "" if attempt.duration is None else f" after {attempt.duration:.3f} s"
        typer.echo(
            f"\nattempt {attempt.attempt} by {attempt.worker}: {attempt.outcome} at {_time(attempt.finished_at)}{took}"
        )
        if attempt.error:
            typer.echo(attempt.error.rstrip())
    if event.pruned_at is not None:
        typer.echo(f"\ntombstone since {_time(event.pruned_at)}: body and headers went, the key stays for dedup")
    if delivery is not None:
        typer.echo(f"\ndelivery {delivery.id} (app {delivery.app}, {delivery.shape}, {delivery.secret_label()})")
        for name, value in delivery.headers:
            typer.echo(f"  {name}: {value}")
        typer.echo("\n" + delivery.body.decode("utf-8", "replace"))
    typer.echo("\nsightings: " + ", ".join(f"delivery {d} at {_time(t)}" for d, t in sightings))


@app.command("export")
def export_command(
    event_id: int,
    fixture: Annotated[
        bool,
        typer.Option(
            "--fixture", help="Replace its ids and tokens consistently, for a test or `xhooks trigger --from-file`."
        ),
    ] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here. [default: stdout]")] = None,
    db: DbOption = None,
) -> None:
    """Write the raw body of the delivery that carried an event: as stored, or with --fixture scrubbed."""
    with _reader(db) as store:
        event = store.event(event_id)
        delivery = store.delivery(event.delivery_id) if event is not None else None
    if delivery is None:
        raise ConfigError(f"no event {event_id}; list them with `xhooks events list`")
    body = delivery.body
    if fixture:
        try:
            body = scrub(body)
        except ValueError:
            raise ConfigError(f"event {event_id}'s body is not JSON, so there is nothing to scrub") from None
    if output is None:
        sys.stdout.buffer.write(body + b"\n")
    else:
        output.write_bytes(body)
        typer.echo(f"wrote {output} ({len(body)} bytes); deliver it again with: xhooks trigger --from-file {output}")


@app.command("stats")
def stats_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Counts: deliveries, events, duplicates, tombstones, by type, status and path (webhook, stream), unparsed,
    rejections; the store's size, the free disk beside it and the oldest body still kept; each relay sink's
    backlog, sends in the last minute and last error."""
    with _reader(db) as store:
        stats = store.stats()
        storage = store.storage()
        sinks = store.sinks(time.time() - SINK_RATE_WINDOW)
    if as_json:
        _print_json({**msgspec.to_builtins(stats), "storage": storage, "sinks": sinks})
        return
    typer.echo(
        f"deliveries {stats.deliveries}  events {stats.events}  duplicates {stats.duplicates}"
        f"  unparsed {stats.unparsed}  tombstones {stats.tombstones}"
    )
    free = "free disk unknown (a database server's)" if storage.free is None else f"{byte_size(storage.free)} free"
    typer.echo(f"store {byte_size(storage.size)}, {free}")
    if storage.oldest_body is not None:
        typer.echo(f"oldest body kept: received {_time(storage.oldest_body)}")
    for record in stats.erasures:
        typer.echo(f"erased: {describe_erasure(record)}")
    for title, counts in (
        ("by type", stats.by_type),
        ("by status", stats.by_status),
        ("seen on", {name: count for name, count in stats.by_path.items() if count}),
        ("first on", stats.first_by_path),
        ("rejected", stats.rejections),
    ):
        if counts:
            typer.echo(f"{title}: " + ", ".join(f"{name}={count}" for name, count in counts.items()))
    for sink in sinks:
        line = (
            f"sink {sink.sink}: backlog {sink.backlog + sink.not_taken_in}, relayed {sink.relayed}"
            f" ({sink.relayed_since} in the last {SINK_RATE_WINDOW:.0f} s), dead {sink.dead}"
        )
        typer.echo(line + (f"; last error: {sink.last_error}" if sink.last_error else ""))


def _epoch(value: str | None) -> float | None:
    """Epoch seconds, or an ISO 8601 time (UTC unless it says otherwise)."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"{value!r} is not a time; use 2026-11-26T18:00:00Z or epoch seconds") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()


@app.command("redispatch")
def redispatch_command(
    event_id: Annotated[list[int] | None, typer.Option("--id", help="This event (repeat for several).")] = None,
    event_type: Annotated[str | None, typer.Option("--type", help="Events of this type, e.g. post.create")] = None,
    since: Annotated[str | None, typer.Option(help="Received at or after (ISO 8601 or epoch seconds)")] = None,
    until: Annotated[str | None, typer.Option(help="Received before (ISO 8601 or epoch seconds)")] = None,
    dead: Annotated[bool, typer.Option("--dead", help="Only dead letters.")] = False,
    every: Annotated[
        bool, typer.Option("--all", help="Every event (handled ones too) if nothing else is chosen.")
    ] = False,
    sink: Annotated[
        str | None, typer.Option(help="Send them to this relay sink again instead of running the handlers.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Run chosen events through the handlers again (attempts reset): by id, type, time range, or dead letters.
    With --sink, the chosen events of that sink are sent to it again (its dead letters, with --dead)."""
    status = DeliveryState.DEAD.value if dead else None
    base = EventQuery(event_type=event_type, since=_epoch(since), until=_epoch(until), status=status)
    if not (event_id or base != EventQuery() or every):
        raise ConfigError("choose events: --id, --type, --since/--until, --dead, or --all for every event")
    base = msgspec.structs.replace(base, sink=sink)
    queries = [msgspec.structs.replace(base, event_id=one) for one in event_id] if event_id else [base]
    count = redispatch(str(Settings.load().get("db", db, "xhooks.db")), queries)
    if sink is not None:
        typer.echo(f"{count} event(s) due again for sink {sink!r}; a running `xhooks relay` will send them")
        return
    typer.echo(f"{count} event(s) due again; a running worker (xhooks worker or serve --app) will handle them")


def describe_erasure(record: ErasureRecord) -> str:
    """One line of an erasure's audit record: what, when, how many, why."""
    asked = f", X's event {record.event_id}" if record.event_id is not None else ""
    return (
        f"{record.scope} at {_time(record.at)}: {record.deliveries} bodies, {record.events} events made tombstones"
        f" (why: {record.reason}{asked})"
    )


@app.command("forget")
def forget_command(
    user: Annotated[str, typer.Option(help="The for_user_id whose stored bodies are erased.")],
    reason: Annotated[str, typer.Option(help="Why, for the audit record (e.g. a request's reference).")] = "forget",
    db: DbOption = None,
) -> None:
    """Erase every stored body and header set of one user's events (GDPR). Their keys stay as tombstones, so a
    copy X sends again is still a duplicate; events of theirs not yet handled are given up. Writes an audit
    record, listed by `xhooks events stats`."""
    record = forget(str(Settings.load().get("db", db, "xhooks.db")), user, reason)
    typer.echo(f"erased {describe_erasure(record)}")
