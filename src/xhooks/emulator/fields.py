"""X's `fields` and `expansions` parameters: which values each takes, and what an object looks like with them.

A v2 object carries its default fields (a Post: `id`, `text`, `edit_history_tweet_ids`; a user: `id`, `name`,
`username`; a DM event: `id`, `event_type`, `text`) plus the ones asked for in `tweet.fields`, `user.fields`
or `dm_event.fields`; `expansions` puts the objects it points to into `includes`
(https://docs.x.com/x-api/fundamentals/fields, https://docs.x.com/x-api/fundamentals/expansions). A value
outside X's list is X's 400 naming the parameter.
"""

from __future__ import annotations

from typing import Any

from xhooks.emulator.errors import invalid_value

__all__ = [
    "DM_EVENT_DEFAULTS",
    "DM_EVENT_EXPANSIONS",
    "DM_EVENT_FIELDS",
    "POST_DEFAULTS",
    "POST_EXPANSIONS",
    "POST_FIELDS",
    "USER_DEFAULTS",
    "USER_EXPANSIONS",
    "USER_FIELDS",
    "parse",
    "select",
]

POST_DEFAULTS = ("id", "text", "edit_history_tweet_ids")
USER_DEFAULTS = ("id", "name", "username")
POST_FIELDS = (
    "article",
    "attachments",
    "author_id",
    "card_uri",
    "community_id",
    "context_annotations",
    "conversation_id",
    "created_at",
    "display_text_range",
    "edit_controls",
    "edit_history_tweet_ids",
    "entities",
    "geo",
    "id",
    "in_reply_to_user_id",
    "lang",
    "media_metadata",
    "non_public_metrics",
    "note_tweet",
    "organic_metrics",
    "possibly_sensitive",
    "promoted_metrics",
    "public_metrics",
    "referenced_tweets",
    "reply_settings",
    "scopes",
    "source",
    "suggested_source_links",
    "text",
    "withheld",
)
USER_FIELDS = (
    "affiliation",
    "confirmed_email",
    "connection_status",
    "created_at",
    "description",
    "entities",
    "id",
    "is_identity_verified",
    "location",
    "most_recent_tweet_id",
    "name",
    "parody",
    "pinned_tweet_id",
    "profile_banner_url",
    "profile_image_url",
    "protected",
    "public_metrics",
    "receives_your_dm",
    "subscription",
    "subscription_type",
    "url",
    "username",
    "verified",
    "verified_followers_count",
    "verified_type",
    "withheld",
)
POST_EXPANSIONS = (
    "article.cover_media",
    "article.media_entities",
    "attachments.media_keys",
    "attachments.media_source_tweet",
    "attachments.poll_ids",
    "author_id",
    "edit_history_tweet_ids",
    "entities.mentions.username",
    "entities.note.mentions.username",
    "geo.place_id",
    "in_reply_to_user_id",
    "referenced_tweets.id",
    "referenced_tweets.id.attachments.media_keys",
    "referenced_tweets.id.author_id",
)
USER_EXPANSIONS = ("affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id")
DM_EVENT_DEFAULTS = ("id", "event_type", "text")
DM_EVENT_FIELDS = (
    "attachments",
    "created_at",
    "dm_conversation_id",
    "entities",
    "event_type",
    "id",
    "participant_ids",
    "referenced_tweets",
    "sender_id",
    "text",
)
DM_EVENT_EXPANSIONS = ("attachments.media_keys", "participant_ids", "referenced_tweets.id", "sender_id")


def parse(name: str, raw: str | None, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """The comma-separated values of query parameter `name`; X's 400 when one is not in `allowed`.

    Raises:
        ApiError: 400 invalid-request naming the parameter and the value.
    """
    if raw is None:
        return ()
    values = tuple(part for part in raw.split(","))
    for value in values:
        if value not in allowed:
            raise invalid_value(name, value, f"is not one of [{','.join(allowed)}]")
    return values


def select(obj: dict[str, Any], defaults: tuple[str, ...], wanted: tuple[str, ...]) -> dict[str, Any]:
    """`obj` cut down to its default fields and the `wanted` ones it has, in `obj`'s order."""
    keep = set(defaults) | set(wanted)
    return {name: value for name, value in obj.items() if name in keep}
