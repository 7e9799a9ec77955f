"""Turn a captured delivery into a test fixture: every id and token replaced, consistently, in one pass.

What counts as an id: the value of a member named `id`, `id_str`, `event_uuid`, `*_id`, `*_id_str` or `*_ids`
(a digit string, an integer, a negative number as X's `event_uuid`s are, or a UUID), and an object's member name
made of digits (`users` and `apps` maps are keyed by id). Each distinct id gets one stand-in of the same form
and length (digits stay digits, so the body still parses into the same models), the same wherever it appears;
so `for_user_id` still names the recipient, a reply still names its parent, and an id quoted inside any other
string (a URL, say) is replaced too. A member whose name holds `token` or `secret` becomes `"scrubbed"`.

Timestamps, counts, names and texts are kept: the handler under test should see the same content. The result
is compact JSON; the stand-ins are new ids, so the scrubbed event is a new event to the store's dedup, and
re-delivering it runs the handlers again.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import msgspec

__all__ = ["SCRUBBED", "scrub"]

SCRUBBED = "scrubbed"
"""What a token or secret becomes."""

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DIGITS = re.compile(r"-?\d+")
_MIN_DIGITS = 4  # shorter numbers are not ids worth hiding, and replacing them inside strings would hit years


def _is_id_name(name: str) -> bool:
    return name in ("id", "id_str", "event_uuid") or name.endswith(("_id", "_id_str", "_ids"))


def _is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return "token" in lowered or "secret" in lowered


class _Ids:
    """The stand-ins given so far, in order of first sight."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def stand_in(self, original: str) -> str:
        if original not in self.seen:
            number = len(self.seen) + 1
            if _UUID.fullmatch(original):
                self.seen[original] = str(uuid.UUID(int=number))
            else:
                sign, digits = ("-", original[1:]) if original.startswith("-") else ("", original)
                self.seen[original] = sign + str(10 ** (len(digits) - 1) + number)
        return self.seen[original]

    def is_id(self, value: str) -> bool:
        return bool(_UUID.fullmatch(value)) or (
            bool(_DIGITS.fullmatch(value)) and len(value.lstrip("-")) >= _MIN_DIGITS
        )


def _collect(value: Any, ids: _Ids, name: str = "") -> None:
    """Give every id of `value` its stand-in, in document order (so the numbering is stable)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if ids.is_id(key) and not _UUID.fullmatch(key):
                ids.stand_in(key)
            _collect(item, ids, key)
    elif isinstance(value, list):
        for item in value:
            _collect(item, ids, name)
    elif _is_id_name(name):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and ids.is_id(value):
            ids.stand_in(value)


def _replace(value: Any, ids: _Ids, pattern: re.Pattern[str] | None, name: str = "") -> Any:
    if isinstance(value, dict):
        return {ids.seen.get(key, key): _replace(item, ids, pattern, key) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, ids, pattern, name) for item in value]
    if _is_secret_name(name) and isinstance(value, str):
        return SCRUBBED
    if isinstance(value, int) and not isinstance(value, bool) and str(value) in ids.seen:
        return int(ids.seen[str(value)])
    if isinstance(value, str):
        if value in ids.seen:
            return ids.seen[value]
        if pattern is not None:
            return pattern.sub(lambda match: ids.seen[match.group(0)], value)
    return value


def scrub(body: bytes) -> bytes:
    """`body` (a delivery's JSON) with its ids and tokens replaced consistently; see the module docstring.

    ```python
    >>> scrub(b'{"for_user_id":"4337869213","follow_events":[{"target":{"id":"4337869213"}}]}')
    b'{"for_user_id":"1000000001","follow_events":[{"target":{"id":"1000000001"}}]}'
    ```

    Raises:
        ValueError: `body` is not JSON.
    """
    try:
        document = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    ids = _Ids()
    _collect(document, ids)
    # Longest first, whole numbers only: one id never rewrites part of a longer one.
    originals = sorted(ids.seen, key=len, reverse=True)
    pattern = re.compile("|".join(rf"(?<![\w-]){re.escape(o)}(?![\w-])" for o in originals)) if originals else None
    return msgspec.json.encode(_replace(document, ids, pattern))
