"""workflows/pipeline.workflows.yaml run end to end through the engine, with the real step
entrypoints as local Cloud Run jobs, over a small seeded lake and the DuckDB warehouse."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from baton.config import load_settings
from baton.storage import LocalStorage
from baton_cli.accounting import ledger
from baton_cli.app import app
from baton_cli.demo import seed
from baton_engine import Engine, ExecutionRecord
from baton_twin.jobrunner import JobSpec, LocalJobRunner, baton_jobs
from baton_twin.local_engine import PIPELINE, local_engine

pytestmark = pytest.mark.slow
DAYS = ("2013-03-01", "2013-03-02")
FLAKY = Path(__file__).with_name("flaky_job.py")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake with landing files for DAYS, seeded once and copied per test."""
    home = tmp_path_factory.mktemp("seeded")
    (home / "lake").mkdir()
    seed(LocalStorage(home / "lake"), date(2013, 3, 1), date(2013, 3, 2))
    return home


@pytest.fixture
def home(seeded: Path, tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "home"
    shutil.copytree(seeded, target)
    yield target


def environ(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    return {**env, "BATON_HOME": str(home)}


def engine_for(home: Path, runner: LocalJobRunner | None = None) -> tuple[Engine, LocalJobRunner]:
    env = environ(home)
    runner = runner or LocalJobRunner(baton_jobs(), base_env=env)
    engine = local_engine(load_settings(environ=env), env, runner=runner, fast_retries=True)
    return engine, runner


def run(engine: Engine, argument: dict[str, Any]) -> ExecutionRecord:
    return engine.run(PIPELINE.read_text(), argument, workflow_id="pipeline")


def warehouse_rows(home: Path, day: str) -> int:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        (count,) = con.execute(
            "SELECT count(*) FROM flights WHERE flight_date = ?", [date.fromisoformat(day)]
        ).fetchone()
    return int(count)


def loaded(home: Path, day: str) -> int | None:
    (row,) = ledger(LocalStorage(home / "lake"), "flights", [date.fromisoformat(day)])
    return row.loaded


def statuses(summary: dict[str, Any], day: str) -> dict[str, str]:
    return {step: entry["status"] for step, entry in summary["partitions"][day].items()}


ALL_OK = {
    "extract": "succeeded",
    "transform": "succeeded",
    "validate": "succeeded",
    "load": "succeeded",
}


def test_the_pipeline_loads_every_partition_and_returns_a_summary(home: Path) -> None:
    engine, runner = engine_for(home)
    record = run(engine, {"start": DAYS[0], "end": DAYS[1], "concurrency": 2})
    assert record.state == "SUCCEEDED", record.error
    summary = record.result
    assert (summary["status"], summary["dates"], summary["failed"]) == ("succeeded", 2, [])
    for day in DAYS:
        assert statuses(summary, day) == ALL_OK
        assert warehouse_rows(home, day) == loaded(home, day) > 0
    assert sorted(e.job for e in runner.history) == sorted(
        ["extract", "transform", "validate", "load"] * 2
    )


def test_a_partition_without_its_landing_file_fails_alone_and_is_not_retried(home: Path) -> None:
    (home / "lake" / "landing" / "flights" / f"{DAYS[1]}.csv").unlink()
    cli = CliRunner()
    result = cli.invoke(
        app,
        [
            "workflow",
            "run",
            str(PIPELINE),
            "--fast-retries",
            "-q",
            "--data",
            json.dumps({"dates": list(DAYS)}),
        ],
        env=environ(home),
    )
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)
    assert error["tags"] == ["PartitionsFailed"]
    summary = error["summary"]
    assert summary["failed"] == [DAYS[1]]
    assert statuses(summary, DAYS[0]) == ALL_OK
    failed = summary["partitions"][DAYS[1]]
    assert failed["extract"]["status"] == "failed"
    assert failed["extract"]["reason"] == "missing_input"
    assert "/jobs/baton-extract/executions/baton-extract-" in failed["extract"]["execution"]
    assert {s: failed[s]["status"] for s in ("transform", "validate", "load")} == {
        "transform": "skipped",
        "validate": "skipped",
        "load": "skipped",
    }
    assert warehouse_rows(home, DAYS[0]) == loaded(home, DAYS[0]) > 0
    assert loaded(home, DAYS[1]) is None
    (execution,) = (home / "executions").iterdir()
    extract_runs = list((execution / "jobs").glob("baton-extract-*"))
    assert len(extract_runs) == 2  # one per date: the data error got no second execution


def test_a_transient_job_failure_is_retried_with_a_new_execution(
    home: Path, tmp_path: Path
) -> None:
    env = {**environ(home), "FLAKY_MARKER": str(tmp_path / "first-transform")}
    jobs = baton_jobs()
    jobs["transform"] = JobSpec(
        "transform", (sys.executable, str(FLAKY), "baton_transform"), 600, max_retries=1
    )
    engine, runner = engine_for(home, LocalJobRunner(jobs, base_env=env))
    record = run(engine, {"date": DAYS[0]})
    assert record.state == "SUCCEEDED", record.error
    assert statuses(record.result, DAYS[0]) == ALL_OK
    transforms = runner.executions_of("transform")
    assert [e.succeeded for e in transforms] == [False, True]
    assert transforms[0].tasks[0].exit_codes == [75, 75]  # Cloud Run's task retry came first
    assert warehouse_rows(home, DAYS[0]) == loaded(home, DAYS[0]) > 0


def test_batched_mode_runs_one_execution_per_step_with_a_task_per_date(home: Path) -> None:
    engine, runner = engine_for(home)
    record = run(engine, {"dates": list(DAYS), "mode": "batched"})
    assert record.state == "SUCCEEDED", record.error
    for day in DAYS:
        assert statuses(record.result, day) == ALL_OK
        assert warehouse_rows(home, day) == loaded(home, day) > 0
    assert [(e.job, e.task_count) for e in runner.history] == [
        ("extract", 2),
        ("transform", 2),
        ("validate", 2),
        ("load", 2),
    ]


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ({"date": "2013-3-1"}, "is not a date"),
        ({"date": "2013-02-30"}, "is not a real day"),
        ({"start": "2013-03-02"}, "give both start and end"),
        ({"start": "2013-03-02", "end": "2013-03-01"}, "is before start"),
        ({"steps": ["extract", "publish"]}, "unknown step"),
        ({"mode": "fast"}, "argument mode"),
        ({"concurrency": 0}, "argument concurrency"),
        ({"force": "yes"}, "argument force"),
    ],
)
def test_a_bad_argument_fails_before_any_job_runs(
    home: Path, argument: dict[str, Any], message: str
) -> None:
    engine, runner = engine_for(home)
    record = run(engine, argument)
    assert record.state == "FAILED"
    assert message in record.error["message"]
    assert runner.history == []
