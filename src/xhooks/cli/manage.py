"""`xhooks webhooks|subscriptions|activity|links|rules|replay`: the management API from the shell.

Every command takes the shared options (`--api-base`, the credentials, `--json`, `--config`), resolved
flags > `XHOOKS_*` > `xhooks.toml` by `Credentials.load`, and calls one `XClient` method.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from xhooks.cli._output import emit
from xhooks.cli.db import DbOption
from xhooks.cli.events import describe_erasure
from xhooks.client import DEFAULT_BASE_URL, ActivityFilter, Credentials, XClient
from xhooks.client.times import check_replay_window, parse_time
from xhooks.config import Settings
from xhooks.errors import ConfigError
from xhooks.store.erasure import UNSUBSCRIBED
from xhooks.store.pruner import forget
from xhooks.store.registry import engine_for
from xhooks.store.retention import RetentionPolicy

__all__ = ["register"]


@dataclass(frozen=True)
class Connection:
    """The shared options of every management command."""

    api_base: str | None
    bearer_token: str | None
    consumer_key: str | None
    consumer_secret: str | None
    access_token: str | None
    access_token_secret: str | None
    user_token: str | None
    json: bool
    config: Path | None

    @functools.cached_property
    def settings(self) -> Settings:
        return Settings.load(self.config)

    def client(self) -> XClient:
        explicit = {
            name: getattr(self, name)
            for name in (
                "bearer_token",
                "consumer_key",
                "consumer_secret",
                "access_token",
                "access_token_secret",
                "user_token",
            )
        }
        credentials = Credentials.load(self.settings, **explicit)
        return XClient(credentials, base_url=self.settings.get("api_base", self.api_base, DEFAULT_BASE_URL))

    def webhook_id(self, given: str | None) -> str:
        webhook_id = self.settings.get("webhook_id", given)
        if not webhook_id:
            raise ConfigError("which webhook? pass --webhook ID or set XHOOKS_WEBHOOK_ID")
        return str(webhook_id)


def _opt(help: str) -> Any:
    return typer.Option(help=help, rich_help_panel="Connection")


_SHARED = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
    for name, annotation, default in (
        (
            "api_base",
            Annotated[
                str | None,
                _opt(f"API base URL, e.g. the emulator's. Env: XHOOKS_API_BASE. [default: {DEFAULT_BASE_URL}]"),
            ],
            None,
        ),
        ("bearer_token", Annotated[str | None, _opt("App bearer token. Env: XHOOKS_BEARER_TOKEN.")], None),
        ("consumer_key", Annotated[str | None, _opt("OAuth 1.0a consumer key. Env: XHOOKS_CONSUMER_KEY.")], None),
        ("consumer_secret", Annotated[str | None, _opt("Consumer secret. Env: XHOOKS_CONSUMER_SECRET.")], None),
        ("access_token", Annotated[str | None, _opt("User access token. Env: XHOOKS_ACCESS_TOKEN.")], None),
        (
            "access_token_secret",
            Annotated[str | None, _opt("User access token secret. Env: XHOOKS_ACCESS_TOKEN_SECRET.")],
            None,
        ),
        ("user_token", Annotated[str | None, _opt("OAuth 2.0 user access token. Env: XHOOKS_USER_TOKEN.")], None),
        ("json", Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")], False),
        ("config", Annotated[Path | None, _opt("A TOML config file. [default: ./xhooks.toml if present]")], None),
    )
]


def _command(group: typer.Typer, name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register `fn(conn, …)` as `name` in `group`, with the shared options added to its own."""

    def decorate(fn: Callable[..., None]) -> Callable[..., None]:
        own = inspect.signature(fn, eval_str=True)
        params = [p for p in own.parameters.values() if p.name != "conn"]

        @functools.wraps(fn)
        def command(**kwargs: Any) -> None:
            shared = {p.name: kwargs.pop(p.name) for p in _SHARED}
            fn(Connection(**shared), **kwargs)

        command.__signature__ = own.replace(parameters=params + _SHARED)  # type: ignore[attr-defined]
        group.command(name)(command)
        return fn

    return decorate


webhooks = typer.Typer(help="Register, list, re-validate and delete webhooks.", no_args_is_help=True)
subscriptions = typer.Typer(
    help="Account Activity subscriptions (user context for add and check).", no_args_is_help=True
)
activity = typer.Typer(help="X Activity API subscriptions.", no_args_is_help=True)
links = typer.Typer(help="Filtered Stream ↔ webhook links.", no_args_is_help=True)
rules = typer.Typer(help="Filtered Stream rules.", no_args_is_help=True)
WebhookOpt = Annotated[str | None, typer.Option("--webhook", help="Webhook id. Env: XHOOKS_WEBHOOK_ID.")]


