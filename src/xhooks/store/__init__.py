"""The durable record of deliveries and events: one contract (`Store`), engines chosen by URL."""

from xhooks.store.base import (
    EVENT_STATUSES,
    ClaimedEvent,
    CrcRecord,
    Delivery,
    DeliveryPath,
    EventQuery,
    EventStatus,
    Intake,
    Span,
    Stats,
    Store,
    StoredDelivery,
    StoredEvent,
)
from xhooks.store.registry import STORE_ENGINES, open_store

__all__ = [
    "EVENT_STATUSES",
    "STORE_ENGINES",
    "ClaimedEvent",
    "CrcRecord",
    "Delivery",
    "DeliveryPath",
    "EventQuery",
    "EventStatus",
    "Intake",
    "Span",
    "Stats",
    "Store",
    "StoredDelivery",
    "StoredEvent",
    "open_store",
]
