"""The benchmark's results: medians of the interleaved runs, the targets, the printed table.

Pure functions over plain data, so the JSON file holds every raw measurement as well as the
summary that was printed from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import median
from typing import Any

from baton.lake import STEPS

from bench.processes import Measurement
from bench.variants import CHAIN, FUSED, PANDAS

MAX_CHAIN_OVER_FUSED = 1.5
MIN_PANDAS_OVER_CHAIN = 2.0
MAX_STEP_RSS_MIB = 512.0
MAX_RSS_GROWTH = 0.20

Round = Mapping[str, Any]
"""One interleaved round: {"chain": {step: Measurement}, "fused": Measurement,
"pandas": Measurement, "chain_2x": {step: Measurement}}."""


def _stat(values: Sequence[Measurement], rows: int) -> dict[str, float]:
    wall = median(m.wall_s for m in values)
    return {
        "wall_s": round(wall, 3),
        "rows_per_s": round(rows / wall) if wall else 0,
        "peak_rss_mib": round(median(m.peak_rss_mib for m in values), 1),
        "cpu_s": round(median(m.cpu_s for m in values), 3),
    }


def _chain_total(chain: Mapping[str, Measurement]) -> Measurement:
    return Measurement(
        wall_s=sum(m.wall_s for m in chain.values()),
        peak_rss_mib=max(m.peak_rss_mib for m in chain.values()),
        cpu_s=sum(m.cpu_s for m in chain.values()),
    )


def summarize(rounds: Sequence[Round], rows: int, rows_2x: int) -> dict[str, Any]:
    """Medians per step and variant, side-by-side ratios, and each target met or not."""
    steps = {s: _stat([r[CHAIN][s] for r in rounds], rows) for s in STEPS}
    steps_2x = {s: _stat([r["chain_2x"][s] for r in rounds], rows_2x) for s in STEPS}
    variants = {
        CHAIN: _stat([_chain_total(r[CHAIN]) for r in rounds], rows),
        FUSED: _stat([r[FUSED] for r in rounds], rows),
        PANDAS: _stat([r[PANDAS] for r in rounds], rows),
        "chain_2x": _stat([_chain_total(r["chain_2x"]) for r in rounds], rows_2x),
    }
    chain_s = variants[CHAIN]["wall_s"]
    over_fused = chain_s / variants[FUSED]["wall_s"]
    pandas_over = variants[PANDAS]["wall_s"] / chain_s
    peak = max(steps[s]["peak_rss_mib"] for s in STEPS)
    growth = {s: steps_2x[s]["peak_rss_mib"] / steps[s]["peak_rss_mib"] - 1 for s in STEPS}
    targets = {
        "chain_within_1.5x_of_fused": {
            "value": round(over_fused, 2),
            "met": over_fused <= MAX_CHAIN_OVER_FUSED,
        },
        "chain_2x_faster_than_pandas": {
            "value": round(pandas_over, 2),
            "met": pandas_over >= MIN_PANDAS_OVER_CHAIN,
        },
        "step_peak_rss_under_512_mib": {"value": peak, "met": peak < MAX_STEP_RSS_MIB},
        "step_rss_growth_at_2x_under_20pct": {
            "value": {s: round(g, 3) for s, g in growth.items()},
            "met": all(g <= MAX_RSS_GROWTH for g in growth.values()),
        },
    }
    per_round = [
        {
            "chain_over_fused": round(_chain_total(r[CHAIN]).wall_s / r[FUSED].wall_s, 3),
            "pandas_over_chain": round(r[PANDAS].wall_s / _chain_total(r[CHAIN]).wall_s, 3),
        }
        for r in rounds
    ]
    return {
        "steps": steps,
        "steps_2x": steps_2x,
        "variants": variants,
        "targets": targets,
        "ratios_per_round": per_round,
    }


def _row(name: str, stat: Mapping[str, float], extra: str = "") -> str:
    return (
        f"  {name:<22}{stat['wall_s']:>8.2f}{stat['rows_per_s'] / 1000:>10.0f}k"
        f"{stat['peak_rss_mib']:>10.0f}{extra}"
    )


def table(summary: Mapping[str, Any], rows: int, rows_2x: int, runs: int) -> str:
    """The human-readable report printed by `make bench`."""
    steps, steps_2x, variants = summary["steps"], summary["steps_2x"], summary["variants"]
    lines = [
        f"flights day of {rows:,} landing rows (2x day: {rows_2x:,}); median of {runs} "
        "interleaved runs",
        f"  {'':<22}{'wall s':>8}{'rows/s':>11}{'RSS MiB':>10}{'RSS 2x':>9}{'growth':>8}"
        f"{'wall 2x':>9}",
    ]
    for step in STEPS:
        one, two = steps[step], steps_2x[step]
        growth = two["peak_rss_mib"] / one["peak_rss_mib"] - 1
        lines.append(
            _row(
                step,
                one,
                f"{two['peak_rss_mib']:>9.0f}{growth:>+8.0%}{two['wall_s']:>9.2f}",
            )
        )
    lines.append(
        _row(
            "chain (4 processes)",
            variants[CHAIN],
            f"{variants['chain_2x']['peak_rss_mib']:>9.0f}{'':>8}"
            f"{variants['chain_2x']['wall_s']:>9.2f}",
        )
    )
    lines.append(_row("fused polars (1 proc)", variants[FUSED]))
    lines.append(_row("pandas chunked (1 proc)", variants[PANDAS]))
    lines.append("targets:")
    labels = {
        "chain_within_1.5x_of_fused": "chain / fused wall time <= 1.5",
        "chain_2x_faster_than_pandas": "pandas / chain wall time >= 2",
        "step_peak_rss_under_512_mib": "every step's peak RSS < 512 MiB",
        "step_rss_growth_at_2x_under_20pct": "every step's RSS growth at 2x <= 20%",
    }
    for key, label in labels.items():
        target = summary["targets"][key]
        value = target["value"]
        shown = (
            f"max {max(value.values()):+.0%}"
            if isinstance(value, dict)
            else f"{value:.2f}x"
            if "chain" in key
            else f"{value:.0f} MiB"
        )
        lines.append(f"  {label:<40}{shown:>12}  {'met' if target['met'] else 'NOT MET'}")
    return "\n".join(lines)
