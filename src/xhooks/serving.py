"""`xhooks serve` as a Python function: one process, one store, one event loop, one writer.

`serve(config)` opens the store at `config.db` once and builds every part of the process on it:

- the receiver, whose lifespan starts the store, then the services as tasks on its loop; at shutdown it stops
  them (the worker finishes its handlers or releases their leases) and only then closes the store;
- the services (`xhooks.service`): the pruner (`retention`, on unless turned off), the dispatch worker when
  `hooks` are given, the watcher when `watch` is, the X Activity stream consumer when `stream` is (it records
  into the same store under the first app's name, and uses the watcher's alerts and replays when the watcher
  runs), a relay per sink when `relay` is; they share the receiver's store, and the worker and the watcher its
  `Metrics`, so `/metrics` shows theirs too;
- the dashboard, a child app under its prefix on the receiver's port, or on a port of its own served by a
  second uvicorn server on the same loop (it captures no signals and stops with the receiver). Either way
  its open live streams are ended when shutdown begins, so they never hold it up.

The sockets are opened before anything starts (`open_sockets`), so a port in use fails first, before the
database exists. SIGINT and SIGTERM stop the process gracefully; after a SIGTERM, once everything has
stopped, `serve` raises `SystemExit(0)`: a service manager's ordinary stop is a clean exit.

The CLI's `xhooks serve` only turns its flags into a `ProcessConfig` and calls `serve`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import uvicorn

from xhooks.client import DEFAULT_BASE_URL, Credentials
from xhooks.dashboard import Dashboard, DashboardConfig, Mount
from xhooks.dashboard.mount import elsewhere, own_port
from xhooks.dispatch import WorkerConfig, XHooks, build_worker
from xhooks.errors import ConfigError
from xhooks.metrics import Metrics
from xhooks.receiver import Receiver, ServeConfig, listen_socket, server_config
from xhooks.relay import RelayConfig, relays_for
from xhooks.service import Service
from xhooks.store import Store, open_store
from xhooks.store.pruner import Pruner, background_pruner
from xhooks.store.retention import RetentionPolicy
from xhooks.stream import Recover, StreamConfig, StreamConsumer
from xhooks.watch import WatchConfig, WatchService, Window
from xhooks.watch.watcher import Watcher

__all__ = ["ProcessConfig", "build_servers", "open_sockets", "quiet_server", "serve"]


@dataclass
class ProcessConfig(ServeConfig):
    """Everything one `xhooks serve` process runs: the receiver's settings (`ServeConfig`), and the parts
    beside it, each off unless given.

    - `dashboard`: serve the dashboard (`DashboardConfig.port` None: on the receiver's port).
    - `hooks`: run these handlers in this process, as `worker` says (its `db` and `metrics` are not used:
      the worker shares the process's store and metrics; `paths` defaults to the apps' webhook paths).
    - `watch`: run the watcher, which reaches X (or the emulator) at `api_base` with `credentials`.
    - `stream`: read the app's X Activity stream at `api_base` into the same store (docs/stream.md).
    - `relay`: relay the committed events to each sink of `relay.to` (`xhooks.relay`; its `db` is not used).
    - `retention`: prune the store in the background by this policy (on by default: `xhooks.store.pruner`); None,
      or `background=False`, turns it off.

    ```python
    import xhooks
    from xhooks.dashboard import DashboardConfig

    xhooks.serve(xhooks.ProcessConfig(apps=[xhooks.AppConfig(("my-consumer-secret",))], hooks=hooks,
                                      dashboard=DashboardConfig()))
    ```

    Raises:
        ConfigError: the watcher or the stream is asked for without a bearer token.
    """

    dashboard: DashboardConfig | None = None
    hooks: XHooks | None = None
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    watch: WatchConfig | None = None
    stream: StreamConfig | None = None
    relay: RelayConfig | None = None
    credentials: Credentials = field(default_factory=Credentials)
    api_base: str = DEFAULT_BASE_URL
    retention: RetentionPolicy | None = field(default_factory=RetentionPolicy)

    def __post_init__(self) -> None:
        if self.watch is not None and self.credentials.bearer_token is None:
            raise ConfigError("the watcher needs the app's bearer token: pass it in XHOOKS_BEARER_TOKEN or xhooks.toml")
        if self.stream is not None and self.credentials.bearer_token is None:
            raise ConfigError("the stream needs the app's bearer token: pass it in XHOOKS_BEARER_TOKEN or xhooks.toml")


class _Server(uvicorn.Server):
    """A uvicorn server that calls `on_shutdown` first when it starts shutting down."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], None], signals: bool = True) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown
        self._signals = signals

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if self._signals:
            with super().capture_signals():
                yield
        else:
            yield

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_shutdown()
        await super().shutdown(sockets)


def quiet_server(config: uvicorn.Config) -> uvicorn.Server:
    """A uvicorn server that leaves SIGINT and SIGTERM to its caller, for a second server on the same loop."""
    return _Server(config, lambda: None, signals=False)


def build_servers(config: ProcessConfig, signals: bool = True) -> tuple[uvicorn.Server, uvicorn.Server | None]:
    """The receiver's server (with the dashboard mounted unless it has a port of its own), and the dashboard's
    own server if it has one; all on one store. Nothing runs yet: `serve` runs them. With `signals` False the
    receiver's server leaves SIGINT and SIGTERM to its caller (`xhooks dev` stops it itself).

    Raises:
        ConfigError: a part cannot run as configured (transactional handlers on SQLite, a bad store URL).
    """
    store = open_store(config.db, durability=config.durability)
    metrics = config.metrics or Metrics()
    pruner = background_pruner(store, config.retention, metrics)
    services = _services(config, store, metrics, pruner)
    receiver = Receiver(store, config.apps, max_body=config.max_body, metrics=metrics, services=services)
    dashboard = config.dashboard
    if dashboard is None:
        return _Server(server_config(config, receiver), lambda: None, signals), None
    pages = Dashboard(store, dashboard, pruner=pruner)
    if dashboard.port is None:
        return _Server(server_config(config, Mount(dashboard.prefix, pages, receiver)), pages.close, signals), None
    main = _Server(server_config(config, Mount(dashboard.prefix, elsewhere, receiver)), pages.close, signals)
    own = uvicorn.Config(
        own_port(dashboard.prefix, pages),
        host=dashboard.host,
        port=dashboard.port,
        lifespan="off",
        access_log=config.access_log,
        log_level=config.log_level,
    )
    return main, _Server(own, pages.close, signals=False)


def _services(config: ProcessConfig, store: Store, metrics: Metrics, pruner: Pruner | None) -> list[Service]:
    """The long-running parts `config` asks for, on the process's store and metrics (`pruner` is built by the
    caller, which shows its next round on the dashboard)."""
    services: list[Service] = []
    if config.hooks is not None:
        paths = {app.name: app.path for app in config.apps}
        worker = replace(config.worker, paths={**paths, **config.worker.paths}, metrics=metrics)
        services.append(build_worker(store, config.hooks, worker))
    watching = None
    if config.watch is not None:
        watching = WatchService(store, config.credentials, config.watch, api_base=config.api_base, metrics=metrics)
        services.append(watching)
    if config.stream is not None:
        assert config.credentials.bearer_token is not None  # ProcessConfig refuses a stream without one
        services.append(
            StreamConsumer(
                store,
                app=config.stream.app or config.apps[0].name,
                bearer_token=config.credentials.bearer_token,
                api_base=config.api_base,
                backfill_minutes=config.stream.backfill_minutes,
                reclaim_connections=config.stream.reclaim_connections,
                alerts=watching.watcher.alerts if watching else None,
                recover=_replays(watching.watcher) if watching else None,
            )
        )
    if config.relay is not None:
        services.extend(relays_for(store, config.relay))
    if pruner is not None:
        services.append(pruner)
    return services


def _replays(watcher: Watcher) -> Recover:
    """A stream gap longer than X's backfill becomes a replay job of each valid webhook the watcher knows (X
    replays what it delivered to a webhook); with none known, the consumer alerts instead."""

    async def recover(start: float, end: float) -> bool:
        webhooks = [status.webhook_id for status in watcher.health.statuses.values() if status.valid]
        for webhook_id in webhooks:
            watcher.recovery.request(webhook_id, Window(start, end, "stream"))
        return bool(webhooks)

    return recover


def open_sockets(config: ProcessConfig) -> list[socket.socket]:
    """The listening sockets `serve` needs: the receiver's, then the dashboard's when it has a port of its own.

    Raises:
        ConfigError: a port is already in use (the message names `--port` or `--dashboard-port`).
    """
    sockets = [listen_socket(config.host, config.port)]
    dashboard = config.dashboard
    if dashboard is not None and dashboard.port is not None:
        try:
            sockets.append(listen_socket(dashboard.host, dashboard.port, "--dashboard-port"))
        except ConfigError:
            sockets[0].close()
            raise
    return sockets


def serve(config: ProcessConfig, sockets: Sequence[socket.socket] | None = None) -> None:
    """Serve the receiver and every part `config` asks for, in this process, until interrupted.

    `sockets` come from `open_sockets(config)`, called here when not given.

    Raises:
        ConfigError: a port is already in use, or a part cannot run as configured.
        SystemExit: 0, after a SIGTERM has stopped everything gracefully.
    """
    listening = list(sockets) if sockets is not None else open_sockets(config)
    main, own = build_servers(config)
    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stopped) if on_main else None
    try:
        with asyncio.Runner(loop_factory=main.config.get_loop_factory()) as runner:
            runner.run(_serve_all(main, own, listening))
    finally:
        if on_main:
            signal.signal(signal.SIGTERM, previous)


def _stopped(signum: int, frame: object) -> None:
    """uvicorn raises the SIGTERM it caught again once its graceful shutdown is over (the lifespan's
    included): by then everything has stopped, so exit 0 instead of dying of the signal."""
    raise SystemExit(0)


async def _serve_all(main: uvicorn.Server, own: uvicorn.Server | None, sockets: list[socket.socket]) -> None:
    if own is None:
        await main.serve(sockets=sockets[:1])
        return
    task = asyncio.get_running_loop().create_task(own.serve(sockets=sockets[1:]))
    deadline = time.monotonic() + 10
    while not own.started and not task.done() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    if not own.started:
        task.cancel()
        raise ConfigError(f"the dashboard did not start on {own.config.host}:{own.config.port}; see the log above")
    try:
        await main.serve(sockets=sockets[:1])
    finally:
        own.should_exit = True
        await task
