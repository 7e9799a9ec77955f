"""The handlers the scale tests give `xhooks worker --app tests.scale._hooks:hooks`: one transactional handler
that records each event's effect as a row of `effects`, in the transaction that marks the event handled."""

from __future__ import annotations

import os

from xhooks.dispatch import Context, XHooks
from xhooks.protocol.events import Event

EFFECTS = "CREATE TABLE effects (seq bigserial PRIMARY KEY, event_id bigint, key text, for_user_id text, pid int)"
EFFECT = "INSERT INTO effects (event_id, key, for_user_id, pid) VALUES ($1, $2, $3, $4)"

hooks = XHooks()


@hooks.on(Event, transactional=True)
async def record_effect(event: Event, ctx: Context) -> None:
    await ctx.connection.execute(EFFECT, ctx.event_id, ctx.event_key, ctx.for_user_id, os.getpid())
