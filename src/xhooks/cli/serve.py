"""`xhooks serve`: run the receiver on the embedded store (or PostgreSQL)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from uvicorn.config import LOG_LEVELS

from xhooks._net import is_loopback
from xhooks.cli._logging import configure_logging
from xhooks.cli.watch import disk_low
from xhooks.cli.worker import (
    AppOption,
    ConcurrencyOption,
    LeaseOption,
    MaxAttemptsOption,
    RetryBaseOption,
    worker_config,
)
from xhooks.client import DEFAULT_BASE_URL, Credentials
from xhooks.config import Settings
from xhooks.dashboard import DEFAULT_PREFIX, DashboardConfig
from xhooks.dispatch import WorkerConfig, XHooks, load_hooks
from xhooks.errors import ConfigError
from xhooks.receiver import AppConfig
from xhooks.receiver.config import DEFAULT_MAX_BODY, DEFAULT_PATH
from xhooks.relay import RelayConfig, parse_only, sinks_for
from xhooks.serving import ProcessConfig, open_sockets, serve
from xhooks.store.migrations import redact
from xhooks.store.retention import RetentionPolicy
from xhooks.stream import StreamConfig
from xhooks.watch import WatchConfig

logger = logging.getLogger("xhooks.serve")


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
    request_timeout: Annotated[
        float | None,
        typer.Option(help="Seconds a client may take to send a whole request (headers and body). [default: 10]"),
    ] = None,
    config: Annotated[Path | None, typer.Option(help="A TOML config file. [default: ./xhooks.toml if present]")] = None,
    dashboard: Annotated[
        bool | None,
        typer.Option(
            "--dashboard/--no-dashboard",
            help=f"Serve the dashboard at {DEFAULT_PREFIX}/. Off a loopback interface it asks for the login token"
            " dashboard_token (XHOOKS_DASHBOARD_TOKEN). [default: on]",
        ),
    ] = None,
    dashboard_port: Annotated[
        int | None, typer.Option(help="Serve the dashboard on this port instead of the receiver's.")
    ] = None,
    dashboard_host: Annotated[
        str | None, typer.Option(help="Interface for --dashboard-port. [default: 127.0.0.1]")
    ] = None,
    api_base: Annotated[
        str | None,
        typer.Option(help=f"X API base the dashboard and the watcher use. [default: {DEFAULT_BASE_URL}]"),
    ] = None,
    watch: Annotated[
        bool | None,
        typer.Option(
            "--watch/--no-watch",
            help="Watch the app's webhooks: re-validate when X marks one invalid, replay what was missed while"
            " down, alert. [default: on when a bearer token is configured (XHOOKS_BEARER_TOKEN)]",
        ),
    ] = None,
    alert_url: Annotated[
        str | None, typer.Option(help="The watcher POSTs alerts here (Slack-compatible JSON). Env: XHOOKS_ALERT_URL.")
    ] = None,
    stream: Annotated[
        bool | None,
        typer.Option(
            "--stream/--no-stream",
            help="Also read the app's X Activity stream into the same store (needs the bearer token); an event"
            " that reaches the webhook too is one event. [default: off]",
        ),
    ] = None,
    stream_backfill_minutes: Annotated[
        int | None, typer.Option(min=0, max=5, help="The most backfill the stream asks for after a gap. [default: 5]")
    ] = None,
    app: AppOption = None,
    relay_to: Annotated[
        list[str] | None,
        typer.Option(
            "--relay-to",
            help="Also relay every stored event to this sink, as `xhooks relay --to` does (repeat for several)."
            " Env: XHOOKS_RELAY_TO (comma-separated).",
        ),
    ] = None,
    relay_only: Annotated[
        str | None, typer.Option(help="With --relay-to: only these event types, e.g. post.*,dm.*. [default: all]")
    ] = None,
    concurrency: ConcurrencyOption = None,
    lease: LeaseOption = None,
    max_attempts: MaxAttemptsOption = None,
    retry_base: RetryBaseOption = None,
    log_level: Annotated[
        str | None, typer.Option(help=f"Log level of xhooks and uvicorn: {', '.join(LOG_LEVELS)}. [default: info]")
    ] = None,
    access_log: Annotated[
        bool | None,
        typer.Option(
            "--access-log/--no-access-log",
            help="uvicorn's line per request. Refused requests are logged either way. [default: off]",
        ),
    ] = None,
) -> None:
    """Answer X's CRC and store every signed delivery before acknowledging it; with --app, also run your handlers."""
    settings = Settings.load(config)
    level = configure_logging(str(settings.get("log_level", log_level, "info")))
    apps = _apps(settings, consumer_secret, path)
    db_url = str(settings.get("db", db, "xhooks.db"))
    credentials = Credentials.load(settings)
    api = str(settings.get("api_base", api_base, DEFAULT_BASE_URL))
    hooks, worker, worker_line = _worker(settings, db_url, app, concurrency, lease, max_attempts, retry_base)
    watcher, watcher_line = _watcher(settings, credentials, watch, alert_url)
    streaming, stream_line = _stream(settings, stream, stream_backfill_minutes)
    relay, relay_line = _relay(settings, relay_to, relay_only)
    host_name = str(settings.get("host", host, "127.0.0.1"))
    retention = RetentionPolicy.from_settings(settings)
    serve_config = ProcessConfig(
        apps=apps,
        db=db_url,
        host=host_name,
        port=int(settings.get("port", port, 8080)),
        durability=str(settings.get("durability", durability, "disk")),
        max_body=int(settings.get("max_body", max_body, DEFAULT_MAX_BODY)),
        request_timeout=float(settings.get("request_timeout", request_timeout, 10.0)),
        log_level=level,
        access_log=_flag(settings.get("access_log", access_log, False)),
        dashboard=(
            _dashboard(settings, apps, host_name, credentials, api, dashboard_port, dashboard_host)
            if _flag(settings.get("dashboard", dashboard, True))
            else None
        ),
        hooks=hooks,
        worker=worker,
        watch=watcher,
        stream=streaming,
        relay=relay,
        credentials=credentials,
        api_base=api,
        retention=retention,
    )
    sockets = open_sockets(serve_config)  # a port in use fails here, before the store or a worker starts
    lines = (_serving(serve_config), worker_line, watcher_line, stream_line, relay_line, _pruning(retention))
    logger.info("; ".join(["%s"] * len(lines)), *lines)
    serve(serve_config, sockets)


