"""Rate limits as X reports them: `x-rate-limit-*` on every answer of every X route, per app or per user."""

from __future__ import annotations

import re

import pytest

from tests.emulator.conftest import Running
from xhooks.emulator.app import ROUTES, Route
from xhooks.emulator.auth import Kind


def _path(route: Route) -> str:
    return re.sub(r"\(\?P<(\w+)>\[\^/\]\+\)", "1", route.pattern.pattern.strip("^$"))


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: f"{route.method} {_path(route)}")
def test_every_route_reports_its_rate_limit(running: Running, route: Route) -> None:
    """Stream links, rule counts and DM sends had none; refusals by the endpoint carry them too (issue 17)."""
    headers = running.bearer if Kind.APP in route.accepts else running.user_bearer(running.dev)
    with running.http.stream(route.method, _path(route), headers=headers, json={}) as response:  # the stream too
        assert response.status_code < 500
        assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(response.headers)


def test_user_context_calls_count_per_user(running: Running) -> None:
    dev, friend = running.user_bearer(running.dev), running.user_bearer(running.friend)
    for left in range(14, -1, -1):
        response = running.http.get("/2/dm_events", headers=dev)
        assert (response.status_code, response.headers["x-rate-limit-remaining"]) == (200, str(left))
    limited = running.http.get("/2/dm_events", headers=dev)
    assert limited.status_code == 429 and limited.json()["title"] == "Too Many Requests"
    assert running.http.get("/2/dm_events", headers=friend).headers["x-rate-limit-remaining"] == "14"


def test_app_and_user_figures_differ_for_the_same_endpoint(running: Running) -> None:
    path = f"/2/users/{running.friend['id']}"
    assert running.http.get(path, headers=running.bearer).headers["x-rate-limit-limit"] == "300"
    assert running.http.get(path, headers=running.user_bearer(running.dev)).headers["x-rate-limit-limit"] == "900"


def test_a_known_path_with_another_method_is_405(running: Running) -> None:
    response = running.http.request("PATCH", "/2/webhooks", headers=running.bearer)
    assert response.status_code == 405 and response.headers["allow"] == "GET, POST"
    assert response.json() == {
        "title": "Method Not Allowed",
        "detail": "Method Not Allowed",
        "type": "about:blank",
        "status": 405,
    }
    assert running.http.delete("/2/users/me", headers=running.bearer).headers["allow"] == "GET"
    assert running.http.get("/2/nothing/here", headers=running.bearer).status_code == 404
