"""`xhooks db upgrade`: bring a store's schema to the version this xhooks needs."""

from __future__ import annotations

from typing import Annotated

import typer

from xhooks.config import Settings
from xhooks.store.migrations import redact, upgrade

app = typer.Typer(help="Manage the store's database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(
    db: Annotated[
        str | None, typer.Option(help="The store: a SQLite path, sqlite:///PATH or postgresql://… [default: xhooks.db]")
    ] = None,
) -> None:
    """Apply the schema migrations the database is missing (each in one transaction); an empty one is created."""
    target = str(Settings.load().get("db", db, "xhooks.db"))
    before, after = upgrade(target)
    if before == after:
        typer.echo(f"{redact(target)}: schema version {after}, nothing to do")
    else:
        typer.echo(f"{redact(target)}: schema version {'none' if before is None else before} → {after}")
