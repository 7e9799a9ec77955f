"""`xhooks serve` with the dashboard: on the receiver's port, on its own port, or off."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from tests.support import free_port, spawn, xhooks_cmd


def _serve(tmp_path: Path, *extra: str) -> tuple[list[str], int]:
    port = free_port()
    args = xhooks_cmd("serve", "--consumer-secret", "s3cret", "--db", str(tmp_path / "x.db"), "--port", str(port))
    return [*args, *extra], port


def test_dashboard_on_its_own_port_and_not_on_the_receivers(tmp_path: Path) -> None:
    own = free_port()
    args, port = _serve(tmp_path, "--dashboard-port", str(own))
    with spawn(args, ready_url=f"http://127.0.0.1:{own}/_xhooks/login") as proc:
        overview = httpx.get(f"http://127.0.0.1:{own}/_xhooks/")
        assert overview.status_code == 200 and "<h1>Overview</h1>" in overview.text
        assert httpx.get(f"http://127.0.0.1:{own}/").headers["location"] == "/_xhooks/"
        assert httpx.get(f"http://127.0.0.1:{port}/_xhooks/").status_code == 404
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        with httpx.stream("GET", f"http://127.0.0.1:{own}/_xhooks/live/stream", timeout=10) as stream:
            assert next(stream.iter_lines()) == "retry: 1000"
            proc.send_signal(signal.SIGTERM)  # an open live stream must not hold the shutdown up
            assert proc.wait(timeout=10) is not None


def test_dashboard_shares_the_receivers_port_by_default_and_can_be_turned_off(tmp_path: Path) -> None:
    args, port = _serve(tmp_path)
    with spawn(args, ready_url=f"http://127.0.0.1:{port}/healthz"):
        assert httpx.get(f"http://127.0.0.1:{port}/_xhooks/").status_code == 200
    args, port = _serve(tmp_path, "--no-dashboard")
    with spawn(args, ready_url=f"http://127.0.0.1:{port}/healthz"):
        assert httpx.get(f"http://127.0.0.1:{port}/_xhooks/").status_code == 404


def test_emulator_command_serves_its_view(tmp_path: Path) -> None:
    port = free_port()
    args = xhooks_cmd("emulator", "--port", str(port), "--db", str(tmp_path / "emu.db"), "--consumer-secret", "s" * 50)
    with spawn(args, ready_url=f"http://127.0.0.1:{port}/_emulator/clock"):
        view = httpx.get(f"http://127.0.0.1:{port}/_xhooks/")
        assert view.status_code == 200 and "Trigger an event" in view.text
        assert "s" * 50 not in view.text
        assert httpx.get(f"http://127.0.0.1:{port}/_emulator/clock").status_code == 200  # the API is untouched