def _relay(settings: Settings, to: list[str] | None, only: str | None) -> tuple[RelayConfig | None, str]:
    """With --relay-to: the relays this process runs beside the receiver (the sinks checked now, in one line if
    wrong), and the start-up line's part naming them. Without: none."""
    urls = settings.get_list("relay_to", to)
    if not urls:
        return None, "relay off (--relay-to URL relays to HTTP, Redis, NATS or RabbitMQ)"
    config = RelayConfig(to=urls, only=parse_only(settings.get("relay_only", only)))
    return config, "relay to " + ", ".join(sink.name for sink in sinks_for(config))


def _pruning(policy: RetentionPolicy) -> str:
    """The start-up line's part on retention: what is kept how long, or that background pruning is off."""
    if not policy.background:
        return "pruning off ([retention] background = false)"
    return (
        f"pruning every {policy.interval:g} s (bodies {policy.body_days:g} d, dead letters {policy.dead_days:g} d,"
        f" quarantined {policy.quarantine_days:g} d, tombstones {policy.tombstone_days:g} d)"
    )


def _serving(config: ProcessConfig) -> str:
    """What the receiver serves, for the start-up line: URL, webhook paths, store, dashboard."""
    base = f"http://{config.host}:{config.port}"
    paths = ", ".join(app.path for app in config.apps)
    line = f"serving {base}: webhook {paths}; store {redact(config.db)} (durability {config.durability})"
    dashboard = config.dashboard
    if dashboard is None:
        return f"{line}; dashboard off"
    where = f"http://{dashboard.host}:{dashboard.port}" if dashboard.port else base
    login = "login required" if dashboard.token else "refused: set dashboard_token"
    remote = "" if is_loopback(dashboard.host) else f" ({login}: not loopback)"
    return f"{line}; dashboard {where}{dashboard.prefix}/{remote}"


def _dashboard(
    settings: Settings,
    apps: list[AppConfig],
    host: str,
    credentials: Credentials,
    api_base: str,
    port: int | None,
    dashboard_host: str | None,
) -> DashboardConfig:
    """The dashboard's settings: its own port and interface if given, else the receiver's."""
    own_port = settings.get("dashboard_port", port)
    return DashboardConfig(
        host=str(settings.get("dashboard_host", dashboard_host, "127.0.0.1")) if own_port else host,
        port=int(own_port) if own_port else None,
        token=settings.get("dashboard_token"),
        api_base=api_base,
        credentials=credentials,
        apps=tuple((app.path, app.name) for app in apps),
        erase_on_unsubscribe=RetentionPolicy.from_settings(settings).erase_on_unsubscribe,
    )


def _worker(
    settings: Settings,
    db: str,
    app: str | None,
    concurrency: int | None,
    lease: float | None,
    max_attempts: int | None,
    retry_base: float | None,
) -> tuple[XHooks | None, WorkerConfig, str]:
    """With --app: the handlers and how the worker runs them in this process. Without: no handlers.
    With a line for the start-up log."""
    config = worker_config(settings, db, concurrency, lease, max_attempts, retry_base)
    app_spec = settings.get("app", app)
    if not app_spec:
        return None, config, "worker off (--app runs your handlers here)"
    return load_hooks(str(app_spec)), config, f"worker on ({app_spec}, {config.concurrency} at once)"


def _watcher(
    settings: Settings, credentials: Credentials, watch: bool | None, alert_url: str | None
) -> tuple[WatchConfig | None, str]:
    """The watcher's settings when management credentials are configured (or --watch, which `ProcessConfig`
    refuses without a bearer token); else None. With a line for the start-up log."""
    if not _flag(settings.get("watch", watch, credentials.bearer_token is not None)):
        return None, "watcher off"
    config = WatchConfig(
        interval=float(settings.get("watch_interval", None, 60.0)),
        webhook_ids=tuple(settings.get_list("webhook_id")),
        alert_url=settings.get("alert_url", alert_url),
        **disk_low(settings),
    )
    return config, f"watcher on (every {config.interval:g} s)"


def _stream(settings: Settings, stream: bool | None, backfill: int | None) -> tuple[StreamConfig | None, str]:
    """The stream consumer's settings with --stream (which `ProcessConfig` refuses without a bearer token); else
    None. With a line for the start-up log."""
    if not _flag(settings.get("stream", stream, False)):
        return None, "stream off"
    config = StreamConfig(backfill_minutes=int(settings.get("stream_backfill_minutes", backfill, 5)))
    return config, f"stream on (backfill up to {config.backfill_minutes} min)"


def _flag(value: object) -> bool:
    """A boolean setting; the environment gives strings (`XHOOKS_DASHBOARD=0`)."""
    return value.strip().lower() not in ("0", "false", "no", "off") if isinstance(value, str) else bool(value)
