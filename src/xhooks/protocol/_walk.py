"""Where the events sit in a delivered body: the one walk that `envelope` (keys) and `events.decode` (models) share.

An event's `index` is its position in `aaa_items` (Account Activity) or 0 (one event per X Activity or
Filtered Stream body): the envelope records it, the decoder finds the event again by it, so both must
walk the body the same way, and they do by calling these functions.
"""

from __future__ import annotations

from typing import Any

__all__ = ["aaa_items", "aaa_user_id", "activity_data", "activity_user_id", "field", "text"]


def text(value: Any) -> str | None:
    """An id or string as X sends it (a non-empty string, or an integer), else None."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def field(obj: Any, *path: str) -> Any:
    """`obj[path[0]][path[1]]…`, or None where an object or a name is missing."""
    for name in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(name)
    return obj


def aaa_items(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every Account Activity event in `doc` as `(name, item)`, in index order.

    First the items of each `*_events` array (named by the array), in body order; then the objects that are
    one event each: `user_event.revoke` and `replay_job_status`.
    """
    items = [
        (name, item)
        for name, value in doc.items()
        if name.endswith("_events") and isinstance(value, list)
        for item in value
    ]
    revoke = field(doc, "user_event", "revoke")
    if isinstance(revoke, dict):
        items.append(("user_event.revoke", revoke))
    status = doc.get("replay_job_status")
    if isinstance(status, dict):
        items.append(("replay_job_status", status))
    return items


def aaa_user_id(doc: dict[str, Any], name: str, item: Any) -> str | None:
    """The user an Account Activity event is for: the body's `for_user_id`, except for the objects that
    have none (a revoke is for the user who revoked, `source.user_id`; a replay job status is for no user)."""
    if name == "user_event.revoke":
        return text(field(item, "source", "user_id"))
    if name == "replay_job_status":
        return None
    return text(doc.get("for_user_id"))


def activity_data(doc: Any) -> dict[str, Any] | None:
    """`data` of an X Activity API event body, or None. A management API answer about a subscription
    (`{"data":{"subscription_id","event_type",…}}`) names an `event_type` too but is not an event."""
    data = doc.get("data") if isinstance(doc, dict) else None
    if isinstance(data, dict) and "event_type" in data and "subscription_id" not in data:
        return data
    return None


def activity_user_id(data: dict[str, Any]) -> str | None:
    """The user an X Activity event is for: its subscription filter's `user_id`, or `payload.user_id` for
    `oauth.revoke`, whose filter is `{}`."""
    if data.get("event_type") == "oauth.revoke":
        return text(field(data, "payload", "user_id"))
    return text(field(data, "filter", "user_id"))
