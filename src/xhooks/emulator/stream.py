"""Filtered Stream webhooks: link and unlink a webhook, list links, and manage the stream's rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xhooks.emulator.auth import Principal
from xhooks.emulator.errors import malformed
from xhooks.emulator.fields import POST_EXPANSIONS, POST_FIELDS, USER_FIELDS, parse
from xhooks.emulator.state import iso
from xhooks.emulator.web import Request, Response
from xhooks.emulator.webhooks import owned_webhook

if TYPE_CHECKING:
    from xhooks.emulator.app import Emulator

__all__ = ["link", "links", "rule_counts", "rules", "unlink", "update_rules"]

LINK_PARAMS = ("tweet.fields", "expansions", "media.fields", "poll.fields", "user.fields", "place.fields")
CHECKED_PARAMS = {"tweet.fields": POST_FIELDS, "expansions": POST_EXPANSIONS, "user.fields": USER_FIELDS}
"""The link parameters whose values are checked; the others are kept as given (no media, polls or places here)."""
MAX_RULE_LENGTH = 2048
RULE_CAP = 1000


async def link(emu: Emulator, req: Request, who: Principal) -> Response:
    webhook = owned_webhook(emu, who, req.params["webhook_id"])
    for name, allowed in CHECKED_PARAMS.items():
        parse(name, req.arg(name), allowed)
    fields = [f"{name}={value}" for name in LINK_PARAMS if (value := req.arg(name))]
    emu.state.link(webhook.id, who.app.id, emu.new_id(), fields, emu.clock.now())
    return Response({"data": {"provisioned": True}})


async def unlink(emu: Emulator, req: Request, who: Principal) -> Response:
    webhook = owned_webhook(emu, who, req.params["webhook_id"])
    return Response({"data": {"deleted": emu.state.unlink(webhook.id)}})


async def links(emu: Emulator, req: Request, who: Principal) -> Response:
    business_user = emu.dev_user_id()
    items = [
        {
            "application_id": who.app.id,
            "business_user_id": business_user,
            "created_at": iso(item["created_at"]),
            # X prints each field list split at its commas, e.g. ["user.fields=username", "name", "id"]
            "fields": [part for field in item["fields"] for part in field.split(",")],
            "instance_id": item["instance_id"],
            "webhook_id": item["webhook_id"],
        }
        for item in emu.state.links(who.app.id)
    ]
    if emu.config.stream_links_shape == "links" or req.path.endswith("/stream/webhooks"):
        return Response({"data": {"links": items}})
    return Response({"data": items})


async def rules(emu: Emulator, req: Request, who: Principal) -> Response:
    wanted = {part for raw in req.query.get("ids", []) for part in raw.split(",") if part}
    data = [rule for rule in emu.state.rules(who.app.id) if not wanted or rule["id"] in wanted]
    start, stop, next_token = req.page([rule["id"] for rule in data], 1000, 1000)
    page = data[start:stop]
    meta: dict[str, Any] = {"sent": iso(emu.clock.now()), "result_count": len(page)}
    if next_token is not None:
        meta["next_token"] = next_token
    return Response({"data": page, "meta": meta} if page else {"meta": meta})


def _is_rule(rule: Any) -> bool:
    return (
        isinstance(rule, dict)
        and not set(rule) - {"value", "tag"}
        and isinstance(rule.get("value"), str)
        and bool(rule["value"])
        and isinstance(rule.get("tag", ""), str)
    )


async def update_rules(emu: Emulator, req: Request, who: Principal) -> Response:
    body = req.json(required=False)
    dry_run = req.boolean("dry_run")
    delete_all = req.boolean("delete_all")
    if set(body) - {"add", "delete"}:
        raise malformed("The body may only hold `add` or `delete`")
    now = emu.clock.now()
    existing = emu.state.rules(who.app.id)
    summary: dict[str, int] = {}
    data: list[dict[str, str]] = []
    if "add" in body or not (delete_all or "delete" in body):
        additions = body.get("add")
        if not isinstance(additions, list) or not all(_is_rule(rule) for rule in additions):
            raise malformed("`add` must be a list of rules, each a non-empty string `value` and an optional `tag`")
        created = invalid = 0
        for rule in additions:
            if len(rule["value"]) > MAX_RULE_LENGTH or any(r["value"] == rule["value"] for r in existing + data):
                invalid += 1
                continue
            item = {"id": emu.new_id(), "value": rule["value"], **({"tag": rule["tag"]} if rule.get("tag") else {})}
            data.append(item)
            created += 1
        if not dry_run:
            for item in data:
                emu.state.add_rule(item["id"], who.app.id, item["value"], item.get("tag"))
        summary = {"created": created, "not_created": invalid, "valid": created, "invalid": invalid}
    else:
        spec = body.get("delete") or {}
        lists = [spec.get(key, []) for key in ("ids", "values")] if isinstance(spec, dict) else [None]
        if (
            not isinstance(spec, dict)
            or set(spec) - {"ids", "values"}
            or not all(isinstance(items, list) and all(isinstance(item, str) for item in items) for items in lists)
        ):
            raise malformed("`delete` must be an object with `ids` or `values`, lists of strings")
        doomed = [
            r for r in existing if delete_all or r["id"] in spec.get("ids", []) or r["value"] in spec.get("values", [])
        ]
        if not dry_run:
            for rule in doomed:
                emu.state.delete_rule(rule["id"])
        asked = len(existing) if delete_all else len(spec.get("ids", [])) + len(spec.get("values", []))
        summary = {"deleted": len(doomed), "not_deleted": max(asked - len(doomed), 0)}
    result: dict[str, Any] = {"meta": {"sent": iso(now), "summary": summary}}
    if data:
        result["data"] = data
    return Response(result)


async def rule_counts(emu: Emulator, req: Request, who: Principal) -> Response:
    counts: list[dict[str, Any]] = [
        {"client_app_id": app.id, "rule_count": len(emu.state.rules(app.id))} for app in emu.state.apps()
    ]
    own = next(count for count in counts if count["client_app_id"] == who.app.id)
    return Response(
        {
            "data": {
                "cap_per_client_app": str(RULE_CAP),
                "cap_per_project": str(RULE_CAP),
                "project_rules_count": str(sum(int(count["rule_count"]) for count in counts)),
                "client_app_rules_count": own,
                "all_project_client_apps": counts,
            }
        }
    )
