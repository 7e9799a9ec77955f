"""X's error bodies, to the byte shape.

The webhook "reasons" (`CrcValidationFailed`, …) are not a field of their own: X sends them as the prefix of
`errors[].message`, inside the generic v2 `invalid-request` problem, with HTTP 400 (PLATFORM-NOTES §2.8a).
Authentication and throttling use the plain problem objects seen on the wire (§2.8b).
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = [
    "ApiError",
    "Reason",
    "forbidden",
    "invalid_request",
    "invalid_value",
    "malformed",
    "method_not_allowed",
    "not_found",
    "rate_limited",
    "unauthorized",
    "unsupported_auth",
]

INVALID_REQUEST_TYPE = "https://api.twitter.com/2/problems/invalid-request"
INVALID_REQUEST_DETAIL = "One or more parameters to your request was invalid."


class Reason(enum.Enum):
    """Every reason X documents for the webhook, subscription and replay endpoints."""

    CRC_VALIDATION_FAILED = "CrcValidationFailed"
    URL_VALIDATION_FAILED = "UrlValidationFailed"
    DUPLICATE_URL_FAILED = "DuplicateUrlFailed"
    WEBHOOK_LIMIT_EXCEEDED = "WebhookLimitExceeded"
    WEBHOOK_ID_INVALID = "WebhookIdInvalid"
    DUPLICATE_SUBSCRIPTION_FAILED = "DuplicateSubscriptionFailed"
    SUBSCRIPTION_LIMIT_EXCEEDED = "SubscriptionLimitExceeded"
    SUBSCRIPTION_NOT_FOUND = "SubscriptionNotFound"
    REPLAY_CONFLICT_ERROR = "ReplayConflictError"
    QUERY_PARAM_INVALID = "QueryParamInvalid"


class ApiError(Exception):
    """An answer the emulator gives instead of a result: a status, a JSON body and extra headers."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body.get('title', '')}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def invalid_request(reason: Reason, detail: str) -> ApiError:
    """HTTP 400 `{"errors":[{"message":"<Reason>: <detail>"}],"title":"Invalid Request",…}`."""
    return ApiError(
        400,
        {
            "errors": [{"message": f"{reason.value}: {detail}"}],
            "title": "Invalid Request",
            "detail": INVALID_REQUEST_DETAIL,
            "type": INVALID_REQUEST_TYPE,
        },
    )


def malformed(detail: str, parameters: dict[str, list[str]] | None = None) -> ApiError:
    """HTTP 400 for a request that breaks the OpenAPI contract itself (missing field, bad JSON, bad id)."""
    return ApiError(
        400,
        {
            "errors": [{"parameters": parameters or {}, "message": detail}],
            "title": "Invalid Request",
            "detail": INVALID_REQUEST_DETAIL,
            "type": INVALID_REQUEST_TYPE,
        },
    )


def invalid_value(name: str, value: str, rule: str) -> ApiError:
    """HTTP 400 for one bad query or path parameter: "The `max_results` query parameter value [0] is not …"."""
    return malformed(f"The `{name}` query parameter value [{value}] {rule}", {name: [value]})


def method_not_allowed(allowed: list[str]) -> ApiError:
    """HTTP 405 for a known path called with another method, with X's `allow` header."""
    body = {"title": "Method Not Allowed", "detail": "Method Not Allowed", "type": "about:blank", "status": 405}
    return ApiError(405, body, {"allow": ", ".join(allowed)})


def unauthorized() -> ApiError:
    return ApiError(401, {"title": "Unauthorized", "detail": "Unauthorized", "type": "about:blank", "status": 401})


def unsupported_auth(used: str, supported: list[str]) -> ApiError:
    return ApiError(
        403,
        {
            "title": "Unsupported Authentication",
            "detail": f"Authenticating with {used} is forbidden for this endpoint.  "
            f"Supported authentication types are [{', '.join(supported)}].",
            "type": "https://api.twitter.com/2/problems/unsupported-authentication",
            "status": 403,
        },
    )


def forbidden(detail: str) -> ApiError:
    """HTTP 403 for a valid credential that may not do this (a missing scope, another user's private events)."""
    return ApiError(403, {"title": "Forbidden", "detail": detail, "type": "about:blank", "status": 403})


def rate_limited(headers: dict[str, str]) -> ApiError:
    body = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
    return ApiError(429, body, headers)


def not_found(path: str) -> ApiError:
    return ApiError(
        404,
        {
            "errors": [{"message": f"The requested resource {path} was not found"}],
            "title": "Not Found Error",
            "detail": f"The requested resource {path} was not found",
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        },
    )
