"""The pure parts of the retention soak (`bench/retention.py`): the leveling-off verdict from size samples,
percentiles, reading a counter from /metrics."""

import math

import pytest

from bench.retention import levels_off, metric_value, percentiles, slope


def test_slope_is_the_least_squares_rate() -> None:
    assert slope([(0.0, 10.0), (1.0, 12.0), (2.0, 14.0)]) == pytest.approx(2.0)
    assert slope([(0.0, 5.0), (10.0, 5.0)]) == 0.0
    assert slope([(3.0, 7.0)]) == 0.0
    assert slope([(1.0, 1.0), (1.0, 9.0)]) == 0.0  # no spread in time: no rate


def test_a_store_that_keeps_growing_does_not_level_off() -> None:
    growing = [(t, 1000.0 * t) for t in range(0, 100, 5)]
    flat_late = [(t, 1000.0 * min(t, 20)) for t in range(0, 100, 5)]
    assert levels_off(flat_late, growing, since=50)["levels_off"] is True
    verdict = levels_off(growing, growing, since=50)
    assert verdict["levels_off"] is False
    assert verdict["ratio"] == pytest.approx(1.0)
    # a slow tombstone growth below the share still levels off; above it does not
    assert levels_off([(t, 200.0 * t) for t in range(0, 100, 5)], growing, since=50)["levels_off"] is True
    assert levels_off([(t, 300.0 * t) for t in range(0, 100, 5)], growing, since=50)["levels_off"] is False


def test_too_few_late_samples_give_no_verdict() -> None:
    samples = [(t, float(t)) for t in range(10)]
    verdict = levels_off(samples, samples, since=8)
    assert verdict["levels_off"] is None
    assert verdict["ratio"] is None
    assert levels_off(samples, [(t, 5.0) for t in range(10)], since=0)["levels_off"] is None  # baseline flat


def test_percentiles_in_milliseconds() -> None:
    figures = percentiles([i / 1000 for i in range(1, 1001)])
    assert figures["p50"] == pytest.approx(501.0)
    assert figures["p99"] == pytest.approx(991.0)
    assert figures["max"] == pytest.approx(1000.0)
    assert math.isnan(percentiles([])["p99"])


def test_metric_value_reads_the_unlabelled_sample() -> None:
    text = (
        "# HELP xhooks_duplicates_total Events that arrived again (same key).\n"
        "# TYPE xhooks_duplicates_total counter\n"
        "xhooks_duplicates_total 3.0\n"
        "xhooks_duplicates_created 1.7e+09\n"
        'xhooks_events_total{type="post.create"} 9.0\n'
    )
    assert metric_value(text, "xhooks_duplicates_total") == 3.0
    assert metric_value(text, "xhooks_events_total") == 0.0  # only labelled samples
    assert metric_value("", "xhooks_duplicates_total") == 0.0
