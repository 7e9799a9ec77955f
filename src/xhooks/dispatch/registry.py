"""The handler registry: which of your functions run for which event.

```python
hooks = XHooks(ignore_own_actions=True)

@hooks.on(DirectMessage)                 # by model class (subclasses match too)
async def answer(event: DirectMessage, ctx: Context) -> None: ...

@hooks.on("post.create")                 # by X's event type; "profile.update" matches every profile.update.*
def log_post(event: PostCreate, ctx: Context) -> None: ...   # sync handlers run in a thread

@hooks.on_any                            # every event, typed or not (UnknownEvent included)
async def audit(event: Event, ctx: Context) -> None: ...

@hooks.on(PostCreate, transactional=True)   # PostgreSQL: writes commit with the "handled" mark, exactly once
async def count(event: PostCreate, ctx: Context) -> None:
    await ctx.connection.execute("UPDATE totals SET posts = posts + 1 WHERE user_id = $1", ctx.for_user_id)
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

from xhooks.errors import ConfigError
from xhooks.protocol.events import Event, OAuthRevoke, Revoke

__all__ = ["Context", "Handler", "XHooks", "type_matches"]


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
    connection: Any = None
    """For an event with a transactional handler: the store's connection inside the transaction that marks the
    event handled (PostgreSQL: an `asyncpg.Connection`); None otherwise."""


Handler = Callable[[Any, Context], Awaitable[None] | None]
_H = TypeVar("_H", bound=Handler)


class XHooks:
    """A set of handlers, given to a worker (`xhooks worker --app module:hooks`, or `Worker(store, hooks)`).

    `ignore_own_actions`: skip events whose actor is the subscribed user itself (a bot's own DM, Post or
    follow echoed back by X), so a bot does not answer itself. Such events are marked `ignored`, not `handled`.
    """

    def __init__(self, *, ignore_own_actions: bool = False) -> None:
        self.ignore_own_actions = ignore_own_actions
        self._routes: list[tuple[type[Event] | str | None, Handler]] = []
        self._transactional: set[int] = set()  # indexes into _routes

    def on(self, kind: type[Event] | str, *, transactional: bool = False) -> Callable[[_H], _H]:
        """Register a handler for a model class (and its subclasses) or an event type (exact, or a dotted prefix).

        `transactional=True` (PostgreSQL store only; async handlers only): the worker runs every handler of a
        matching event inside one database transaction (`Store.completing`) and gives them its connection as
        `ctx.connection`. Their writes on it commit together with the event's "handled" mark, so an effect kept
        in the same database happens exactly once even when workers die. A handler that raises rolls the
        transaction back and the event is retried (or dead-lettered) as usual; a lost lease rolls it back too.
        A worker on an engine that cannot share its transaction (SQLite) refuses to start (`ConfigError`).

        Raises:
            ConfigError: `transactional=True` on a handler that is not `async def`.
        """
        if isinstance(kind, str) and not kind:
            raise ValueError("an empty event type would match nothing; use on_any for every event")

        def register(handler: _H) -> _H:
            if transactional and not inspect.iscoroutinefunction(handler):
                raise ConfigError(
                    f"transactional handler {handler.__name__} must be async def (the connection is async)"
                )
            if transactional:
                self._transactional.add(len(self._routes))
            self._routes.append((kind, handler))
            return handler

        return register

    def on_any(self, handler: _H) -> _H:
        """Register a handler for every event, including `UnknownEvent`."""
        self._routes.append((None, handler))
        return handler

    def handlers_for(self, event: Event) -> list[Handler]:
        return [handler for kind, handler in self._routes if _matches(kind, event)]

    @property
    def transactional(self) -> bool:
        """True when any handler was registered with `transactional=True`."""
        return bool(self._transactional)

    def is_transactional(self, event: Event) -> bool:
        """True when a transactional handler matches `event`: the worker then runs its handlers in a transaction."""
        return any(_matches(self._routes[index][0], event) for index in self._transactional)

    def is_own_action(self, event: Event) -> bool:
        """True when the event's actor is the user it was delivered for. A revoke (`user_event.revoke`,
        `oauth.revoke`) never is: the user who revoked is the one it is for, but it is no echo of the bot's own
        activity, and its handlers (erasing the user's data, say) must run."""
        if isinstance(event, (Revoke, OAuthRevoke)):
            return False
        return event.for_user_id is not None and event.actor_id == event.for_user_id

    def ignores(self, event: Event) -> bool:
        """True when no handler runs for `event` because of how the registry was made (`ignore_own_actions`);
        the worker then marks it `ignored`."""
        return self.ignore_own_actions and self.is_own_action(event)

    async def dispatch(self, event: Event, context: Context) -> int:
        """Run the handlers for `event` in order; return how many ran. Errors propagate (the worker retries)."""
        if self.ignores(event):
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


def type_matches(kind: str, event_type: str) -> bool:
    """True when `event_type` is `kind` or a dotted subtype of it (`profile.update` matches `profile.update.bio`)."""
    return event_type == kind or event_type.startswith(kind + ".")


def _matches(kind: type[Event] | str | None, event: Event) -> bool:
    if kind is None:
        return True
    if isinstance(kind, str):
        return type_matches(kind, event.event_type)
    return isinstance(event, kind)
