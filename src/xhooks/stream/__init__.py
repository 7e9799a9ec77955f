"""The X Activity stream consumer: `GET /2/activity/stream` into the same store, and the same dedup keys, as the
webhook (docs/stream.md)."""

from xhooks.stream.consumer import AlertSink, OnRecord, Recover, StreamConfig, StreamConsumer
from xhooks.stream.lines import LineFramer, LineKind
from xhooks.stream.policy import Backoff, Cause, Gap, IllegalTransition, StreamState, plan_gap

__all__ = [
    "AlertSink",
    "Backoff",
    "Cause",
    "Gap",
    "IllegalTransition",
    "LineFramer",
    "LineKind",
    "OnRecord",
    "Recover",
    "StreamConfig",
    "StreamConsumer",
    "StreamState",
    "plan_gap",
]
