"""`xhooks serve --relay-to URL`: the relays are tasks of the one serve process, on its store and its one writer."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest
import redis
from typer.testing import CliRunner

from tests.faults._serve import SECRET, signed
from tests.relay.conftest import mixed, stream_arrivals
from tests.support import free_port, spawn, xhooks_cmd
from tests.test_serving import WRITER_THREAD, _descriptors_on, _thread_names, _wait
from xhooks.cli import serve as serve_module
from xhooks.cli.main import app
from xhooks.protocol import parse_envelope
from xhooks.serving import ProcessConfig


def test_relay_to_and_relay_only_reach_the_process_config(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[ProcessConfig] = []
    monkeypatch.setattr(serve_module, "open_sockets", lambda config: [])
    monkeypatch.setattr(serve_module, "serve", lambda config, sockets: calls.append(config))
    to = "nats://127.0.0.1:4222?subject=x#bus"
    args = ["serve", "--consumer-secret", "s", "--relay-to", to, "--relay-only", "post.*,dm.*"]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert CliRunner().invoke(app, ["serve", "--consumer-secret", "s"]).exit_code == 0
    with_relay, without = calls
    assert with_relay.relay is not None and (list(with_relay.relay.to), with_relay.relay.only) == ([to], ("post", "dm"))
    assert without.relay is None


def test_a_wrong_relay_url_stops_serve_in_one_line_before_it_listens(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--consumer-secret", "s", "--relay-to", "redis://127.0.0.1/0"])
    assert result.exit_code != 0
    assert "name the stream" in str(result.exception)


@pytest.mark.timeout(300)
def test_serve_relays_what_it_stores_with_one_writer(tmp_path: Path) -> None:
    db, port, stream = tmp_path / "x.db", free_port(), f"xhooks-serve-{secrets.token_hex(4)}"
    args = xhooks_cmd("serve", "--consumer-secret", SECRET, "--db", str(db), "--port", str(port))
    args += ["--relay-to", f"redis://127.0.0.1:6379/0?stream={stream}"]
    bodies = mixed(40, duplicates=0.0)
    keys = {event.key for body in bodies for event in parse_envelope(body).events}
    client = redis.Redis(host="127.0.0.1", port=6379)
    try:
        with spawn(args, f"http://127.0.0.1:{port}/healthz", cwd=tmp_path) as proc:
            for body in bodies:
                assert (
                    httpx.post(f"http://127.0.0.1:{port}/webhook", content=body, headers=signed(body)).status_code
                    == 200
                )

            def relayed() -> set[str]:
                return {key for key, _ in stream_arrivals(client.xrange(stream))}

            _wait(lambda: relayed() == keys, "the relay to send every stored event")
            read_write, _ = _descriptors_on(proc.pid, db)
            assert (read_write, _thread_names(proc.pid).count(WRITER_THREAD)) == (1, 1)
    finally:
        client.delete(stream)
        client.close()
