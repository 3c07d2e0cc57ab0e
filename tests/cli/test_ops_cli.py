"""The operator verbs against the local twin, end to end: real step processes through the
local engine over a small seeded lake and the DuckDB warehouse (the issue's "done when" on a
few days instead of February)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lakes import JAN_1, JAN_2, JAN_3, Lake, warehouse_rows
from typer.testing import CliRunner

from baton.lake import step_prefix
from baton_cli.app import app
from baton_cli.dag import pipeline_limits

pytestmark = pytest.mark.slow
DAYS = ("--start", "2013-01-01", "--end", "2013-01-03")


def clean(patch: pytest.MonkeyPatch) -> None:
    """No BATON_* or GCP settings of the machine running the tests leak in."""
    for name in list(os.environ):
        if name.startswith(("BATON_", "GOOGLE_CLOUD")):
            patch.delenv(name)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clean(monkeypatch)


def baton(lake: Lake, *args: str, **env: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"BATON_HOME": str(lake.home), **env})


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory, seeded_template: Lake) -> Iterator[Any]:
    """The seeded lake after `baton backfill` of Jan 1-3 (the result kept for its own test)."""
    lake = seeded_template.copy_to(tmp_path_factory.mktemp("backfilled") / "home")
    with pytest.MonkeyPatch.context() as patch:
        clean(patch)
        result = baton(lake, "backfill", *DAYS, "--concurrency", "2")
    yield lake, result


@pytest.fixture
def loaded(backfilled: tuple[Lake, Any], tmp_path: Path) -> Lake:
    lake, result = backfilled
    assert result.exit_code == 0, result.output
    return lake.copy_to(tmp_path / "home")


def status(lake: Lake, *args: str) -> dict[str, Any]:
    result = baton(lake, "status", *DAYS, "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def states(doc: dict[str, Any], day: str) -> list[str]:
    (row,) = [p for p in doc["partitions"] if p["date"] == day]
    return [row["steps"][s]["state"] for s in doc["steps"]]


def test_backfill_prints_its_plan_follows_each_partition_and_exits_0(backfilled):
    _, result = backfilled
    assert result.exit_code == 0, result.output
    assert "backfill plan" in result.output and "assumptions:" in result.output
    for day in ("2013-01-01", "2013-01-02", "2013-01-03"):
        assert f"{day}  load      committed" in result.output
    assert "3/3 partitions done; 12 committed" in result.output


def test_status_json_shows_every_backfilled_partition_committed(loaded):
    doc = status(loaded)
    assert doc["totals"] == {
        "partitions": 3,
        "current": 3,
        "committed": 12,
        "damaged": 0,
        "stale": 0,
        "failed": 0,
        "missing": 0,
    }
    first = doc["partitions"][0]
    assert first["date"] == "2013-01-01" and first["current"] is True
    load = first["steps"]["load"]
    assert load["rows_out"] > 0 and load["execution_id"] and load["duration_s"] is not None


def test_a_deleted_staged_partition_shows_missing_and_rerun_downstream_restores_the_warehouse(
    loaded,
):
    before = {t: warehouse_rows(loaded, t) for t in ("flights", "carrier_daily_performance")}
    shutil.rmtree(loaded.root / step_prefix("transform", "flights", JAN_2))
    assert states(status(loaded), "2013-01-02") == ["committed", "missing", "stale", "stale"]

    result = baton(loaded, "rerun", "--date", "2013-01-02", "--step", "transform", "--downstream")

    assert result.exit_code == 0, result.output
    assert states(status(loaded), "2013-01-02") == ["committed"] * 4
    after = {t: warehouse_rows(loaded, t) for t in before}
    for table, frame in before.items():
        assert after[table].equals(frame), table


def test_a_single_step_rerun_runs_one_forced_job_and_leaves_the_rest_stale(loaded):
    extract_before = loaded.manifest("extract", JAN_3)
    result = baton(loaded, "rerun", "--date", "2013-01-03", "--step", "transform")
    assert result.exit_code == 0, result.output
    assert "succeeded: baton-transform-" in result.output
    assert loaded.manifest("extract", JAN_3) == extract_before
    assert loaded.manifest("transform", JAN_3).execution_id.startswith("rerun-")
    assert states(status(loaded), "2013-01-03") == ["committed", "committed", "stale", "stale"]


def test_a_failed_run_exits_1_and_rerun_execution_reruns_exactly_what_failed(loaded):
    landing = loaded.root / "landing" / "flights" / "2013-01-02.csv"
    kept = landing.read_bytes()
    landing.unlink()
    shutil.rmtree(loaded.root / "raw" / "flights" / "dt=2013-01-02")
    failed = baton(loaded, "run", *DAYS, "--force")
    assert failed.exit_code == 1, failed.output
    assert "failed 2013-01-02 extract: missing_input" in failed.output
    execution = failed.output.split("baton rerun --execution ")[-1].split()[0]

    landing.write_bytes(kept)
    rerun = baton(loaded, "rerun", "--execution", execution)

    assert rerun.exit_code == 0, rerun.output
    assert "rerunning extract, transform, validate, load for 1 partition(s)" in rerun.output
    assert "2013-01-01" not in rerun.output.split("rerunning", 1)[1]
    assert states(status(loaded), "2013-01-02") == ["committed"] * 4


def test_executions_list_and_describe_show_the_local_records(loaded):
    listed = baton(loaded, "executions", "list", "--json")
    assert listed.exit_code == 0, listed.output
    (execution,) = json.loads(listed.stdout)
    assert (execution["state"], execution["workflow"]) == ("SUCCEEDED", "baton-pipeline")
    described = baton(loaded, "executions", "describe", execution["id"], "--json")
    doc = json.loads(described.stdout)
    assert doc["result"]["dates"] == 3 and doc["failed"] == []
    assert any(e["path"].startswith("main/") for e in doc["step_entries"])
    unknown = baton(loaded, "executions", "describe", "no-such-execution")
    assert unknown.exit_code == 2 and "no execution no-such-execution" in unknown.output


def executions(lake: Lake) -> int:
    folder = lake.home / "executions"
    return len(list(folder.iterdir())) if folder.exists() else 0


def test_a_year_dry_run_on_gcp_plans_offline_within_every_limit(loaded):
    started = executions(loaded)
    result = baton(
        loaded,
        "backfill",
        "--start",
        "2013-01-01",
        "--end",
        "2013-12-31",
        "--dry-run",
        "--target",
        "gcp",
    )
    assert result.exit_code == 0, result.output
    assert "target: gcp" in result.output
    assert "median of manifests recorded in the local lake" in result.output
    assert "[unconfirmed]" in result.output and "max_dates" in result.output
    assert executions(loaded) == started
    limits = pipeline_limits()
    rows = [
        line for line in result.output.splitlines() if line.startswith("│ ") and "(2013" in line
    ]
    sizes = [int(r.split("│")[2].split()[0]) for r in rows]
    assert sum(sizes) == 365 and max(sizes) <= limits.dates_per_execution


def test_only_missing_plans_just_the_partitions_not_yet_current(loaded):
    shutil.rmtree(loaded.root / step_prefix("load", "flights", JAN_1))
    result = baton(loaded, "backfill", *DAYS, "--only-missing", "--dry-run")
    assert result.exit_code == 0, result.output
    assert (
        "2 of 3 partitions are loaded with unchanged inputs; planning the other 1" in result.output
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["run", "--date", "2013-02-30"], 2, "'2013-02-30' is not a date"),
        (["run", "--date", "2013-01-02", "--dataset", "nope"], 3, "known: flights, weather"),
        (
            ["run", "--date", "2013-01-02", "--target", "gcp"],
            3,
            "pass --project or set BATON_GCP_PROJECT",
        ),
        (["rerun", "--date", "2013-01-02", "--step", "publish"], 2, "steps are extract, transform"),
        (["backfill", "--start", "2013-01-05", "--end", "2013-01-01"], 2, "is before --start"),
        (["status", "--start", "2013-01-01"], 2, "give --date, or both --start and --end"),
        (["run", "--start", "2013-01-01", "--end", "2016-01-01"], 2, "use baton backfill"),
    ],
)
def test_bad_input_gets_an_exit_code_and_a_message_naming_the_fix(lake, args, code, message):
    result = baton(lake, *args)
    assert result.exit_code == code, result.output
    # Typer boxes usage errors: read the words, not the frame.
    assert message in " ".join(result.output.replace("│", " ").split())


def test_a_relative_baton_home_works_as_the_default_dot_baton_does(loaded, monkeypatch):
    monkeypatch.chdir(loaded.home.parent)
    result = CliRunner().invoke(
        app,
        ["rerun", "--date", "2013-01-01", "--step", "load", "--downstream"],
        env={"BATON_HOME": loaded.home.name},
    )
    assert result.exit_code == 0, result.output
    assert "2013-01-01  load      committed" in result.output
