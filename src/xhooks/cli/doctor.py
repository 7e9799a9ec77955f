"""`xhooks doctor URL`: check a consumer the way X does and print a checklist with a fix for each failure."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.markup import escape

from xhooks.client.auth import Credentials
from xhooks.client.doctor import CRC_LIMIT, POST_LIMIT, Report, Status, diagnose
from xhooks.config import Settings
from xhooks.errors import ConfigError

_MARKS = {Status.OK: "[green]✔[/]", Status.WARN: "[yellow]![/]", Status.FAIL: "[red]✘[/]", Status.SKIP: "[dim]–[/]"}


def print_report(report: Report, console: Console) -> None:
    console.print(f"xhooks doctor: {escape(report.url)}")
    for check in report.checks:
        console.print(f" {_MARKS[check.status]} {escape(check.name):<24} {escape(check.summary)}")
        if check.fix and check.status is not Status.OK:
            console.print(f"     [bold]fix:[/] {escape(check.fix)}")
    failed = sum(check.status is Status.FAIL for check in report.checks)
    if failed:
        console.print(f"[red]{failed} check(s) failed: X would refuse or invalidate this webhook.[/]")
    else:
        console.print("[green]X would accept this consumer.[/]")


def doctor_command(
    url: Annotated[str, typer.Argument(help="The consumer URL X would call, e.g. https://example.com/webhook.")],
    consumer_secret: Annotated[
        str | None, typer.Option(help="The app's consumer secret (API secret key). Env: XHOOKS_CONSUMER_SECRET.")
    ] = None,
    bearer_token: Annotated[
        str | None, typer.Option(help="The app's bearer token, to spot a CRC signed with it. Env: XHOOKS_BEARER_TOKEN.")
    ] = None,
    access_token_secret: Annotated[
        str | None,
        typer.Option(help="An access token secret, to spot a CRC signed with it. Env: XHOOKS_ACCESS_TOKEN_SECRET."),
    ] = None,
    crc_timeout: Annotated[float, typer.Option(help="Seconds to wait for the CRC answer.")] = CRC_LIMIT,
    post_timeout: Annotated[float, typer.Option(help="Seconds to wait for the test POST answer.")] = POST_LIMIT,
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    config: Annotated[Path | None, typer.Option(help="A TOML config file. [default: ./xhooks.toml if present]")] = None,
) -> None:
    """Check a consumer URL as X does: https, no port, the CRC answer, latency, redirects, a signed POST."""
    creds = Credentials.load(
        Settings.load(config),
        consumer_secret=consumer_secret,
        bearer_token=bearer_token,
        access_token_secret=access_token_secret,
    )
    if not creds.consumer_secret:
        raise ConfigError(
            "the doctor needs the app's consumer secret: pass --consumer-secret or set XHOOKS_CONSUMER_SECRET"
        )
    report = asyncio.run(
        diagnose(
            url,
            creds.consumer_secret,
            bearer_token=creds.bearer_token,
            access_token_secret=creds.access_token_secret,
            crc_timeout=crc_timeout,
            post_timeout=post_timeout,
        )
    )
    if json:
        typer.echo(msgspec.json.encode(report).decode())
    else:
        print_report(report, Console(highlight=False))
    raise typer.Exit(0 if report.ok else 1)
