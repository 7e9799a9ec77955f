"""The suite needs nothing outside the repository: a copy of the tree, alone in a temporary folder (no
`../shared` or any other sibling), collects exactly the tests the real tree collects, and a corpus that goes
missing makes collection fail instead of turning its tests into skips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import EXAMPLES, ROOT, copy_tree

pytestmark = pytest.mark.timeout(600)  # two collections of the whole suite on a busy machine


def _collect(tree: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", *paths]
    return subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)


def _test_ids(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_a_copy_of_the_tree_alone_collects_the_same_tests(tmp_path: Path) -> None:
    copy = copy_tree(tmp_path / "xhooks")
    assert list(tmp_path.iterdir()) == [copy]  # nothing next to the copy, so no ../shared to lean on

    alone, real = _collect(copy), _collect(ROOT)

    assert alone.returncode == 0, alone.stdout[-3000:] + alone.stderr[-3000:]
    assert "error" not in alone.stdout.splitlines()[-1]
    assert real.returncode == 0, real.stdout[-3000:] + real.stderr[-3000:]
    assert len(_test_ids(real)) > 800
    assert _test_ids(alone) == _test_ids(real)


def test_an_empty_corpus_fails_collection_instead_of_skipping(tmp_path: Path) -> None:
    copy = copy_tree(tmp_path / "xhooks")
    corpus = copy / EXAMPLES.relative_to(ROOT)
    for example in corpus.glob("*.json"):
        example.unlink()
    files = ("tests/protocol/test_envelope.py", "tests/protocol/test_models.py")

    result = _collect(copy, *files)

    assert result.returncode != 0
    for name in files:
        assert f"ERROR {name}" in result.stdout, result.stdout[-3000:]
    assert "Empty parameter set" in result.stdout
