"""Type aliases used across xhooks (ASGI, headers, JSON)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

Headers = list[tuple[str, str]]
"""HTTP headers as received: lower-cased names, values decoded as latin-1, order kept."""

JSONObject = dict[str, Any]
