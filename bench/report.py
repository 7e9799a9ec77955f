"""The figures of one bench run: a printed table, the ratios, the issue's targets, and a PNG plot."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

__all__ = ["interference", "plot", "ratios", "relay_table", "table", "verdicts"]

_COLUMNS = (  # title, width, format spec, key
    ("target", 16, "<", "name"),
    ("acked/s", 9, ">.0f", "acked_per_s"),
    ("p50 ms", 7, ">.2f", "p50_ms"),
    ("p99 ms", 7, ">.2f", "p99_ms"),
    ("p99.9 ms", 8, ">.2f", "p999_ms"),
    ("errors", 7, ">d", "errors"),
    ("CRC/s", 8, ">.0f", "crc_per_s"),
    ("peak RSS MB", 11, ">.1f", "peak_rss_mb"),
    ("CPU us/ack", 10, ">.0f", "cpu_us"),
    ("other load", 10, ">.0%", "other_load"),
    ("store check", 11, "<", "store_check"),
)


def _row(result: dict[str, Any]) -> dict[str, Any]:
    check = result.get("store_check")
    return {
        "name": result["name"],
        "acked_per_s": result["deliveries"]["acked_per_s"],
        "p50_ms": result["deliveries"]["latency_ms"]["p50"],
        "p99_ms": result["deliveries"]["latency_ms"]["p99"],
        "p999_ms": result["deliveries"]["latency_ms"]["p99.9"],
        "errors": result["deliveries"]["errors"],
        "crc_per_s": result["crc"]["ok_per_s"],
        "peak_rss_mb": result["peak_rss_mb"],
        "cpu_us": result["deliveries"].get("server_cpu_us_per_ack", math.nan),
        "other_load": result["deliveries"].get("other_load_on_server_core", math.nan),
        "store_check": "-" if check is None else ("ok" if check["ok"] else "FAILED"),
    }


def table(results: list[dict[str, Any]]) -> str:
    header = "  ".join(f"{title:{spec[0]}{width}}" for title, width, spec, _ in _COLUMNS)
    lines = [header, "-" * len(header)]
    for result in results:
        row = _row(result)
        lines.append("  ".join(f"{row[key]:{spec[0]}{width}{spec[1:]}}" for _, width, spec, key in _COLUMNS))
    return "\n".join(lines)


def relay_table(results: list[dict[str, Any]]) -> str:
    """Each relay run after an intake target: the sink, events relayed of those stored, events/s, CPU per event."""
    header = f"{'intake':<16}  {'sink':<9}  {'relayed':>15}  {'events/s':>9}  {'CPU us/event':>12}"
    lines = [header, "-" * len(header)]
    for result in results:
        for relay in result.get("relays", []):
            count = f"{relay['relayed']}/{relay['events']}"
            lines.append(
                f"{result['name']:<16}  {relay['sink']:<9}  {count:>15}  {relay['relayed_per_s']:>9.0f}"
                f"  {relay['cpu_us_per_event']:>12.0f}"
            )
    return "\n".join(lines) if len(lines) > 2 else ""


def _by_name(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {result["name"]: result for result in results}


def ratios(results: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """For each xhooks target: its acknowledged deliveries/s and CRC/s divided by each reference's."""
    named = _by_name(results)
    out: dict[str, dict[str, float]] = {}
    for result in results:
        if not result["name"].startswith("xhooks"):
            continue
        for reference in ("flask", "fastapi", "ceiling"):
            if reference not in named:
                continue
            other = named[reference]
            out.setdefault(result["name"], {})[f"deliveries/{reference}"] = _div(
                result["deliveries"]["acked_per_s"], other["deliveries"]["acked_per_s"]
            )
            out[result["name"]][f"crc/{reference}"] = _div(result["crc"]["ok_per_s"], other["crc"]["ok_per_s"])
            out[result["name"]][f"cpu-efficiency/{reference}"] = _div(
                other["deliveries"].get("server_cpu_us_per_ack", math.nan),
                result["deliveries"].get("server_cpu_us_per_ack", math.nan),
            )
    return out


def _div(a: float, b: float) -> float:
    return a / b if b else math.nan


def verdicts(results: list[dict[str, Any]], soak: dict[str, Any] | None) -> list[tuple[str, str, bool | None]]:
    """The issue's targets for the default (`xhooks-disk`): (target, measured, met?)."""
    named = _by_name(results)
    default = named.get("xhooks-disk")
    if default is None:
        return []
    r = ratios(results).get("xhooks-disk", {})
    p99 = default["deliveries"]["latency_ms"]["p99"]

    def at_least(key: str, goal: float) -> tuple[str, bool | None]:
        value = r.get(key, math.nan)
        return (f"{value:.2f} x", None) if math.isnan(value) else (f"{value:.2f} x", value >= goal)

    out: list[tuple[str, str, bool | None]] = [
        ("durable intake >= 0.6 x ceiling", *at_least("deliveries/ceiling", 0.6)),
        ("about 5 x FastAPI", *at_least("deliveries/fastapi", 5)),
        ("about 8 x Flask", *at_least("deliveries/flask", 8)),
        ("p99 < 10 ms", f"{p99:.2f} ms", p99 < 10),
        ("CRC >= 0.8 x ceiling", *at_least("crc/ceiling", 0.8)),
        (
            "every acknowledged delivery stored",
            "ok" if default["store_check"]["ok"] else "FAILED",
            bool(default["store_check"]["ok"]),
        ),
    ]
    if soak is not None:
        out.append(("memory flat over the soak", f"{soak['growth_mb']:+.1f} MB after warm-up", soak["flat"]))
    else:
        out.append(("memory flat over 5 minutes", "not measured (run with --soak 300)", None))
    return out


def interference(results: list[dict[str, Any]], threshold: float = 0.10) -> list[str]:
    """Warnings for targets whose core was busy with other processes during their run (the figures suffer)."""
    return [
        f"{result['name']}: other processes took {load:.0%} of the server's core during its run"
        for result in results
        if (load := result["deliveries"].get("other_load_on_server_core", 0.0)) > threshold
    ]


def plot(results: list[dict[str, Any]], soak: dict[str, Any] | None, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (2 if results else 0) + (1 if soak else 0)
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.5), squeeze=False)
    row = list(axes[0])
    if results:
        names = [result["name"] for result in results]
        colors = ["#1f77b4" if name.startswith("xhooks") else "#999999" for name in names]
        throughput, latency = row.pop(0), row.pop(0)
        throughput.bar(names, [result["deliveries"]["acked_per_s"] for result in results], color=colors)
        throughput.set_title("acknowledged deliveries / s")
        latency.bar(names, [result["deliveries"]["latency_ms"]["p99"] for result in results], color=colors)
        latency.axhline(10, color="red", linestyle="--", linewidth=1)
        latency.set_title("p99 latency, ms (red: the 10 ms target)")
        for axis in (throughput, latency):
            axis.tick_params(axis="x", rotation=30)
    if soak:
        memory = row.pop(0)
        memory.plot([sample[0] for sample in soak["rss_samples"]], [sample[1] / 1024 for sample in soak["rss_samples"]])
        memory.set_title(f"xhooks RSS during a {soak['seconds']:.0f} s soak, MB")
        memory.set_xlabel("s since start")
        memory.set_ylim(bottom=0)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
