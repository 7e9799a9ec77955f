"""`POST /2/dm_conversations/with/{participant_id}/messages`: a DM the app sends as its user.

X delivers DMs an app sends this way to its webhook too, so a bot's own replies come back as events: the
message is routed as an Account Activity `direct_message_events` event (to both users' subscriptions) and
as X Activity API `dm.sent` (sender) and `dm.received` (recipient).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xhooks.emulator._objects import dm_event
from xhooks.emulator.auth import Principal
from xhooks.emulator.errors import malformed
from xhooks.emulator.events import Factory
from xhooks.emulator.routing import route_aaa, route_xaa
from xhooks.emulator.web import Request, Response

if TYPE_CHECKING:
    from xhooks.emulator.app import Emulator

__all__ = ["APP_URL", "send_message"]

APP_URL = "https://example.com/xhooks-emulator-app"
"""The website the emulator's app is registered with (the `url` of its `apps` entry in DM events)."""


async def send_message(emu: Emulator, req: Request, who: Principal) -> Response:
    body = req.json()
    if set(body) - {"text", "attachments"} or not (body.get("text") or body.get("attachments")):
        raise malformed("The body needs `text` or `attachments`, and nothing else")
    text = body.get("text") or ""
    if not isinstance(text, str):
        raise malformed("`text` must be a string")
    sender = who.user
    recipient = emu.state.user(req.params["participant_id"])
    if sender is None or recipient is None:
        raise malformed(f"participant_id {req.params['participant_id']} is not a known user")
    now = emu.clock.now()
    dm_id = emu.new_id()
    event = dm_event(dm_id, sender, recipient, text, now)
    factory = Factory(emu.new_id, now, sender, recipient, text, who.app.id)
    app = {"id": who.app.id, "name": who.app.name, "url": APP_URL}
    sent_from = dm_event(dm_id, sender, recipient, text, now, who.app.id)
    route_aaa(factory.direct_message(sent_from, app), emu.state, emu.deliverer)
    sent = factory.xaa("dm.sent")
    route_xaa(
        type(sent)(sent.event_type, {**sent.payload, "direct_message_events": [event]}, sent.matches),
        emu.state,
        emu.deliverer,
        emu.new_id,
    )
    received = Factory(emu.new_id, now, recipient, sender, text, who.app.id).xaa("dm.received")
    route_xaa(
        type(received)(received.event_type, {**received.payload, "direct_message_events": [event]}, received.matches),
        emu.state,
        emu.deliverer,
        emu.new_id,
    )
    conversation = "-".join(sorted((sender.id, recipient.id), key=int))
    return Response({"data": {"dm_conversation_id": conversation, "dm_event_id": event["id"]}}, status=201)
