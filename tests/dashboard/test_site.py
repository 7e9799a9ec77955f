"""The security gate over HTTP: login off loopback, CSRF tokens, cross-site POSTs, DNS rebinding, secrets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.dashboard.conftest import Stack, dashboard_config, receiver_with_dashboard
from tests.support import serve_app

TOKEN = "correct-horse-battery-staple"


@pytest.fixture
def public(tmp_path: Path) -> Iterator[str]:
    """A dashboard configured as bound to 0.0.0.0 (login required); it listens on 127.0.0.1 only."""
    config = dashboard_config("http://127.0.0.1:9", "unused-bearer", host="0.0.0.0", token=TOKEN)
    with receiver_with_dashboard(tmp_path / "x.db", config) as url:
        yield f"{url}/_xhooks"


def _session(client: httpx.Client, url: str) -> str:
    """Open a page (which sets the session cookie) and return the CSRF token of its forms."""
    page = client.get(url)
    assert page.status_code == 200
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def test_public_bind_asks_for_login_before_anything(public: str, page: Any) -> None:
    page.goto(f"{public}/events")
    assert page.url == f"{public}/login"
    page.fill("input[name=token]", "wrong")
    page.click("button[type=submit]")
    assert "wrong token" in page.locator(".flash.bad").inner_text()
    page.fill("input[name=token]", TOKEN)
    page.click("button[type=submit]")
    assert page.locator("h1").first.inner_text() == "Overview"
    page.goto(f"{public}/dead")
    assert page.locator("h1").first.inner_text() == "Dead letters"


def test_public_bind_refuses_requests_without_a_session(public: str) -> None:
    with httpx.Client() as client:
        assert client.get(f"{public}/live/stream").status_code == 401
        assert client.get(f"{public}/events", headers={"accept": "application/json"}).status_code == 401
        assert client.post(f"{public}/dead/redispatch", data={"event_id": "1"}).status_code == 401
        assert client.get(f"{public}/", headers={"accept": "text/html"}).status_code == 303
        assert client.get(f"{public}/static/app.js").status_code == 200  # the login page needs it


def test_public_bind_without_a_token_serves_nothing(tmp_path: Path) -> None:
    config = dashboard_config("http://127.0.0.1:9", "unused-bearer", host="0.0.0.0")
    with receiver_with_dashboard(tmp_path / "x.db", config) as url:
        for path in ("/", "/login", "/events"):
            response = httpx.get(f"{url}/_xhooks{path}")
            assert response.status_code == 403
            assert "dashboard_token" in response.text
        assert httpx.get(f"{url}/healthz").status_code == 200  # the receiver is unaffected


def test_state_changing_requests_need_the_session_csrf_token(stack: Stack) -> None:
    with httpx.Client() as client:
        csrf = _session(client, f"{stack.dashboard}/webhooks")
        target = f"{stack.dashboard}/dead/redispatch"
        assert client.post(target, data={}).status_code == 403
        assert client.post(target, data={"csrf": "forged"}).status_code == 403
        done = client.post(target, data={"csrf": csrf})
        assert done.status_code == 303 and "0+events+re-dispatched" in done.headers["location"]
        missing = client.post(target, data={"csrf": csrf, "event_id": "999"})
        assert "error=event+999+is+not+a+dead+letter" in missing.headers["location"]
    with httpx.Client() as other:
        _session(other, f"{stack.dashboard}/webhooks")
        assert other.post(target, data={"csrf": csrf}).status_code == 403  # another session's token


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"origin": "https://evil.example"}, id="origin"),
        pytest.param({"sec-fetch-site": "cross-site"}, id="sec-fetch-site"),
    ],
)
def test_cross_site_post_is_rejected_even_with_a_valid_token(stack: Stack, headers: dict[str, str]) -> None:
    with httpx.Client() as client:
        csrf = _session(client, f"{stack.dashboard}/webhooks")
        refused = client.post(f"{stack.dashboard}/dead/redispatch", data={"csrf": csrf}, headers=headers)
        assert refused.status_code == 403 and "cross-site request refused" in refused.text


def test_cross_site_form_in_a_browser_is_rejected(stack: Stack, page: Any) -> None:
    page.goto(f"{stack.dashboard}/dead")  # the victim has a session
    target = f"{stack.dashboard}/webhooks"
    attack = (
        f'<form method="post" action="{target}"><input name="url" value="https://evil.example/hook"></form>'
        "<script>document.forms[0].submit()</script>"
    ).encode()

    async def attacker(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
            await send({"type": "http.response.body", "body": attack})

    with serve_app(attacker) as evil:  # another origin (another port)
        page.goto(evil)
        page.wait_for_url(target)
        assert "cross-site request refused" in page.content()
    assert stack.emulator.state.webhooks() == []


def test_loopback_dashboard_refuses_foreign_host_names(stack: Stack) -> None:
    response = httpx.get(f"{stack.dashboard}/", headers={"host": "rebind.evil.example"})
    assert response.status_code == 421


def test_pages_carry_security_headers_and_never_render_secrets(stack: Stack) -> None:
    stack.subscribe()
    for path in ("/", "/webhooks", "/replay"):
        response = httpx.get(f"{stack.dashboard}{path}")
        assert response.status_code == 200
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "HttpOnly; SameSite=Strict" in response.headers["set-cookie"]
        assert stack.bearer not in response.text
        assert "dashboard-consumer-secret" not in response.text
