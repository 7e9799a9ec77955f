"""Filtered Stream webhook deliveries: one matched Post per POST, with `includes` and the rules it matched."""

from __future__ import annotations

from xhooks.protocol.events._base import Event, Post, _Model
from xhooks.protocol.events.activity import Includes

__all__ = ["MatchingRule", "StreamPost"]


class MatchingRule(_Model, frozen=True, kw_only=True):
    id: str | None = None
    tag: str | None = None


class StreamPost(Event, frozen=True, kw_only=True):
    """`filtered_stream.post`: `data` is the Post; `matching_rules` the stream rules it matched."""

    data: Post
    includes: Includes | None = None
    matching_rules: list[MatchingRule] | None = None

    @property
    def actor_id(self) -> str | None:
        return self.data.author_id
