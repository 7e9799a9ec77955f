"""The text a delivery carries, for one-line summaries (`xhooks listen`, `xhooks stream`, `xhooks dev`).

Posts, DMs and X Activity payloads all carry their words in a `text` field, at different depths; the first one
met depth first is the event's own in every shape X documents (a Post's `text` comes before its quoted Post's).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

__all__ = ["summary_text"]

_MAX_DEPTH = 8


def _first_text(value: Any, depth: int = 0) -> str | None:
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, dict):
        if isinstance(value.get("text"), str):
            return str(value["text"])
        items: Sequence[Any] = list(value.values())
    elif isinstance(value, list):
        items = value
    else:
        return None
    return next((text for item in items if (text := _first_text(item, depth + 1)) is not None), None)


def summary_text(body: bytes, width: int = 70) -> str:
    """The first `text` of `body` on one line, cut to `width` characters (`…` marks a cut); "" when it has none.

    ```python
    >>> summary_text(b'{"direct_message_events":[{"message_create":{"message_data":{"text":"hello\\\\nbot"}}}]}')
    'hello bot'
    ```
    """
    try:
        text = _first_text(msgspec.json.decode(body)) or ""
    except msgspec.DecodeError:
        return f"({len(body)} bytes, not JSON)"
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
