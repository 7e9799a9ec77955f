"""Check a consumer URL the way X does, and say what to fix.

X registers a webhook only if its CRC passes, and later marks it invalid on a wrong token, a 3xx or a
TLS error (PLATFORM-NOTES §2.6, §3.2). The commonest cause of "CrcValidationFailed" is signing the
`crc_token` with the wrong secret (the bearer token or the access token secret instead of the consumer
secret), so a wrong `response_token` is compared with what each *other* secret the user supplied would
have produced. Checks, in order:

1. the URL: https, no port, at most 200 characters (http and a port on loopback are warnings, so the
   doctor works against a local receiver);
2. the CRC GET, sent like X sends it (`crc_token` and `nonce` appended to the URL's own query, and the
   signature over that raw query string; built by `xhooks.protocol.crc.crc_request`): answered without
   a redirect, with 200, `application/json`, valid JSON, the right `response_token`, within 3 s;
3. a signed test POST (an X Activity-shaped event of type `xhooks.doctor`) answered with 200 within
   10 s, and, if that passed, a POST with a wrong signature, which a careful consumer refuses.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx
import msgspec

from xhooks._net import is_loopback_url
from xhooks.protocol.crc import crc_request
from xhooks.protocol.signature import PREFIX, signature

__all__ = ["CRC_LIMIT", "POST_LIMIT", "Check", "Report", "Status", "check_url", "diagnose"]

CRC_LIMIT = 3.0
"""Seconds X waits for a CRC answer (legacy docs; the v2 docs give no number)."""
POST_LIMIT = 10.0
"""Seconds X waits for an event POST to be answered (v2 docs)."""
_UNREACHABLE = "could not connect"


class Status(enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


class Check(msgspec.Struct, frozen=True):
    name: str
    status: Status
    summary: str
    fix: str | None = None


class Report(msgspec.Struct, frozen=True):
    url: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """True when nothing failed (warnings allowed)."""
        return all(check.status is not Status.FAIL for check in self.checks)

    def check(self, name: str) -> Check:
        """The check called `name`."""
        return next(check for check in self.checks if check.name == name)


def check_url(url: str) -> list[Check]:
    """X's URL rules: https, no explicit port, at most 200 characters. Loopback http/ports only warn."""
    parts = urlsplit(url)
    loopback = is_loopback_url(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [Check("url", Status.FAIL, f"{url!r} is not an http(s) URL", "give the full URL, https://host/path")]
    checks = []
    if parts.scheme == "https":
        checks.append(Check("https", Status.OK, "https"))
    elif loopback:
        checks.append(Check("https", Status.WARN, "http on loopback: fine for local testing, X itself needs https"))
    else:
        checks.append(
            Check(
                "https",
                Status.FAIL,
                "X only calls https URLs",
                "serve it over https; a tunnel (cloudflared, ngrok) gives a local server one",
            )
        )
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is None:
        checks.append(Check("no port", Status.OK, "no explicit port"))
    elif loopback:
        checks.append(Check("no port", Status.WARN, f"port {port} on loopback: fine locally, X refuses URLs with one"))
    else:
        checks.append(
            Check(
                "no port",
                Status.FAIL,
                f"the URL names port {port}; X refuses any explicit port",
                "serve on the default port (443) and drop the port from the URL",
            )
        )
    if len(url) > 200:
        checks.append(Check("length", Status.FAIL, f"{len(url)} characters; X allows 200", "use a shorter path"))
    return checks


def _wrong_token_fix(got: str, token: str, consumer_secret: str, others: Sequence[tuple[str, str | None]]) -> str:
    """Why `got` is not the right response_token, guessed from the common mistakes."""
    for label, other in others:
        if other and hmac.compare_digest(got, signature(token.encode(), other)):
            return f"it was made with the {label}: sign the crc_token with the app's consumer secret (API secret key)"
    right = signature(token.encode(), consumer_secret)
    if got == right[len(PREFIX) :]:
        return "prepend 'sha256=' to the base64 digest"
    digest = hmac.new(consumer_secret.encode(), token.encode(), hashlib.sha256).digest()
    if got in (PREFIX + digest.hex(), digest.hex()):
        return "base64-encode the HMAC digest instead of hex-encoding it, and prefix 'sha256='"
    if got == signature(consumer_secret.encode(), token):
        return "key and message are swapped: the key is the consumer secret, the message is the crc_token"
    if got == PREFIX + base64.b64encode(hashlib.sha256(token.encode()).digest()).decode():
        return "use HMAC-SHA256 keyed with the consumer secret, not a plain SHA-256 of the token"
    return (
        "it was not made with this consumer secret; check the consumer uses the secret of the app that owns "
        "the webhook (not the bearer token, access token or consumer key)"
    )


def _status_fix(status: int) -> str:
    if status in (404, 405):
        return (
            "the URL does not handle GET ?crc_token=…; add a GET handler that answers the CRC "
            "(xhooks.receiver does, or run `xhooks serve`)"
        )
    if status >= 500:
        return "the consumer failed on the CRC; see its logs (a missing consumer secret is a common cause)"
    return "answer the CRC GET with status 200"


def _redirect(response: httpx.Response, what: str) -> Check:
    target = response.headers.get("location", "?")
    return Check(
        f"{what} no redirect",
        Status.FAIL,
        f"answered {response.status_code} redirecting to {target}",
        f"X treats any 3xx as invalid: register the final URL ({target}) instead",
    )


def _no_answer(exc: httpx.RequestError, what: str, limit: float) -> Check:
    if isinstance(exc, httpx.TimeoutException):
        return Check(
            f"{what} answered",
            Status.FAIL,
            f"no answer within {limit:g} s",
            "answer straight away and do slow work after responding",
        )
    text = str(exc) or type(exc).__name__
    if "SSL" in text or "CERTIFICATE" in text.upper():
        return Check(
            f"{what} answered",
            Status.FAIL,
            f"TLS error: {text}",
            "X marks a webhook invalid on any SSL error: serve a valid certificate chain for this host",
        )
    return Check(
        f"{what} answered",
        Status.FAIL,
        f"{_UNREACHABLE}: {text}",
        "is the consumer running, and reachable at this address?",
    )


def _latency(name: str, seconds: float, limit: float) -> Check:
    said = f"{seconds * 1000:.0f} ms (X allows {limit:g} s)"
    if seconds > limit:
        return Check(name, Status.FAIL, said, "answer before doing any slow work")
    if seconds > limit / 2:
        return Check(name, Status.WARN, said, "close to X's limit; answer before doing any slow work")
    return Check(name, Status.OK, said)


async def _crc(
    http: httpx.AsyncClient, url: str, consumer_secret: str, others: Sequence[tuple[str, str | None]], timeout: float
) -> tuple[list[Check], bool]:
    """The CRC checks, and whether anything answered at all (a connection refused skips the POST)."""
    checks = await _crc_checks(http, url, consumer_secret, others, timeout)
    return checks, not checks[0].summary.startswith(_UNREACHABLE)


async def _crc_checks(
    http: httpx.AsyncClient, url: str, consumer_secret: str, others: Sequence[tuple[str, str | None]], timeout: float
) -> list[Check]:
    crc = crc_request(url, secrets.token_urlsafe(32), secrets.token_hex(8), consumer_secret)
    started = time.perf_counter()
    try:
        response = await http.get(crc.url, headers=crc.headers, timeout=timeout)
    except httpx.RequestError as exc:
        return [_no_answer(exc, "crc", timeout)]
    elapsed = time.perf_counter() - started
    checks = [Check("crc answered", Status.OK, f"answered {response.status_code}")]
    if response.is_redirect:
        return [*checks, _redirect(response, "crc")]
    checks.append(Check("crc no redirect", Status.OK, "no redirect"))
    if response.status_code != 200:
        return [
            *checks,
            Check("crc status 200", Status.FAIL, f"answered {response.status_code}", _status_fix(response.status_code)),
        ]
    checks.append(Check("crc status 200", Status.OK, "200"))
    content_type = response.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() == "application/json":
        checks.append(Check("crc content-type", Status.OK, content_type))
    else:
        checks.append(
            Check(
                "crc content-type",
                Status.FAIL,
                f"Content-Type is {content_type or 'missing'!r}",
                "send Content-Type: application/json (return a JSON object, not a string)",
            )
        )
    try:
        body = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        return [
            *checks,
            Check(
                "crc json",
                Status.FAIL,
                f"the body is not JSON: {response.content[:80]!r}",
                'answer {"response_token": "sha256=…"} as JSON',
            ),
        ]
    got = body.get("response_token") if isinstance(body, dict) else None
    if not isinstance(got, str):
        return [
            *checks,
            Check(
                "crc json", Status.FAIL, "JSON without a response_token string", 'answer {"response_token": "sha256=…"}'
            ),
        ]
    checks.append(Check("crc json", Status.OK, "JSON with a response_token"))
    if hmac.compare_digest(got, crc.response_token):
        checks.append(Check("crc response_token", Status.OK, "matches the consumer secret"))
    else:
        checks.append(
            Check(
                "crc response_token",
                Status.FAIL,
                "wrong response_token",
                _wrong_token_fix(got, crc.crc_token, consumer_secret, others),
            )
        )
    checks.append(_latency("crc latency", elapsed, CRC_LIMIT))
    return checks


def _test_event() -> bytes:
    event = {
        "event_uuid": f"xhooks-doctor-{secrets.token_hex(8)}",
        "event_type": "xhooks.doctor",
        "filter": {},
        "payload": {"note": "a test event sent by xhooks doctor; safe to ignore"},
    }
    return msgspec.json.encode({"data": event})


async def _post(http: httpx.AsyncClient, url: str, consumer_secret: str, timeout: float) -> list[Check]:
    body = _test_event()
    headers = {"content-type": "application/json", "x-twitter-webhooks-signature": signature(body, consumer_secret)}
    started = time.perf_counter()
    try:
        response = await http.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.RequestError as exc:
        return [_no_answer(exc, "post", timeout)]
    elapsed = time.perf_counter() - started
    if response.is_redirect:
        return [_redirect(response, "post")]
    if response.status_code in (401, 403):
        return [
            Check(
                "post status 200",
                Status.FAIL,
                f"a correctly signed POST was refused ({response.status_code})",
                "the consumer verifies with another secret: configure this app's consumer secret in it",
            )
        ]
    if response.status_code != 200:
        status = Status.WARN if response.is_success else Status.FAIL
        return [
            Check(
                "post status 200",
                status,
                f"answered {response.status_code}",
                "acknowledge each event with 200 once it is stored",
            )
        ]
    checks = [
        Check("post status 200", Status.OK, "a signed test event was acknowledged with 200"),
        _latency("post latency", elapsed, POST_LIMIT),
    ]
    forged = _test_event()
    headers["x-twitter-webhooks-signature"] = signature(forged, secrets.token_urlsafe(16))
    try:
        refused = not (await http.post(url, content=forged, headers=headers, timeout=timeout)).is_success
    except httpx.RequestError:
        refused = True
    if refused:
        checks.append(Check("post signature checked", Status.OK, "a POST with a wrong signature was refused"))
    else:
        checks.append(
            Check(
                "post signature checked",
                Status.WARN,
                "a POST with a wrong signature was accepted",
                "verify x-twitter-webhooks-signature over the raw body (xhooks.protocol.verify), "
                "or anyone can forge events",
            )
        )
    return checks


async def diagnose(
    url: str,
    consumer_secret: str,
    *,
    bearer_token: str | None = None,
    access_token_secret: str | None = None,
    crc_timeout: float = CRC_LIMIT,
    post_timeout: float = POST_LIMIT,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Report:
    """Check `url` as X would, without following redirects; never raises for anything the consumer does.

    `bearer_token` and `access_token_secret` are used only to recognise a CRC answered with the wrong secret.

    ```python
    report = asyncio.run(diagnose("https://example.com/webhook", consumer_secret="…"))
    print(report.ok, [(c.name, c.status.value, c.fix) for c in report.checks])
    ```
    """
    checks = check_url(url)
    if any(check.name == "url" for check in checks):
        return Report(url, tuple(checks))
    others = [("bearer token", bearer_token), ("access token secret", access_token_secret)]
    async with httpx.AsyncClient(follow_redirects=False, transport=transport) as http:
        crc, reachable = await _crc(http, url, consumer_secret, others, crc_timeout)
        if reachable:
            post = await _post(http, url, consumer_secret, post_timeout)
        else:
            post = [Check("post", Status.SKIP, "skipped: nothing answered at this address")]
    return Report(url, tuple(checks + crc + post))
