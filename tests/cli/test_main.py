"""The root of the `xhooks` command: help that shows every default, `-h`, `--version`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from xhooks import __version__
from xhooks.cli.main import app


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command under `command`, with the words that name it (`("events", "list")`)."""
    children = getattr(command, "commands", None)
    if children is None:
        yield path, command
        return
    for name, child in children.items():
        yield from _commands(child, (*path, name))


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_default_written_in_an_option_help_is_shown() -> None:
    """Rich markup read the hand-written `[default: …]` hints as tags and dropped them from `--help`."""
    runner = CliRunner()
    checked = 0
    for path, command in _commands(typer.main.get_command(app)):
        shown = _flat(runner.invoke(app, [*path, "--help"]).output)
        for param in command.params:
            written = getattr(param, "help", None) or ""
            if "[default:" in written:
                hint = _flat(written[written.index("[default:") :])
                assert hint in shown, f"xhooks {' '.join(path)}: {hint!r} missing from --help"
                checked += 1
    assert checked > 40


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["serve"], ["[default: xhooks.db]", "[default: 8080]", "[default: /webhook]", "[default: disk]"], id="serve"
        ),
        pytest.param(["events", "list"], ["[default: xhooks.db]", "[default: 50]"], id="events-list"),
        pytest.param(["listen"], ["[default: 8080]", "[default: xhooks.db]"], id="listen"),
    ],
)
def test_short_help_shows_the_defaults(args: list[str], expected: list[str]) -> None:
    result = CliRunner().invoke(app, [*args, "-h"])
    assert result.exit_code == 0, result.output
    for default in expected:
        assert default in _flat(result.output)


def test_top_level_help_says_xhooks_toml_is_read() -> None:
    result = CliRunner().invoke(app, ["-h"])
    assert result.exit_code == 0
    assert "./xhooks.toml" in result.output and "XHOOKS_*" in result.output
    assert "--version" in result.output and "-h, --help" in result.output


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert (result.exit_code, result.output) == (0, f"xhooks {__version__}\n")
