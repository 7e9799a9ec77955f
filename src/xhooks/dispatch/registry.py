"""The handler registry: which of your functions run for which event.

```python
hooks = XHooks(ignore_own_actions=True)

@hooks.on(DirectMessage)                 # by model class (subclasses match too)
async def answer(event: DirectMessage, ctx: Context) -> None: ...

@hooks.on("post.create")                 # by X's event type; "profile.update" matches every profile.update.*
def log_post(event: PostCreate, ctx: Context) -> None: ...   # sync handlers run in a thread

@hooks.on_any                            # every event, typed or not (UnknownEvent included)
async def audit(event: Event, ctx: Context) -> None: ...
```

An event's handlers run one after the other, in registration order. If one raises, the event is retried
and all of them run again: handlers must tolerate running more than once (delivery is at least once).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from xhooks.protocol.events import Event

__all__ = ["Context", "Handler", "XHooks"]


@dataclass(frozen=True)
class Context:
    """Where an event came from and which attempt this is."""

    for_user_id: str | None
    """The subscribed user the event was delivered for (AAA `for_user_id`, XAA `filter.user_id`)."""
    app: str
    """The receiving app's name in the store (its webhook path unless named otherwise)."""
    path: str
    """The webhook path the delivery arrived on."""
    event_id: int
    event_key: str
    delivery_id: int
    attempt: int
    """1 on the first run, 2 on the first retry …"""
    received_at: float
    """Epoch seconds when the receiver got the delivery."""


Handler = Callable[[Any, Context], Awaitable[None] | None]
_H = TypeVar("_H", bound=Handler)


class XHooks:
    """A set of handlers, given to a worker (`xhooks worker --app module:hooks`, or `Worker(store, hooks)`).

    `ignore_own_actions`: skip events whose actor is the subscribed user itself (a bot's own DM, Post or
    follow echoed back by X), so a bot does not answer itself. Such events are still marked handled.
    """

    def __init__(self, *, ignore_own_actions: bool = False) -> None:
        self.ignore_own_actions = ignore_own_actions
        self._routes: list[tuple[type[Event] | str | None, Handler]] = []

    def on(self, kind: type[Event] | str) -> Callable[[_H], _H]:
        """Register a handler for a model class (and its subclasses) or an event type (exact, or a dotted prefix)."""
        if isinstance(kind, str) and not kind:
            raise ValueError("an empty event type would match nothing; use on_any for every event")

        def register(handler: _H) -> _H:
            self._routes.append((kind, handler))
            return handler

        return register

    def on_any(self, handler: _H) -> _H:
        """Register a handler for every event, including `UnknownEvent`."""
        self._routes.append((None, handler))
        return handler

    def handlers_for(self, event: Event) -> list[Handler]:
        return [handler for kind, handler in self._routes if _matches(kind, event)]

    def is_own_action(self, event: Event) -> bool:
        """True when the event's actor is the user it was delivered for."""
        return event.for_user_id is not None and event.actor_id == event.for_user_id

    async def dispatch(self, event: Event, context: Context) -> int:
        """Run the handlers for `event` in order; return how many ran. Errors propagate (the worker retries)."""
        if self.ignore_own_actions and self.is_own_action(event):
            return 0
        handlers = self.handlers_for(event)
        for handler in handlers:
            if inspect.iscoroutinefunction(handler):
                await handler(event, context)
            else:
                result = await asyncio.to_thread(handler, event, context)
                if inspect.isawaitable(result):
                    await result
        return len(handlers)


def _matches(kind: type[Event] | str | None, event: Event) -> bool:
    if kind is None:
        return True
    if isinstance(kind, str):
        return event.event_type == kind or event.event_type.startswith(kind + ".")
    return isinstance(event, kind)
