"""The emulator's settings, with X's documented figures as defaults.

Where X's pages and its OpenAPI disagree, each disagreement is one field here (see docs/emulator.md):

- `put_response`: `valid` → `{"data":{"valid":true}}` (docs, OpenAPI 2.167); `attempted` (OpenAPI 2.161).
- `flat_bodies`: off → `{"data":{…}}` for create-webhook and replay (docs, 2.167); on → unwrapped (2.161).
- `stream_links_shape`: `list` → `{"data":[…]}` (OpenAPI 2.167, which the SDK parses); `links` →
  `{"data":{"links":[…]}}` (Filtered Stream quickstart; always served on its documented path).
- `activity_create_shape`: `flat` → `{"data":{"subscription_id",…}}` (XAA quickstart); `subscription` →
  `{"data":{"subscription":{…}}}` (OpenAPI). Both validate against the OpenAPI schema.
- `crc_cadence`: `stale` → every 30 min, only if no success in 24 h (webhooks intro); `hourly` (quickstart).
- `event_uuid_style` of X Activity deliveries: `post_id` → a Post event's `event_uuid` is the Post's id, as in
  X's `post.create` and `post.mention.create` examples (https://docs.x.com/x-api/activity/event-payloads),
  other events a snowflake; `negative` → negative numbers, as in X's other examples; `uuid` → UUIDs, as in
  the live shape on the XChat page (https://docs.x.com/xchat/real-time-events).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xhooks.errors import ConfigError

__all__ = ["RATE_LIMITS", "USER_RATE_LIMITS", "EmulatorConfig", "RETRY_SCHEDULES"]

RETRY_SCHEDULES: dict[str, tuple[float, ...]] = {
    # Legacy Enterprise AAA: an attempt, then 3 retries; start times if every attempt times out after 3 s.
    "legacy": (0.0, 6.0, 36.0, 281.0),
    "none": (0.0,),
}

RATE_LIMITS: dict[str, int] = {
    # Per app, per 15-minute window (X's rate-limit page); AAA rows are the v1.1 figures (no v2 ones published),
    # stream-link rows the /2/webhooks figure and rule counts the rule-list figure (X publishes none for them), the
    # connection listing and kills the figure of `DELETE /2/connections/all` (the only connections row published).
    "webhooks.create": 450,
    "webhooks.list": 450,
    "webhooks.validate": 450,
    "webhooks.delete": 450,
    "webhooks.replay": 100,
    "activity.create": 500,
    "activity.list": 500,
    "activity.update": 500,
    "activity.delete": 500,
    "activity.stream": 450,
    "connections.list": 25,
    "connections.delete": 25,
    "connections.delete_all": 25,
    "aaa.subscribe": 500,
    "aaa.check": 500,
    "aaa.list": 50,
    "aaa.delete": 500,
    "aaa.count": 15,
    "rules.list": 450,
    "rules.update": 100,
    "rules.counts": 450,
    "links.list": 450,
    "links.create": 450,
    "links.delete": 450,
    "users.by_id": 300,
    "users.by_username": 300,
    "users.by": 300,
    "users.lookup": 300,
    "dm.block": 25,
    "dm.unblock": 25,
}

USER_RATE_LIMITS: dict[str, int] = {
    # Per user, per 15-minute window, for calls made with a user's token (X's rate-limit page).
    "users.me": 75,
    "users.by_id": 900,
    "users.by_username": 900,
    "users.by": 900,
    "users.lookup": 900,
    "dm.events": 15,
    "dm.event": 15,
    "dm.conversation": 15,
    "dm.with": 15,
    "dm.send": 15,
    "dm.send_conversation": 15,
    "dm.create": 15,
    "dm.delete": 300,
    "dm.block": 10,
    "dm.unblock": 10,
}


@dataclass
class EmulatorConfig:
    """Everything that shapes how the emulator behaves; every field has X's documented value as default."""

    db: str = ":memory:"
    max_webhooks: int = 1
    max_aaa_subscriptions: int = 3
    max_activity_subscriptions: int = 1500
    allow_local_urls: bool = False
    remote_urls: bool = False
    """True: CRCs and deliveries may go to any host. False (the safe default): only to 127.0.0.1, ::1 and
    localhost; a CRC elsewhere fails as unreachable and a delivery is logged as not sent."""
    crc_timeout: float = 3.0
    crc_cadence: str = "stale"
    crc_interval: float = 30 * 60.0
    delivery_timeout: float = 10.0
    retries: str = "legacy"
    duplicate_rate: float = 0.0
    seed: int | None = None
    rate_limits: bool = True
    limits: dict[str, int] = field(default_factory=lambda: dict(RATE_LIMITS))
    user_limits: dict[str, int] = field(default_factory=lambda: dict(USER_RATE_LIMITS))
    put_response: str = "valid"
    flat_bodies: bool = False
    stream_links_shape: str = "list"
    activity_create_shape: str = "flat"
    event_uuid_style: str = "post_id"
    consumer_key: str | None = None
    consumer_secret: str | None = None
    bearer_token: str | None = None
    access_token: str | None = None
    access_token_secret: str | None = None

    def __post_init__(self) -> None:
        choices = {
            "crc_cadence": ("stale", "hourly"),
            "retries": tuple(RETRY_SCHEDULES),
            "put_response": ("valid", "attempted"),
            "stream_links_shape": ("list", "links"),
            "activity_create_shape": ("flat", "subscription"),
            "event_uuid_style": ("post_id", "negative", "uuid"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}")
        if not 0.0 <= self.duplicate_rate <= 1.0:
            raise ConfigError("duplicate_rate must be between 0 and 1")
        if self.max_webhooks < 1:
            raise ConfigError("max_webhooks must be at least 1")

    @property
    def retry_schedule(self) -> tuple[float, ...]:
        return RETRY_SCHEDULES[self.retries]
