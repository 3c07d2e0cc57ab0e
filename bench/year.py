"""The backfill benchmark: a year of the real 2013 flights (365 dates, 336k rows) three ways,
each on a fresh copy of the same seeded lake, in one run:

- batched: `baton backfill --mode batched` through the local engine (the real pipeline YAML
  and step entrypoints; the planner sizes the tasks),
- per_partition: the same year with `--mode per_partition --concurrency 10` (a job execution
  per date and step; `--per-partition-days` runs only the first N dates of it, for a shared
  machine, and says so),
- floor: `bench.fused_year`, the steps' own pure functions for every date in one process.

Reports wall time, CPU seconds (the whole process tree), step processes started, the peak
RSS of any one process and, per step, the highest peak a task process of it reported, checks that the variants loaded identical warehouse rows (digest), and
writes bench/results/year.json. Run: `python -m bench.year`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from baton.lake import STEPS
from baton.storage import LocalStorage
from baton_cli.demo import seed
from bench.fingerprint import frame_digest
from bench.processes import measure

REPO = Path(__file__).resolve().parent.parent
START = date(2013, 1, 1)
TABLES = ("flights", "carrier_daily_performance")
TARGETS = {"wall_s": 60.0, "floor_ratio": 10.0, "processes": 100}


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "CLOUD_RUN_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env | {
        "BATON_HOME": str(home),
        "PYTHONPYCACHEPREFIX": str(home.parent / "pycache"),
        "PYTHONPATH": str(REPO),
    }


def digest(database: Path, table: str, last: date) -> dict[str, object]:
    """The digest of `table`'s rows up to `last` (audit columns excluded)."""
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect(str(database), read_only=True) as con:
        out = Path(tmp) / "rows.parquet"
        con.execute(
            f"COPY (SELECT * FROM \"{table}\" WHERE flight_date <= DATE '{last.isoformat()}') "
            f"TO '{out}' (FORMAT parquet)"
        )
        return frame_digest(pl.read_parquet(out))


def _processes(home: Path) -> int:
    """Step processes the local job runner started (one log per task, under each execution)."""
    return sum(1 for _ in home.rglob("task-*.log"))


def _peak_by_step(home: Path) -> dict[str, float]:
    """The highest peak RSS (MiB) any task process of each step reported: the `peak_rss_mib` of
    the summary lines in the task logs (a process's own high-water mark, `baton.taskrun`)."""
    peaks: dict[str, float] = {}
    for path in home.rglob("task-*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if '"peak_rss_mib"' not in line:
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line a step did not write (the runner's own notes)
            step = event.get("step")
            if event.get("message") in ("step finished", "step failed") and step:
                peaks[step] = max(peaks.get(step, 0.0), float(event["peak_rss_mib"]))
    return {step: peaks[step] for step in STEPS if step in peaks}


def _backfill(home: Path, last: date, *extra: str) -> dict[str, Any]:
    argv = [sys.executable, "-m", "baton_cli", "backfill", "--start", START.isoformat()]
    argv += ["--end", last.isoformat(), *extra]
    used = measure(argv, _environment(home))
    return {
        "wall_s": round(used.wall_s, 2),
        "cpu_s": round(used.cpu_s, 2),
        "peak_rss_mib": round(used.peak_rss_mib, 1),
        "processes": _processes(home),
        "peak_rss_by_step_mib": _peak_by_step(home),
        "database": home / "warehouse.duckdb",
    }


def _floor(home: Path, last: date) -> dict[str, Any]:
    database = home / "floor.duckdb"
    argv = [sys.executable, "-m", "bench.fused_year", str(home), START.isoformat()]
    used = measure([*argv, last.isoformat(), str(database)], _environment(home))
    return {
        "wall_s": round(used.wall_s, 2),
        "cpu_s": round(used.cpu_s, 2),
        "peak_rss_mib": round(used.peak_rss_mib, 1),
        "processes": 1,
        "database": database,
    }


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.year", description=__doc__)
    parser.add_argument("--days", type=int, default=365, help="dates from 2013-01-01 (smoke runs)")
    parser.add_argument("--per-partition-days", type=int, default=None, help="default: --days")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "year.json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary lakes")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Seed once, run the three variants on fresh copies, compare, print and write."""
    args = _arguments(argv)
    root = Path(tempfile.mkdtemp(prefix="baton-year-"))
    template = root / "template"
    (template / "lake").mkdir(parents=True)
    end = START + timedelta(days=args.days - 1)
    seed(LocalStorage(template / "lake"), START, end)
    pp_days = args.per_partition_days or args.days
    last_pp = START + timedelta(days=pp_days - 1)
    results: dict[str, dict[str, Any]] = {}
    try:
        for name in ("floor", "batched", "per_partition"):
            home = root / name
            shutil.copytree(template, home)
            load_before = os.getloadavg()[0]
            if name == "floor":
                results[name] = _floor(home, end)
            elif name == "batched":
                results[name] = _backfill(home, end, "--mode", "batched")
            else:
                mode = ("--mode", "per_partition", "--concurrency", "10")
                results[name] = _backfill(home, last_pp, *mode)
            # The 1-minute load average around each variant: a figure is read beside it.
            results[name]["load"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
        same = {
            table: len(
                {
                    json.dumps(digest(r["database"], table, last_pp), sort_keys=True)
                    for r in results.values()
                }
            )
            == 1
            for table in TABLES
        }
        full = {
            table: digest(results["floor"]["database"], table, end)
            == digest(results["batched"]["database"], table, end)
            for table in TABLES
        }
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    for r in results.values():
        r.pop("database")
    batched, floor = results["batched"], results["floor"]
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.platform()}, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}",
        "dates": {"batched": args.days, "floor": args.days, "per_partition": pp_days},
        "variants": results,
        "identical_rows": {"all three (common dates)": same, "batched = floor (year)": full},
        "targets": {
            "batched wall <= 60 s": batched["wall_s"] <= TARGETS["wall_s"],
            "batched <= 10x floor": batched["wall_s"] <= TARGETS["floor_ratio"] * floor["wall_s"],
            "batched <= 100 processes": batched["processes"] <= TARGETS["processes"],
        },
    }
    print(f"backfill of {START}..{end} ({report['machine']})")
    print(
        f"{'variant':14} {'dates':>5} {'wall s':>8} {'cpu s':>8} {'procs':>6} {'peak MiB':>9}"
        "  load before/after"
    )
    for name, r in results.items():
        print(
            f"{name:14} {report['dates'][name]:5} {r['wall_s']:8.1f} {r['cpu_s']:8.1f} "
            f"{r['processes']:6} {r['peak_rss_mib']:9.0f}  {r['load'][0]:.1f} / {r['load'][1]:.1f}"
        )
    for name, r in results.items():
        if r.get("peak_rss_by_step_mib"):
            peaks = ", ".join(f"{k} {v:.0f}" for k, v in r["peak_rss_by_step_mib"].items())
            print(f"{name}: peak RSS per step process, MiB: {peaks}")
    print(f"batched / floor: {batched['wall_s'] / floor['wall_s']:.1f}x wall")
    print(f"identical rows: {report['identical_rows']}")
    print(f"targets: {report['targets']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    return 0 if all(same.values()) and all(full.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
