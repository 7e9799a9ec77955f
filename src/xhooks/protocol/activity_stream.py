"""X's rules for the X Activity stream (`GET /2/activity/stream`) that the consumer and the emulator both use.

The sources are in docs/x-platform.md §13: a keep-alive at least every 20 seconds, `backfill_minutes` from 0 to 5,
two connections per app, and X's `TooManyConnections` problem for a third.
"""

from __future__ import annotations

__all__ = ["BACKFILL_LIMIT", "ENDPOINT_NAME", "KEEP_ALIVE_INTERVAL", "MAX_CONNECTIONS", "TOO_MANY_CONNECTIONS"]

BACKFILL_LIMIT = 5
"""The most `backfill_minutes` X takes."""
KEEP_ALIVE_INTERVAL = 20.0
"""Seconds between X's keep-alives when there is nothing else to send."""
MAX_CONNECTIONS = 2
"""Open connections an app may hold at once."""
TOO_MANY_CONNECTIONS = "TooManyConnections"
"""The `connection_issue` of the problem X answers to one connection too many."""
ENDPOINT_NAME = "activity_stream"
"""The activity stream's `endpoint_name` in `/2/connections` (**inferred**: X's published enum lists only the Post
and compliance streams)."""
