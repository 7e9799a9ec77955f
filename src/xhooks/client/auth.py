"""Credentials and request signing: app Bearer token, OAuth 1.0a user context, OAuth 2.0 user token.

OAuth 1.0a signatures are made by oauthlib, never by hand. A JSON body is not part of an OAuth 1.0a
signature (only form bodies are), so the request is signed over its method, URL and query.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import httpx
from oauthlib.oauth1 import Client as OAuth1Signer

from xhooks.client._call import Auth
from xhooks.config import Settings, mask
from xhooks.errors import ConfigError

__all__ = ["Credentials", "authorize"]


@dataclass(frozen=True, repr=False)
class Credentials:
    """What the client may sign with. Each field is optional; an endpoint that needs a missing one raises.

    - `bearer_token`: the app-only token (webhooks, links, rules, listings).
    - `consumer_key`, `consumer_secret`, `access_token`, `access_token_secret`: OAuth 1.0a user context,
      for subscribing a user (Account Activity) and sending DMs as that user.
    - `user_token`: an OAuth 2.0 user access token, used for user context when OAuth 1.0a is not configured.

    `repr` masks every value.
    """

    bearer_token: str | None = None
    consumer_key: str | None = None
    consumer_secret: str | None = None
    access_token: str | None = None
    access_token_secret: str | None = None
    user_token: str | None = None

    @classmethod
    def load(cls, settings: Settings, **explicit: str | None) -> Credentials:
        """Resolve each field: `explicit[name]`, else `XHOOKS_<NAME>`, else `name` in `xhooks.toml`.

        `consumer_secret` may be a list in the file or the environment (rotation); the first is used to sign.
        """
        values: dict[str, Any] = {}
        for field in fields(cls):
            if field.name == "consumer_secret":
                given = explicit.get(field.name)
                secrets = settings.get_list(field.name, [given] if given else None)
                values[field.name] = secrets[0] if secrets else None
            else:
                values[field.name] = settings.get(field.name, explicit.get(field.name))
        return cls(**values)

    @property
    def has_oauth1(self) -> bool:
        return all((self.consumer_key, self.consumer_secret, self.access_token, self.access_token_secret))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={mask(getattr(self, f.name))}" for f in fields(self) if getattr(self, f.name))
        return f"Credentials({shown})"


def _oauth1(request: httpx.Request, credentials: Credentials) -> str:
    signer = OAuth1Signer(
        credentials.consumer_key or "",
        client_secret=credentials.consumer_secret,
        resource_owner_key=credentials.access_token,
        resource_owner_secret=credentials.access_token_secret,
    )
    method: Any = request.method  # oauthlib's stubs want a Literal of method names
    _, headers, _ = signer.sign(str(request.url), method, body=None, headers={})
    return str(headers["Authorization"])


def authorization(request: httpx.Request, auth: Auth, credentials: Credentials) -> str:
    """The `Authorization` header value for `request` under the kind of auth its endpoint takes.

    Raises:
        ConfigError: the credentials that endpoint needs are not configured.
    """
    if auth is not Auth.APP:
        if credentials.has_oauth1:
            return _oauth1(request, credentials)
        if credentials.user_token:
            return f"Bearer {credentials.user_token}"
        if auth is Auth.USER:
            raise ConfigError(
                f"{request.method} {request.url.path} acts as a user: set consumer key and secret plus access token "
                "and secret (XHOOKS_CONSUMER_KEY, XHOOKS_CONSUMER_SECRET, XHOOKS_ACCESS_TOKEN, "
                "XHOOKS_ACCESS_TOKEN_SECRET), or an OAuth 2.0 user token (XHOOKS_USER_TOKEN)"
            )
    if not credentials.bearer_token:
        raise ConfigError(f"{request.method} {request.url.path} needs the app's bearer token: set XHOOKS_BEARER_TOKEN")
    return f"Bearer {credentials.bearer_token}"


def authorize(request: httpx.Request, auth: Auth, credentials: Credentials) -> httpx.Request:
    """Set the `Authorization` header of `request` (in place) and return it."""
    request.headers["Authorization"] = authorization(request, auth, credentials)
    return request
