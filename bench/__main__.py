"""`python -m bench` (`make bench`): the chain against its two baselines on scaled flights days.

Lands a scaled day (and one twice its size) in a temporary lake, warms every variant up on a
real day (so child processes run from compiled bytecode, as in the step images), then runs
the rounds interleaved - chain, the chain's jobs in one process, fused, pandas, then chain and
fused on the 2x day - checks that every variant loaded the same rows, and writes
`bench/results/bench.json` and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.fingerprint import table_digest
from bench.landing import (
    Defects,
    scaled_day,
    source_flights,
    with_defects,
    write_landing,
    write_references,
)
from bench.processes import Measurement
from bench.report import CHAIN_2X, FUSED_2X, summarize, table
from bench.variants import (
    CHAIN,
    FUSED,
    ONE_PROCESS,
    PANDAS,
    Bench,
    run_chain,
    run_fused,
    run_one_process,
    run_pandas,
)

REPO = Path(__file__).resolve().parent.parent
WARM_UP, DAY, DAY_2X = date(2013, 1, 2), date(2013, 6, 3), date(2013, 6, 4)
TABLES = ("flights", "carrier_daily_performance")


class MismatchError(RuntimeError):
    """The implementations loaded different rows: their timings compare different work."""


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=650_000, help="landing rows of the day")
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench" / "results" / "bench.json", help="JSON file"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary lake")
    return parser.parse_args(argv)


def _environment(home: Path) -> dict[str, str]:
    """The children's environment: this lake, and bytecode cached (in the lake) as the step
    images do (UV_COMPILE_BYTECODE), even where the shell disables writing it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "CLOUD_RUN_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env | {
        "BATON_HOME": str(home),
        "PYTHONPYCACHEPREFIX": str(home / "pycache"),
        "PYTHONPATH": str(REPO),
    }


def _land(lake: Path, rows: int) -> dict[date, int]:
    """Land the warm-up day (real), the day and the 2x day; return landing rows per day."""
    write_references(lake)
    source = source_flights()
    real = source.filter(source["month"] == str(WARM_UP.month), source["day"] == str(WARM_UP.day))
    write_landing(lake, real, WARM_UP)
    landed = {WARM_UP: real.height}
    for day, n in ((DAY, rows), (DAY_2X, 2 * rows)):
        frame = with_defects(scaled_day(source, day, n), Defects())
        write_landing(lake, frame, day)
        landed[day] = frame.height
    return landed


def _check_same_rows(bench: Bench, day: date) -> dict[str, Any]:
    """Every variant's warehouse partition digest; raise MismatchError if they differ."""
    digests = {
        v: {t: table_digest(bench.database(v), t, "flight_date", day) for t in TABLES}
        for v in (CHAIN, ONE_PROCESS, FUSED, PANDAS)
    }
    if not digests[CHAIN] == digests[ONE_PROCESS] == digests[FUSED] == digests[PANDAS]:
        raise MismatchError(f"the variants loaded different rows for {day}: {digests}")
    return digests[CHAIN]


def _machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [ln for ln in cpuinfo.read_text().splitlines() if ln.startswith("model name")]
        model = names[0].split(":", 1)[1].strip() if names else ""
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    knobs = {k: v for k, v in os.environ.items() if k.startswith(("POLARS_", "_RJEM_", "DUCKDB"))}
    return {
        "cpu": model or platform.processor(),
        "environment_knobs": knobs,
        "cores": os.cpu_count(),
        "memory_gib": round(pages / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "versions": {p: version(p) for p in ("polars", "duckdb", "pandas", "numpy")},
    }


def _rounds(bench: Bench, runs: int) -> list[dict[str, Any]]:
    rounds = []
    for i in range(runs):
        print(
            f"round {i + 1}/{runs}: chain, one process, fused, pandas; chain and fused on the "
            "2x day",
            flush=True,
        )
        rounds.append(
            {
                CHAIN: run_chain(bench, DAY),
                ONE_PROCESS: run_one_process(bench, DAY),
                FUSED: run_fused(bench, DAY),
                PANDAS: run_pandas(bench, DAY),
                CHAIN_2X: run_chain(bench, DAY_2X),
                FUSED_2X: run_fused(bench, DAY_2X),
            }
        )
    return rounds


def _fixed_costs(bench: Bench) -> dict[str, Any]:
    """Wall seconds of every process on the small real day, once warm: what a process costs
    before it has rows to work on (imports, reading manifests and references)."""
    chain = run_chain(bench, WARM_UP)
    return {
        "day": WARM_UP.isoformat(),
        CHAIN: {step: round(m.wall_s, 3) for step, m in chain.items()},
        FUSED: round(run_fused(bench, WARM_UP).wall_s, 3),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Measurement):
        return value.__dict__
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def main(argv: list[str]) -> int:
    """Run the benchmark; exit 1 if the variants disagree on what they loaded."""
    args = _arguments(argv)
    home = Path(tempfile.mkdtemp(prefix="baton-bench-"))
    bench = Bench(home, _environment(home))
    try:
        machine = _machine()
        print(f"landing data in {home}", flush=True)
        landed = _land(home / "lake", args.rows)
        print("warming up (bytecode, caches) on a real day", flush=True)
        run_chain(bench, WARM_UP)
        run_one_process(bench, WARM_UP)
        run_fused(bench, WARM_UP)
        run_pandas(bench, WARM_UP)
        _check_same_rows(bench, WARM_UP)
        fixed = _fixed_costs(bench)
        rounds = _rounds(bench, args.runs)
        loaded = _check_same_rows(bench, DAY)
    except MismatchError as err:
        print(f"bench: {err}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    rows, rows_2x = landed[DAY], landed[DAY_2X]
    summary = summarize(rounds, rows, rows_2x)
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine | {"load_average_after": os.getloadavg()},
        "data": {"day": DAY.isoformat(), "landing_rows": rows, "landing_rows_2x": rows_2x},
        "loaded": {t: d["rows"] for t, d in loaded.items()},
        "fixed_cost_s": fixed,
        "summary": summary,
        "rounds": [_plain(r) for r in rounds],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(summary, rows, rows_2x, args.runs))
    busiest = max(machine["load_average"][0], result["machine"]["load_average_after"][0])
    if busiest > 0.5 * (machine["cores"] or 1):
        print(
            f"warning: the machine was busy (1-min load average up to {busiest:.1f} on "
            f"{machine['cores']} cores): wall times are inflated unevenly and their ratios "
            "unreliable; the CPU-second ratios are the steadier comparison"
        )
    steps = ", ".join(f"{step} {s:.2f}" for step, s in fixed[CHAIN].items())
    print(
        f"fixed cost per process on {fixed['day']} (~1k rows), wall s: {steps}; fused {fixed[FUSED]:.2f}"
    )
    print(f"loaded rows identical in every variant: {result['loaded']}")
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
