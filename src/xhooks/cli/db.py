"""`xhooks db upgrade|prune|vacuum`: the store's schema, its retention, and giving space back."""

from __future__ import annotations

from typing import Annotated

import typer

from xhooks.config import Settings
from xhooks.store.migrations import redact, upgrade
from xhooks.store.pruner import prune
from xhooks.store.retention import PruneReport, RetentionPolicy
from xhooks.store.vacuum import vacuum

app = typer.Typer(help="Manage the store's database.", no_args_is_help=True)

DbOption = Annotated[
    str | None, typer.Option(help="The store: a SQLite path, sqlite:///PATH or postgresql://… [default: xhooks.db]")
]


@app.command("upgrade")
def upgrade_command(db: DbOption = None) -> None:
    """Apply the schema migrations the database is missing (each in one transaction); an empty one is created."""
    target = str(Settings.load().get("db", db, "xhooks.db"))
    before, after = upgrade(target)
    if before == after:
        typer.echo(f"{redact(target)}: schema version {after}, nothing to do")
    else:
        typer.echo(f"{redact(target)}: schema version {'none' if before is None else before} → {after}")


def describe(report: PruneReport, dry_run: bool) -> str:
    """One line for a prune's report: what would go (a dry run) or what went."""
    verb = "would go" if dry_run else "went"
    return (
        f"{verb}: {report.bodies} bodies ({report.bytes / 1e6:.1f} MB of body and headers; their events stay as"
        f" tombstones), {report.tombstones} tombstones past their retention"
    )


@app.command("prune")
def prune_command(
    db: DbOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Change nothing; print what would go now.")] = False,
    body_days: Annotated[
        float | None, typer.Option(help="Days the bodies and headers of handled events are kept. [default: 7]")
    ] = None,
    dead_days: Annotated[float | None, typer.Option(help="Days dead letters' bodies are kept. [default: 30]")] = None,
    quarantine_days: Annotated[
        float | None, typer.Option(help="Days quarantined deliveries are kept. [default: 30]")
    ] = None,
    tombstone_days: Annotated[
        float | None,
        typer.Option(
            help="Days a tombstone (an event's key, for dedup) is kept after last seen; at least 6. [default: 30]"
        ),
    ] = None,
) -> None:
    """Remove what the retention policy no longer keeps, now, in batches: bodies of finished events (their keys
    stay, so a late duplicate from X is still one) and old tombstones. Events not yet handled are never pruned.
    Each setting: its flag, else XHOOKS_RETENTION_<NAME>, else [retention] in xhooks.toml."""
    settings = Settings.load()
    flags = {
        "body_days": body_days,
        "dead_days": dead_days,
        "quarantine_days": quarantine_days,
        "tombstone_days": tombstone_days,
    }
    policy = RetentionPolicy.from_settings(settings, flags)
    target = str(settings.get("db", db, "xhooks.db"))
    report = prune(target, policy, dry_run=dry_run)
    typer.echo(f"{redact(target)}: {describe(report, dry_run)}")


@app.command("vacuum")
def vacuum_command(db: DbOption = None) -> None:
    """SQLite: rewrite the file once so that pruning gives space back from now on (auto_vacuum=INCREMENTAL), and
    give back what is free. Needs as much free disk as the file takes; stop the receiver first."""
    target = str(Settings.load().get("db", db, "xhooks.db"))
    typer.echo(f"{redact(target)}: {vacuum(target)}")
