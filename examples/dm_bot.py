"""A DM bot: it answers every Direct Message its user receives, and ignores its own replies when X echoes them.

X delivers the DMs a bot sends back to the bot's own webhook (as `direct_message_events` whose sender is the
subscribed user). `XHooks(ignore_own_actions=True)` drops those, so the bot never answers itself.

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
from xhooks.protocol.events import DirectMessage

hooks = XHooks(ignore_own_actions=True)


def reply_to(text: str | None) -> str:
    return f"You said: {text}" if text else "You sent me something without text."


@hooks.on(DirectMessage)
async def answer(dm: DirectMessage, ctx: Context) -> None:
    """Reply to the sender. Runs at least once per DM: on a retry after a crash, the sender may get two replies."""
    if dm.sender_id is None:
        return
    settings = Settings.load()
    base_url = str(settings.get("api_base", None, DEFAULT_BASE_URL))
    async with AsyncXClient(Credentials.load(settings), base_url=base_url) as x:
        await x.send_dm(dm.sender_id, reply_to(dm.text))
