"""xhooks: the Python toolkit for X (Twitter) API v2 webhooks.

Receive (CRC, signatures, durable intake, dedup), dispatch to handlers, manage webhooks and
subscriptions, keep them valid, and emulate X's side offline. The names users write first live here:

```python
from xhooks import Context, DirectMessage, XHooks

hooks = XHooks()

@hooks.on(DirectMessage)
async def answer(dm: DirectMessage, ctx: Context) -> None:
    print(ctx.for_user_id, dm.text)
```

Each name is imported from its module on first use, so `import xhooks` (and so the `xhooks` command) does not
load the server, the HTTP client and every event model before it needs them.
"""

from __future__ import annotations

import importlib
import typing

__version__ = "0.1.0"  # the package version: pyproject.toml reads it from here

if typing.TYPE_CHECKING:
    from xhooks.client import AsyncXClient, Credentials, XClient
    from xhooks.dispatch import Context, XHooks
    from xhooks.errors import (
        ConfigError,
        InvalidCrcToken,
        SignatureMismatch,
        SignatureMissing,
        StoreError,
        VerificationError,
        XhooksError,
    )
    from xhooks.protocol import crc_response, parse_envelope, signature, verify
    from xhooks.protocol.events import (
        ActivityBlock,
        ActivityEvent,
        ActivityFollow,
        ActivityMute,
        ActivityUnblock,
        ActivityUnfollow,
        ActivityUnmute,
        ActivityUserAction,
        Block,
        BroadcastChat,
        BroadcastEnd,
        BroadcastStart,
        ChatConversation,
        ChatReceived,
        ChatSent,
        ChatUpdate,
        DirectMessage,
        DirectMessageRead,
        DirectMessageTyping,
        DmRead,
        DmReceived,
        DmSent,
        DmTyping,
        Event,
        Favorite,
        Follow,
        LikeCreate,
        Mute,
        NewsNew,
        OAuthRevoke,
        PostCreate,
        PostDelete,
        PostEvent,
        PostMentionCreate,
        PostQuoteCreate,
        PostReplyCreate,
        PostRepostCreate,
        ProfileUpdate,
        ReplayJobStatus,
        Revoke,
        SpacesEnd,
        SpacesStart,
        StreamPost,
        TweetCreate,
        TweetDelete,
        Unblock,
        Unfollow,
        UnknownEvent,
        Unmute,
        UserAction,
    )
    from xhooks.receiver import AppConfig, Receiver, ServeConfig
    from xhooks.serving import ProcessConfig, serve
    from xhooks.store import Store, open_store

# Where each name of `__all__` lives; a name not listed here is an event model of `xhooks.protocol.events`.
_HOMES: dict[str, tuple[str, ...]] = {
    "xhooks.client": ("AsyncXClient", "Credentials", "XClient"),
    "xhooks.dispatch": ("Context", "XHooks"),
    "xhooks.errors": (
        "ConfigError",
        "InvalidCrcToken",
        "SignatureMismatch",
        "SignatureMissing",
        "StoreError",
        "VerificationError",
        "XhooksError",
    ),
    "xhooks.protocol": ("crc_response", "parse_envelope", "signature", "verify"),
    "xhooks.receiver": ("AppConfig", "Receiver", "ServeConfig"),
    "xhooks.serving": ("ProcessConfig", "serve"),
    "xhooks.store": ("Store", "open_store"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "ActivityBlock",
    "ActivityEvent",
    "ActivityFollow",
    "ActivityMute",
    "ActivityUnblock",
    "ActivityUnfollow",
    "ActivityUnmute",
    "ActivityUserAction",
    "AppConfig",
    "AsyncXClient",
    "Block",
    "BroadcastChat",
    "BroadcastEnd",
    "BroadcastStart",
    "ChatConversation",
    "ChatReceived",
    "ChatSent",
    "ChatUpdate",
    "ConfigError",
    "Context",
    "Credentials",
    "DirectMessage",
    "DirectMessageRead",
    "DirectMessageTyping",
    "DmRead",
    "DmReceived",
    "DmSent",
    "DmTyping",
    "Event",
    "Favorite",
    "Follow",
    "InvalidCrcToken",
    "LikeCreate",
    "Mute",
    "NewsNew",
    "OAuthRevoke",
    "PostCreate",
    "PostDelete",
    "PostEvent",
    "PostMentionCreate",
    "PostQuoteCreate",
    "PostReplyCreate",
    "PostRepostCreate",
    "ProcessConfig",
    "ProfileUpdate",
    "Receiver",
    "ReplayJobStatus",
    "Revoke",
    "ServeConfig",
    "SignatureMismatch",
    "SignatureMissing",
    "SpacesEnd",
    "SpacesStart",
    "Store",
    "StoreError",
    "StreamPost",
    "TweetCreate",
    "TweetDelete",
    "Unblock",
    "Unfollow",
    "UnknownEvent",
    "Unmute",
    "UserAction",
    "VerificationError",
    "XClient",
    "XHooks",
    "XhooksError",
    "__version__",
    "crc_response",
    "open_store",
    "parse_envelope",
    "serve",
    "signature",
    "verify",
]

if not typing.TYPE_CHECKING:  # hidden from type checkers, which see the imports above and flag unknown names

    def __getattr__(name: str) -> object:
        if name not in __all__:
            raise AttributeError(f"module 'xhooks' has no attribute {name!r}")
        value = getattr(importlib.import_module(_HOME_OF.get(name, "xhooks.protocol.events")), name)
        globals()[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
