from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support import VECTORS
from xhooks.errors import InvalidCrcToken, SignatureMismatch, SignatureMissing
from xhooks.protocol import check_crc_token, crc_request, crc_response, crc_token_from_query, signature

VECTOR = json.loads((VECTORS / "signatures.json").read_text())


def _seed_handle_crc(crc_token: str, consumer_secret: str) -> dict[str, str]:
    """The quickstart's own `handle_crc`, used as the oracle."""
    sha256_hash = hmac.new(consumer_secret.encode("utf-8"), crc_token.encode("utf-8"), hashlib.sha256).digest()
    return {"response_token": "sha256=" + base64.b64encode(sha256_hash).decode("utf-8")}


@pytest.mark.parametrize("case", VECTOR["crc"], ids=lambda case: case["crc_token"])
def test_known_answer_crc(case: dict[str, str]) -> None:
    assert crc_response(case["crc_token"], VECTOR["consumer_secret"]) == {"response_token": case["response_token"]}


@given(st.text(max_size=200), st.text(min_size=1, max_size=64))
def test_crc_matches_the_seed_example(token: str, secret: str) -> None:
    assert crc_response(token, secret) == _seed_handle_crc(token, secret)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("A" * 16, id="shortest"),
        pytest.param("a" * 128, id="longest"),
        pytest.param("Zm9vYmFyYmF6cXV4cXV1eA==", id="base64-padded"),
        pytest.param("dGhpcy1pcy1hX3Rva2VuLWZvci1jcmM_", id="base64url"),
        pytest.param("ab+/cdEFgh0123456789", id="base64-plus-slash"),
    ],
)
def test_token_shaped_crc_tokens_are_answered(token: str) -> None:
    assert check_crc_token(token) == token


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("short", id="too-short"),
        pytest.param("a" * 129, id="too-long"),
        pytest.param('{"for_user_id":"1","tweet_create_events":[]}', id="json-body-oracle"),
        pytest.param("abc def ghi jkl mno", id="spaces"),
        pytest.param('abcdefghijklmnop"', id="quote"),
        pytest.param("abcdefghijklmnop=x", id="padding-in-the-middle"),
        pytest.param("abcdefghijklmnop\u00e9", id="non-ascii"),
    ],
)
def test_crc_guard_refuses_to_sign(token: str | None) -> None:
    with pytest.raises(InvalidCrcToken) as info:
        check_crc_token(token)
    assert info.value.status_hint == 400


def test_unknown_query_parameters_are_ignored() -> None:
    query = b"crc_token=abcdefghijklmnopqrstuvwx&nonce=1234&extra=whatever"
    assert crc_token_from_query(query, None, ["test"]) == "abcdefghijklmnopqrstuvwx"


def test_query_signature_is_verified_over_the_raw_query_string() -> None:
    query = b"crc_token=abcdefghijklmnopqrstuvwx&nonce=1234"
    assert crc_token_from_query(query, signature(query, "test"), ["test"]) == "abcdefghijklmnopqrstuvwx"
    with pytest.raises(SignatureMismatch):
        crc_token_from_query(query, signature(query, "other"), ["test"])
    with pytest.raises(SignatureMissing):
        crc_token_from_query(query, "", ["test"])


@pytest.mark.parametrize(
    ("url", "target", "query"),
    [
        pytest.param(
            "https://example.com/webhook",
            "https://example.com/webhook?crc_token=foo&nonce=1",
            "crc_token=foo&nonce=1",
            id="plain",
        ),
        pytest.param(
            "https://example.com/webhook?tenant=1#top",
            "https://example.com/webhook?tenant=1&crc_token=foo&nonce=1",
            "tenant=1&crc_token=foo&nonce=1",
            id="own-query-and-fragment",
        ),
    ],
)
def test_crc_request_appends_to_the_urls_query_and_signs_all_of_it(url: str, target: str, query: str) -> None:
    request = crc_request(url, "foo", "1", VECTOR["consumer_secret"])
    assert (request.url, request.query, request.crc_token) == (target, query, "foo")
    assert request.headers == {"x-twitter-webhooks-signature": signature(query.encode(), VECTOR["consumer_secret"])}
    assert request.response_token == VECTOR["crc"][0]["response_token"]  # known answer for crc_token=foo


def test_crc_request_is_what_the_receivers_check_accepts() -> None:
    """The builder and the check agree, also when the webhook URL has a query of its own (issue 12)."""
    request = crc_request("https://example.com/webhook?tenant=1", "abcdefghijklmnopqrstuvwx", "n0nce", "test")
    raw = request.query.encode()
    signed = request.headers["x-twitter-webhooks-signature"]
    assert crc_token_from_query(raw, signed, ["test"]) == "abcdefghijklmnopqrstuvwx"
    assert crc_response("abcdefghijklmnopqrstuvwx", "test")["response_token"] == request.response_token


def test_repeated_crc_token_is_refused() -> None:
    with pytest.raises(InvalidCrcToken):
        crc_token_from_query(b"crc_token=abcdefghijklmnopqrst&crc_token=zyxwvutsrqponmlkjihg", None, ["test"])


@given(st.binary(max_size=300))
def test_query_parsing_never_leaks_foreign_errors(query: bytes) -> None:
    try:
        token = crc_token_from_query(query, None, ["test"])
    except InvalidCrcToken:
        return
    assert check_crc_token(token) == token


@given(st.text(alphabet="abcAB01=&%+_-crc_token;2F3D", max_size=60), st.booleans())
def test_crc_token_is_found_exactly_as_parse_qs_finds_it(query: str, prefixed: bool) -> None:
    from urllib.parse import parse_qs

    raw = (("crc_token=" + query) if prefixed else query).encode()
    expected = parse_qs(raw.decode("latin-1"), keep_blank_values=True).get("crc_token", [])
    try:
        token = crc_token_from_query(raw, None, ["test"])
    except InvalidCrcToken:
        assert len(expected) != 1 or _refused(expected[0])
        return
    assert expected == [token]


def _refused(token: str) -> bool:
    try:
        check_crc_token(token)
    except InvalidCrcToken:
        return True
    return False
