"""`xhooks doctor` against deliberately broken consumers, one each, plus a healthy one and a real `xhooks serve`."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from xhooks._asgi import read_body
from xhooks._types import Receive, Scope, Send
from xhooks.client.doctor import Report, Status, check_url, diagnose
from xhooks.errors import XhooksError
from xhooks.protocol import crc_response, crc_token_from_query, signature, verify

from ..support import free_port, serve_app, spawn, xhooks_cmd

SECRET = "consumer-secret-0123456789abcdef"
BEARER = "AAAAAAAAAAAAAAAAAAAAAbearer-token-value"
ACCESS_SECRET = "access-token-secret-value-0123"

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
JSON = [(b"content-type", b"application/json")]


def right(token: str) -> Answer:
    return 200, JSON, json.dumps(crc_response(token, SECRET)).encode()


class Consumer:
    """A tiny ASGI consumer: `crc(token)` answers the GET; POSTs are verified with SECRET unless `lax`, and a
    verified POST gets `post` (default 200)."""

    def __init__(
        self,
        crc: Callable[[str], Answer] | None = right,
        delay: float = 0.0,
        lax: bool = False,
        post: Answer = (200, [], b""),
    ) -> None:
        self.crc, self.delay, self.lax, self.post = crc, delay, lax, post
        self.posts: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive, 1 << 20)
        headers = dict(scope["headers"])
        signed = headers.get(b"x-twitter-webhooks-signature", b"").decode() or None
        if scope["method"] == "GET" and self.crc is not None:
            await asyncio.sleep(self.delay)
            token = crc_token_from_query(scope["query_string"], signed, [SECRET])  # the doctor signs like X
            status, extra, content = self.crc(token)
        elif scope["method"] == "POST":
            try:
                if not self.lax:
                    verify(body, signed, [SECRET])
                status, extra, content = self.post
                self.posts.append(body)
            except XhooksError:
                status, extra, content = 403, [], b""
        else:
            status, extra, content = 404, [], b"not found"
        await send({"type": "http.response.start", "status": status, "headers": extra})
        await send({"type": "http.response.body", "body": content})


def run(consumer: Consumer, **options: float | str) -> Report:
    with serve_app(consumer) as base:
        return asyncio.run(diagnose(base + "/webhook", SECRET, **options))  # type: ignore[arg-type]


def failed(report: Report) -> dict[str, str]:
    return {c.name: c.fix or "" for c in report.checks if c.status is Status.FAIL}


def test_healthy_consumer_is_all_green_but_for_local_http_and_port() -> None:
    consumer = Consumer()
    report = run(consumer)
    assert report.ok
    statuses = {c.name: c.status for c in report.checks}
    assert statuses.pop("https") is Status.WARN and statuses.pop("no port") is Status.WARN
    assert statuses.pop("crc latency") in {Status.OK, Status.WARN}  # a measurement: WARN when this machine is busy
    assert set(statuses.values()) == {Status.OK}, report.checks
    assert {"crc response_token", "post status 200", "post signature checked"} <= set(statuses)
    assert len(consumer.posts) == 1 and b"xhooks.doctor" in consumer.posts[0]


def test_wrong_secret_is_reported_with_a_fix() -> None:
    report = run(Consumer(lambda token: (200, JSON, json.dumps(crc_response(token, "another-secret")).encode())))
    assert not report.ok
    assert "consumer secret" in failed(report)["crc response_token"]


@pytest.mark.parametrize(
    ("used", "label"),
    [pytest.param(BEARER, "bearer token", id="bearer"), pytest.param(ACCESS_SECRET, "access token secret", id="ats")],
)
def test_crc_signed_with_another_supplied_secret_is_named(used: str, label: str) -> None:
    consumer = Consumer(lambda token: (200, JSON, json.dumps(crc_response(token, used)).encode()))
    report = run(consumer, bearer_token=BEARER, access_token_secret=ACCESS_SECRET)
    assert f"made with the {label}" in failed(report)["crc response_token"]


def test_missing_sha256_prefix_is_named() -> None:
    consumer = Consumer(
        lambda token: (
            200,
            JSON,
            json.dumps(
                {"response_token": crc_response(token, SECRET)["response_token"].removeprefix("sha256=")}
            ).encode(),
        )
    )
    assert "prepend 'sha256='" in failed(run(consumer))["crc response_token"]


def token_made(make: Callable[[str], str]) -> Consumer:
    return Consumer(lambda token: (200, JSON, json.dumps({"response_token": make(token)}).encode()))


def _digest(token: str) -> bytes:
    return hmac.new(SECRET.encode(), token.encode(), hashlib.sha256).digest()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        pytest.param(lambda token: "sha256=" + _digest(token).hex(), "base64-encode", id="hex"),
        pytest.param(lambda token: signature(SECRET.encode(), token), "swapped", id="key-message-swapped"),
        pytest.param(
            lambda token: "sha256=" + base64.b64encode(hashlib.sha256(token.encode()).digest()).decode(),
            "HMAC-SHA256",
            id="plain-sha256",
        ),
    ],
)
def test_common_signing_mistakes_are_named(make: Callable[[str], str], words: str) -> None:
    assert words in failed(run(token_made(make)))["crc response_token"]


def test_json_without_a_response_token_fails() -> None:
    consumer = Consumer(lambda token: (200, JSON, b'{"token": "x"}'))
    assert "response_token" in failed(run(consumer))["crc json"]


@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [
        pytest.param((401, [], b""), Status.FAIL, "another secret", id="refused-401"),
        pytest.param((500, [], b""), Status.FAIL, "acknowledge", id="error-500"),
        pytest.param((202, [], b""), Status.WARN, "acknowledge", id="accepted-202"),
    ],
)
def test_signed_post_answers(answer: Answer, status: Status, words: str) -> None:
    check = run(Consumer(post=answer)).check("post status 200")
    assert check.status is status and words in (check.fix or "")


def test_redirected_post_is_fatal() -> None:
    report = run(Consumer(post=(307, [(b"location", b"https://example.com/other")], b"")))
    assert "https://example.com/other" in failed(report)["post no redirect"]


def test_an_unusable_url_stops_before_any_request() -> None:
    report = asyncio.run(diagnose("not a url", SECRET))
    assert [c.name for c in report.checks] == ["url"] and not report.ok


def test_text_plain_answer_fails_content_type() -> None:
    report = run(Consumer(lambda token: (200, [(b"content-type", b"text/plain")], right(token)[2])))
    assert set(failed(report)) == {"crc content-type"}
    assert "application/json" in failed(report)["crc content-type"]


def test_non_json_answer_fails() -> None:
    token_only = Consumer(lambda token: (200, JSON, crc_response(token, SECRET)["response_token"].encode()))
    assert "JSON" in failed(run(token_only))["crc json"]


def test_redirect_is_fatal_and_names_the_target() -> None:
    report = run(Consumer(lambda token: (302, [(b"location", b"https://example.com/webhook/")], b"")))
    assert "https://example.com/webhook/" in failed(report)["crc no redirect"]
    assert "crc status 200" not in {c.name for c in report.checks}


def test_server_error_is_reported() -> None:
    report = run(Consumer(lambda token: (500, [], b"Internal Server Error")))
    assert "logs" in failed(report)["crc status 200"]


def test_slow_answer_times_out() -> None:
    report = run(Consumer(delay=1.0), crc_timeout=0.3)
    crc = report.check("crc answered")
    assert (crc.status, crc.summary) == (Status.FAIL, "no answer within 0.3 s")


def test_no_crc_handling_at_all() -> None:
    report = run(Consumer(crc=None))
    assert "GET handler" in failed(report)["crc status 200"]
    assert report.check("post status 200").status is Status.OK


def test_a_consumer_that_accepts_forged_posts_is_warned_about() -> None:
    report = run(Consumer(lax=True))
    assert report.ok
    assert report.check("post signature checked").status is Status.WARN


def test_nothing_listening_fails_and_skips_the_post() -> None:
    report = asyncio.run(diagnose(f"http://127.0.0.1:{free_port()}/webhook", SECRET))
    assert report.check("crc answered").summary.startswith("could not connect")
    assert report.check("post").status is Status.SKIP


@pytest.mark.parametrize(
    ("url", "name", "status"),
    [
        pytest.param("https://example.com/webhook", "https", Status.OK, id="https"),
        pytest.param("http://example.com/webhook", "https", Status.FAIL, id="http"),
        pytest.param("https://example.com:8443/webhook", "no port", Status.FAIL, id="port"),
        pytest.param("http://localhost:8080/webhook", "no port", Status.WARN, id="loopback-port"),
        pytest.param("https://example.com/" + "a" * 200, "length", Status.FAIL, id="too-long"),
        pytest.param("ftp://example.com/x", "url", Status.FAIL, id="not-http"),
    ],
)
def test_url_rules(url: str, name: str, status: Status) -> None:
    assert {c.name: c.status for c in check_url(url)}[name] is status


def test_cli_subprocess_healthy_exits_zero_and_json_is_parseable() -> None:
    with serve_app(Consumer()) as base:
        plain = subprocess.run(
            xhooks_cmd("doctor", base + "/webhook", "--consumer-secret", SECRET),
            capture_output=True,
            text=True,
            timeout=60,
        )
        as_json = subprocess.run(
            xhooks_cmd("doctor", base + "/webhook", "--json"),
            capture_output=True,
            text=True,
            timeout=60,
            env={**_env(), "XHOOKS_CONSUMER_SECRET": SECRET},
        )
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "X would accept this consumer" in plain.stdout
    report = json.loads(as_json.stdout)
    assert as_json.returncode == 0
    assert {c["name"]: c["status"] for c in report["checks"]}["crc response_token"] == "ok"


def test_cli_subprocess_bearer_token_mistake_exits_nonzero_with_the_fix() -> None:
    consumer = Consumer(lambda token: (200, JSON, json.dumps(crc_response(token, BEARER)).encode()))
    with serve_app(consumer) as base:
        done = subprocess.run(
            xhooks_cmd("doctor", base + "/webhook", "--consumer-secret", SECRET, "--bearer-token", BEARER),
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(),
        )
    assert done.returncode == 1
    assert "made with the bearer token" in done.stdout
    assert BEARER not in done.stdout and SECRET not in done.stdout


def test_cli_without_a_secret_is_a_one_line_error(tmp_path: Path) -> None:
    done = subprocess.run(
        xhooks_cmd("doctor", "http://127.0.0.1:9/webhook"),
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error:") and "XHOOKS_CONSUMER_SECRET" in done.stderr


@pytest.mark.parametrize("query", [pytest.param("", id="plain"), pytest.param("?tenant=1", id="url-with-a-query")])
def test_real_xhooks_serve_passes_the_doctor(tmp_path: Path, query: str) -> None:
    """With a query in the URL the doctor used to sign only its own parameters and saw 403 (issue 12)."""
    port = free_port()
    serve = xhooks_cmd(
        "serve", "--consumer-secret", SECRET, "--db", str(tmp_path / "x.db"), "--port", str(port), "--path", "/webhook"
    )
    with spawn(serve, ready_url=f"http://127.0.0.1:{port}/healthz", cwd=tmp_path):
        report = asyncio.run(diagnose(f"http://127.0.0.1:{port}/webhook{query}", SECRET))
    assert report.ok, report.checks
    assert report.check("crc response_token").status is Status.OK
    assert report.check("post signature checked").status is Status.OK


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("XHOOKS_")}
