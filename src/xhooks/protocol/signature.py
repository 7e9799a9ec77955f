"""The `x-twitter-webhooks-signature` scheme: `sha256=` + base64(HMAC-SHA256(consumer_secret, message)).

X signs the raw bytes of every event POST with the app's consumer secret. The same construction signs
the raw query string of a CRC GET (documented for v1.1) and builds the CRC `response_token`, which is
why `crc.py` guards which tokens it will sign.

Secrets are lists so that a consumer secret can be rotated without downtime: during the change both the
old and the new secret are configured and either signature is accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from xhooks.errors import SignatureMismatch, SignatureMissing

__all__ = ["PREFIX", "Secret", "signature", "verify"]

PREFIX = "sha256="
Secret = str | bytes


def _key(secret: Secret) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def signature(message: bytes, consumer_secret: Secret) -> str:
    """Return the header value X sends for `message`: `sha256=<base64 HMAC-SHA256>`.

    ```python
    >>> signature(b'{"test_number":1,"test_string":"two"}', "test")
    'sha256=YWHphPn/JFq43jkF0y4/w8R/SelmLjvpunhVFY8JhlI='
    ```
    """
    digest = hmac.digest(_key(consumer_secret), message, hashlib.sha256)  # one-shot C path, no HMAC object
    return PREFIX + base64.b64encode(digest).decode("ascii")


def verify(message: bytes, header_value: str | None, secrets: Sequence[Secret]) -> int:
    """Check `header_value` against every secret in `secrets`, in constant time per secret.

    Returns the index of the secret that matched, so a rotation can tell when the old secret is no
    longer in use. Fails closed: no secret, no header or an empty header is never verified.

    Raises:
        SignatureMissing: no secret is configured, or the header is absent or empty (answer 401).
        SignatureMismatch: no configured secret produced this signature over these bytes (answer 403).
    """
    if not secrets:
        raise SignatureMissing("no consumer secret is configured, so nothing can be verified")
    if not header_value:
        raise SignatureMissing("the request has no x-twitter-webhooks-signature header")
    presented = header_value.strip().encode("ascii", "replace")
    matched = -1
    for index, secret in enumerate(secrets):
        # Compare against every secret, not stopping early, so timing does not reveal which one matched.
        if hmac.compare_digest(signature(message, secret).encode("ascii"), presented) and matched < 0:
            matched = index
    if matched < 0:
        raise SignatureMismatch("x-twitter-webhooks-signature does not match the body for any configured secret")
    return matched
