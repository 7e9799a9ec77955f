"""bench.profile's attribution: samples are split by thread and scaled to each thread's measured CPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.profile import _bucket, _thread, _weights, read_samples

WRITER = [
    "_bootstrap (threading.py:995)",
    "SQLiteStore._run_writer (xhooks/store/sqlite.py:432)",
    "SQLiteStore._commit (xhooks/store/sqlite.py:457)",
]
LOOP = ["_run_module_as_main (<frozen runpy>:198)", "serve (xhooks/serving.py:232)"]
VERIFY = [*LOOP, "Receiver._delivery (xhooks/receiver/app.py:214)", "digest (hmac.py:198)"]


def test_raw_samples_are_read_as_stacks_and_counts(tmp_path: Path) -> None:
    raw = tmp_path / "profile.raw"
    raw.write_text(";".join(WRITER) + " 3\n" + ";".join(VERIFY) + " 1\nnot a sample line\n")
    assert read_samples(raw) == [(WRITER, 3), (VERIFY, 1)]


def test_a_sample_goes_to_its_thread_and_to_the_innermost_part_that_matches() -> None:
    assert (_thread(WRITER), _bucket(WRITER)) == ("xhooks-sqlite-w", "SQLite writer")
    assert (_thread(VERIFY), _bucket(VERIFY)) == ("python3", "signature (HMAC)")
    assert _bucket(LOOP) == "event loop (native)"
    assert _thread(["_bootstrap (threading.py:995)", "run (concurrent/futures/thread.py:58)"]) == "other threads"


def test_each_threads_samples_share_out_exactly_that_threads_cpu() -> None:
    """py-spy counts a runnable thread as busy; scaling by /proc's CPU keeps the totals exact."""
    samples = [(WRITER, 30), (LOOP, 10), (VERIFY, 30)]
    threads = {"xhooks-sqlite-w": 0.6, "python3": 0.8}
    weights = _weights(samples, threads, acked=10_000)
    spent = {name: 0.0 for name in threads}
    for frames, count in samples:
        spent[_thread(frames)] += count * weights[_thread(frames)]
    assert spent == pytest.approx({"xhooks-sqlite-w": 60.0, "python3": 80.0})  # µs per delivery
