"""An execution whose `baton run` was SIGKILLed mid-pipeline: `baton executions list` shows it
FAILED as abandoned (not ACTIVE for ever), and `baton rerun --execution` runs it again to the warehouse
contents of a clean run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

from lakes import JAN_1, warehouse_rows
from typer.testing import CliRunner

from baton_cli.app import app


def _baton(lake, *args: str):
    return CliRunner().invoke(app, list(args), env={"BATON_HOME": str(lake.home)})


def test_an_abandoned_execution_is_listed_as_such_and_reruns_to_the_clean_result(
    lake, committed_template
):
    baton = shutil.which("baton", path=os.path.dirname(sys.executable))
    proc = subprocess.Popen(
        [baton, "run", "--date", str(JAN_1)],
        env={**os.environ, "BATON_HOME": str(lake.home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    raw = lake.root / "raw" / "flights" / f"dt={JAN_1}" / "_manifest.json"
    deadline = time.monotonic() + 60
    while not raw.exists():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the orchestrator and its whole process group
    proc.wait()

    listed = _baton(lake, "executions", "list", "--json")
    (execution,) = json.loads(listed.stdout)
    assert execution["state"] == "FAILED", listed.stdout
    assert "the execution was abandoned" in execution["error"]["message"]

    rerun = _baton(lake, "rerun", "--execution", execution["id"])

    assert rerun.exit_code == 0, rerun.output
    assert "was abandoned" in rerun.output
    for table in ("flights", "carrier_daily_performance"):
        clean = warehouse_rows(committed_template, table)
        assert warehouse_rows(lake, table).equals(clean.filter(clean["flight_date"] == JAN_1))
