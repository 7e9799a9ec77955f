"""`xhooks emulator` (X's side of the wire on 127.0.0.1) and `xhooks trigger` (make an event happen on it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from xhooks.clock import Clock, ManualClock, ScaledClock, SystemClock
from xhooks.config import Settings
from xhooks.dashboard.emulator_view import EmulatorView
from xhooks.emulator import Emulator, EmulatorConfig
from xhooks.emulator.control import deliver_remote, trigger_remote
from xhooks.emulator.serve import serve
from xhooks.errors import ConfigError
from xhooks.receiver import listen_socket

__all__ = ["emulator_command", "register", "trigger_command"]


def _clock(kind: str, time_scale: float) -> Clock:
    if kind == "manual":
        return ManualClock()
    if kind != "real":
        raise ConfigError("--clock must be real or manual")
    return ScaledClock(time_scale) if time_scale != 1.0 else SystemClock()


def emulator_command(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8090,
    db: Annotated[str, typer.Option(help="SQLite file holding apps, webhooks, subscriptions and the log.")] = (
        "xhooks-emulator.db"
    ),
    consumer_key: Annotated[
        str | None, typer.Option(help="Fix the dev app's consumer key. Env: XHOOKS_EMULATOR_CONSUMER_KEY.")
    ] = None,
    consumer_secret: Annotated[
        str | None, typer.Option(help="Fix the dev app's consumer secret. Env: XHOOKS_EMULATOR_CONSUMER_SECRET.")
    ] = None,
    bearer_token: Annotated[
        str | None, typer.Option(help="Fix the dev app's bearer token. Env: XHOOKS_EMULATOR_BEARER_TOKEN.")
    ] = None,
    allow_local_urls: Annotated[
        bool, typer.Option(help="Let http and ports through for 127.0.0.1/localhost URLs.")
    ] = False,
    remote_urls: Annotated[
        bool, typer.Option(help="Send CRCs and deliveries to hosts other than 127.0.0.1/localhost too.")
    ] = False,
    max_webhooks: Annotated[int, typer.Option(help="Webhooks per app (X: 1 self-serve, 5+ enterprise).")] = 1,
    crc_timeout: Annotated[float, typer.Option(help="Seconds a CRC may take.")] = 3.0,
    crc_cadence: Annotated[
        str, typer.Option(help="stale: every 30 min if not validated in 24 h (intro). hourly: quickstart.")
    ] = "stale",
    retries: Annotated[str, typer.Option(help="legacy: attempts at 0, 6, 36, 281 s. none: one attempt.")] = "legacy",
    duplicate_rate: Annotated[float, typer.Option(help="Probability of delivering a successful event twice.")] = 0.0,
    rate_limits: Annotated[bool, typer.Option(help="Enforce X's rate limits (429 + x-rate-limit-*).")] = True,
    put_response: Annotated[
        str, typer.Option(help="PUT /2/webhooks/{id} body key: valid (docs) or attempted (OpenAPI 2.161).")
    ] = "valid",
    flat_bodies: Annotated[
        bool, typer.Option(help="Unwrapped create-webhook and replay bodies (OpenAPI 2.161).")
    ] = False,
    stream_links_shape: Annotated[
        str, typer.Option(help="list (OpenAPI 2.167) or links (Filtered Stream quickstart).")
    ] = "list",
    activity_create_shape: Annotated[
        str, typer.Option(help="flat (XAA quickstart) or subscription (OpenAPI).")
    ] = "flat",
    event_uuid_style: Annotated[
        str, typer.Option(help="X Activity event_uuid: post_id (a Post event's is the Post id), negative or uuid.")
    ] = "post_id",
    clock: Annotated[str, typer.Option(help="real, or manual (moved only by POST /_emulator/clock/advance).")] = "real",
    time_scale: Annotated[
        float, typer.Option(help="Run a real clock this many times faster (60: a minute per second).")
    ] = 1.0,
    config: Annotated[Path | None, typer.Option(help="A TOML config file. [default: ./xhooks.toml if present]")] = None,
) -> None:
    """Run X's side of the wire: management API, CRC on X's schedule, signed deliveries, replay, triggers."""
    settings = Settings.load(config)
    sockets = [listen_socket(host, port)]  # a port in use fails here, before the emulator creates its database
    emulator_config = EmulatorConfig(
        db=db,
        max_webhooks=max_webhooks,
        allow_local_urls=allow_local_urls,
        remote_urls=remote_urls,
        crc_timeout=crc_timeout,
        crc_cadence=crc_cadence,
        retries=retries,
        duplicate_rate=duplicate_rate,
        rate_limits=rate_limits,
        put_response=put_response,
        flat_bodies=flat_bodies,
        stream_links_shape=stream_links_shape,
        activity_create_shape=activity_create_shape,
        event_uuid_style=event_uuid_style,
        consumer_key=settings.get("emulator_consumer_key", consumer_key),
        consumer_secret=settings.get("emulator_consumer_secret", consumer_secret),
        bearer_token=settings.get("emulator_bearer_token", bearer_token),
        access_token=settings.get("emulator_access_token"),
        access_token_secret=settings.get("emulator_access_token_secret"),
    )
    emulator = Emulator(emulator_config, _clock(clock, time_scale))
    view = EmulatorView(emulator, host=host, token=settings.get("dashboard_token"))
    emulator.mount(view.prefix, view)
    typer.echo(json.dumps(emulator.credentials(), indent=2))
    typer.echo(f"xhooks emulator: X API at http://{host}:{port}/2/, control API at /_emulator/ ({db})", err=True)
    typer.echo(f"xhooks emulator: its view of X's side at http://{host}:{port}{view.prefix}/", err=True)
    serve(emulator, host, port, sockets=sockets)


def trigger_command(
    event_type: Annotated[
        str | None, typer.Argument(help="aaa.follow, post.create, stream.post, … (GET /_emulator/event-types)")
    ] = None,
    emulator: Annotated[
        str | None,
        typer.Option(help="The emulator's base URL. Env: XHOOKS_API_BASE. [default: http://127.0.0.1:8090]"),
    ] = None,
    user_id: Annotated[str | None, typer.Option(help="Who acts. [default: the dev user]")] = None,
    target_id: Annotated[str | None, typer.Option(help="Who is acted on. [default: another user]")] = None,
    text: Annotated[str | None, typer.Option(help="Text of the post, DM or keyword.")] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(help="Deliver this body as it is instead (`xhooks events export ID --fixture` writes one)."),
    ] = None,
) -> None:
    """Make an event happen on a running emulator (or deliver a saved body) and print where it was routed."""
    base_url = str(Settings.load().get("api_base", emulator, "http://127.0.0.1:8090"))
    if from_file is not None:
        if event_type is not None:
            raise ConfigError("give an event type or --from-file, not both")
        typer.echo(json.dumps(deliver_remote(base_url, _read(from_file)), indent=2))
        return
    if event_type is None:
        raise ConfigError("name an event type (xhooks trigger dm.received) or give --from-file FILE")
    typer.echo(json.dumps(trigger_remote(base_url, event_type, user_id, target_id, text), indent=2))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror}); give the file `xhooks events export` wrote") from None


def register(app: typer.Typer) -> None:
    app.command("emulator")(emulator_command)
    app.command("trigger")(trigger_command)
