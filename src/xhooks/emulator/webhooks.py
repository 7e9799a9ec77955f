"""`/2/webhooks`: create (URL rules, then a synchronous CRC), list, validate (PUT), delete, and replay jobs."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from xhooks._net import is_loopback
from xhooks.emulator.auth import Principal
from xhooks.emulator.crc import Verdict
from xhooks.emulator.delivery import encode
from xhooks.emulator.errors import Reason, invalid_request, malformed
from xhooks.emulator.fields import parse
from xhooks.emulator.state import Webhook, iso
from xhooks.emulator.web import Request, Response
from xhooks.protocol.replay import ReplayProblem, replay_window_problem

if TYPE_CHECKING:
    from xhooks.emulator.app import Emulator

__all__ = ["check_url", "create", "delete", "listing", "owned_webhook", "replay", "validate"]

MAX_URL_LENGTH = 200
_X_SAYS = {
    ReplayProblem.FROM_IN_FUTURE: "from_date cannot be in the future",
    ReplayProblem.TO_IN_FUTURE: "to_date cannot be in the future",
    ReplayProblem.STARTS_AFTER_END: "from_date must be before to_date",
    ReplayProblem.TOO_OLD: "from_date must be within the past 24 hours",
}
WEBHOOK_FIELDS = ("created_at", "id", "url", "valid")


def check_url(url: str, allow_local: bool) -> None:
    """X's URL rules: https, no port, at most 200 characters; `allow_local` admits http and ports on localhost.

    Raises:
        ApiError: `UrlValidationFailed`.
    """
    if len(url) > MAX_URL_LENGTH:
        raise invalid_request(Reason.URL_VALIDATION_FAILED, f"The URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise invalid_request(Reason.URL_VALIDATION_FAILED, "The URL is not a valid URL") from None
    local = allow_local and is_loopback(parts.hostname or "")
    if not parts.hostname or any(ch.isspace() for ch in url):
        raise invalid_request(Reason.URL_VALIDATION_FAILED, "The URL is not a valid URL")
    if parts.scheme != "https" and not (local and parts.scheme == "http"):
        raise invalid_request(Reason.URL_VALIDATION_FAILED, "The URL must use https")
    if port is not None and not local:
        raise invalid_request(Reason.URL_VALIDATION_FAILED, "The URL cannot include a port")


def owned_webhook(emu: Emulator, who: Principal, webhook_id: str) -> Webhook:
    webhook = emu.state.webhook(webhook_id) if webhook_id.isdigit() else None
    if webhook is None or webhook.app_id != who.app.id:
        raise invalid_request(Reason.WEBHOOK_ID_INVALID, f"Webhook id {webhook_id} was not found for this application")
    return webhook


def _webhook_json(webhook: Webhook) -> dict[str, Any]:
    return {"created_at": iso(webhook.created_at), "id": webhook.id, "url": webhook.url, "valid": webhook.valid}


def _wrap(emu: Emulator, data: dict[str, Any]) -> dict[str, Any]:
    return data if emu.config.flat_bodies else {"data": data}


async def create(emu: Emulator, req: Request, who: Principal) -> Response:
    url = req.json().get("url")
    if not isinstance(url, str) or not url:
        raise malformed("The `url` field is required and must be a non-empty string")
    check_url(url, emu.config.allow_local_urls)
    webhooks = emu.state.webhooks(who.app.id)
    if any(webhook.url == url for webhook in webhooks):
        raise invalid_request(
            Reason.DUPLICATE_URL_FAILED, "A webhook is already registered by your application for this URL"
        )
    if len(webhooks) >= emu.config.max_webhooks:
        raise invalid_request(Reason.WEBHOOK_LIMIT_EXCEEDED, "")
    started = time.monotonic()
    result = await emu.crc.check(url, who.app.consumer_secret)
    if result.verdict is not Verdict.VALID:
        raise invalid_request(Reason.CRC_VALIDATION_FAILED, result.detail)
    now = emu.clock.now()
    webhook = Webhook(emu.new_id(), who.app.id, url, True, now, now, now)
    emu.state.add_webhook(webhook)
    emu.crc_history.append((webhook.id, now, result, (time.monotonic() - started) * 1000))
    return Response(_wrap(emu, _webhook_json(webhook)))


async def listing(emu: Emulator, req: Request, who: Principal) -> Response:
    fields = parse("webhook_config.fields", req.arg("webhook_config.fields"), WEBHOOK_FIELDS) or WEBHOOK_FIELDS
    data = [
        {name: value for name, value in _webhook_json(webhook).items() if name in fields}
        for webhook in emu.state.webhooks(who.app.id)
    ]
    return Response({"data": data, "meta": {"result_count": len(data)}})


async def delete(emu: Emulator, req: Request, who: Principal) -> Response:
    webhook = owned_webhook(emu, who, req.params["webhook_id"])
    emu.state.delete_webhook(webhook.id)
    return Response({"data": {"deleted": True}})


async def validate(emu: Emulator, req: Request, who: Principal) -> Response:
    webhook = owned_webhook(emu, who, req.params["webhook_id"])
    result = await emu.run_crc(webhook)
    if result.verdict is not Verdict.VALID:
        raise invalid_request(Reason.CRC_VALIDATION_FAILED, result.detail)
    key = "attempted" if emu.config.put_response == "attempted" else "valid"
    return Response({"data": {key: True}})


def _minute(value: Any, name: str) -> float:
    if not isinstance(value, str) or len(value) != 12 or not value.isdigit():
        raise invalid_request(Reason.QUERY_PARAM_INVALID, f"{name} must be in the format yyyymmddhhmm")
    try:
        moment = dt.datetime.strptime(value, "%Y%m%d%H%M").replace(tzinfo=dt.UTC)
    except ValueError:
        raise invalid_request(Reason.QUERY_PARAM_INVALID, f"{name} is not a valid date") from None
    return moment.timestamp()


async def replay(emu: Emulator, req: Request, who: Principal) -> Response:
    body = req.json()
    webhook_id = body.get("webhook_id")
    if not isinstance(webhook_id, str):
        raise malformed("The `webhook_id` field is required")
    from_at = _minute(body.get("from_date"), "from_date")
    to_at = _minute(body.get("to_date"), "to_date") + 59.999
    webhook = owned_webhook(emu, who, webhook_id)
    now = emu.clock.now()
    problem = replay_window_problem(from_at, to_at, now)
    if problem is not None:
        raise invalid_request(Reason.QUERY_PARAM_INVALID, _X_SAYS[problem])
    if not webhook.valid:
        raise invalid_request(Reason.CRC_VALIDATION_FAILED, "The webhook is invalid; validate it with PUT first")
    if emu.state.running_replay(webhook.id) is not None:
        raise invalid_request(Reason.REPLAY_CONFLICT_ERROR, "A replay job is already in progress for this webhook")
    job_id = emu.new_id()
    emu.state.add_replay_job(job_id, webhook.id, from_at, to_at, now)

    async def job() -> None:
        await run_replay(emu, job_id, webhook.id, from_at, to_at)

    emu.scheduler.after(emu.replay_delay, job)
    return Response(_wrap(emu, {"job_id": job_id, "created_at": iso(now)}))


async def run_replay(emu: Emulator, job_id: str, webhook_id: str, from_at: float, to_at: float) -> None:
    """Redeliver the window once each (replays are not retried), then report the job's end to the webhook."""
    webhook = emu.state.webhook(webhook_id)
    if webhook is None:
        emu.state.finish_replay(job_id, "Incomplete")
        return
    complete = True
    for _, body in emu.state.replayable(webhook_id, from_at, to_at):
        delivery_id = emu.state.log_delivery(webhook_id, body, emu.clock.now(), "replay", "pending", job_id)
        ok = await emu.deliverer.post(delivery_id, webhook, body, 0)
        emu.state.set_delivery_state(delivery_id, "delivered" if ok else "failed")
        complete = complete and ok
    state = "Complete" if complete else "Incomplete"
    description = (
        "Job completed successfully" if complete else "Job failed to deliver all events, please retry your replay job"
    )
    emu.state.finish_replay(job_id, state)
    status = {
        "replay_job_status": {
            "webhook_id": webhook_id,
            "job_state": state,
            "job_state_description": description,
            "job_id": job_id,
        }
    }
    emu.deliverer.send(webhook, encode(status), kind="replay_status")
