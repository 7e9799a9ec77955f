"""The `xhooks` command. Each command only parses options and calls one public Python function."""

from __future__ import annotations

import sys

import typer

from xhooks.cli import db, doctor, emulator, events, listen, manage, serve, watch, worker
from xhooks.errors import XhooksError

app = typer.Typer(
    name="xhooks",
    help="Receive, verify, store and manage X (Twitter) API v2 webhooks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("serve")(serve.serve_command)
app.command("worker")(worker.worker_command)
app.add_typer(events.app, name="events")
app.add_typer(db.app, name="db")
app.command("doctor")(doctor.doctor_command)
manage.register(app)
app.command("listen")(listen.listen_command)
emulator.register(app)
watch.register(app)


def main() -> None:
    """Console-script entry point: errors a user can cause become one line on stderr and exit status 2."""
    try:
        app()
    except XhooksError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
