"""The X Activity API's event types, in X's own names.

`EVENT_TYPES` is the `event_type` enum of X's OpenAPI (2.167): what a subscription may ask for.
`oauth.revoke` is delivered (the event-payload pages show it) but is not in that enum, so it cannot be
subscribed to. `chat.conversation_join` is a deprecated alias X still accepts; responses use the
canonical name.
"""

__all__ = ["ALIASES", "DELIVERED_ONLY", "EVENT_TYPES"]

EVENT_TYPES: tuple[str, ...] = (
    "profile.update.bio",
    "profile.update.profile_picture",
    "profile.update.banner_picture",
    "profile.update.screenname",
    "profile.update.geo",
    "profile.update.url",
    "profile.update.verified_badge",
    "profile.update.affiliate_badge",
    "profile.update.handle",
    "news.new",
    "follow.follow",
    "follow.unfollow",
    "spaces.start",
    "spaces.end",
    "broadcast.start",
    "broadcast.end",
    "broadcast.chat",
    "chat.received",
    "chat.sent",
    "chat.conversation.join",
    "chat.conversation.member_added",
    "chat.conversation.member_removed",
    "chat.conversation.admin_added",
    "chat.conversation.admin_removed",
    "chat.update.group_name",
    "chat.update.restrictions",
    "dm.sent",
    "dm.received",
    "dm.indicate_typing",
    "dm.read",
    "post.create",
    "post.delete",
    "post.mention.create",
    "post.reply.create",
    "post.quote.create",
    "post.repost.create",
    "like.create",
    "mute.mute",
    "mute.unmute",
    "block.block",
    "block.unblock",
)

DELIVERED_ONLY: tuple[str, ...] = ("oauth.revoke",)

ALIASES: dict[str, str] = {"chat.conversation_join": "chat.conversation.join"}
