"""Run relays as a program (`xhooks relay`), or build them for a process that runs them as tasks of its own loop
(`relays_for`, what `xhooks serve --relay-to` needs). Each relay opens nothing of the store's: it is handed one."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xhooks.dispatch.worker import RetryPolicy
from xhooks.errors import ConfigError
from xhooks.relay.relay import Relay
from xhooks.relay.sink import Sink, open_sink
from xhooks.store import Store, open_store

__all__ = ["RelayConfig", "relays_for", "run_relays", "sinks_for"]


@dataclass
class RelayConfig:
    """What `xhooks relay` needs: the store, the sinks' URLs, and how to relay."""

    db: str | Path = "xhooks.db"
    to: Sequence[str] = ()
    only: tuple[str, ...] = ()
    batch: int = 256
    lease: float = 60.0
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(max_attempts=10, base=1.0, max_delay=600.0))


def sinks_for(config: RelayConfig) -> list[Sink]:
    """The sinks of `config.to`, built (not opened).

    Raises:
        ConfigError: no URL, two sinks of one name, or a URL no sink takes (see `open_sink`).
    """
    if not config.to:
        raise ConfigError("relay where? pass --to URL (http(s)://, redis://, nats://, amqp://), once per sink")
    sinks = [open_sink(url) for url in config.to]
    names = [sink.name for sink in sinks]
    if len(set(names)) != len(names):
        raise ConfigError(f"two sinks named {sorted(n for n in names if names.count(n) > 1)[0]!r}; name them #NAME")
    return sinks


def relays_for(store: Store, config: RelayConfig) -> list[Relay]:
    """One relay per URL of `config.to`, sharing `store` (raises as `sinks_for` does)."""
    return [
        Relay(store, sink, only=config.only, batch=config.batch, lease=config.lease, retry=config.retry)
        for sink in sinks_for(config)
    ]


def run_relays(config: RelayConfig) -> None:
    """Relay until SIGINT or SIGTERM; then finish the batches in flight and return."""

    async def main() -> None:
        store = open_store(config.db)
        relays = relays_for(store, config)  # a wrong URL fails before the store is opened
        await store.start()
        try:

            def stop() -> None:
                for relay in relays:
                    relay.stop()

            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*(relay.run() for relay in relays))
        finally:
            await store.close()

    asyncio.run(main())
