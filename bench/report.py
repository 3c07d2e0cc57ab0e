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
from bench.variants import CHAIN, FUSED, ONE_PROCESS, PANDAS

CHAIN_2X, FUSED_2X = "chain_2x", "fused_2x"
MAX_CHAIN_OVER_FUSED = 1.5
MIN_PANDAS_OVER_CHAIN = 2.0
MAX_STEP_RSS_MIB = 512.0
MAX_RSS_GROWTH = 0.20

Round = Mapping[str, Any]
"""One interleaved round: CHAIN and CHAIN_2X map step -> Measurement; ONE_PROCESS, FUSED,
PANDAS and FUSED_2X are one Measurement each."""


def _stat(values: Sequence[Measurement], rows: int) -> dict[str, float]:
    wall = median(m.wall_s for m in values)
    return {
        "wall_s": round(wall, 3),
        "rows_per_s": round(rows / wall) if wall else 0,
        "peak_rss_mib": round(median(m.peak_rss_mib for m in values), 1),
        "cpu_s": round(median(m.cpu_s for m in values), 3),
    }


def chain_total(chain: Mapping[str, Measurement]) -> Measurement:
    """The chain as one run: wall and CPU summed over its steps, the largest step's peak."""
    return Measurement(
        wall_s=sum(m.wall_s for m in chain.values()),
        peak_rss_mib=max(m.peak_rss_mib for m in chain.values()),
        cpu_s=sum(m.cpu_s for m in chain.values()),
    )


def _targets(
    variants: Mapping[str, Mapping[str, float]],
    steps: Mapping[str, Mapping[str, float]],
    steps_2x: Mapping[str, Mapping[str, float]],
) -> dict[str, dict[str, Any]]:
    over_fused = variants[CHAIN]["wall_s"] / variants[FUSED]["wall_s"]
    over_fused_cpu = variants[CHAIN]["cpu_s"] / variants[FUSED]["cpu_s"]
    pandas_over = variants[PANDAS]["wall_s"] / variants[CHAIN]["wall_s"]
    peak = max(steps[s]["peak_rss_mib"] for s in STEPS)
    growth = {s: steps_2x[s]["peak_rss_mib"] / steps[s]["peak_rss_mib"] - 1 for s in STEPS}
    return {
        "chain_within_1.5x_of_fused": {
            "value": round(over_fused, 3),
            "met": over_fused <= MAX_CHAIN_OVER_FUSED,
        },
        "chain_within_1.5x_of_fused_cpu": {
            "value": round(over_fused_cpu, 3),
            "met": over_fused_cpu <= MAX_CHAIN_OVER_FUSED,
        },
        "chain_2x_faster_than_pandas": {
            "value": round(pandas_over, 3),
            "met": pandas_over >= MIN_PANDAS_OVER_CHAIN,
        },
        "step_peak_rss_under_512_mib": {"value": peak, "met": peak < MAX_STEP_RSS_MIB},
        "step_rss_growth_at_2x_under_20pct": {
            "value": {s: round(g, 3) for s, g in growth.items()},
            "met": all(g <= MAX_RSS_GROWTH for g in growth.values()),
        },
    }


