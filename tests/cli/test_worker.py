"""`xhooks worker` refuses a database that does not exist instead of creating an empty one and waiting forever."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support import xhooks_cmd


def test_worker_refuses_a_database_that_does_not_exist(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XHOOKS_")}
    args = xhooks_cmd("worker", "--app", "tests.scale._hooks:hooks", "--db", "typo.db")
    result = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("error: no database at typo.db; pass the --db that `xhooks serve` writes to")
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
