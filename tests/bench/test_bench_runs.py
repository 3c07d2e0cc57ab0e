"""`make bench` end to end on a small day: every implementation loads identical rows (the
benchmark refuses to report otherwise), and the results file carries every target and where
the chain's time beyond the fused process goes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_small_bench_run_reports_identical_loads_and_every_target(tmp_path: Path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--rows", "3000", "--runs", "1", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["data"]["landing_rows"] == 3003  # 3000 rows + 3 re-delivered ones
    assert result["loaded"]["flights"] > 2900
    assert set(result["summary"]["targets"]) == {
        "chain_within_1.5x_of_fused",
        "chain_within_1.5x_of_fused_cpu",
        "chain_2x_faster_than_pandas",
        "step_peak_rss_under_512_mib",
        "step_rss_growth_at_2x_under_20pct",
    }
    assert "targets:" in done.stdout
    summary = result["summary"]
    assert set(summary["variants"]) >= {"chain", "one_process", "fused", "pandas"}
    # The chain starts three more processes than its jobs run in one process; each costs at
    # least an interpreter and `import polars`.
    assert summary["gap"]["process_starts_cpu_s"] > 0.2, summary["gap"]
