"""Every exception xhooks raises, in one tree.

```
XhooksError
├── VerificationError            a request from "X" that must not be trusted (carries status_hint)
│   ├── SignatureMissing         no x-twitter-webhooks-signature, or an empty one        → 401
│   ├── SignatureMismatch        a signature that no configured consumer secret produced → 403
│   └── InvalidCrcToken          a crc_token that is absent or not token-shaped          → 400
├── StoreError                   the store could not record or read (disk full, read-only, down) → 503
│   └── SchemaMismatch           the database holds a schema this version does not know
├── ConfigError                  a setting is missing or wrong; the message says which and how to fix it
└── ClientError                  talking to X (or the emulator) failed
    ├── TransportError           the request never got an HTTP answer
    └── XApiError                X answered with an error (status_code, title, detail, reason, body)
        └── one subclass per X reason: CrcValidationFailed, UrlValidationFailed, …
```

`str(error)` is one line that says what to do; `repr(error)` shows the fields.
"""

from __future__ import annotations

__all__ = [
    "ClientError",
    "ConfigError",
    "InvalidCrcToken",
    "SchemaMismatch",
    "SignatureMismatch",
    "SignatureMissing",
    "StoreError",
    "TransportError",
    "VerificationError",
    "XApiError",
    "XhooksError",
]


class XhooksError(Exception):
    """Base class of every error xhooks raises on purpose."""


class VerificationError(XhooksError):
    """A request claiming to come from X failed verification.

    `status_hint` is the HTTP status the receiver answers with, so the receiver
    never has to decide it (the h11 `error_status_hint` idea).
    """

    status_hint: int = 400

    def __init__(self, message: str) -> None:
        if type(self) is VerificationError:
            raise TypeError("instantiate a subclass of VerificationError")
        super().__init__(message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, status_hint={self.status_hint})"


class SignatureMissing(VerificationError):
    """The POST carries no usable `x-twitter-webhooks-signature` header (or no secret is configured)."""

    status_hint = 401


class SignatureMismatch(VerificationError):
    """The signature was not produced by any configured consumer secret over these exact bytes."""

    status_hint = 403


class InvalidCrcToken(VerificationError):
    """The `crc_token` is missing or not shaped like one of X's tokens, so it is not signed."""

    status_hint = 400


class StoreError(XhooksError):
    """The store could not do what was asked; deliveries are answered 503 so that X retries."""


class SchemaMismatch(StoreError):
    """The database was written by another version of xhooks."""


class ConfigError(XhooksError):
    """A configuration value is missing or invalid; the message names it and the fix."""


class ClientError(XhooksError):
    """Talking to X (or the emulator) failed."""


class TransportError(ClientError):
    """The request never got an HTTP answer: no connection, a timeout, a broken response.

    The httpx exception that caused it is kept as `__cause__`.
    """


class XApiError(ClientError):
    """X answered with an error status.

    `reason` is X's machine-readable reason (`CrcValidationFailed`, …), taken from the prefix of
    `errors[].message`, or None when the body names none. `body` is the raw response body.
    Subclasses named after each reason live in `xhooks.client.errors`; an unknown reason stays an
    `XApiError` and keeps `.reason`.
    """

    hint: str = "see the detail X gave"

    def __init__(
        self,
        status_code: int,
        *,
        title: str | None = None,
        detail: str | None = None,
        reason: str | None = None,
        message: str | None = None,
        body: bytes = b"",
    ) -> None:
        self.status_code = status_code
        self.title = title
        self.detail = detail
        self.reason = reason
        self.message = message
        self.body = body
        what = reason or title or "error"
        said = message or detail
        super().__init__(f"X answered {status_code} {what}" + (f": {said}" if said else "") + f"; {self.hint}")

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, title={self.title!r}, "
            f"detail={self.detail!r}, reason={self.reason!r}, message={self.message!r})"
        )
