"""The sink contract's shared parts: choosing a sink by URL, its name and options, the missing-extra line, and
sending each user's messages in order."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys

import pytest
from standardwebhooks.webhooks import Webhook

from xhooks.errors import ConfigError
from xhooks.relay import NOT_SENT, Failure, Message, open_sink, send_in_order
from xhooks.relay.http import HttpSink
from xhooks.relay.sink import Outcome

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _message(event_id: int, user: str | None) -> Message:
    return Message(f"k{event_id}", event_id, "post.create", user, "/webhook", 1.0, b"{}")


def test_a_sink_is_chosen_by_scheme_and_an_unknown_one_lists_the_schemes() -> None:
    assert type(open_sink(f"https://hooks.example/x?secret={SECRET}")).__name__ == "HttpSink"
    assert type(open_sink("redis://127.0.0.1:6379/0?stream=s")).__name__ == "RedisStreamsSink"
    assert type(open_sink("nats://127.0.0.1:4222?subject=x")).__name__ == "JetStreamSink"
    assert type(open_sink("amqp://guest:guest@127.0.0.1/?exchange=x")).__name__ == "RabbitMQSink"
    with pytest.raises(ConfigError, match=r"no sink for kafka URL .*use one of http://, https://, redis://"):
        open_sink("kafka://127.0.0.1:9092?topic=x")


@pytest.mark.parametrize(
    ("url", "package", "extra"),
    [
        pytest.param("redis://127.0.0.1/0?stream=s", "redis", "redis", id="redis"),
        pytest.param("nats://127.0.0.1?subject=s", "nats", "nats", id="nats"),
        pytest.param("amqp://127.0.0.1/?exchange=x", "aio_pika", "rabbitmq", id="rabbitmq"),
        pytest.param(f"http://127.0.0.1/x?secret={SECRET}", "standardwebhooks", "standardwebhooks", id="http"),
        pytest.param("redis://127.0.0.1/0?stream=s&format=cloudevents", "cloudevents", "cloudevents", id="cloudevents"),
    ],
)
def test_a_missing_extra_is_one_line_naming_the_install_command(
    monkeypatch: pytest.MonkeyPatch, url: str, package: str, extra: str
) -> None:
    for name in [name for name in sys.modules if name.startswith((package, "xhooks.relay."))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, package, None)  # what `import` finds when the package is not installed
    with pytest.raises(ConfigError, match=rf"pip install 'xhooks\[{extra}\]'$"):
        open_sink(url)


def test_the_name_is_the_fragment_or_the_url_without_password_and_secret() -> None:
    assert open_sink("amqp://guest:guest@127.0.0.1/?exchange=x#bus").name == "bus"
    assert open_sink("amqp://guest:pw@127.0.0.1/?exchange=x").name == "amqp://guest@127.0.0.1/?exchange=x"
    assert open_sink(f"https://h.example/x?a=1&secret={SECRET}").name == "https://h.example/x?a=1"


def test_options_are_checked_and_an_http_endpoint_keeps_its_own_query() -> None:
    with pytest.raises(ConfigError, match="RedisStreamsSink has no option 'strem'; it reads format, maxlen"):
        open_sink("redis://127.0.0.1/0?strem=s")
    with pytest.raises(ConfigError, match="name the stream"):
        open_sink("redis://127.0.0.1/0")
    with pytest.raises(ConfigError, match="format must be raw, x or cloudevents"):
        open_sink("nats://127.0.0.1?subject=s&format=xml")
    with pytest.raises(ConfigError, match=r"add \?secret=whsec_"):
        open_sink("https://h.example/x")
    with pytest.raises(ConfigError, match="not a Standard Webhooks secret"):
        open_sink("https://h.example/x?secret=%%%")
    sink = open_sink(f"https://h.example/in?team=a&secret={SECRET}&timeout=3&format=cloudevents#ops")
    assert isinstance(sink, HttpSink)
    assert (sink.endpoint, sink.timeout, sink.format.value) == ("https://h.example/in?team=a", 3.0, "cloudevents")
    assert open_sink("http://h.example/in?format=x").name == "http://h.example/in?format=x"  # X's signature: no secret


async def test_each_users_messages_go_in_order_users_side_by_side_and_a_failure_stops_its_user() -> None:
    sent: list[int] = []
    both_started = asyncio.Event()

    async def send_one(message: Message) -> Outcome:
        sent.append(message.event_id)
        if message.event_id in (1, 2) and not both_started.is_set():
            if {1, 2} <= set(sent):
                both_started.set()
            await asyncio.wait_for(both_started.wait(), 60)  # users 7 and 8 are in flight together
        return Failure("HTTP 400") if message.event_id == 3 else None

    messages = [_message(1, "7"), _message(2, "8"), _message(3, "7"), _message(4, "7"), _message(5, None)]
    outcomes = await send_in_order(messages, send_one, concurrency=8)
    assert outcomes == [None, None, Failure("HTTP 400"), NOT_SENT, None]
    assert 4 not in sent
    assert sent.index(1) < sent.index(3)


def test_a_plus_in_a_url_stays_a_plus_so_a_base64_secret_signs_as_itself() -> None:
    """A Standard Webhooks secret is base64: read as a form, its `+` would become a space and every signature fail."""
    secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
    sink = open_sink(f"https://h.example/in?secret={secret}&q=a+b%2Bc")
    assert isinstance(sink, HttpSink) and sink._webhook is not None
    at = dt.datetime.fromtimestamp(1_700_000_000, dt.UTC)
    assert sink._webhook.sign("k", at, "{}") == Webhook(secret).sign("k", at, "{}")
    assert sink.endpoint == "https://h.example/in?q=a+b%2Bc"
