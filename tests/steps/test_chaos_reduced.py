"""The reduced, seeded chaos run (`python -m chaos --reduced`, what `make test` includes; `make
chaos` is the full one): every scenario converges with no row lost or duplicated, no invariant
violated and no crash, and prints its line of figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = (
    "kill -9 steps (local)",
    "kill -9 steps (gs://)",
    "orchestrator SIGKILL",
    "overlapping backfills",
    "concurrent --force",
    "torn files",
    "flaky GCS",
)


@pytest.mark.timeout(1800)
def test_the_reduced_chaos_run_holds_every_invariant(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "chaos", "--reduced", "--seed", "7", "--work", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1700,
        check=False,
    )

    print(done.stdout)  # the figures, one line per scenario
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for scenario in SCENARIOS:
        (line,) = [ln for ln in lines if ln.startswith(f"{scenario:<24} faults=")]
        assert " ok (" in line, line
    (totals,) = [ln for ln in lines if ln.startswith("chaos totals: ")]
    assert "rows lost 0, rows duplicated 0, invariant violations 0, crashes 0" in totals, totals
    assert "all held" in lines[-1]
    assert "targets not reached" not in lines[-1]
