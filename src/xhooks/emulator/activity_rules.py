"""X Activity API rules for creating a subscription: who may ask for which `event_type`, with which filter.

Theory (docs/emulator.md, "X Activity API rules", has the table and its sources):

* Public events (profile, posts, follows, Spaces, broadcasts, news) can be subscribed with the app's Bearer
  token. Private events (`dm.*`, `chat.*`, `like.*`, `mute.*`, `block.*`) need the monitored user's own user
  context: X refuses the app Bearer token, and `filter.user_id` must be the user who authorized the app.
* An OAuth 2.0 user token must hold the scope of the event's family: `dm.read` for `dm.*` and `chat.*`,
  `like.read`, `mute.read`, `block.read`, and `tweet.read` for every other type. OAuth 1.0a user tokens carry
  the app's permissions instead of scopes.
* `direction` is for directional events only (X's OpenAPI: "Optional direction filter for directional
  events"): `follow.*` and `like.*` take `inbound` / `outbound`; `dm.*` and `chat.*` take `sent` / `received`
  (X's changelog) as well as the OpenAPI's `inbound` / `outbound`. `mute.*` and `block.*` are actor-only, and
  profile, post, Spaces, broadcast and news events have no direction: any `direction` is X's 400.
  `canonical_direction` maps each accepted value to the one the routing compares.
"""

from __future__ import annotations

from xhooks.emulator.auth import Kind, Principal, require_scopes
from xhooks.emulator.errors import forbidden, invalid_value, unsupported_auth

__all__ = ["PRIVATE_FAMILIES", "canonical_direction", "check_access", "check_direction", "family", "scope_for"]

PRIVATE_FAMILIES = frozenset({"dm", "chat", "like", "mute", "block"})
DIRECTIONAL_FAMILIES = frozenset({"follow", "like", "dm", "chat"})
SCOPES = {"dm": "dm.read", "chat": "dm.read", "like": "like.read", "mute": "mute.read", "block": "block.read"}
DIRECTIONS = {"inbound": "inbound", "outbound": "outbound"}
MESSAGE_DIRECTIONS = {**DIRECTIONS, "sent": "outbound", "received": "inbound"}


def family(event_type: str) -> str:
    """`dm` for `dm.sent`, `post` for `post.mention.create`."""
    return event_type.split(".", 1)[0]


def scope_for(event_type: str) -> str:
    return SCOPES.get(family(event_type), "tweet.read")


def _directions(event_type: str) -> dict[str, str]:
    kind = family(event_type)
    if kind not in DIRECTIONAL_FAMILIES:
        return {}
    return MESSAGE_DIRECTIONS if kind in ("dm", "chat") else DIRECTIONS


def canonical_direction(event_type: str, direction: str | None) -> str | None:
    """`inbound` / `outbound` for an accepted `direction` of `event_type`, None when the filter has none."""
    return _directions(event_type).get(direction) if direction is not None else None


def check_direction(event_type: str, direction: str | None) -> None:
    """Raise X's 400 unless `direction` is absent or one `event_type` accepts."""
    if direction is None:
        return
    accepted = _directions(event_type)
    if not accepted:
        raise invalid_value("filter.direction", direction, f"is not supported for {family(event_type)}.* events")
    if direction not in accepted:
        raise invalid_value("filter.direction", direction, f"is not one of [{','.join(accepted)}]")


def check_access(who: Principal, event_type: str, user_id: str | None) -> None:
    """Raise X's refusal when `who` may not subscribe to `event_type` events of `user_id`."""
    kind = family(event_type)
    if kind in PRIVATE_FAMILIES:
        if who.kind is Kind.APP:
            raise unsupported_auth(Kind.APP.value, [Kind.OAUTH1_USER.value, Kind.OAUTH2_USER.value])
        if who.user is None or user_id != who.user.id:
            raise forbidden(f"{event_type} subscriptions can only be created for the authenticated user")
    require_scopes(who, (scope_for(event_type),), event_type)
