"""The durable record of deliveries and events: one contract (`Store`), engines chosen by URL, and `SyncReader`
for the reads of synchronous code."""

from xhooks.store.base import (
    EVENT_STATUSES,
    Attempt,
    ClaimedEvent,
    CrcRecord,
    Delivery,
    DeliveryPath,
    EventQuery,
    Intake,
    SinkStats,
    Span,
    Stats,
    Storage,
    Store,
    StoredDelivery,
    StoredEvent,
)
from xhooks.store.reader import SyncReader, open_reader
from xhooks.store.registry import STORE_ENGINES, open_store

__all__ = [
    "EVENT_STATUSES",
    "STORE_ENGINES",
    "Attempt",
    "ClaimedEvent",
    "CrcRecord",
    "Delivery",
    "DeliveryPath",
    "EventQuery",
    "Intake",
    "SinkStats",
    "Span",
    "Stats",
    "Storage",
    "Store",
    "StoredDelivery",
    "StoredEvent",
    "SyncReader",
    "open_reader",
    "open_store",
]