@_command(webhooks, "list")
def _webhooks_list(conn: Connection) -> None:
    """List the app's webhooks and whether each is valid."""
    with conn.client() as x:
        emit(x.list_webhooks(), conn.json)


@_command(webhooks, "create")
def _webhooks_create(conn: Connection, url: Annotated[str, typer.Argument(help="The https URL to register.")]) -> None:
    """Register URL; X runs a CRC against it first."""
    with conn.client() as x:
        emit(x.create_webhook(url), conn.json)


@_command(webhooks, "validate")
def _webhooks_validate(conn: Connection, webhook_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Ask X to run a CRC now and re-enable the webhook if it passes."""
    with conn.client() as x:
        emit(x.validate_webhook(webhook_id), conn.json)


@_command(webhooks, "delete")
def _webhooks_delete(conn: Connection, webhook_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Delete a webhook (its subscriptions and links stop delivering)."""
    with conn.client() as x:
        emit(x.delete_webhook(webhook_id), conn.json)


@_command(subscriptions, "add")
def _subs_add(conn: Connection, webhook: WebhookOpt = None) -> None:
    """Subscribe the user of the access token (or OAuth 2.0 user token) to the webhook."""
    with conn.client() as x:
        emit(x.add_subscription(conn.webhook_id(webhook)), conn.json)


@_command(subscriptions, "check")
def _subs_check(conn: Connection, webhook: WebhookOpt = None) -> None:
    """Whether the user of the access token is subscribed."""
    with conn.client() as x:
        emit(x.check_subscription(conn.webhook_id(webhook)), conn.json)


@_command(subscriptions, "list")
def _subs_list(conn: Connection, webhook: WebhookOpt = None) -> None:
    """The users subscribed to the webhook."""
    with conn.client() as x:
        emit(x.list_subscriptions(conn.webhook_id(webhook)), conn.json)


@_command(subscriptions, "remove")
def _subs_remove(
    conn: Connection,
    user: Annotated[str, typer.Option("--user", help="The user id to remove.")],
    webhook: WebhookOpt = None,
    keep_stored: Annotated[
        bool, typer.Option("--keep-stored", help="Keep what the store holds of the user (default: erase it).")
    ] = False,
    db: DbOption = None,
) -> None:
    """Unsubscribe a user from the webhook (app auth), then erase the user's stored bodies in the store, as
    `xhooks events forget` does, unless --keep-stored or `[retention] erase_on_unsubscribe = false`."""
    with conn.client() as x:
        emit(x.remove_subscription(conn.webhook_id(webhook), user), conn.json)
    if keep_stored or not RetentionPolicy.from_settings(conn.settings).erase_on_unsubscribe:
        return
    store = str(conn.settings.get("db", db, "xhooks.db"))
    engine, where = engine_for(store)
    if engine == "sqlite" and not Path(where).exists():
        typer.echo(f"no store at {store}: nothing stored of user {user} to erase", err=True)
        return
    typer.echo(f"erased {describe_erasure(forget(store, user, UNSUBSCRIBED))}", err=conn.json)


@_command(subscriptions, "count")
def _subs_count(conn: Connection) -> None:
    """How many subscriptions the app has and may have."""
    with conn.client() as x:
        emit(x.count_subscriptions(), conn.json)


@_command(activity, "create")
def _activity_create(
    conn: Connection,
    event_type: Annotated[str, typer.Argument(help="e.g. post.create, profile.update.bio, dm.received.")],
    user_id: Annotated[str | None, typer.Option(help="The user the subscription watches.")] = None,
    keyword: Annotated[str | None, typer.Option(help="Keyword filter (news.new).")] = None,
    direction: Annotated[str | None, typer.Option(help="inbound or outbound, for directional events.")] = None,
    tag: Annotated[str | None, typer.Option(help="Your label, 1..200 characters.")] = None,
    webhook: WebhookOpt = None,
) -> None:
    """Subscribe to X Activity events, delivered to a webhook."""
    webhook_id = conn.settings.get("webhook_id", webhook)
    matching = ActivityFilter(user_id=user_id, keyword=keyword, direction=direction)
    with conn.client() as x:
        emit(x.create_activity_subscription(event_type, matching, tag=tag, webhook_id=webhook_id), conn.json)


@_command(activity, "list")
def _activity_list(
    conn: Connection,
    max_results: Annotated[int | None, typer.Option(help="Page size.")] = None,
) -> None:
    """Every X Activity subscription of the app (all pages)."""
    with conn.client() as x:
        emit(x.list_activity_subscriptions(max_results), conn.json)


@_command(activity, "update")
def _activity_update(
    conn: Connection,
    subscription_id: Annotated[str, typer.Argument(metavar="ID")],
    tag: Annotated[str | None, typer.Option(help="New label.")] = None,
    webhook: Annotated[str | None, typer.Option("--webhook", help="New webhook id.")] = None,
) -> None:
    """Change a subscription's tag or webhook (anything else needs delete + create)."""
    with conn.client() as x:
        emit(x.update_activity_subscription(subscription_id, tag=tag, webhook_id=webhook), conn.json)


@_command(activity, "delete")
def _activity_delete(conn: Connection, ids: Annotated[list[str], typer.Argument(metavar="ID...")]) -> None:
    """Delete one subscription, or several at once (up to 100)."""
    with conn.client() as x:
        if len(ids) == 1:
            emit(x.delete_activity_subscription(ids[0]), conn.json)
        else:
            emit(x.delete_activity_subscriptions(ids), conn.json)


@_command(links, "list")
def _links_list(conn: Connection) -> None:
    """Webhooks linked to the filtered stream."""
    with conn.client() as x:
        emit(x.list_stream_links(), conn.json)


@_command(links, "add")
def _links_add(
    conn: Connection,
    webhook_id: Annotated[str, typer.Argument(metavar="WEBHOOK_ID")],
    field: Annotated[
        list[str] | None, typer.Option(help="A NAME=VALUE query field, e.g. expansions=author_id (repeatable).")
    ] = None,
) -> None:
    """Deliver the filtered stream to a webhook."""
    pairs = [item.partition("=") for item in field or []]
    if any(not sep for _, sep, _ in pairs):
        raise ConfigError("--field takes NAME=VALUE, e.g. --field expansions=author_id")
    with conn.client() as x:
        emit(x.create_stream_link(webhook_id, {name: value for name, _, value in pairs}), conn.json)


@_command(links, "remove")
def _links_remove(conn: Connection, webhook_id: Annotated[str, typer.Argument(metavar="WEBHOOK_ID")]) -> None:
    """Stop delivering the filtered stream to a webhook."""
    with conn.client() as x:
        emit(x.delete_stream_link(webhook_id), conn.json)


@_command(rules, "list")
def _rules_list(conn: Connection) -> None:
    """The filtered stream's rules (all pages)."""
    with conn.client() as x:
        emit(x.list_rules(), conn.json)


@_command(rules, "add")
def _rules_add(
    conn: Connection,
    value: Annotated[str, typer.Argument(help="The rule, e.g. 'cat has:images'.")],
    tag: Annotated[str | None, typer.Option(help="Your label for the rule.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate without adding.")] = False,
) -> None:
    """Add a filtered stream rule."""
    with conn.client() as x:
        emit(x.add_rules([(value, tag)], dry_run=dry_run), conn.json)


@_command(rules, "delete")
def _rules_delete(
    conn: Connection,
    rule_id: Annotated[list[str] | None, typer.Option("--id", help="A rule id (repeatable).")] = None,
    value: Annotated[list[str] | None, typer.Option("--value", help="A rule value (repeatable).")] = None,
) -> None:
    """Delete filtered stream rules by id or by value."""
    if not rule_id and not value:
        raise ConfigError("say which rules: --id ID or --value VALUE")
    with conn.client() as x:
        emit(x.delete_rules(rule_id or (), value or ()), conn.json)


replay = typer.Typer()


@_command(replay, "replay")
def _replay(
    conn: Connection,
    from_: Annotated[str, typer.Option("--from", help="Start: ISO time, yyyymmddhhmm (UTC) or '2h ago'.")],
    to: Annotated[str, typer.Option("--to", help="End: ISO time, yyyymmddhhmm (UTC), '10m ago' or 'now'.")] = "now",
    webhook: WebhookOpt = None,
) -> None:
    """Replay what X delivered (or tried to) to a webhook in a window of the past 24 hours."""
    now = datetime.now(UTC)
    start, end = parse_time(from_, now), parse_time(to, now)
    check_replay_window(start, end, now)
    with conn.client() as x:
        emit(x.create_replay_job(conn.webhook_id(webhook), start, end), conn.json)


def register(app: typer.Typer) -> None:
    """Add the management command groups and `replay` to the `xhooks` app."""
    app.add_typer(webhooks, name="webhooks")
    app.add_typer(subscriptions, name="subscriptions")
    app.add_typer(activity, name="activity")
    app.add_typer(links, name="links")
    app.add_typer(rules, name="rules")
    app.registered_commands += replay.registered_commands
