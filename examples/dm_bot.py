"""A DM bot: it answers every Direct Message its user receives, and ignores its own replies when X echoes them.

A DM arrives as Account Activity (`direct_message_events`) or as X Activity (`dm.received`), whichever the
bot's user is subscribed to. X delivers the DMs a bot sends back to the bot's own webhook (`direct_message_events`
and `dm.sent` whose sender is the subscribed user). `XHooks(ignore_own_actions=True)` marks those `ignored`
without running a handler, so the bot never answers itself.

The quickest way to try it is `xhooks dev --app dm_bot:hooks`, then `xhooks trigger dm.received --text hi`.

Run it beside the receiver (from this folder), with the bot user's token and, for local work, the emulator:

```console
$ export XHOOKS_USER_TOKEN=…                  # the bot user's OAuth 2.0 token (or the four OAuth 1.0a values)
$ export XHOOKS_API_BASE=http://127.0.0.1:8090 # the emulator; leave unset for api.x.com
$ xhooks serve --consumer-secret "$SECRET" --app dm_bot:hooks
```
"""

from __future__ import annotations

from xhooks.client import DEFAULT_BASE_URL, AsyncXClient, Credentials
from xhooks.config import Settings
from xhooks.dispatch import Context, XHooks
from xhooks.protocol.events import DirectMessage, DmReceived

hooks = XHooks(ignore_own_actions=True)


def reply_to(text: str | None) -> str:
    return f"You said: {text}" if text else "You sent me something without text."


@hooks.on(DirectMessage)
async def answer(dm: DirectMessage, ctx: Context) -> None:
    """Reply to the sender. Runs at least once per DM: on a retry after a crash, the sender may get two replies."""
    await _reply(dm.sender_id, dm.text)


@hooks.on(DmReceived)
async def answer_activity(dm: DmReceived, ctx: Context) -> None:
    """The same for a DM delivered by the X Activity API."""
    for message in dm.messages:
        create = message.message_create
        if create is not None:
            await _reply(create.sender_id, create.message_data.text if create.message_data else None)


async def _reply(sender_id: str | None, text: str | None) -> None:
    if sender_id is None:
        return
    settings = Settings.load()
    base_url = str(settings.get("api_base", None, DEFAULT_BASE_URL))
    async with AsyncXClient(Credentials.load(settings), base_url=base_url) as x:
        await x.send_dm(sender_id, reply_to(text))
