"""`baton backfill` runs what the planner says: the plan as JSON (`--dry-run --json`), and the
plan's executions several at once, followed in one progress view (real step processes through
the local engine over a small seeded lake)."""

from __future__ import annotations

import io
import json
import os
from typing import Any

import pytest
from lakes import JAN_1, JAN_2, JAN_3, Lake, warehouse_rows
from rich.console import Console
from typer.testing import CliRunner

from baton.config import load_settings
from baton_cli.app import app
from baton_cli.follow import PlanFollower, follow_plan
from baton_cli.progress import Mark, ProgressView
from baton_cli.targets.local import LocalTarget


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("BATON_", "GOOGLE_CLOUD")):
            monkeypatch.delenv(name)


def baton(lake: Lake, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"BATON_HOME": str(lake.home)})


def test_a_three_year_gcp_dry_run_prints_a_plan_under_15_minutes_and_a_dollar(lake):
    result = baton(
        lake, "backfill", "--start", "2011-01-01", "--end", "2013-12-31",
        "--dry-run", "--target", "gcp", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    totals = plan["totals"]
    assert sum(len(ex["dates"]) for ex in plan["executions"]) == 1096  # 2012 is a leap year
    assert totals["executions"] == len(plan["executions"]) > 1
    assert totals["wall_s"] < 15 * 60 and totals["cost_usd"] < 1.0
    assert plan["parallel_executions"] > 1
    assert plan["limits"] and all(check["respected"] for check in plan["limits"])
    unconfirmed = [a["text"] for a in plan["assumptions"] if not a["confirmed"]]
    assert any("task start-up" in text for text in unconfirmed)


def test_parallel_executions_caps_what_the_plan_runs_at_once(lake):
    result = baton(
        lake, "backfill", "--start", "2011-01-01", "--end", "2013-12-31",
        "--dry-run", "--target", "gcp", "--json", "--parallel-executions", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["parallel_executions"] == 2
    starts = sorted({ex["start_s"] for ex in plan["executions"]})
    assert len(starts) == -(-len(plan["executions"]) // 2)  # waves of two


def test_the_executions_of_a_plan_run_side_by_side_in_one_progress_view(lake):
    settings = load_settings(environ={"BATON_HOME": str(lake.home)})
    target = LocalTarget(
        settings, {**os.environ, "BATON_HOME": str(lake.home)}, workflow="pipeline"
    )
    arguments = [{"date": JAN_1.isoformat()}, {"date": JAN_2.isoformat()}]
    follower = PlanFollower(target, arguments, "flights", None, parallel=2)
    out = io.StringIO()
    view = ProgressView(Console(file=out, width=160), follower.tracked, live=False)
    finals = follow_plan(follower, view, poll_s=0.2)
    assert sorted(f.state for f in finals) == ["SUCCEEDED", "SUCCEEDED"]
    first, second = sorted(finals, key=lambda f: f.start or 0)
    assert second.start is not None and first.end is not None and second.start < first.end
    assert {c.mark for c in follower.cells().values()} == {Mark.COMMITTED}
    assert "backfill (2/2 done, 0 running)" in out.getvalue()
    loaded = warehouse_rows(lake, "flights")
    assert set(loaded["flight_date"].unique().to_list()) == {JAN_1, JAN_2}


def test_a_batched_backfill_commits_the_good_dates_and_names_the_rerun_for_the_bad_one(lake):
    # 2013-01-04 has no landing file: its extract fails, the task's other date commits.
    result = baton(
        lake, "backfill", "--start", "2013-01-03", "--end", "2013-01-04", "--mode", "batched",
        "--concurrency", "1",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "1 partitions failed; rerun them with: baton rerun --execution" in result.output
    loaded = warehouse_rows(lake, "flights")
    assert set(loaded["flight_date"].unique().to_list()) == {JAN_3}
