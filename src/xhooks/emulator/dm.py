"""Sending Direct Messages as the app's user, and blocking DMs from a user.

* `POST /2/dm_conversations/with/{participant_id}/messages`: to one user, in their one-to-one conversation;
* `POST /2/dm_conversations/{dm_conversation_id}/messages`: to a conversation the user is in;
* `POST /2/dm_conversations`: a new group with its first message (`conversation_type: Group`);
* `POST /2/users/{id}/dm/block` and `…/dm/unblock`: refuse or accept DMs from user `id`.

Each answers X's 201 `{"data":{"dm_conversation_id","dm_event_id"}}` and keeps the message for the lookups.
X delivers DMs an app sends this way to its webhook too, so a bot's own replies come back as events: a
one-to-one message is routed as an Account Activity `direct_message_events` event (to both users'
subscriptions, with the sending app in `apps`) and as X Activity API `dm.sent` (sender) and `dm.received`
(recipient). Group messages are kept but not delivered (Account Activity never carried them, and X documents
no X Activity payload for them). A user who blocked DMs from the sender makes the send a 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xhooks.emulator._objects import dm_event
from xhooks.emulator.auth import Principal
from xhooks.emulator.dm_store import DmEvent, one_to_one_id
from xhooks.emulator.errors import forbidden, invalid_value, malformed
from xhooks.emulator.events import Factory
from xhooks.emulator.routing import route_aaa, route_xaa
from xhooks.emulator.state import User
from xhooks.emulator.users import USER_ID
from xhooks.emulator.web import Request, Response

if TYPE_CHECKING:
    from xhooks.emulator.app import Emulator

__all__ = [
    "APP_URL",
    "block",
    "create_conversation",
    "known_user",
    "send_message",
    "send_to_conversation",
    "sender",
    "unblock",
]

APP_URL = "https://example.com/xhooks-emulator-app"
"""The website the emulator's app is registered with (the `url` of its `apps` entry in DM events)."""
MAX_TEXT = 10_000
GROUP_PARTICIPANTS = (2, 49)


def sender(who: Principal) -> User:
    """The user a DM endpoint acts for (every one of them takes user context only)."""
    if who.user is None:
        raise forbidden("Direct Messages need a user context")
    return who.user


def known_user(emu: Emulator, name: str, user_id: str) -> User:
    if not USER_ID.fullmatch(user_id):
        raise invalid_value(name, user_id, f"does not match ^{USER_ID.pattern}$")
    user = emu.state.user(user_id)
    if user is None:
        raise malformed(f"{name} {user_id} is not a known user", {name: [user_id]})
    return user


def _text(message: Any) -> str:
    """The text of a message body `{"text"?, "attachments"?}`; at least one of them, nothing else."""
    if not isinstance(message, dict) or set(message) - {"text", "attachments"}:
        raise malformed("The message needs `text` or `attachments`, and nothing else")
    text = message.get("text") or ""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise malformed(f"`text` must be a string of at most {MAX_TEXT} characters")
    if not (text or message.get("attachments")):
        raise malformed("The message needs `text` or `attachments`, and nothing else")
    return text


async def send_message(emu: Emulator, req: Request, who: Principal) -> Response:
    text, me = _text(req.json()), sender(who)
    recipient = known_user(emu, "participant_id", req.params["participant_id"])
    conversation_id = one_to_one_id(me.id, recipient.id)
    emu.state.dms.open(conversation_id, "one_to_one", [me.id, recipient.id], emu.clock.now())
    return _send(emu, who, conversation_id, text)


async def send_to_conversation(emu: Emulator, req: Request, who: Principal) -> Response:
    text, me = _text(req.json()), sender(who)
    conversation_id = req.params["dm_conversation_id"]
    if me.id not in emu.state.dms.participants(conversation_id):
        raise forbidden(f"You are not a participant of conversation {conversation_id}")
    return _send(emu, who, conversation_id, text)


async def create_conversation(emu: Emulator, req: Request, who: Principal) -> Response:
    body, me = req.json(), sender(who)
    if set(body) - {"conversation_type", "participant_ids", "message"} or body.get("conversation_type") != "Group":
        raise malformed("The body needs `conversation_type` Group, `participant_ids` and `message`")
    ids = body.get("participant_ids")
    low, high = GROUP_PARTICIPANTS
    if not isinstance(ids, list) or not low <= len(set(ids)) <= high or not all(isinstance(i, str) for i in ids):
        raise malformed(f"`participant_ids` must list {low} to {high} user ids")
    text = _text(body.get("message"))
    members = [me.id, *dict.fromkeys(known_user(emu, "participant_ids", user_id).id for user_id in ids)]
    conversation_id, now = emu.new_id(), emu.clock.now()
    emu.state.dms.open(conversation_id, "group", members, now)
    emu.state.dms.add(DmEvent(emu.new_id(), conversation_id, "ParticipantsJoin", me.id, None, tuple(members), now))
    return _send(emu, who, conversation_id, text)


def _send(emu: Emulator, who: Principal, conversation_id: str, text: str) -> Response:
    me, now = sender(who), emu.clock.now()
    others = [user_id for user_id in emu.state.dms.participants(conversation_id) if user_id != me.id]
    if any(emu.state.dms.blocks(user_id, me.id) for user_id in others):
        raise forbidden("You cannot send messages to this user")
    dm_id = emu.new_id()
    emu.state.dms.add(DmEvent(dm_id, conversation_id, "MessageCreate", me.id, text, (), now))
    recipient = emu.state.user(others[0]) if others else None
    if emu.state.dms.kind(conversation_id) == "one_to_one" and recipient is not None:
        _deliver(emu, who, me, recipient, dm_id, text, now)
    return Response({"data": {"dm_conversation_id": conversation_id, "dm_event_id": dm_id}}, status=201)


def _deliver(emu: Emulator, who: Principal, me: User, recipient: User, dm_id: str, text: str, now: float) -> None:
    event = dm_event(dm_id, me, recipient, text, now)
    factory = Factory(emu.new_id, now, me, recipient, text, who.app.id)
    app = {"id": who.app.id, "name": who.app.name, "url": APP_URL}
    sent_from = dm_event(dm_id, me, recipient, text, now, who.app.id)
    route_aaa(factory.direct_message(sent_from, app), emu.state, emu.deliverer)
    for made in (factory.xaa("dm.sent"), Factory(emu.new_id, now, recipient, me, text, who.app.id).xaa("dm.received")):
        payload = {**made.payload, "direct_message_events": [event]}
        route_xaa(
            type(made)(made.event_type, payload, made.matches),
            emu.state,
            emu.deliverer,
            emu.new_id,
            emu.config.event_uuid_style,
        )


async def block(emu: Emulator, req: Request, who: Principal) -> Response:
    emu.state.dms.set_blocked(sender(who).id, known_user(emu, "id", req.params["id"]).id, True)
    return Response({"data": {"blocked": True}})


async def unblock(emu: Emulator, req: Request, who: Principal) -> Response:
    emu.state.dms.set_blocked(sender(who).id, known_user(emu, "id", req.params["id"]).id, False)
    return Response({"data": {"blocked": False}})
