"""Relay committed X events to the rest of a stack: HTTP (Standard Webhooks), Redis Streams, NATS JetStream,
RabbitMQ; one `Sink` contract, a sink chosen by URL (`open_sink`), at least once and in each user's order."""

from xhooks.relay.message import Format, Message, build_message
from xhooks.relay.relay import Relay, RelayCounts, parse_only
from xhooks.relay.runner import RelayConfig, relays_for, run_relays, sinks_for
from xhooks.relay.sink import NOT_SENT, SINKS, Failure, Sink, open_sink, send_in_order

__all__ = [
    "NOT_SENT",
    "SINKS",
    "Failure",
    "Format",
    "Message",
    "Relay",
    "RelayConfig",
    "RelayCounts",
    "Sink",
    "build_message",
    "open_sink",
    "parse_only",
    "relays_for",
    "run_relays",
    "send_in_order",
    "sinks_for",
]
