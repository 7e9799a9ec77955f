from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support import VECTORS
from xhooks.errors import SignatureMismatch, SignatureMissing
from xhooks.protocol import signature, verify

VECTOR = json.loads((VECTORS / "signatures.json").read_text())


def _seed_signature(payload: bytes, consumer_secret: str) -> str:
    """The quickstart's own `verify_signature` construction, used as the oracle."""
    digest = hmac.new(consumer_secret.encode("utf-8"), payload, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode("utf-8")


@pytest.mark.parametrize("case", VECTOR["signatures"], ids=lambda case: case["message"][:12])
def test_known_answer_signatures(case: dict[str, str]) -> None:
    message = case["message"].encode()
    assert signature(message, VECTOR["consumer_secret"]) == case["header"]
    assert verify(message, case["header"], [VECTOR["consumer_secret"]]) == 0


@given(st.binary(max_size=2048), st.text(min_size=1, max_size=64))
def test_signature_matches_the_seed_example(body: bytes, secret: str) -> None:
    assert signature(body, secret) == _seed_signature(body, secret)


def test_bytes_and_str_secrets_agree() -> None:
    assert signature(b"x", "s\u00e9cret") == signature(b"x", "s\u00e9cret".encode())


@pytest.mark.parametrize(
    ("header", "secrets", "error"),
    [
        pytest.param(None, ["test"], SignatureMissing, id="no-header"),
        pytest.param("", ["test"], SignatureMissing, id="empty-header"),
        pytest.param("sha256=YWHphPn/JFq43jkF0y4/w8R/SelmLjvpunhVFY8JhlI=", [], SignatureMissing, id="no-secret"),
        pytest.param("YWHphPn/JFq43jkF0y4/w8R/SelmLjvpunhVFY8JhlI=", ["test"], SignatureMismatch, id="no-prefix"),
        pytest.param("sha256=", ["test"], SignatureMismatch, id="prefix-only"),
        pytest.param("sha256=YWHphPn/JFq43jkF0y4/w8R/SelmLjvpunhVFY8JhlI=", ["other"], SignatureMismatch, id="wrong"),
        pytest.param("sha256=\u00ff\u00fe", ["test"], SignatureMismatch, id="non-ascii"),
    ],
)
def test_verify_fails_closed(header: str | None, secrets: list[str], error: type[Exception]) -> None:
    with pytest.raises(error):
        verify(b'{"test_number":1,"test_string":"two"}', header, secrets)


def test_reserialised_json_is_rejected() -> None:
    sent = b'{"text": "caf\\u00e9",  "id": 1}'
    reserialised = json.dumps(json.loads(sent), separators=(",", ":")).encode()
    with pytest.raises(SignatureMismatch):
        verify(sent, signature(reserialised, "test"), ["test"])


@given(st.binary(min_size=1, max_size=512), st.data())
def test_any_byte_flip_is_rejected(body: bytes, data: st.DataObject) -> None:
    header = signature(body, "secret")
    position = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = body[:position] + bytes([body[position] ^ flip]) + body[position + 1 :]
    with pytest.raises(SignatureMismatch):
        verify(tampered, header, ["secret"])


@given(st.binary(max_size=64), st.data())
def test_any_header_flip_is_rejected(body: bytes, data: st.DataObject) -> None:
    header = signature(body, "secret")
    position = data.draw(st.integers(len("sha256="), len(header) - 1))
    replacement = data.draw(st.sampled_from("ABCabc0123+/=").filter(lambda c: c != header[position]))
    tampered = header[:position] + replacement + header[position + 1 :]
    with pytest.raises(SignatureMismatch):
        verify(body, tampered, ["secret"])


@given(
    st.binary(max_size=256),
    st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=5, unique=True),
    st.data(),
)
def test_rotation_accepts_any_listed_secret(body: bytes, secrets: list[str], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(secrets) - 1))
    assert verify(body, signature(body, secrets[index]), secrets) == index


@given(st.binary(max_size=256), st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=5, unique=True))
def test_rotation_rejects_an_unlisted_secret(body: bytes, secrets: list[str]) -> None:
    outsider = "".join(secrets) + "-not-listed"
    with pytest.raises(SignatureMismatch):
        verify(body, signature(body, outsider), secrets)
