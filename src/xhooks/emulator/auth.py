"""Who is calling: an app with its Bearer token, or a user through OAuth 1.0a or an OAuth 2.0 user token.

OAuth 1.0a signatures are verified by oauthlib against the consumer secret and access-token secret the
emulator holds, over the URL the client called (scheme, host and port from the request). A missing or
wrong credential is X's 401; a valid credential of a kind the endpoint does not accept is X's 403
"Unsupported Authentication".
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from typing import Any

from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint

from xhooks.emulator.errors import forbidden, unauthorized, unsupported_auth
from xhooks.emulator.state import App, State, User
from xhooks.emulator.web import Request

__all__ = ["APP_ONLY", "ANY", "USER", "Authenticator", "Kind", "Principal", "require", "require_scopes"]


class Kind(enum.Enum):
    APP = "OAuth 2.0 Application-Only"
    OAUTH2_USER = "OAuth 2.0 User Context"
    OAUTH1_USER = "OAuth 1.0a User Context"


APP_ONLY = frozenset({Kind.APP})
USER = frozenset({Kind.OAUTH1_USER, Kind.OAUTH2_USER})
ANY = frozenset(Kind)
APP_OR_OAUTH1 = frozenset({Kind.APP, Kind.OAUTH1_USER})


@dataclass(frozen=True)
class Principal:
    kind: Kind
    app: App
    user: User | None = None


class _Validator(RequestValidator):
    """oauthlib asks the emulator's state for secrets; token shapes are X's, so length rules are relaxed."""

    def __init__(self, state: State) -> None:
        super().__init__()
        self.state = state
        self._seen: deque[tuple[str, str, str]] = deque(maxlen=10_000)

    enforce_ssl = False
    safe_characters = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
    client_key_length = (1, 128)
    access_token_length = (1, 128)
    nonce_length = (1, 128)

    @property
    def dummy_client(self) -> str:
        return "dummy-client"

    @property
    def dummy_access_token(self) -> str:
        return "dummy-token"

    def check_nonce(self, nonce: str) -> bool:
        return bool(nonce) and len(nonce) <= 128

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return self.state.app_by("consumer_key", client_key) is not None

    def get_client_secret(self, client_key: str, request: Any) -> str:
        app = self.state.app_by("consumer_key", client_key)
        return app.consumer_secret if app else "dummy-secret"

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        return self.state.user_by("access_token", token) is not None

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        user = self.state.user_by("access_token", token)
        return (user.access_token_secret or "") if user else "dummy-secret"

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: Any,
        request_token: str | None = None,
        access_token: str | None = None,
    ) -> bool:
        seen = (client_key, timestamp, nonce)
        if seen in self._seen:
            return False
        self._seen.append(seen)
        return True

    def validate_realms(self, *args: Any, **kwargs: Any) -> bool:
        return True


class Authenticator:
    def __init__(self, state: State) -> None:
        self.state = state
        self._oauth1 = SignatureOnlyEndpoint(_Validator(state))

    def authenticate(self, request: Request) -> Principal:
        """Identify the caller. Raises `ApiError` 401 when no credential is valid."""
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            token = value.strip()
            app = self.state.app_by("bearer_token", token)
            if app is not None:
                return Principal(Kind.APP, app)
            user = self.state.user_by("oauth2_token", token)
            apps = self.state.apps()
            if user is not None and apps:
                return Principal(Kind.OAUTH2_USER, apps[0], user)
        elif scheme.lower() == "oauth":
            return self._oauth1_principal(request)
        raise unauthorized()

    def _oauth1_principal(self, request: Request) -> Principal:
        form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        ok, checked = self._oauth1.validate_request(
            request.url,
            request.method,
            request.body if form else None,
            {"Authorization": request.headers["authorization"]},
        )
        if not ok:
            raise unauthorized()
        app = self.state.app_by("consumer_key", checked.client_key)
        user = self.state.user_by("access_token", checked.resource_owner_key) if checked.resource_owner_key else None
        if app is None or user is None:
            raise unauthorized()
        return Principal(Kind.OAUTH1_USER, app, user)


def require(principal: Principal, allowed: frozenset[Kind]) -> None:
    """Raise X's 403 if the caller authenticated with a kind of credential the endpoint does not take."""
    if principal.kind not in allowed:
        order = [Kind.OAUTH1_USER, Kind.OAUTH2_USER, Kind.APP]
        raise unsupported_auth(principal.kind.value, [kind.value for kind in order if kind in allowed])


def require_scopes(principal: Principal, scopes: tuple[str, ...], why: str) -> None:
    """Raise a 403 if an OAuth 2.0 user token lacks one of `scopes` (other credentials carry no scopes)."""
    if principal.kind is not Kind.OAUTH2_USER or principal.user is None:
        return
    missing = [scope for scope in scopes if scope not in principal.user.scopes.split()]
    if missing:
        raise forbidden(f"The OAuth 2.0 user token is missing the {', '.join(missing)} scope needed for {why}")
