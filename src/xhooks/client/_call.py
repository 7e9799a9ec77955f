"""The sans-I/O core of the client: a `Call` describes one endpoint, flows say what to send next.

An endpoint is written once, as a function returning a `Call`: method, path, body, which kind of auth
X wants, the result type and a `shape` function that turns whatever body X sent (data-wrapped, flat,
empty) into the fields of that result. `parse_response` is the one place that reads a response.

Multi-step work is a generator that yields what to do next, an `httpx.Request` to send or a `Wait`
to sleep, and receives the response (or None after a wait). `XClient` and `AsyncXClient` drive the
same generators, the way httpx drives `Auth.auth_flow`; neither holds any endpoint logic.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
import msgspec

from xhooks.client.errors import error_from_response
from xhooks.client.models import Page, RateLimit
from xhooks.errors import ClientError, ConfigError

__all__ = [
    "Auth",
    "Call",
    "Done",
    "Flow",
    "CallPolicy",
    "UnexpectedResponse",
    "Wait",
    "advance",
    "paginate",
    "parse_response",
    "send",
]

T = TypeVar("T", bound=msgspec.Struct)
P = TypeVar("P", bound=Page)
_decoder = msgspec.json.Decoder()


class UnexpectedResponse(ClientError):
    """X answered with success but a body xhooks cannot read as the documented result."""


class Auth(enum.Enum):
    """Which credentials an endpoint takes (PLATFORM-NOTES §2.1, §5.2, §6.1)."""

    APP = "app"
    """The app-only Bearer token."""
    USER = "user"
    """User context: OAuth 1.0a when configured (it overrides OAuth 2.0, as X says), else an OAuth 2.0 user token."""
    USER_OR_APP = "user_or_app"
    """User context when configured, else the Bearer token (X Activity subscriptions to public events)."""


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request to X, described without doing it, and how to read its answer."""

    method: str
    path: str
    result: type[T]
    shape: Callable[[Any], Any]
    """Maps the decoded body ({} when empty) to the fields of `result`."""
    auth: Auth = Auth.APP
    params: Mapping[str, str] = field(default_factory=dict)
    json: Any = None


@dataclass(frozen=True)
class Wait:
    """Sleep this long, then resume the flow."""

    seconds: float


@dataclass(frozen=True)
class CallPolicy:
    """How an API call treats a 429 and how far it paginates (the dispatcher's `RetryPolicy` is another
    thing: it retries handlers). On a 429: wait until `x-rate-limit-reset` and retry, at most `max_retries`
    times, never waiting longer than `max_wait` seconds at once (a longer reset raises `RateLimited` at once)."""

    max_retries: int = 3
    max_wait: float = 60.0
    max_pages: int = 50
    """Pagination stops after this many pages; the result's `next_token` then says where to go on."""

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.max_wait < 0 or self.max_pages < 1:
            raise ConfigError("CallPolicy needs max_retries >= 0, max_wait >= 0 and max_pages >= 1")


Flow = Generator[httpx.Request | Wait, httpx.Response | None, T]


@dataclass(frozen=True)
class Done(Generic[T]):
    """The flow has finished with `value`."""

    value: T


def advance(flow: Flow[T], reply: httpx.Response | None) -> httpx.Request | Wait | Done[T]:
    """Resume `flow` with the answer to its last step (None to start it, or after a `Wait`)."""
    try:
        return flow.send(reply)
    except StopIteration as stop:
        return Done(stop.value)


def rate_limit(headers: httpx.Headers) -> RateLimit | None:
    values = [headers.get(f"x-rate-limit-{name}", "") for name in ("limit", "remaining", "reset")]
    if not any(values):
        return None
    limit, remaining, reset = (int(v) if v.isdigit() else None for v in values)
    return RateLimit(limit=limit, remaining=remaining, reset=reset)


def parse_response(call: Call[T], response: httpx.Response) -> T:
    """Read a response (already read) as `call.result`.

    Raises:
        XApiError (or the subclass named by X's reason or the status): a non-2xx answer.
        UnexpectedResponse: a 2xx answer whose body does not have the documented fields.
    """
    if not response.is_success:
        raise error_from_response(response)
    try:
        body = _decoder.decode(response.content) if response.content.strip() else {}
        fields = call.shape(body)
        result = msgspec.convert(fields, call.result)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        raise UnexpectedResponse(
            f"{call.method} {call.path} answered {response.status_code} with a body xhooks cannot read ({exc}): "
            f"{response.content[:200]!r}"
        ) from exc
    return msgspec.structs.replace(result, rate_limit=rate_limit(response.headers))


def _delay(response: httpx.Response, attempt: int, now: float) -> float:
    reset = response.headers.get("x-rate-limit-reset", "")
    return max(0.0, int(reset) - now) if reset.isdigit() else float(2**attempt)


def send(
    call: Call[T], build: Callable[[Call[T]], httpx.Request], policy: CallPolicy, clock: Callable[[], float]
) -> Flow[T]:
    """Send `call`; on 429 wait for the reset and send it again (rebuilt, so OAuth nonces are fresh)."""
    attempt = 0
    while True:
        response = yield build(call)
        if response is None:
            raise RuntimeError("a request step must be answered with its response")
        delay = _delay(response, attempt, clock())
        if response.status_code != 429 or attempt >= policy.max_retries or delay > policy.max_wait:
            return parse_response(call, response)
        attempt += 1
        yield Wait(delay)


def paginate(
    page: Callable[[str | None], Call[P]],
    build: Callable[[Call[P]], httpx.Request],
    policy: CallPolicy,
    clock: Callable[[], float],
) -> Flow[P]:
    """Fetch `page(None)`, then `page(next_token)` while X gives one, up to `policy.max_pages` pages.

    The result is the last page with the items of all pages before it prepended.
    """
    token: str | None = None
    earlier: tuple[Any, ...] = ()
    for _ in range(policy.max_pages):
        result = yield from send(page(token), build, policy, clock)
        earlier += result.items
        token = result.next_token
        if not token:
            break
    return msgspec.structs.replace(result, items=earlier)
