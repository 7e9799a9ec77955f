"""`xhooks serve`: run the receiver on the embedded store (or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from xhooks.config import Settings
from xhooks.errors import ConfigError
from xhooks.receiver import AppConfig, ServeConfig, serve
from xhooks.receiver.config import DEFAULT_MAX_BODY, DEFAULT_PATH


def _apps(settings: Settings, secrets: list[str] | None, path: str | None) -> list[AppConfig]:
    """Apps from flags (one app), or from `[[apps]]` tables in xhooks.toml (several apps, one path each)."""
    configured: Any = settings.get("apps")
    if not secrets and configured:
        if not isinstance(configured, list):
            raise ConfigError("apps in xhooks.toml must be an array of tables: [[apps]] path=… consumer_secret=[…]")
        apps = []
        for entry in configured:
            raw = entry.get("consumer_secret", [])
            listed = tuple([raw] if isinstance(raw, str) else raw)
            apps.append(AppConfig(listed, entry.get("path", DEFAULT_PATH), entry.get("name", "")))
        return apps
    return [AppConfig(tuple(settings.get_list("consumer_secret", secrets)), settings.get("path", path, DEFAULT_PATH))]


def serve_command(
    consumer_secret: Annotated[
        list[str] | None,
        typer.Option(
            help="Your app's consumer secret (API secret key). Repeat it to accept several during a rotation;"
            " the first answers CRC. Env: XHOOKS_CONSUMER_SECRET (comma-separated)."
        ),
    ] = None,
    db: Annotated[
        str | None, typer.Option(help="A SQLite file path, sqlite:///PATH or postgresql://… [default: xhooks.db]")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Interface to bind. [default: 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind. [default: 8080]")] = None,
    path: Annotated[str | None, typer.Option(help=f"Webhook path. [default: {DEFAULT_PATH}]")] = None,
    durability: Annotated[
        str | None,
        typer.Option(
            help="disk: every commit flushed to disk (survives power loss)."
            " process: survives a killed process only; faster. [default: disk]"
        ),
    ] = None,
    max_body: Annotated[
        int | None, typer.Option(help=f"Largest accepted body in bytes. [default: {DEFAULT_MAX_BODY}]")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="A TOML config file. [default: ./xhooks.toml if present]")] = None,
) -> None:
    """Answer X's CRC and store every signed delivery before acknowledging it."""
    settings = Settings.load(config)
    serve_config = ServeConfig(
        apps=_apps(settings, consumer_secret, path),
        db=str(settings.get("db", db, "xhooks.db")),
        host=str(settings.get("host", host, "127.0.0.1")),
        port=int(settings.get("port", port, 8080)),
        durability=str(settings.get("durability", durability, "disk")),
        max_body=int(settings.get("max_body", max_body, DEFAULT_MAX_BODY)),
    )
    typer.echo(
        f"xhooks: receiving at http://{serve_config.host}:{serve_config.port}"
        f"{', '.join(app.path for app in serve_config.apps)} → {serve_config.db} ({serve_config.durability})",
        err=True,
    )
    serve(serve_config)
