"""X's reasons and statuses become exception classes; httpx failures become TransportError at one boundary."""

from __future__ import annotations

import inspect
import json

import httpx
import pytest

from xhooks.client.errors import (
    REASONS,
    Forbidden,
    RateLimited,
    Unauthorized,
    error_from_response,
    map_transport_errors,
)
from xhooks.errors import ClientError, TransportError, XApiError, XhooksError

DOCUMENTED_REASONS = [
    "CrcValidationFailed",
    "UrlValidationFailed",
    "DuplicateUrlFailed",
    "WebhookLimitExceeded",
    "WebhookIdInvalid",
    "DuplicateSubscriptionFailed",
    "SubscriptionLimitExceeded",
    "SubscriptionNotFound",
    "ReplayConflictError",
    "QueryParamInvalid",
]


def response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers=headers,
        request=httpx.Request("POST", "http://127.0.0.1/2/webhooks"),
    )


@pytest.mark.parametrize("reason", DOCUMENTED_REASONS)
def test_each_documented_reason_is_its_own_class(reason: str) -> None:
    error = error_from_response(response(400, {"errors": [{"message": f"{reason}: details here"}]}))
    assert type(error).__name__ == reason
    assert isinstance(error, XApiError) and isinstance(error, ClientError) and isinstance(error, XhooksError)
    assert (error.status_code, error.reason, error.message) == (400, reason, "details here")


def test_reason_table_holds_exactly_the_documented_reasons() -> None:
    assert sorted(REASONS) == sorted(DOCUMENTED_REASONS)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        pytest.param(401, Unauthorized, id="401"),
        pytest.param(403, Forbidden, id="403"),
        pytest.param(429, RateLimited, id="429"),
    ],
)
def test_statuses_without_a_reason_have_their_own_class(status: int, cls: type[XApiError]) -> None:
    error = error_from_response(response(status, {"title": "T", "detail": "D", "type": "about:blank"}))
    assert type(error) is cls
    assert (error.title, error.detail, error.reason) == ("T", "D", None)


def test_a_reason_wins_over_the_status() -> None:
    error = error_from_response(response(403, {"errors": [{"message": "WebhookIdInvalid: x"}]}))
    assert type(error).__name__ == "WebhookIdInvalid"


def test_unknown_reason_stays_xapierror_and_keeps_it() -> None:
    body = {"errors": [{"message": "BrandNewReason: what X says"}], "title": "Invalid Request"}
    error = error_from_response(response(400, body))
    assert type(error) is XApiError
    assert error.reason == "BrandNewReason"
    assert error.body == json.dumps(body).encode()


def test_rate_limited_carries_the_reset_time() -> None:
    error = error_from_response(response(429, {}, {"x-rate-limit-reset": "1700000000"}))
    assert isinstance(error, RateLimited)
    assert error.reset_at == 1700000000


def test_str_is_one_line_that_says_what_to_do_and_repr_shows_fields() -> None:
    error = error_from_response(response(400, {"errors": [{"message": "CrcValidationFailed: Invalid response_token"}]}))
    assert "\n" not in str(error)
    assert "CrcValidationFailed" in str(error) and "xhooks doctor" in str(error)
    assert "status_code=400" in repr(error) and "reason='CrcValidationFailed'" in repr(error)


def _request_errors() -> list[type[httpx.RequestError]]:
    return [cls for _, cls in inspect.getmembers(httpx, inspect.isclass) if issubclass(cls, httpx.RequestError)]


def test_httpx_request_errors_are_all_listed() -> None:
    names = {cls.__name__ for cls in _request_errors()}
    assert {"ConnectError", "ReadTimeout", "RemoteProtocolError", "UnsupportedProtocol", "TooManyRedirects"} <= names


@pytest.mark.parametrize("exc_class", _request_errors(), ids=lambda cls: cls.__name__)
def test_every_httpx_request_error_is_mapped(exc_class: type[httpx.RequestError]) -> None:
    original = exc_class("boom", request=httpx.Request("GET", "http://127.0.0.1:1/x"))
    with pytest.raises(TransportError) as caught, map_transport_errors():
        raise original
    assert caught.value.__cause__ is original
    assert "http://127.0.0.1:1/x" in str(caught.value)


def test_an_error_without_a_request_is_mapped_too() -> None:
    with pytest.raises(TransportError), map_transport_errors():
        raise httpx.ConnectError("refused")


def test_other_errors_pass_through() -> None:
    with pytest.raises(ValueError), map_transport_errors():
        raise ValueError("not ours")
