"""Who may use the dashboard, as pure decisions (no I/O): the login rule, sessions, CSRF and cross-site checks.

Theory:

* Bound to a loopback address (127.0.0.0/8, ::1, localhost) only people on the machine can reach the
  dashboard, so no login is asked. Bound to anything else it requires a login with the token set in the
  configuration (`dashboard_token`); without a token it refuses every request rather than run open.
* A loopback dashboard is still reachable by any web page the user opens (CSRF), and by a hostile DNS name
  that resolves to 127.0.0.1 (DNS rebinding). So every visitor gets a signed session cookie
  (`SameSite=Strict`, `HttpOnly`), every state-changing request must carry the session's CSRF token, must
  not come from another site (`Sec-Fetch-Site`, `Origin`), and a loopback dashboard answers only requests
  whose `Host` is a loopback name.
* Session cookies are `<id>.<expiry>.<mac>`, signed with a key derived from the login token (sessions
  survive a restart, and changing the token ends them all) or, without a token, with a random key per process.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from xhooks._net import is_loopback

__all__ = ["Guard", "cross_site", "host_name"]

SESSION_COOKIE = "xhooks_session"


def host_name(host_header: str) -> str:
    """The name part of a `Host` header: `127.0.0.1:8080` → `127.0.0.1`, `[::1]:80` → `::1`."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def cross_site(headers: Mapping[str, str], scheme: str) -> str | None:
    """Why a state-changing request must be refused as cross-site, or None when it comes from this site.

    `Sec-Fetch-Site` (sent by every current browser) must be `same-origin` or `none` (typed by the user);
    an `Origin` header must equal this request's own scheme and host.
    """
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return f"cross-site request refused (Sec-Fetch-Site: {fetch_site})"
    origin = headers.get("origin")
    if origin is not None and origin != f"{scheme}://{headers.get('host', '')}":
        return f"cross-site request refused (Origin: {origin})"
    return None


def _sign(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class Guard:
    """The security decisions for one dashboard bound to `bind_host`.

    ```python
    guard = Guard("0.0.0.0", token="long-random-token")
    guard.login_required          # True: not loopback
    cookie = guard.new_session(now)
    sid = guard.session(cookie, now)
    guard.check_csrf(sid, guard.csrf(sid))   # True
    ```
    """

    def __init__(self, bind_host: str, token: str | None, session_seconds: float = 12 * 3600.0) -> None:
        self.login_required = not is_loopback(bind_host)
        self.loopback = not self.login_required
        self.token = token or None
        self.session_seconds = session_seconds
        self._key = (
            hashlib.sha256(b"xhooks-dashboard-session:" + self.token.encode()).digest()
            if self.token
            else secrets.token_bytes(32)
        )

    @property
    def refused(self) -> str | None:
        """Why every request is refused, or None: a public bind without a login token."""
        if self.login_required and not self.token:
            return (
                "the dashboard is bound to a public interface and no login token is set:"
                " set dashboard_token in xhooks.toml (or XHOOKS_DASHBOARD_TOKEN), or bind it to 127.0.0.1"
            )
        return None

    def host_allowed(self, host_header: str | None) -> bool:
        """A loopback dashboard answers only loopback `Host` names (DNS rebinding guard)."""
        if not self.loopback:
            return True
        return host_header is not None and is_loopback(host_name(host_header))

    def check_token(self, given: str) -> bool:
        return self.token is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def new_session(self, now: float) -> str:
        sid = secrets.token_urlsafe(18)
        expires = int(now + self.session_seconds)
        return f"{sid}.{expires}.{_sign(self._key, f'session:{sid}.{expires}')}"

    def session(self, cookie: str | None, now: float) -> str | None:
        """The session id of a valid, unexpired cookie, else None."""
        if not cookie or cookie.count(".") != 2:
            return None
        sid, expires, mac = cookie.split(".")
        if not expires.isdigit() or int(expires) < now:
            return None
        if not hmac.compare_digest(mac, _sign(self._key, f"session:{sid}.{expires}")):
            return None
        return sid

    def csrf(self, sid: str) -> str:
        return _sign(self._key, f"csrf:{sid}")

    def check_csrf(self, sid: str, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf(sid).encode())
