"""The flows, driven by hand without I/O: 429 back-off until the reset, its bounds, pagination."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from xhooks.client import BaseClient, CallPolicy, Credentials
from xhooks.client import endpoints as api
from xhooks.client._call import Done, Flow, Wait, advance, paginate, send
from xhooks.client.errors import RateLimited
from xhooks.errors import ConfigError

NOW = 1_700_000_000.0
Answer = tuple[int, Any, dict[str, str]]
client = BaseClient(Credentials(bearer_token="t"), base_url="http://127.0.0.1:9")


def reply(request: httpx.Request, status: int, body: Any, headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body or {}).encode(), headers=headers, request=request)


def drive(flow: Flow[Any], answers: list[Answer]) -> tuple[Any, list[Any]]:
    """Run `flow`, answering its requests in order; return the result and every step it yielded."""
    steps: list[Any] = []
    step = advance(flow, None)
    while not isinstance(step, Done):
        steps.append(step)
        step = advance(flow, None if isinstance(step, Wait) else reply(step, *answers.pop(0)))
    return step.value, steps


LIMITED: Answer = (429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": str(int(NOW) + 7)})
LISTED: Answer = (200, {"data": []}, {})


def test_429_waits_until_the_reset_then_retries() -> None:
    result, steps = drive(send(api.list_webhooks(), client.build_request, CallPolicy(), lambda: NOW), [LIMITED, LISTED])
    assert result.items == ()
    assert [type(s).__name__ for s in steps] == ["Request", "Wait", "Request"]
    assert steps[1] == Wait(7.0)


def test_429_retries_are_bounded_in_count() -> None:
    flow = send(api.list_webhooks(), client.build_request, CallPolicy(max_retries=2), lambda: NOW)
    with pytest.raises(RateLimited) as caught:
        drive(flow, [LIMITED, LIMITED, LIMITED])
    assert caught.value.reset_at == int(NOW) + 7


def test_429_with_a_reset_beyond_max_wait_raises_at_once() -> None:
    flow = send(api.list_webhooks(), client.build_request, CallPolicy(max_wait=5), lambda: NOW)
    with pytest.raises(RateLimited):
        drive(flow, [LIMITED])


def test_429_without_a_reset_backs_off_exponentially() -> None:
    _, steps = drive(
        send(api.list_webhooks(), client.build_request, CallPolicy(), lambda: NOW),
        [(429, {}, {}), (429, {}, {}), LISTED],
    )
    assert [s for s in steps if isinstance(s, Wait)] == [Wait(1.0), Wait(2.0)]


def test_a_reset_in_the_past_retries_without_waiting() -> None:
    past: Answer = (429, {}, {"x-rate-limit-reset": str(int(NOW) - 30)})
    _, steps = drive(send(api.list_webhooks(), client.build_request, CallPolicy(), lambda: NOW), [past, LISTED])
    assert steps[1] == Wait(0.0)


def test_each_retry_is_a_fresh_request() -> None:
    oauth = BaseClient(Credentials(consumer_key="k", consumer_secret="s", access_token="t", access_token_secret="x"))
    _, steps = drive(
        send(api.add_subscription("1"), oauth.build_request, CallPolicy(), lambda: NOW),
        [LIMITED, (200, {"data": {"subscribed": True}}, {})],
    )
    assert steps[0] is not steps[2]
    assert steps[0].headers["authorization"] != steps[2].headers["authorization"]


def page(items: list[str], token: str | None) -> Answer:
    meta = {"next_token": token} if token else {}
    return 200, {"data": [{"id": i, "value": f"v{i}"} for i in items], "meta": meta}, {}


def test_pagination_follows_next_token_and_merges_items() -> None:
    flow = paginate(lambda token: api.list_rules(token), client.build_request, CallPolicy(), lambda: NOW)
    result, steps = drive(flow, [page(["1", "2"], "p2"), page(["3"], "p3"), page([], None)])
    assert [r.id for r in result.items] == ["1", "2", "3"]
    assert result.next_token is None
    assert [s.url.params.get("pagination_token") for s in steps] == [None, "p2", "p3"]


def test_pagination_is_bounded_and_says_where_it_stopped() -> None:
    flow = paginate(lambda token: api.list_rules(token), client.build_request, CallPolicy(max_pages=2), lambda: NOW)
    result, _ = drive(flow, [page(["1"], "p2"), page(["2"], "p3")])
    assert [r.id for r in result.items] == ["1", "2"]
    assert result.next_token == "p3"


def test_pagination_retries_a_rate_limited_page() -> None:
    flow = paginate(lambda token: api.list_rules(token), client.build_request, CallPolicy(), lambda: NOW)
    result, steps = drive(flow, [page(["1"], "p2"), LIMITED, page(["2"], None)])
    assert [r.id for r in result.items] == ["1", "2"]
    assert sum(isinstance(s, Wait) for s in steps) == 1


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"max_retries": -1}, id="retries"),
        pytest.param({"max_wait": -1}, id="wait"),
        pytest.param({"max_pages": 0}, id="pages"),
    ],
)
def test_retry_policy_refuses_nonsense(options: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        CallPolicy(**options)  # type: ignore[arg-type]
