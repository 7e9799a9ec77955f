"""Run workers as a program: in the foreground (`xhooks worker`), or on a thread of their own beside other code
(`workers_in_background`). Each opens its own store by URL, so it works the same next to a receiver or on
another host (PostgreSQL). `xhooks serve --app` runs its worker as a task on the receiver's loop and store
instead (`xhooks.serving`), built by the same `build_worker`."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xhooks.dispatch.registry import XHooks
from xhooks.dispatch.worker import RetryPolicy, Worker
from xhooks.errors import StoreError, XhooksError
from xhooks.metrics import Metrics
from xhooks.service import Services
from xhooks.store import EventQuery, Store, open_store
from xhooks.store.pruner import background_pruner
from xhooks.store.retention import RetentionPolicy

__all__ = ["WorkerConfig", "build_worker", "redispatch", "run_workers", "workers_in_background"]


@dataclass
class WorkerConfig:
    """What `xhooks worker` and `xhooks serve --app` need besides the handlers (in `xhooks serve`, the store, the
    metrics and the retention are the process's: `db`, `metrics` and `retention` are not used). With `retention`,
    a worker run by `run_workers` or `workers_in_background` also prunes its store in the background."""

    db: str | Path = "xhooks.db"
    concurrency: int = 8
    lease: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    grace: float = 10.0
    paths: dict[str, str] = field(default_factory=dict)
    metrics: Metrics | None = None
    retention: RetentionPolicy | None = None


def build_worker(store: Store, hooks: XHooks, config: WorkerConfig) -> Worker:
    """The worker `config` describes, running `hooks` over `store` (`config.db` is not opened here).

    Raises:
        ConfigError: `config` is out of range, or transactional handlers meet a store that cannot share its
            transactions (SQLite).
    """
    return Worker(
        store,
        hooks,
        concurrency=config.concurrency,
        lease=config.lease,
        retry=config.retry,
        grace=config.grace,
        paths=config.paths,
        metrics=config.metrics,
    )


async def _run(config: WorkerConfig, hooks: XHooks, started: threading.Event | None, worker_box: list[Worker]) -> None:
    store = open_store(config.db)
    await store.start()
    pruner = background_pruner(store, config.retention, config.metrics)
    beside = Services([pruner] if pruner is not None else [])
    try:
        worker = build_worker(store, hooks, config)
        worker_box.append(worker)
        beside.start()
        if started is not None:
            started.set()
        await worker.run()
    finally:
        await beside.stop()
        await store.close()


def run_workers(config: WorkerConfig, hooks: XHooks) -> None:
    """Handle events until SIGINT or SIGTERM; then finish in-flight handlers (or release them after `grace`)."""

    async def main() -> None:
        box: list[Worker] = []
        task = asyncio.ensure_future(_run(config, hooks, None, box))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, lambda: box[0].stop() if box else task.cancel())
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())


@contextlib.contextmanager
def workers_in_background(config: WorkerConfig, hooks: XHooks) -> Iterator[Worker]:
    """Run a worker on its own thread, event loop and store for the duration of the `with` block; stop it
    gracefully at the end.

    Raises:
        StoreError: the store could not be opened.
    """
    started = threading.Event()
    box: list[Worker] = []
    loop = asyncio.new_event_loop()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            loop.run_until_complete(_run(config, hooks, started, box))
        except BaseException as exc:  # reported to the caller below
            failure.append(exc)
            started.set()
        finally:
            loop.close()

    thread = threading.Thread(target=target, name="xhooks-worker", daemon=True)
    thread.start()
    started.wait()
    if failure:
        thread.join()
        if isinstance(failure[0], XhooksError):
            raise failure[0]
        raise StoreError(f"the worker could not start: {failure[0]}") from failure[0]
    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _exit_gracefully) if on_main else None
    try:
        yield box[0]
    finally:
        loop.call_soon_threadsafe(box[0].stop)
        thread.join()
        if on_main:
            signal.signal(signal.SIGTERM, previous)


def _exit_gracefully(signum: int, frame: object) -> None:
    """SIGTERM during `workers_in_background` (uvicorn re-raises it after its own shutdown): leave the block
    through its exit, so in-flight handlers finish, instead of dying on the default action."""
    raise SystemExit(0)


def redispatch(db: str | Path, queries: Sequence[EventQuery], now: float | None = None) -> int:
    """Make the events matching any of `queries` due again (attempts reset; claimed events are left alone);
    return how many. A running worker picks them up.

    ```python
    redispatch("xhooks.db", [EventQuery(status="dead")])          # every dead letter
    redispatch("xhooks.db", [EventQuery(event_id=12), EventQuery(event_id=15)])
    ```
    """

    async def main() -> int:
        store = open_store(db)
        await store.start()
        try:
            at = time.time() if now is None else now
            return sum([await store.redispatch(query, at) for query in queries])
        finally:
            await store.close()

    return asyncio.run(main())