def gap(variants: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Where the chain's time beyond the fused process goes, in wall and CPU seconds: its three
    extra process starts (chain - the same jobs in one process), and the hand-offs with each
    step's bookkeeping (the jobs in one process - fused)."""
    chain, one, fused = (variants[v] for v in (CHAIN, ONE_PROCESS, FUSED))
    found: dict[str, float] = {}
    for unit in ("wall_s", "cpu_s"):
        found[f"process_starts_{unit}"] = round(chain[unit] - one[unit], 3)
        found[f"handoffs_and_bookkeeping_{unit}"] = round(one[unit] - fused[unit], 3)
        found[f"one_process_over_fused_{unit.removesuffix('_s')}"] = round(
            one[unit] / fused[unit], 2
        )
    return found


def summarize(rounds: Sequence[Round], rows: int, rows_2x: int) -> dict[str, Any]:
    """Medians per step and variant, side-by-side ratios, and each target met or not."""
    steps = {s: _stat([r[CHAIN][s] for r in rounds], rows) for s in STEPS}
    steps_2x = {s: _stat([r[CHAIN_2X][s] for r in rounds], rows_2x) for s in STEPS}
    variants = {
        CHAIN: _stat([chain_total(r[CHAIN]) for r in rounds], rows),
        ONE_PROCESS: _stat([r[ONE_PROCESS] for r in rounds], rows),
        FUSED: _stat([r[FUSED] for r in rounds], rows),
        PANDAS: _stat([r[PANDAS] for r in rounds], rows),
        CHAIN_2X: _stat([chain_total(r[CHAIN_2X]) for r in rounds], rows_2x),
        FUSED_2X: _stat([r[FUSED_2X] for r in rounds], rows_2x),
    }
    per_round = [
        {
            "chain_over_fused": round(chain_total(r[CHAIN]).wall_s / r[FUSED].wall_s, 3),
            "chain_over_fused_2x": round(chain_total(r[CHAIN_2X]).wall_s / r[FUSED_2X].wall_s, 3),
            "pandas_over_chain": round(r[PANDAS].wall_s / chain_total(r[CHAIN]).wall_s, 3),
        }
        for r in rounds
    ]
    cpu = {v: stat["cpu_s"] for v, stat in variants.items()}
    return {
        "steps": steps,
        "steps_2x": steps_2x,
        "variants": variants,
        "chain_over_fused_2x": round(
            variants[CHAIN_2X]["wall_s"] / variants[FUSED_2X]["wall_s"], 2
        ),
        "cpu_ratios": {
            "chain_over_fused": round(cpu[CHAIN] / cpu[FUSED], 2),
            "chain_over_fused_2x": round(cpu[CHAIN_2X] / cpu[FUSED_2X], 2),
            "pandas_over_chain": round(cpu[PANDAS] / cpu[CHAIN], 2),
        },
        "gap": gap(variants),
        "targets": _targets(variants, steps, steps_2x),
        "ratios_per_round": per_round,
    }


def _row(name: str, stat: Mapping[str, float], extra: str = "") -> str:
    return (
        f"  {name:<27}{stat['wall_s']:>7.2f}{stat['cpu_s']:>7.2f}"
        f"{stat['rows_per_s'] / 1000:>8.0f}k{stat['peak_rss_mib']:>8.0f}{extra}"
    )


def _two(one: Mapping[str, float], two: Mapping[str, float]) -> str:
    growth = two["peak_rss_mib"] / one["peak_rss_mib"] - 1
    return f"{two['wall_s']:>9.2f}{two['peak_rss_mib']:>8.0f}{growth:>+8.0%}"


def _shown(key: str, value: Any) -> str:
    if isinstance(value, dict):
        return f"max {max(value.values()):+.0%}"
    # Three decimals: a ratio a hair over its bound must not print as the bound itself.
    return f"{value:.3f}x" if "chain" in key else f"{value:.0f} MiB"


LABELS = {
    "chain_within_1.5x_of_fused": "chain / fused wall time <= 1.5",
    "chain_within_1.5x_of_fused_cpu": "chain / fused CPU seconds <= 1.5",
    "chain_2x_faster_than_pandas": "pandas / chain wall time >= 2",
    "step_peak_rss_under_512_mib": "every step's peak RSS < 512 MiB",
    "step_rss_growth_at_2x_under_20pct": "every step's RSS growth at 2x <= 20%",
}


def table(summary: Mapping[str, Any], rows: int, rows_2x: int, runs: int) -> str:
    """The human-readable report printed by `make bench`."""
    steps, steps_2x, variants = summary["steps"], summary["steps_2x"], summary["variants"]
    lines = [
        f"flights, one day of {rows:,} landing rows and one of {rows_2x:,} (2x); "
        f"median of {runs} interleaved rounds",
        f"  {'':<27}{'wall s':>7}{'cpu s':>7}{'rows/s':>9}{'RSS MiB':>8}"
        f"{'2x wall':>9}{'2x RSS':>8}{'growth':>8}",
    ]
    lines += [_row(s, steps[s], _two(steps[s], steps_2x[s])) for s in STEPS]
    lines.append(
        _row("chain (4 processes)", variants[CHAIN], _two(variants[CHAIN], variants[CHAIN_2X]))
    )
    lines.append(_row("chain's jobs in 1 process", variants[ONE_PROCESS]))
    lines.append(
        _row("fused polars (1 process)", variants[FUSED], _two(variants[FUSED], variants[FUSED_2X]))
    )
    lines.append(_row("pandas chunked (1 process)", variants[PANDAS]))
    cpu = summary["cpu_ratios"]
    lines.append(
        f"  chain / fused on the 2x day: {summary['chain_over_fused_2x']:.2f}x wall. CPU seconds "
        f"(steadier on a busy machine): chain / fused {cpu['chain_over_fused']:.2f}x "
        f"(2x day {cpu['chain_over_fused_2x']:.2f}x), pandas / chain {cpu['pandas_over_chain']:.2f}x"
    )
    g = summary["gap"]
    lines.append(
        "  the chain's time beyond fused, wall / CPU s: 3 more process starts "
        f"{g['process_starts_wall_s']:.2f} / {g['process_starts_cpu_s']:.2f} (chain - its jobs "
        f"in 1 process); hand-offs and each step's bookkeeping {g['handoffs_and_bookkeeping_wall_s']:.2f}"
        f" / {g['handoffs_and_bookkeeping_cpu_s']:.2f} (jobs in 1 process - fused: "
        f"{g['one_process_over_fused_wall']:.2f}x / {g['one_process_over_fused_cpu']:.2f}x fused)"
    )
    lines.append("targets:")
    for key, label in LABELS.items():
        target = summary["targets"][key]
        verdict = "met" if target["met"] else "NOT MET"
        lines.append(f"  {label:<40}{_shown(key, target['value']):>12}  {verdict}")
    return "\n".join(lines)
