"""The chain without its process starts: the four steps' real jobs, in DAG order, one after
another in one process.

Each step runs exactly as its container does (`baton.taskrun.execute` on the job's `STEP`,
forced), reading and writing the same lake and hand-off files, so this variant differs from
the chain only in paying Python's and polars' start-up once instead of four times. Against
the chain it measures what the three extra processes cost; against the fused process, what
the hand-offs and each step's bookkeeping (plans, manifests, digests, commits) cost. Run as
`python -m bench.one_process YYYY-MM-DD` with the chain's environment (BATON_HOME) and its own
warehouse file (BATON_DUCKDB_PATH).
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections.abc import Sequence
from datetime import date

from baton.errors import ExitCode
from baton.lake import STEPS
from baton.parquet import bound_read_ahead
from baton.taskrun import execute


def run(day: date) -> None:
    """Every step for `day`, forced; raise if one does not commit."""
    bound_read_ahead(os.environ)  # as each step's entry does
    jobs = [importlib.import_module(f"baton_{step}.job").STEP for step in STEPS]
    gc.freeze()  # as each step's entry does once its modules are imported
    for job in jobs:
        code = execute(
            job, day, "flights", force=True, dry_run=False, verbose=False, environ=os.environ
        )
        if code != ExitCode.OK:
            raise RuntimeError(f"{job.name} for {day} exited {int(code)}")


def main(argv: Sequence[str]) -> int:
    """`python -m bench.one_process YYYY-MM-DD`."""
    if len(argv) != 1:
        print("usage: python -m bench.one_process YYYY-MM-DD", file=sys.stderr)
        return 2
    run(date.fromisoformat(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
