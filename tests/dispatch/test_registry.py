"""The registry: what runs for which event, and the catch-all for anything at all."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xhooks.dispatch import Context, XHooks
from xhooks.protocol import parse_envelope
from xhooks.protocol.events import Event, UnknownEvent, decode_event

CONTEXT = Context(None, "/webhook", "/webhook", 1, "k", 1, 1, 0.0)

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(doc=st.dictionaries(st.text(max_size=10), _json, max_size=4) | _json, raw=st.binary(max_size=32))
def test_any_shape_reaches_the_catch_all(doc: Any, raw: bytes) -> None:
    seen: list[Event] = []
    hooks = XHooks()
    hooks.on_any(lambda event, ctx: seen.append(event))
    for body in (msgspec.json.encode(doc), raw):
        refs = parse_envelope(body).events
        for ref in refs:
            assert asyncio.run(hooks.dispatch(decode_event(body, ref.index, ref.event_type), CONTEXT)) == 1
    assert len(seen) >= 2 and all(isinstance(event, Event) for event in seen)


def test_unknown_event_skips_typed_handlers_but_not_the_catch_all() -> None:
    hooks = XHooks()
    hooks.on(UnknownEvent)(lambda event, ctx: None)
    hooks.on("post.create")(lambda event, ctx: None)
    hooks.on_any(lambda event, ctx: None)
    event = decode_event(b'{"x":1}', 0, "unknown")
    assert len(hooks.handlers_for(event)) == 2


def test_empty_type_is_refused() -> None:
    with pytest.raises(ValueError):
        XHooks().on("")


@pytest.mark.parametrize("example", ["aaa.user_event.revoke.json", "xaa.oauth.revoke.json"])
def test_ignore_own_actions_still_runs_revoke_handlers(example: str) -> None:
    """A revoke names the revoking user as both actor and `for_user_id`, yet it is never an echo of the bot."""
    body = (Path(__file__).resolve().parents[1] / "fixtures" / "x-api" / "examples" / example).read_bytes()
    (ref,) = parse_envelope(body).events
    event = decode_event(body, ref.index, ref.event_type)
    assert event.for_user_id is not None and event.actor_id == event.for_user_id  # what made it look like an echo
    seen: list[Event] = []
    hooks = XHooks(ignore_own_actions=True)
    hooks.on(type(event))(lambda event, ctx: seen.append(event))
    assert not hooks.is_own_action(event) and not hooks.ignores(event)
    assert asyncio.run(hooks.dispatch(event, CONTEXT)) == 1 and seen == [event]
