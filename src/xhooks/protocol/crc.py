"""The Challenge-Response Check, consumer side.

X proves that a callback URL is controlled by the app by sending `GET <url>?crc_token=<token>` and
expecting `{"response_token": "sha256=" + base64(HMAC-SHA256(consumer_secret, crc_token))}`.

Theory of the guard. The response token is built exactly like an event signature: same key, same
algorithm, same prefix. A consumer that answers *any* `crc_token` is therefore a signing oracle: an
attacker sends a JSON body as the token, receives a valid `x-twitter-webhooks-signature` for it, and can
then POST that body as if it came from X. X's tokens are base64-style strings, so we answer only tokens
made of base64/base64url characters of plausible length (16 to 128 characters, padding only at the end).
A JSON body cannot pass: it needs `{`, `"` or `:`.

When the GET carries its own `x-twitter-webhooks-signature`, it is verified too. X's v2 pages do not mention
it; the Account Activity guide "Securing webhooks" says the GET's signature is the HMAC of the query string
`crc_token=$token&nonce=$nonce`, and X's own consumer (autohook) verifies it over the raw query string of the
request. A webhook URL may have a query of its own (`…/webhook?tenant=1`); X's parameters are appended to it,
and the signed message is the whole raw query string as sent (`tenant=1&crc_token=…&nonce=…`), which is the
documented string whenever the URL has no query. Unknown parameters such as `nonce` are ignored, never rejected.

The request itself is built once, by `crc_request`: the emulator sends it as X, `xhooks doctor` sends it to
check a consumer, and the receiver's check (`crc_token_from_query`) verifies the same message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote, unquote_plus, urlsplit

import msgspec

from xhooks.errors import InvalidCrcToken
from xhooks.protocol.signature import Secret, signature, verify

__all__ = [
    "MAX_TOKEN_LENGTH",
    "MIN_TOKEN_LENGTH",
    "CrcRequest",
    "check_crc_token",
    "crc_request",
    "crc_response",
    "crc_token_from_query",
]

MIN_TOKEN_LENGTH = 16
MAX_TOKEN_LENGTH = 128
_TOKEN = re.compile(rb"[A-Za-z0-9+/_-]+={0,2}")


def crc_response(crc_token: str, consumer_secret: Secret) -> dict[str, str]:
    """Return the JSON object that answers a CRC for `crc_token`.

    This is the seed's algorithm and does not guard the token; receivers call `check_crc_token` first.

    ```python
    >>> crc_response("foo", "test")
    {'response_token': 'sha256=HlU5y5rWhNi1SHftUCyOxuT6JRuDqeVBKWp1yvldR04='}
    ```
    """
    return {"response_token": signature(crc_token.encode("utf-8"), consumer_secret)}


class CrcRequest(msgspec.Struct, frozen=True):
    """One CRC as X sends it, and the answer a correct consumer gives."""

    url: str
    """The URL to GET: the webhook URL with `crc_token` and `nonce` appended to its query (fragment dropped)."""
    query: str
    """The raw query string of `url`, the message that `headers` signs."""
    headers: dict[str, str]
    """`x-twitter-webhooks-signature` over `query`."""
    crc_token: str
    response_token: str
    """What a consumer holding the same consumer secret answers (`crc_response(crc_token, …)["response_token"]`)."""


def crc_request(url: str, crc_token: str, nonce: str, consumer_secret: Secret) -> CrcRequest:
    """Build the CRC GET for the webhook at `url`: the target URL, its signature header and the expected answer.

    The caller picks `crc_token` and `nonce` (X's are random per request) and does the I/O.

    ```python
    >>> request = crc_request("https://example.com/webhook?tenant=1", "foo", "1", "test")
    >>> request.url
    'https://example.com/webhook?tenant=1&crc_token=foo&nonce=1'
    >>> request.response_token
    'sha256=HlU5y5rWhNi1SHftUCyOxuT6JRuDqeVBKWp1yvldR04='
    ```
    """
    split = urlsplit(url)
    ours = f"crc_token={quote(crc_token, safe='')}&nonce={quote(nonce, safe='')}"
    query = f"{split.query}&{ours}" if split.query else ours
    return CrcRequest(
        url=split._replace(query=query, fragment="").geturl(),
        query=query,
        headers={"x-twitter-webhooks-signature": signature(query.encode("utf-8"), consumer_secret)},
        crc_token=crc_token,
        response_token=crc_response(crc_token, consumer_secret)["response_token"],
    )


def check_crc_token(crc_token: str | bytes | None) -> str:
    """Return `crc_token` as a string if it is shaped like one of X's tokens.

    Raises:
        InvalidCrcToken: absent, empty, too short or long, or with characters outside base64/base64url.
    """
    if not crc_token:
        raise InvalidCrcToken("the CRC request has no crc_token")
    raw = crc_token.encode("utf-8", "replace") if isinstance(crc_token, str) else crc_token
    if not MIN_TOKEN_LENGTH <= len(raw) <= MAX_TOKEN_LENGTH:
        raise InvalidCrcToken(
            f"crc_token must be {MIN_TOKEN_LENGTH} to {MAX_TOKEN_LENGTH} characters; refusing to sign it"
        )
    if _TOKEN.fullmatch(raw) is None:
        raise InvalidCrcToken("crc_token must be base64 or base64url characters; refusing to sign it")
    return raw.decode("ascii")


def crc_token_from_query(query_string: bytes, signature_header: str | None, secrets: Sequence[Secret]) -> str:
    """Extract and check the `crc_token` of a CRC request's raw query string.

    If the request carries `x-twitter-webhooks-signature`, it must be the signature of the raw query
    string under one of `secrets` (the message `crc_request` signs); a request without that header is
    accepted (X's v2 docs do not promise it).

    Raises:
        InvalidCrcToken: the token is missing, repeated or not token-shaped.
        SignatureMissing, SignatureMismatch: the query string's own signature is present but wrong.
    """
    if signature_header is not None:
        verify(query_string, signature_header, secrets)
    values = [
        unquote_plus(value)
        for name, _, value in (part.partition("=") for part in query_string.decode("latin-1").split("&"))
        if name == "crc_token" or ("%" in name and unquote_plus(name) == "crc_token")
    ]  # what parse_qs finds, at a third of its cost (this is the CRC's hot path)
    if len(values) > 1:
        raise InvalidCrcToken("the CRC request repeats crc_token")
    return check_crc_token(values[0] if values else None)
