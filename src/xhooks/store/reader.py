"""The store's reads for synchronous code (the CLI, scripts, sync tests): the async reads, run on a private loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from xhooks.store.base import (
    Attempt,
    CrcRecord,
    EventQuery,
    SinkStats,
    Span,
    Stats,
    Storage,
    Store,
    StoredDelivery,
    StoredEvent,
)
from xhooks.store.registry import open_store

__all__ = ["SyncReader", "open_reader"]

_T = TypeVar("_T")


class SyncReader:
    """Each read runs the store's own async read to completion on a private `asyncio.Runner`: one code path behind
    both facades. The runner's loop lives as long as the reader, so the engine's connections are reused between
    calls; `close()` (or leaving the `with` block) closes the store and the loop.

    The store need not be started (reads open what they need). Inside a running event loop, await the store's
    reads instead: a reader called there raises `RuntimeError`.

    ```python
    with open_reader("xhooks.db") as store:
        for event in store.events(EventQuery(status="dead")):
            print(event.id, event.last_error)
    ```
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._runner = asyncio.Runner()

    def __repr__(self) -> str:
        return f"SyncReader({self.store!r})"

    def events(self, query: EventQuery) -> Sequence[StoredEvent]:
        return self._run(self.store.events, query)

    def event(self, event_id: int) -> StoredEvent | None:
        return self._run(self.store.event, event_id)

    def delivery(self, delivery_id: int) -> StoredDelivery | None:
        return self._run(self.store.delivery, delivery_id)

    def sightings(self, event_id: int) -> Sequence[tuple[int, float]]:
        return self._run(self.store.sightings, event_id)

    def attempts(self, event_id: int) -> Sequence[Attempt]:
        return self._run(self.store.attempts, event_id)

    def stats(self) -> Stats:
        return self._run(self.store.stats)

    def sinks(self, since: float) -> Sequence[SinkStats]:
        return self._run(self.store.sinks, since)

    def storage(self) -> Storage:
        return self._run(self.store.storage)

    def spans(self, kind: str, since: float) -> Sequence[Span]:
        return self._run(self.store.spans, kind, since)

    def crcs(self, since: float, limit: int = 100) -> Sequence[CrcRecord]:
        return self._run(self.store.crcs, since, limit)

    def close(self) -> None:
        try:
            self._run(self.store.close)
        finally:
            self._runner.close()

    def _run(self, read: Callable[..., Coroutine[Any, Any, _T]], *args: Any) -> _T:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop running in this thread: the reader may run its own
            return self._runner.run(read(*args))
        raise RuntimeError(f"{self!r} was called inside a running event loop; await the store's own reads there")

    def __enter__(self) -> SyncReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def open_reader(url: str | Path) -> SyncReader:
    """A `SyncReader` over the store at `url` (a file path, `sqlite:///PATH` or `postgresql://…`), never started:
    it only reads.

    Raises:
        ConfigError: the URL names no engine, or the engine's optional dependency is missing.
    """
    return SyncReader(open_store(url))
