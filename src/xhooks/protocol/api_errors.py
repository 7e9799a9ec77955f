"""Read X's error bodies: the problem object and the webhook "reason".

X answers a failed webhook call with a standard v2 problem object whose reason is *not* a field of
its own but the prefix of `errors[].message` (PLATFORM-NOTES §2.8):

```json
{"errors": [{"message": "CrcValidationFailed: Invalid response_token"}],
 "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
 "type": "https://api.twitter.com/2/problems/invalid-request"}
```

The reason is the text before the first `": "`, and only when it looks like one of X's reason names
(a CamelCase word, e.g. `WebhookLimitExceeded: ` with empty details). Generic problems
(`{"title": "Unauthorized", "type": "about:blank", "status": 401}`) have no reason. A few bodies carry
a top-level `reason` (`client-not-enrolled` on a 403); that is used when no message names one.
Bodies that are not JSON, or not objects, parse to an empty `Problem`: the status code still speaks.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

__all__ = ["Problem", "parse_problem"]

_REASON = re.compile(r"([A-Z][A-Za-z]+):\s*(.*)", re.DOTALL)
_decoder = msgspec.json.Decoder()


class Problem(msgspec.Struct, frozen=True):
    """What an error body says, every field optional."""

    title: str | None = None
    detail: str | None = None
    type: str | None = None
    reason: str | None = None
    """X's reason name, e.g. `DuplicateUrlFailed`."""
    message: str | None = None
    """The text after `<Reason>: `, or the first error message when it names no reason."""
    messages: tuple[str, ...] = ()
    """Every `errors[].message`, in order."""


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_problem(body: bytes) -> Problem:
    """Parse an error body; never raises.

    ```python
    >>> p = parse_problem(b'{"errors":[{"message":"WebhookLimitExceeded: "}],"title":"Invalid Request"}')
    >>> p.reason, p.message, p.title
    ('WebhookLimitExceeded', '', 'Invalid Request')
    ```
    """
    try:
        doc = _decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return Problem()
    if not isinstance(doc, dict):
        return Problem()
    errors = doc.get("errors")
    items = errors if isinstance(errors, list) else []
    messages = tuple(m for item in items if isinstance(item, dict) and (m := _text(item.get("message"))) is not None)
    reason: str | None = None
    message: str | None = messages[0] if messages else None
    for text in messages:
        match = _REASON.fullmatch(text)
        if match:
            reason, message = match.group(1), match.group(2)
            break
    return Problem(
        title=_text(doc.get("title")),
        detail=_text(doc.get("detail")),
        type=_text(doc.get("type")),
        reason=reason or _text(doc.get("reason")),
        message=message,
        messages=messages,
    )
