"""`xhooks relay`: its options become one `RelayConfig` for `run_relays`, and what a user can get wrong is one line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import xhooks_cmd
from xhooks.cli import relay as relay_module
from xhooks.cli.main import app
from xhooks.relay import RelayConfig

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_the_options_reach_run_relays(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[RelayConfig] = []
    monkeypatch.setattr(relay_module, "run_relays", calls.append)
    db = tmp_path / "x.db"
    db.touch()
    to = ["redis://127.0.0.1:6379/0?stream=x#bus", f"https://hooks.example/x?secret={SECRET}"]
    args = ["relay", "--db", str(db), "--to", to[0], "--to", to[1], "--only", "post.*,dm.*", "--batch", "64"]
    result = CliRunner().invoke(app, [*args, "--lease", "5", "--max-attempts", "3"])
    assert result.exit_code == 0, result.output
    (config,) = calls
    assert (config.db, list(config.to), config.only) == (str(db), to, ("post", "dm"))
    assert (config.batch, config.lease, config.retry.max_attempts) == (64, 5.0, 3)
    assert "to bus, https://hooks.example/x" in result.output  # the sink names, as `--sink` takes them


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param([], "error: relay where? pass --to URL", id="no-sink"),
        pytest.param(["--to", "kafka://127.0.0.1:9092"], "error: no sink for kafka URL", id="unknown-scheme"),
        pytest.param(["--to", "redis://127.0.0.1/0"], "error: redis://127.0.0.1/0: name the stream", id="no-stream"),
        pytest.param(["--to", "nats://127.0.0.1?subject=x"], "error: no database at typo.db", id="no-database"),
        pytest.param(["--to", "nats://h?subject=x", "--only", "post,,dm"], "error: --only takes", id="bad-only"),
    ],
)
def test_a_mistake_is_one_line_and_nothing_starts(tmp_path: Path, args: list[str], message: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XHOOKS_")}
    result = subprocess.run(
        xhooks_cmd("relay", "--db", "typo.db", *args), capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
