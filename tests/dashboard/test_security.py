"""The dashboard's security decisions, as pure functions (see xhooks/dashboard/security.py)."""

from __future__ import annotations

import pytest

from xhooks._net import is_loopback, is_loopback_url
from xhooks.dashboard.security import Guard, cross_site, host_name


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        pytest.param("127.0.0.1", True, id="ipv4"),
        pytest.param("127.8.9.10", True, id="ipv4-range"),
        pytest.param("::1", True, id="ipv6"),
        pytest.param("[::1]", True, id="ipv6-brackets"),
        pytest.param("localhost", True, id="name"),
        pytest.param("0.0.0.0", False, id="any-ipv4"),
        pytest.param("::", False, id="any-ipv6"),
        pytest.param("192.168.1.20", False, id="lan"),
        pytest.param("dashboard.example.com", False, id="public-name"),
    ],
)
def test_only_loopback_binds_go_without_login(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    assert Guard(host, token="t" * 20).login_required is not loopback


def test_public_bind_without_a_token_refuses_and_says_how_to_fix_it() -> None:
    assert Guard("127.0.0.1", None).refused is None
    assert Guard("0.0.0.0", "a-token").refused is None
    refused = Guard("0.0.0.0", None).refused
    assert refused is not None and "dashboard_token" in refused


def test_session_round_trip_and_tampering() -> None:
    guard = Guard("0.0.0.0", "a-token", session_seconds=60)
    cookie = guard.new_session(now=1000.0)
    sid = guard.session(cookie, now=1001.0)
    assert sid is not None and sid == cookie.split(".")[0]
    assert guard.session(cookie, now=1061.0) is None  # expired
    name, expires, mac = cookie.split(".")
    assert guard.session(f"{name}.{int(expires) + 3600}.{mac}", now=1001.0) is None  # extended by hand
    assert guard.session(f"x{name}.{expires}.{mac}", now=1001.0) is None
    assert guard.session("garbage", now=1001.0) is None
    assert Guard("0.0.0.0", "another-token").session(cookie, now=1001.0) is None  # a new token ends sessions


def test_sessions_survive_a_restart_with_the_same_token() -> None:
    cookie = Guard("0.0.0.0", "a-token").new_session(now=1000.0)
    assert Guard("0.0.0.0", "a-token").session(cookie, now=1001.0) is not None


def test_csrf_token_belongs_to_its_session() -> None:
    guard = Guard("127.0.0.1", None)
    assert guard.check_csrf("one", guard.csrf("one"))
    assert not guard.check_csrf("two", guard.csrf("one"))
    assert not guard.check_csrf("one", None)
    assert not guard.check_csrf("one", "")


def test_login_token_check() -> None:
    assert Guard("0.0.0.0", "a-token").check_token("a-token")
    assert not Guard("0.0.0.0", "a-token").check_token("a-tokem")
    assert not Guard("0.0.0.0", None).check_token("")


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        pytest.param({"host": "127.0.0.1:8080"}, False, id="no-browser-headers"),
        pytest.param({"host": "127.0.0.1:8080", "sec-fetch-site": "same-origin"}, False, id="same-origin"),
        pytest.param({"host": "127.0.0.1:8080", "sec-fetch-site": "none"}, False, id="typed-by-user"),
        pytest.param({"host": "127.0.0.1:8080", "origin": "http://127.0.0.1:8080"}, False, id="own-origin"),
        pytest.param({"host": "127.0.0.1:8080", "sec-fetch-site": "cross-site"}, True, id="cross-site"),
        pytest.param({"host": "127.0.0.1:8080", "sec-fetch-site": "same-site"}, True, id="other-port"),
        pytest.param({"host": "127.0.0.1:8080", "origin": "https://evil.example"}, True, id="foreign-origin"),
        pytest.param({"host": "127.0.0.1:8080", "origin": "null"}, True, id="opaque-origin"),
    ],
)
def test_cross_site_requests_are_recognised(headers: dict[str, str], refused: bool) -> None:
    assert (cross_site(headers, "http") is not None) is refused


def test_loopback_dashboard_answers_only_loopback_host_names() -> None:
    guard = Guard("127.0.0.1", None)
    assert guard.host_allowed("127.0.0.1:8080") and guard.host_allowed("localhost") and guard.host_allowed("[::1]:80")
    assert not guard.host_allowed("rebind.evil.example:8080")
    assert not guard.host_allowed(None)
    assert Guard("0.0.0.0", "t").host_allowed("dashboard.example.com")
    assert host_name("[::1]:8080") == "::1" and host_name("example.com:80") == "example.com"


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080/webhook", True),
        ("http://127.0.0.2/webhook", True),
        ("http://[::1]:9/webhook?tenant=1", True),
        ("http://localhost/webhook", True),
        ("https://example.com/webhook", False),
        ("http://0.0.0.0:8080/webhook", False),
        ("/webhook", False),
    ],
)
def test_is_loopback_url(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback
