"""Run your handlers over stored events: a registry (`XHooks`), workers with leases, retries and dead letters."""

from xhooks.dispatch.loader import load_hooks
from xhooks.dispatch.registry import Context, Handler, XHooks
from xhooks.dispatch.runner import WorkerConfig, build_worker, redispatch, run_workers, workers_in_background
from xhooks.dispatch.worker import RetryPolicy, Worker

__all__ = [
    "Context",
    "Handler",
    "RetryPolicy",
    "Worker",
    "WorkerConfig",
    "XHooks",
    "build_worker",
    "load_hooks",
    "redispatch",
    "run_workers",
    "workers_in_background",
]
