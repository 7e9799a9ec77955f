"""User lookup: `GET /2/users/me`, `/2/users/{id}`, `/2/users/by/username/{username}`, `/2/users?ids=` and
`/2/users/by?usernames=`, answering from the emulator's users.

A user has X's default fields (`id`, `name`, `username`) plus those asked for in `user.fields`. A user that does
not exist is not an HTTP error: X answers 200 with a `resource-not-found` problem in `errors` (next to `data` for
a list; `not_found_problem` builds it for users and DM events alike). A malformed id or username is X's 400
naming the parameter (https://docs.x.com/x-api/users/lookup/introduction,
https://docs.x.com/x-api/fundamentals/response-codes-and-errors).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from xhooks.emulator._objects import user_v2
from xhooks.emulator.auth import Principal
from xhooks.emulator.errors import invalid_value
from xhooks.emulator.fields import POST_FIELDS, USER_DEFAULTS, USER_EXPANSIONS, USER_FIELDS, parse, select
from xhooks.emulator.state import User
from xhooks.emulator.web import Request, Response

if TYPE_CHECKING:
    from xhooks.emulator.app import Emulator

__all__ = ["by_id", "by_ids", "by_username", "by_usernames", "me", "not_found_problem", "user_json"]

USER_ID = re.compile(r"[0-9]{1,19}")
USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
MAX_USERS = 100
NOT_FOUND_TYPE = "https://api.x.com/2/problems/resource-not-found"
"""On api.x.com, as X's current error page shows and the official SDK requires to parse a 200 (docs/emulator.md)."""


def user_json(req: Request, user: User) -> dict[str, Any]:
    """`user` as a v2 user with the request's `user.fields` (X's REST objects have no `*_str` twins)."""
    return select(
        user_v2(user, str_twins=False), USER_DEFAULTS, parse("user.fields", req.arg("user.fields"), USER_FIELDS)
    )


def _check_expansions(req: Request) -> None:
    """The emulator's users pin no Post and have no affiliate, so valid expansions add nothing to `includes`."""
    parse("expansions", req.arg("expansions"), USER_EXPANSIONS)
    parse("tweet.fields", req.arg("tweet.fields"), POST_FIELDS)


def not_found_problem(parameter: str, value: str, resource_type: str = "user") -> dict[str, str]:
    """X's partial error for a resource that does not exist, e.g. `Could not find user with id: [1].`."""
    return {
        "value": value,
        "detail": f"Could not find {resource_type} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": value,
        "type": NOT_FOUND_TYPE,
    }


def _checked(name: str, value: str, pattern: re.Pattern[str]) -> str:
    if not pattern.fullmatch(value):
        raise invalid_value(name, value, f"does not match ^{pattern.pattern}$")
    return value


def _one(req: Request, user: User | None, parameter: str, value: str) -> Response:
    _check_expansions(req)
    if user is None:
        return Response({"errors": [not_found_problem(parameter, value)]})
    return Response({"data": user_json(req, user)})


def _many(req: Request, name: str, found: list[tuple[str, User | None]], parameter: str) -> Response:
    _check_expansions(req)
    if not 1 <= len(found) <= MAX_USERS:
        raise invalid_value(name, req.arg(name) or "", f"must list 1 to {MAX_USERS} values")
    body: dict[str, Any] = {}
    data = [user_json(req, user) for _, user in found if user is not None]
    if data:
        body["data"] = data
    errors = [not_found_problem(parameter, value) for value, user in found if user is None]
    if errors:
        body["errors"] = errors
    return Response(body)


def _list(req: Request, name: str) -> list[str]:
    return [part for part in (req.arg(name) or "").split(",") if part]


async def me(emu: Emulator, req: Request, who: Principal) -> Response:
    assert who.user is not None  # the route takes user context only
    return _one(req, who.user, "id", who.user.id)


async def by_id(emu: Emulator, req: Request, who: Principal) -> Response:
    user_id = _checked("id", req.params["id"], USER_ID)
    return _one(req, emu.state.user(user_id), "id", user_id)


async def by_username(emu: Emulator, req: Request, who: Principal) -> Response:
    username = _checked("username", req.params["username"], USERNAME)
    return _one(req, _user_named(emu, username), "username", username)


async def by_ids(emu: Emulator, req: Request, who: Principal) -> Response:
    ids = [_checked("ids", value, USER_ID) for value in _list(req, "ids")]
    return _many(req, "ids", [(value, emu.state.user(value)) for value in ids], "ids")


async def by_usernames(emu: Emulator, req: Request, who: Principal) -> Response:
    names = [_checked("usernames", value, USERNAME) for value in _list(req, "usernames")]
    return _many(req, "usernames", [(value, _user_named(emu, value)) for value in names], "usernames")


def _user_named(emu: Emulator, username: str) -> User | None:
    """Usernames are matched without regard to case, as on X."""
    return next((user for user in emu.state.users() if user.username.lower() == username.lower()), None)
