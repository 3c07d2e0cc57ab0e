"""Engine overhead of baton's local Workflows engine, against the targets of issue 3:
under 1 ms per assign/switch step, and under 50 ms per Cloud Run connector call beyond the
job's own run time.

    .tools/bin/uv run python bench/engine_overhead.py [--steps 20000] [--calls 15]

Per step: a loop of assign + switch steps runs through the full engine (parsing excluded,
execution records written as usual); the figure is wall time / steps run. Per connector call:
the same trivial job (`python -c pass`) is run N times directly with subprocess and N times
through `googleapis.run.v2.projects.locations.jobs.run`; the overhead is the median connector
step duration (from the execution's step records) minus the median direct run. Exits 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baton_engine import Engine, ExecutionStore
from baton_twin.connector_names import RUN_JOB
from baton_twin.connectors import RunJobConnector
from baton_twin.jobrunner import JobSpec, LocalJobRunner

STEP_TARGET_MS = 1.0
CONNECTOR_TARGET_MS = 50.0
TRIVIAL = (sys.executable, "-c", "pass")

STEPS_WORKFLOW = """
main:
  params: [args]
  steps:
    - init:
        assign:
          - total: 0
    - loop:
        for:
          value: i
          range: ${[1, args.n]}
          steps:
            - add:
                assign:
                  - total: ${total + i}
                  - parity: ${i % 2}
            - route:
                switch:
                  - condition: ${parity == 0}
                    next: continue
                  - condition: ${total > 0}
                    assign:
                      - odd: true
    - done:
        return: ${total}
"""
CONNECTOR_WORKFLOW = f"""
main:
  steps:
    - run:
        call: {RUN_JOB}
        args:
          name: projects/baton-local/locations/local/jobs/baton-trivial
        result: execution
    - done:
        return: ${{execution.succeededCount}}
"""


def per_step_ms(store: ExecutionStore, iterations: int) -> tuple[float, int]:
    """Milliseconds of wall time per executed step, and the steps executed."""
    engine = Engine(store)
    started = time.perf_counter()
    record = engine.run(STEPS_WORKFLOW, {"n": iterations})
    elapsed = time.perf_counter() - started
    if record.state != "SUCCEEDED":
        raise SystemExit(f"step benchmark failed: {record.error}")
    return elapsed / record.steps_run * 1000, record.steps_run


def direct_run_ms(calls: int) -> float:
    """Median milliseconds to start and wait for the trivial job's process directly."""
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        subprocess.run(TRIVIAL, check=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def connector_call_ms(store: ExecutionStore, calls: int) -> float:
    """Median milliseconds of the connector step running the trivial job."""
    runner = LocalJobRunner({"trivial": JobSpec("trivial", TRIVIAL, 60, 0)}, base_env={})
    connector = RunJobConnector(
        runner, project="baton-local", location="local", job_prefix="baton-"
    )
    engine = Engine(store, connectors={RUN_JOB: connector})
    times = []
    for _ in range(calls):
        record = engine.run(CONNECTOR_WORKFLOW)
        if record.state != "SUCCEEDED":
            raise SystemExit(f"connector benchmark failed: {record.error}")
        (step,) = [s for s in store.steps(record.id) if s["path"] == "main/run"]
        times.append((step["end"] - step["start"]) * 1000)
    return statistics.median(times)


def main() -> int:
    """Measure, print, and compare with the targets."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20_000, help="loop iterations")
    parser.add_argument("--calls", type=int, default=15, help="connector calls to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = ExecutionStore(Path(tmp))
        step_ms, steps = per_step_ms(store, args.steps)
        connector_call_ms(store, 2)  # warm-up: imports, page cache
        direct = direct_run_ms(args.calls)
        via_connector = connector_call_ms(store, args.calls)
    overhead = via_connector - direct
    print(
        f"assign/switch step: {step_ms:.4f} ms per step over {steps} steps "
        f"(target < {STEP_TARGET_MS} ms)"
    )
    print(
        f"connector call: {via_connector:.1f} ms vs {direct:.1f} ms for the job alone -> "
        f"{overhead:.1f} ms overhead (median of {args.calls}; target < {CONNECTOR_TARGET_MS} ms)"
    )
    ok = step_ms < STEP_TARGET_MS and overhead < CONNECTOR_TARGET_MS
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
