"""Direct Message lookups: `GET /2/dm_events`, `/2/dm_events/{event_id}`, the events of one conversation
(`/2/dm_conversations/{id}/dm_events`, `/2/dm_conversations/with/{participant_id}/dm_events`), and
`DELETE /2/dm_events/{event_id}`.

A user sees the events of the conversations they are in, from the past 30 days, newest first, in pages of
`max_results` (1 to 100, default 100) chained by `meta.next_token`; `event_types` narrows them. An event has
X's default fields (`id`, `event_type`, `text`) plus `dm_event.fields`; `expansions=sender_id` /
`participant_ids` puts those users in `includes.users` (https://docs.x.com/x-api/direct-messages/lookup/introduction).
Only the sender may delete a message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xhooks.emulator.auth import Principal
from xhooks.emulator.dm import known_user, sender
from xhooks.emulator.dm_store import DmEvent, one_to_one_id
from xhooks.emulator.errors import forbidden
from xhooks.emulator.fields import (
    DM_EVENT_DEFAULTS,
    DM_EVENT_EXPANSIONS,
    DM_EVENT_FIELDS,
    POST_FIELDS,
    USER_FIELDS,
    parse,
    select,
)
from xhooks.emulator.state import iso
from xhooks.emulator.users import not_found_problem, user_json
from xhooks.emulator.web import Request, Response

if TYPE_CHECKING:
    from xhooks.emulator.app import Emulator

__all__ = ["by_conversation", "by_id", "by_participant", "delete", "listing"]

EVENT_TYPES = ("MessageCreate", "ParticipantsJoin", "ParticipantsLeave")
LOOKBACK = 30 * 24 * 3600.0
MAX_RESULTS = 100


def _event_json(event: DmEvent) -> dict[str, Any]:
    full: dict[str, Any] = {"id": event.id, "event_type": event.event_type}
    if event.event_type == "MessageCreate":
        full.update(text=event.text, sender_id=event.sender_id)
    else:
        full["participant_ids"] = list(event.participant_ids)
    full.update(dm_conversation_id=event.conversation_id, created_at=iso(event.created_at))
    return full


def _render(emu: Emulator, req: Request, events: list[DmEvent]) -> dict[str, Any]:
    """`data` (and `includes`) for `events` with the request's fields and expansions."""
    wanted = parse("dm_event.fields", req.arg("dm_event.fields"), DM_EVENT_FIELDS)
    expansions = parse("expansions", req.arg("expansions"), DM_EVENT_EXPANSIONS)
    parse("user.fields", req.arg("user.fields"), USER_FIELDS)
    parse("tweet.fields", req.arg("tweet.fields"), POST_FIELDS)
    body: dict[str, Any] = {"data": [select(_event_json(event), DM_EVENT_DEFAULTS, wanted) for event in events]}
    user_ids: dict[str, None] = {}
    for event in events:
        if "sender_id" in expansions and event.event_type == "MessageCreate":
            user_ids[event.sender_id] = None
        if "participant_ids" in expansions:
            user_ids.update(dict.fromkeys(event.participant_ids))
    users = [user for user_id in user_ids if (user := emu.state.user(user_id)) is not None]
    if users:
        body["includes"] = {"users": [user_json(req, user) for user in users]}
    return body


def _page(emu: Emulator, req: Request, events: list[DmEvent]) -> Response:
    kinds = parse("event_types", req.arg("event_types"), EVENT_TYPES) or EVENT_TYPES
    events = [event for event in events if event.event_type in kinds]
    start, stop, next_token = req.page([event.id for event in events], MAX_RESULTS, MAX_RESULTS)
    page = events[start:stop]
    body = _render(emu, req, page) if page else {}
    meta: dict[str, Any] = {"result_count": len(page)}
    if next_token is not None:
        meta["next_token"] = next_token
    return Response({**body, "meta": meta})


def _visible(emu: Emulator, who: Principal, conversation_id: str | None = None) -> list[DmEvent]:
    return emu.state.dms.events(sender(who).id, conversation_id, emu.clock.now() - LOOKBACK)


async def listing(emu: Emulator, req: Request, who: Principal) -> Response:
    return _page(emu, req, _visible(emu, who))


async def by_participant(emu: Emulator, req: Request, who: Principal) -> Response:
    other = known_user(emu, "participant_id", req.params["participant_id"])
    return _page(emu, req, _visible(emu, who, one_to_one_id(sender(who).id, other.id)))


async def by_conversation(emu: Emulator, req: Request, who: Principal) -> Response:
    conversation_id = req.params["id"]
    if sender(who).id not in emu.state.dms.participants(conversation_id):
        raise forbidden(f"You are not a participant of conversation {conversation_id}")
    return _page(emu, req, _visible(emu, who, conversation_id))


def _event_for(emu: Emulator, who: Principal, event_id: str) -> DmEvent | None:
    """The event, if `who` is in its conversation."""
    event = emu.state.dms.event(event_id)
    if event is None or sender(who).id not in emu.state.dms.participants(event.conversation_id):
        return None
    return event


async def by_id(emu: Emulator, req: Request, who: Principal) -> Response:
    event_id = req.params["event_id"]
    event = _event_for(emu, who, event_id)
    if event is None:
        return Response({"errors": [not_found_problem("event_id", event_id, "dm_event")]})
    body = _render(emu, req, [event])
    return Response({**body, "data": body["data"][0]})


async def delete(emu: Emulator, req: Request, who: Principal) -> Response:
    event_id = req.params["event_id"]
    event = _event_for(emu, who, event_id)
    if event is None:
        return Response({"errors": [not_found_problem("event_id", event_id, "dm_event")]})
    if event.event_type != "MessageCreate" or event.sender_id != sender(who).id:
        raise forbidden("You can only delete Direct Messages you sent")
    emu.state.dms.delete(event.id)
    return Response({"data": {"deleted": True}})
