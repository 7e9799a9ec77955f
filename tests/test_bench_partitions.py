"""The pure part of the partitioning bench (`bench/partitions.py`): its summary of the measured operations."""

import math

import pytest

from bench.partitions import percentiles, summary


def test_partition_summary_adds_the_batched_steps() -> None:
    def op(seconds: float, p99: float, quiet: float) -> dict[str, object]:
        return {"seconds": seconds, "inserts_ms": {"p99": p99}, "quiet_inserts_ms": {"p99": quiet}}

    result = summary(
        {
            "prune": op(6.0, 9.0, 2.0),
            "delete": op(3.0, 4.0, 2.0),
            "vacuum": op(1.0, 2.5, 2.0),
            "drop": op(0.5, 2.0, 2.0),
        }
    )
    assert result["batched_seconds"] == pytest.approx(10.0)
    assert result["speedup"] == pytest.approx(20.0)
    assert result["insert_p99_added_ms"] == pytest.approx({"prune": 7.0, "delete": 2.0, "vacuum": 0.5, "drop": 0.0})


def test_without_a_drop_there_is_no_speedup() -> None:
    result = summary({"prune": {"seconds": 2.0, "inserts_ms": {}, "quiet_inserts_ms": {"p99": 1.0}}})
    assert result["batched_seconds"] == pytest.approx(2.0)
    assert math.isnan(result["speedup"])
    assert result["insert_p99_added_ms"] == {}  # no insert ran during it


def test_percentiles_are_milliseconds() -> None:
    assert percentiles([0.001, 0.002, 0.003])["p50"] == pytest.approx(2.0)
    assert percentiles([0.001] * 99 + [1.0])["max"] == pytest.approx(1000.0)
    assert math.isnan(percentiles([])["p99"])
