"""X's error reasons as exception classes, and the one boundary where httpx errors become xhooks errors.

```
XApiError
├── Unauthorized                 401: a missing or wrong token
├── Forbidden                    403: the token cannot call this endpoint (e.g. app-only where user context is needed)
├── RateLimited                  429: carries reset_at (epoch seconds) when X sent x-rate-limit-reset
└── one class per X reason:      CrcValidationFailed, UrlValidationFailed, DuplicateUrlFailed, WebhookLimitExceeded,
                                 WebhookIdInvalid, DuplicateSubscriptionFailed, SubscriptionLimitExceeded,
                                 SubscriptionNotFound, ReplayConflictError, QueryParamInvalid
```

A reason named in the body wins over the status code; an unknown reason stays a plain `XApiError`
with `.reason` set.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx

from xhooks.errors import TransportError, XApiError
from xhooks.protocol.api_errors import parse_problem

__all__ = [
    "REASONS",
    "CrcValidationFailed",
    "DuplicateSubscriptionFailed",
    "DuplicateUrlFailed",
    "Forbidden",
    "QueryParamInvalid",
    "RateLimited",
    "ReplayConflictError",
    "SubscriptionLimitExceeded",
    "SubscriptionNotFound",
    "Unauthorized",
    "UrlValidationFailed",
    "WebhookIdInvalid",
    "WebhookLimitExceeded",
    "error_from_response",
    "map_transport_errors",
]


class Unauthorized(XApiError):
    """401: the token is missing, wrong or revoked."""

    hint = "check the bearer token or OAuth credentials (XHOOKS_BEARER_TOKEN, XHOOKS_ACCESS_TOKEN …)"


class Forbidden(XApiError):
    """403: the token may not call this endpoint (wrong kind of auth, or an access level the app lacks)."""

    hint = "this endpoint needs another kind of auth or access level; see the detail"


class RateLimited(XApiError):
    """429: too many requests in this 15-minute window (after any retries the client was allowed)."""

    hint = "wait until the rate-limit window resets (x-rate-limit-reset) and retry"
    reset_at: int | None = None
    """Epoch seconds at which X said the window resets, when it said so."""


class CrcValidationFailed(XApiError):
    """The URL did not answer X's CRC correctly (timed out, wrong response_token, non-200)."""

    hint = "your URL did not answer X's CRC correctly; run `xhooks doctor URL --consumer-secret …` to see why"


class UrlValidationFailed(XApiError):
    """The URL breaks X's rules (not https, a port, malformed, too long)."""

    hint = "the URL must be https, publicly reachable, without a port, at most 200 characters"


class DuplicateUrlFailed(XApiError):
    """This app already registered a webhook for that URL."""

    hint = "this app already has a webhook for that URL; list it with `xhooks webhooks list`"


class WebhookLimitExceeded(XApiError):
    """The account has as many webhooks as its plan allows."""

    hint = "delete a webhook you no longer use (`xhooks webhooks delete ID`) or raise your plan's limit"


class WebhookIdInvalid(XApiError):
    """The webhook id is unknown or belongs to another app."""

    hint = "no webhook with that id belongs to this app; list them with `xhooks webhooks list`"


class DuplicateSubscriptionFailed(XApiError):
    """The user is already subscribed to this webhook."""

    hint = "that user is already subscribed to this webhook"


class SubscriptionLimitExceeded(XApiError):
    """The plan allows no more Account Activity subscriptions."""

    hint = "remove a subscription or raise your plan's limit (see `xhooks subscriptions count`)"


class SubscriptionNotFound(XApiError):
    """The user has no subscription on this webhook to remove."""

    hint = "that user is not subscribed to this webhook"


class ReplayConflictError(XApiError):
    """A replay job for this webhook is still running; X runs one at a time."""

    hint = "a replay job is already running for this webhook; wait for its replay_job_status event"


class QueryParamInvalid(XApiError):
    """A parameter is malformed or out of range (replay dates: bad format, in the future, too old)."""

    hint = "check the parameters: replay dates are UTC yyyymmddhhmm within the past 24 hours, from before to"


REASONS: dict[str, type[XApiError]] = {
    cls.__name__: cls
    for cls in (
        CrcValidationFailed,
        UrlValidationFailed,
        DuplicateUrlFailed,
        WebhookLimitExceeded,
        WebhookIdInvalid,
        DuplicateSubscriptionFailed,
        SubscriptionLimitExceeded,
        SubscriptionNotFound,
        ReplayConflictError,
        QueryParamInvalid,
    )
}
_BY_STATUS: dict[int, type[XApiError]] = {401: Unauthorized, 403: Forbidden, 429: RateLimited}


def error_from_response(response: httpx.Response) -> XApiError:
    """The most specific `XApiError` for an error response (its body must have been read)."""
    problem = parse_problem(response.content)
    cls = REASONS.get(problem.reason or "") or _BY_STATUS.get(response.status_code, XApiError)
    error = cls(
        response.status_code,
        title=problem.title,
        detail=problem.detail,
        reason=problem.reason,
        message=problem.message,
        body=response.content,
    )
    if isinstance(error, RateLimited):
        reset = response.headers.get("x-rate-limit-reset", "")
        error.reset_at = int(reset) if reset.isdigit() else None
    return error


@contextlib.contextmanager
def map_transport_errors() -> Iterator[None]:
    """Turn every httpx request failure into `TransportError`, keeping the original as `__cause__`."""
    try:
        yield
    except httpx.RequestError as exc:
        target = f" to {exc.request.url}" if _has_request(exc) else ""
        what = str(exc) or type(exc).__name__
        raise TransportError(f"no answer{target}: {what}; is the server up and the URL right?") from exc


def _has_request(exc: httpx.RequestError) -> bool:
    try:
        exc.request  # noqa: B018 - the property raises when the error was built without a request
    except RuntimeError:
        return False
    return True
