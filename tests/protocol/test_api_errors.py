"""X's error bodies: the reason is the prefix of errors[].message (docs/x-platform.md §3)."""

from __future__ import annotations

import json

import pytest

from xhooks.protocol.api_errors import Problem, parse_problem

from ..support import EXAMPLES

INVALID = "One or more parameters to your request was invalid."


def test_reason_and_details_come_from_the_message_prefix() -> None:
    body = {
        "errors": [{"message": "CrcValidationFailed: Invalid response_token"}],
        "title": "Invalid Request",
        "detail": INVALID,
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }
    problem = parse_problem(json.dumps(body).encode())
    assert (problem.reason, problem.message) == ("CrcValidationFailed", "Invalid response_token")
    assert (problem.title, problem.detail) == ("Invalid Request", INVALID)
    assert problem.type == "https://api.twitter.com/2/problems/invalid-request"


@pytest.mark.parametrize(
    ("message", "reason", "rest"),
    [
        pytest.param("WebhookLimitExceeded: ", "WebhookLimitExceeded", "", id="empty-details"),
        pytest.param(
            "CrcValidationFailed:... Invalid response_token",
            "CrcValidationFailed",
            "... Invalid response_token",
            id="no-space",
        ),
        pytest.param("The 'query' parameter is required.", None, "The 'query' parameter is required.", id="prose"),
    ],
)
def test_reason_prefix_forms(message: str, reason: str | None, rest: str) -> None:
    problem = parse_problem(json.dumps({"errors": [{"message": message}]}).encode())
    assert (problem.reason, problem.message) == (reason, rest)


def test_first_message_naming_a_reason_wins() -> None:
    body = {"errors": [{"message": "something went wrong"}, {"message": "DuplicateUrlFailed: twice"}]}
    problem = parse_problem(json.dumps(body).encode())
    assert problem.reason == "DuplicateUrlFailed"
    assert problem.messages == ("something went wrong", "DuplicateUrlFailed: twice")


def test_generic_problem_has_no_reason() -> None:
    problem = parse_problem((EXAMPLES / "api.error.invalid-request.json").read_bytes())
    assert problem.reason is None
    assert problem.detail == "The 'query' parameter is required."


def test_top_level_reason_is_used_when_no_message_names_one() -> None:
    body = {"title": "Client Forbidden", "reason": "client-not-enrolled", "type": "x"}
    assert parse_problem(json.dumps(body).encode()).reason == "client-not-enrolled"


@pytest.mark.parametrize(
    "body",
    [b"", b"<html>502</html>", b"[1,2]", b'"text"', b"\xff\xfe", b'{"errors": "nope", "title": 5}'],
)
def test_unreadable_bodies_parse_to_an_empty_problem(body: bytes) -> None:
    assert parse_problem(body) == Problem()
