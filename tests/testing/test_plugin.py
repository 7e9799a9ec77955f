"""The pytest plugin as a user's project meets it: loaded by pytest, its fixtures test examples/dm_bot.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support import ROOT
from xhooks.testing import plugin

EXAMPLES = ROOT / "examples"

# The plugin under its module name, whether or not the installed distribution registers its entry point.
PLUGIN = ["-p", "no:xhooks", "-p", "xhooks.testing.plugin"]


def _pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *PLUGIN, *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_dm_bot_example_passes_with_the_plugins_fixtures_only() -> None:
    result = _pytest("test_dm_bot.py", cwd=EXAMPLES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_the_readmes_handler_tests_pass_as_written(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("## Test your handlers") :].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, re.S)
    shutil.copy(EXAMPLES / "dm_bot.py", tmp_path)
    (tmp_path / "test_readme.py").write_text(block)
    result = _pytest(cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_the_ini_option_names_the_hooks(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "dm_bot.py", tmp_path)
    (tmp_path / "pytest.ini").write_text("[pytest]\nxhooks_app = dm_bot:hooks\n")
    (tmp_path / "test_bot.py").write_text(
        textwrap.dedent(
            """
            def test_answers(xhooks_emulator, xhooks_receiver, xhooks_hooks):
                xhooks_emulator.trigger("aaa.direct_message", user_id=xhooks_emulator.friend["id"], text="hi")
                asked, answer = xhooks_receiver.wait_handled(2, "direct_message_events")
                assert xhooks_receiver.event(answer).text == "You said: hi"
                assert xhooks_hooks.ignore_own_actions
            """
        )
    )
    result = _pytest(cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_without_hooks_the_receiver_fixture_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "test_nothing.py").write_text("def test_it(xhooks_receiver):\n    pass\n")
    result = _pytest(cwd=tmp_path)
    assert result.returncode != 0
    assert "set `xhooks_app = module:hooks`" in result.stdout + result.stderr


def test_every_fixture_is_prefixed_so_it_clashes_with_no_project_fixture() -> None:
    names = {name for name in vars(plugin) if name.startswith("xhooks_")}
    assert names == {"xhooks_emulator", "xhooks_hooks", "xhooks_environment", "xhooks_receiver", "xhooks_delivery"}
    conftests = [path.read_text() for path in (ROOT / "tests").rglob("conftest.py")]
    assert not [name for name in names for text in conftests if f"def {name}(" in text]


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    code = "import sys, xhooks.testing.plugin; print(sorted(m for m in sys.modules if m.startswith('xhooks')))"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "['xhooks', 'xhooks.testing', 'xhooks.testing.plugin']"
