"""xhooks: the Python toolkit for X (Twitter) API v2 webhooks.

Receive (CRC, signatures, durable intake, dedup), dispatch to handlers, manage webhooks and
subscriptions, keep them valid, and emulate X's side offline.
"""

from xhooks.errors import (
    ConfigError,
    InvalidCrcToken,
    SignatureMismatch,
    SignatureMissing,
    StoreError,
    VerificationError,
    XhooksError,
)
from xhooks.protocol import crc_response, parse_envelope, signature, verify
from xhooks.receiver import AppConfig, Receiver, ServeConfig, serve
from xhooks.store import Store, open_store

__version__ = "0.1.0"

__all__ = [
    "AppConfig",
    "ConfigError",
    "InvalidCrcToken",
    "Receiver",
    "ServeConfig",
    "SignatureMismatch",
    "SignatureMissing",
    "Store",
    "StoreError",
    "VerificationError",
    "XhooksError",
    "__version__",
    "crc_response",
    "open_store",
    "parse_envelope",
    "serve",
    "signature",
    "verify",
]
