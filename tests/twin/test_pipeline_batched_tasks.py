"""Batched mode sizes each job execution's tasks: `taskCount` is the argument's `tasks_per_job`
(default min(dates, concurrency)), never more than the dates left, and a bad value fails before
any job runs. The Cloud Run connector is scripted to record the request and succeed at once:
what is checked is the request the YAML makes, not what the job does."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from baton_engine import CallContext, Engine, ExecutionStore, VirtualClock
from baton_twin.connector_names import GET_OBJECT, RUN_JOB
from baton_twin.local_engine import PIPELINE


def days(n: int) -> list[str]:
    return [(date(2013, 1, 1) + timedelta(days=i)).isoformat() for i in range(n)]


def run(tmp_path: Path, argument: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    bodies: list[dict[str, Any]] = []

    def succeeded(args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        bodies.append(args["body"]["overrides"])
        return {"name": "projects/p/locations/l/jobs/j/executions/e", "succeededCount": 1}

    def no_object(args: dict[str, Any], ctx: CallContext) -> None:
        raise AssertionError("a successful execution reads no attempt records")

    engine = Engine(
        ExecutionStore(tmp_path / "executions"),
        connectors={RUN_JOB: succeeded, GET_OBJECT: no_object},
        clock=VirtualClock(),
    )
    record = engine.run(PIPELINE.read_text(), argument, workflow_id="pipeline")
    return record, bodies


def test_tasks_per_job_sets_the_task_count_of_every_batched_job_execution(tmp_path):
    record, bodies = run(tmp_path, {"dates": days(30), "mode": "batched", "tasks_per_job": 4})
    assert record.state == "SUCCEEDED", record.error
    assert [b["taskCount"] for b in bodies] == [4, 4, 4, 4]


def test_without_tasks_per_job_a_job_gets_as_many_tasks_as_the_concurrency(tmp_path):
    record, bodies = run(tmp_path, {"dates": days(30), "mode": "batched", "concurrency": 6})
    assert record.state == "SUCCEEDED", record.error
    assert {b["taskCount"] for b in bodies} == {6}


def test_a_job_never_gets_more_tasks_than_dates(tmp_path):
    record, bodies = run(tmp_path, {"dates": days(3), "mode": "batched", "tasks_per_job": 50})
    assert record.state == "SUCCEEDED", record.error
    assert {b["taskCount"] for b in bodies} == {3}


def test_every_task_gets_the_whole_date_list_and_takes_its_share_itself(tmp_path):
    _, bodies = run(tmp_path, {"dates": days(5), "mode": "batched", "tasks_per_job": 2})
    env = {e["name"]: e["value"] for e in bodies[0]["containerOverrides"][0]["env"]}
    assert json.loads(env["BATON_DATES"]) == days(5)


@pytest.mark.parametrize("bad", [0, -1, 10_001, "4", 2.5, True])
def test_a_bad_tasks_per_job_fails_before_any_job_runs(tmp_path, bad):
    record, bodies = run(tmp_path, {"dates": days(3), "mode": "batched", "tasks_per_job": bad})
    assert record.state == "FAILED"
    assert "argument tasks_per_job must be an integer from 1 to 10000" in record.error["message"]
    assert bodies == []
