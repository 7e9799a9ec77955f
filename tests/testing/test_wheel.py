"""Issue 18: the example's handler tests pass with xhooks installed from its built wheel, not from the source tree.

The wheel is built from a copy of the repository (so no build/ or *.egg-info is left in it) and installed with
`--target` into a folder that goes first on PYTHONPATH: the dependencies come from the test environment, xhooks
itself only from the wheel (a conftest in the example's folder checks where `xhooks` was imported from), and
pytest finds the plugin through the wheel's own `pytest11` entry point.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT, copy_tree

pytestmark = pytest.mark.timeout(900)  # a wheel build and a run of the example on a busy machine

WHERE = """
import os
from pathlib import Path

import xhooks
import xhooks.testing


def test_xhooks_is_the_wheels() -> None:
    target = Path(os.environ["XHOOKS_WHEEL_TARGET"]).resolve()
    assert Path(xhooks.__file__).resolve().is_relative_to(target), xhooks.__file__
    assert Path(xhooks.testing.__file__).resolve().is_relative_to(target), xhooks.testing.__file__
"""


def _run(*command: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def test_the_dm_bot_tests_pass_with_xhooks_installed_from_its_wheel(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path / "source")
    wheels, target, project = tmp_path / "wheels", tmp_path / "site", tmp_path / "project"
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "-q")
    _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(wheels), str(tree), cwd=tmp_path)
    (wheel,) = wheels.glob("xhooks-*.whl")
    _run(*pip, "install", "--no-deps", "--target", str(target), str(wheel), cwd=tmp_path)

    (dist_info,) = target.glob("xhooks-*.dist-info")
    assert "[pytest11]\nxhooks = xhooks.testing.plugin" in (dist_info / "entry_points.txt").read_text()
    assert (target / "xhooks" / "dashboard" / "templates" / "base.html").is_file()  # package data came along
    assert (target / "xhooks" / "py.typed").is_file()

    project.mkdir()
    for name in ("dm_bot.py", "test_dm_bot.py"):
        shutil.copy(ROOT / "examples" / name, project)
    (project / "test_where.py").write_text(WHERE)
    env = {**os.environ, "PYTHONPATH": str(target), "XHOOKS_WHEEL_TARGET": str(target)}
    done = _run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project, env=env)
    assert "4 passed" in done.stdout, done.stdout[-3000:]
