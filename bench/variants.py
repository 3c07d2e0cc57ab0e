"""The implementations the benchmark runs on the same day, each as measured processes.

chain: the four real step entrypoints, `python -m baton_<step> run --date D --force`, one
process each, exchanging Parquet through the lake, loading `$BATON_HOME/warehouse.duckdb`.
one process: `bench.one_process`, the same four jobs one after another in one process (the
chain without its process starts). fused: `bench.fused`, one polars process. pandas:
`bench.pandas_chunked`, one pandas process.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from baton.lake import STEPS
from bench.processes import Measurement, measure

CHAIN, ONE_PROCESS, FUSED, PANDAS = "chain", "one_process", "fused", "pandas"


@dataclass(frozen=True)
class Bench:
    """Where a benchmark run keeps its lake and warehouses, and the children's environment."""

    home: Path
    env: Mapping[str, str]

    def database(self, variant: str) -> Path:
        """The DuckDB file `variant` loads."""
        return self.home / ("warehouse.duckdb" if variant == CHAIN else f"{variant}.duckdb")


def run_chain(bench: Bench, day: date) -> dict[str, Measurement]:
    """Each step of the chain, in DAG order, forced so a rerun redoes the work."""
    return {
        step: measure(
            [sys.executable, "-m", f"baton_{step}", "run", "--date", day.isoformat(), "--force"],
            bench.env,
        )
        for step in STEPS
    }


def run_one_process(bench: Bench, day: date) -> Measurement:
    """The chain's four jobs in one process, on the chain's lake, loading its own warehouse."""
    env = {**bench.env, "BATON_DUCKDB_PATH": str(bench.database(ONE_PROCESS))}
    return measure([sys.executable, "-m", "bench.one_process", day.isoformat()], env)


def run_fused(bench: Bench, day: date) -> Measurement:
    """The fused polars process."""
    argv = [sys.executable, "-m", "bench.fused", str(bench.home), day.isoformat()]
    return measure([*argv, str(bench.database(FUSED))], bench.env)


def run_pandas(bench: Bench, day: date) -> Measurement:
    """The chunked pandas process (its tables are declared like the chain's)."""
    argv = [sys.executable, "-m", "bench.pandas_chunked", str(bench.home), day.isoformat()]
    return measure([*argv, str(bench.database(PANDAS)), str(bench.database(CHAIN))], bench.env)
