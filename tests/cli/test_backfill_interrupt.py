"""Ctrl-C during a backfill of several executions: one SIGINT to a real `baton backfill`
process cancels every execution it started that still runs, starts none of the waiting ones,
names what it cancelled and exits 1 (an execution was cancelled: docs/exit-codes.md).

The backfill runs over a copy of the seeded lake with the planner's dates per execution
narrowed to one (the only stand-in: a real plan splits only past 96 dates, too slow for the
suite), so 2013-01-01..03 is three one-date executions, two at once."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lakes import Lake

from baton_engine import ExecutionStore

pytestmark = pytest.mark.slow

CHILD = """
import sys
from dataclasses import replace
from baton_cli.commands import backfill
real = backfill.pipeline_limits
backfill.pipeline_limits = lambda *a, **k: replace(real(*a, **k), dates_per_execution=1)
from baton_cli.app import app
app(sys.argv[1:], prog_name="baton")
"""


def _read_until(proc: subprocess.Popen, wanted: str, count: int, timeout: float) -> str:
    """Stdout until `wanted` has appeared `count` times (or the process ended)."""
    assert proc.stdout is not None
    out = ""
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while out.count(wanted) < count and time.monotonic() < deadline:
        if selector.select(timeout=0.2):
            chunk = os.read(proc.stdout.fileno(), 65536).decode(errors="replace")
            if not chunk:
                break
            out += chunk
    return out


@pytest.fixture
def interrupted(seeded_template: Lake, tmp_path: Path) -> tuple[int, str, Lake]:
    lake = seeded_template.copy_to(tmp_path / "home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "GOOGLE_"))}
    env |= {"BATON_HOME": str(lake.home), "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    args = ["backfill", "--start", "2013-01-01", "--end", "2013-01-03", "--parallel-executions",
            "2", "--mode", "per_partition", "--no-report"]
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a terminal's Ctrl-C signals the whole foreground group
    )
    try:
        out = _read_until(proc, "started execution", 2, timeout=120)
        assert out.count("started execution") == 2, out
        time.sleep(1.0)  # the first steps are running
        os.killpg(proc.pid, signal.SIGINT)
        rest, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, out + rest.decode(errors="replace"), lake


def test_one_sigint_cancels_every_running_execution_and_starts_no_new_one(interrupted):
    code, output, lake = interrupted
    records = ExecutionStore(lake.home / "executions").list()
    assert len(records) == 2, output  # the third execution never started
    assert output.count("started execution") == 2, output
    assert {r.state for r in records} == {"CANCELLED"}, [(r.id, r.state) for r in records]
    for record in records:
        assert f"cancelled execution {record.id}" in output, output
    assert "1 waiting execution(s) not started" in output, output
    assert code == 1, output
