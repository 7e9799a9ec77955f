"""`xhooks watch` (re-validate, recover, alert; alone, beside a receiver) and `xhooks recover --since T` (by hand)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from xhooks.client import DEFAULT_BASE_URL, Credentials
from xhooks.client.times import check_replay_window, parse_time
from xhooks.config import Settings
from xhooks.errors import ConfigError
from xhooks.watch import JobState, WatchConfig
from xhooks.watch.watcher import recover_window, run_watcher

__all__ = ["disk_low", "recover_command", "register", "watch_command"]

DbOpt = Annotated[
    str | None, typer.Option(help="The receiver's store: a SQLite path or postgresql://… [default: xhooks.db]")
]
ApiOpt = Annotated[str | None, typer.Option(help=f"API base URL. Env: XHOOKS_API_BASE. [default: {DEFAULT_BASE_URL}]")]
BearerOpt = Annotated[str | None, typer.Option(help="App bearer token. Env: XHOOKS_BEARER_TOKEN.")]
ConfigOpt = Annotated[Path | None, typer.Option(help="A TOML config file. [default: ./xhooks.toml if present]")]


def disk_low(settings: Settings) -> dict[str, Any]:
    """The `disk_low` thresholds of `WatchConfig` from `disk_low_share` (a fraction, default 0.1) and
    `disk_low_bytes` (default 1 GiB), in `xhooks.toml` or `XHOOKS_DISK_LOW_SHARE` / `XHOOKS_DISK_LOW_BYTES`;
    `off` turns one off. For `xhooks watch` and `xhooks serve` alike.

    Raises:
        ConfigError: a share outside 0..1 or a byte count that is not a whole number.
    """
    defaults = WatchConfig()
    share_text, bytes_text = settings.get("disk_low_share"), settings.get("disk_low_bytes")
    try:
        share = defaults.disk_low_share if share_text is None else None if _off(share_text) else float(share_text)
        least = defaults.disk_low_bytes if bytes_text is None else None if _off(bytes_text) else int(bytes_text)
    except ValueError as exc:
        raise ConfigError(f"disk_low_share is a fraction like 0.1 and disk_low_bytes a byte count: {exc}") from None
    if share is not None and not 0 < share < 1:
        raise ConfigError(f"disk_low_share must be between 0 and 1 (0.1 is 10 %), not {share}")
    return {"disk_low_share": share, "disk_low_bytes": least}


def _off(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() in ("off", "none", "")


def watch_command(
    db: DbOpt = None,
    webhook: Annotated[
        list[str] | None,
        typer.Option(help="Watch only this webhook id (repeatable). [default: every webhook of the app]"),
    ] = None,
    interval: Annotated[float | None, typer.Option(help="Seconds between rounds. [default: 60]")] = None,
    alert_url: Annotated[
        str | None, typer.Option(help="POST alerts here as JSON with a Slack-compatible `text`. Env: XHOOKS_ALERT_URL.")
    ] = None,
    api_base: ApiOpt = None,
    bearer_token: BearerOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Re-validate webhooks X marked invalid, replay what was missed while the receiver was down, and alert."""
    settings = Settings.load(config)
    webhooks = settings.get_list("webhook_id", webhook)
    options = WatchConfig(
        interval=float(settings.get("watch_interval", interval, 60.0)),
        webhook_ids=tuple(webhooks),
        alert_url=settings.get("alert_url", alert_url),
        **disk_low(settings),
    )
    typer.echo(f"xhooks: watching {', '.join(webhooks) or 'every webhook'} every {options.interval:g} s", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        run_watcher(
            str(settings.get("db", db, "xhooks.db")),
            Credentials.load(settings, bearer_token=bearer_token),
            options,
            api_base=str(settings.get("api_base", api_base, DEFAULT_BASE_URL)),
        )


def recover_command(
    since: Annotated[str, typer.Option(help="Start: ISO time, yyyymmddhhmm (UTC) or '2h ago' (past 24 hours).")],
    until: Annotated[str, typer.Option(help="End: ISO time, yyyymmddhhmm (UTC), '10m ago' or 'now'.")] = "now",
    webhook: Annotated[
        str | None, typer.Option(help="Webhook id. Env: XHOOKS_WEBHOOK_ID. [default: the app's only webhook]")
    ] = None,
    db: DbOpt = None,
    timeout: Annotated[
        float, typer.Option(help="Give up waiting for X's replay_job_status after this many seconds.")
    ] = 3600.0,
    api_base: ApiOpt = None,
    bearer_token: BearerOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Replay a window now and wait until its replay_job_status reaches the receiver; retry Incomplete jobs."""
    settings = Settings.load(config)
    now = datetime.now(UTC)
    start, end = parse_time(since, now), parse_time(until, now)
    check_replay_window(start, end, now)
    task = recover_window(
        str(settings.get("db", db, "xhooks.db")),
        Credentials.load(settings, bearer_token=bearer_token),
        start.timestamp(),
        end.timestamp(),
        webhook_id=settings.get("webhook_id", webhook),
        api_base=str(settings.get("api_base", api_base, DEFAULT_BASE_URL)),
        timeout=timeout,
    )
    jobs = f"{task.attempts} replay job{'s' if task.attempts != 1 else ''}, last {task.job_id or '-'}"
    typer.echo(f"webhook {task.webhook_id}: {task.state.value} ({jobs}){': ' + task.detail if task.detail else ''}")
    if task.state is not JobState.COMPLETE:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("watch")(watch_command)
    app.command("recover")(recover_command)
