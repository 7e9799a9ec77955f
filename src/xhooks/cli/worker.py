"""`xhooks worker`: run your handlers over the stored events, without the receiver."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xhooks.config import Settings
from xhooks.dispatch import RetryPolicy, WorkerConfig, load_hooks, run_workers
from xhooks.errors import ConfigError
from xhooks.store.migrations import redact
from xhooks.store.registry import engine_for
from xhooks.store.retention import RetentionPolicy

AppOption = Annotated[
    str | None, typer.Option("--app", help="Your handlers, as module:attribute naming an XHooks (e.g. bot:hooks).")
]


def worker_config(
    settings: Settings,
    db: str | None,
    concurrency: int | None,
    lease: float | None,
    max_attempts: int | None,
    retry_base: float | None,
) -> WorkerConfig:
    """The worker settings: flags, then XHOOKS_*, then xhooks.toml (shared with `xhooks serve --app`), and the
    retention it prunes by in the background (`[retention]`; `xhooks serve` prunes by the same)."""
    return WorkerConfig(
        db=str(settings.get("db", db, "xhooks.db")),
        concurrency=int(settings.get("concurrency", concurrency, 8)),
        lease=float(settings.get("lease", lease, 60.0)),
        retry=RetryPolicy(
            max_attempts=int(settings.get("max_attempts", max_attempts, 8)),
            base=float(settings.get("retry_base", retry_base, 1.0)),
        ),
        retention=RetentionPolicy.from_settings(settings),
    )


ConcurrencyOption = Annotated[int | None, typer.Option(help="Events handled at once. [default: 8]")]
LeaseOption = Annotated[
    float | None,
    typer.Option(
        help="Seconds a claim lasts; longer than your slowest handler. A dead worker's events are retaken"
        " after it. [default: 60]"
    ),
]
MaxAttemptsOption = Annotated[int | None, typer.Option(help="Attempts before an event is dead. [default: 8]")]
RetryBaseOption = Annotated[
    float | None, typer.Option(help="Seconds before the first retry; doubled each time, with jitter. [default: 1]")
]


def worker_command(
    app: AppOption = None,
    db: Annotated[
        str | None, typer.Option(help="A SQLite file path, sqlite:///PATH or postgresql://… [default: xhooks.db]")
    ] = None,
    concurrency: ConcurrencyOption = None,
    lease: LeaseOption = None,
    max_attempts: MaxAttemptsOption = None,
    retry_base: RetryBaseOption = None,
    config: Annotated[Path | None, typer.Option(help="A TOML config file. [default: ./xhooks.toml if present]")] = None,
) -> None:
    """Handle stored events with your handlers until Ctrl-C (in-flight handlers finish first)."""
    settings = Settings.load(config)
    worker = worker_config(settings, db, concurrency, lease, max_attempts, retry_base)
    require_database(worker.db)
    hooks = load_hooks(str(settings.get("app", app, "")))
    typer.echo(f"xhooks: worker handling events in {redact(str(worker.db))} with {settings.get('app', app)}", err=True)
    run_workers(worker, hooks)


def require_database(db: str | Path) -> None:
    """A worker handles what a receiver stored: a SQLite file that does not exist is a typo, not a new store (an
    empty one would never receive an event)."""
    engine, path = engine_for(str(db))
    if engine == "sqlite" and not Path(path).exists():
        raise ConfigError(f"no database at {path}; pass the --db that `xhooks serve` writes to (it creates it)")
