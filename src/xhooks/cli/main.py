"""The `xhooks` command. Each command only parses options and calls one public Python function."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from xhooks import __version__
from xhooks.cli import db, dev, doctor, emulator, events, listen, manage, relay, serve, stream, watch, worker
from xhooks.errors import XhooksError

app = typer.Typer(
    name="xhooks",
    help="Receive, verify, store and manage X (Twitter) API v2 webhooks.\n\n"
    "Every setting comes from its flag, else its XHOOKS_* environment variable, else ./xhooks.toml"
    " (another file with --config or XHOOKS_CONFIG), read when it exists.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # plain help: Rich markup would swallow the "[default: …]" written in option help
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"xhooks {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True)
    ] = False,
) -> None:
    pass


app.add_typer(dev.app, name="dev")
app.command("serve")(serve.serve_command)
app.command("worker")(worker.worker_command)
app.command("relay")(relay.relay_command)
app.add_typer(events.app, name="events")
app.add_typer(db.app, name="db")
app.command("doctor")(doctor.doctor_command)
manage.register(app)
app.command("listen")(listen.listen_command)
app.command("stream")(stream.stream_command)
emulator.register(app)
watch.register(app)


def main() -> None:
    """Console-script entry point: errors a user can cause become one line on stderr and exit status 2."""
    try:
        app()
    except XhooksError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
