"""The planner's Workflows step model is the pipeline YAML's real step count: small executions
of workflows/pipeline.workflows.yaml run through the local engine and the recorded steps must
equal the model exactly, so a change to the YAML that changes its cost fails here.

The Cloud Run connector is scripted to succeed at once: the step count of the YAML does not
depend on what a job does as long as it succeeds, and the real jobs would only add minutes.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from baton.jobs import load_jobs
from baton.lake import STEPS
from baton_cli.dag import pipeline_limits
from baton_cli.planner import Request, WorkflowModel, plan_backfill
from baton_engine import CallContext, Engine, ExecutionStore, VirtualClock
from baton_twin.connector_names import GET_OBJECT, RUN_JOB
from baton_twin.local_engine import PIPELINE

# As long as a real Cloud Run execution name: projects/<30-char project>/locations/<region>/...
EXECUTION = (
    "projects/a-thirty-character-project-id/locations/europe-west1/jobs/baton-transform/"
    "executions/baton-transform-x7k2q"
)


def succeeded(args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    return {"name": EXECUTION, "succeededCount": 1, "failedCount": 0}


def no_object(args: dict[str, Any], ctx: CallContext) -> None:
    raise AssertionError("a successful execution reads no attempt records")


def days(n: int, gap: int = 1) -> list[str]:
    return [(date(2013, 1, 1) + timedelta(days=gap * i)).isoformat() for i in range(n)]


def execute(tmp_path: Path, argument: dict[str, Any]) -> Any:
    engine = Engine(
        ExecutionStore(tmp_path / "executions"),
        connectors={RUN_JOB: succeeded, GET_OBJECT: no_object},
        clock=VirtualClock(),
    )
    record = engine.run(PIPELINE.read_text(), argument, workflow_id="pipeline")
    assert record.state == "SUCCEEDED", record.error
    return record


CASES = [
    # (mode, dates, steps (None: not in the argument), concurrency, contiguous)
    ("per_partition", 1, 1, 1, False),
    ("per_partition", 2, 4, 1, True),
    ("per_partition", 5, 2, 3, True),
    ("per_partition", 7, None, 4, False),
    ("per_partition", 3, None, 2, True),
    ("batched", 1, 1, 1, False),
    ("batched", 3, 4, 2, True),
    ("batched", 8, 2, 1, False),
    ("batched", 4, None, 1, True),
    ("batched", 9, None, 20, True),
]


@pytest.mark.parametrize(("mode", "n", "s", "concurrency", "contiguous"), CASES)
def test_the_model_counts_exactly_the_steps_the_yaml_runs(
    tmp_path, mode, n, s, concurrency, contiguous
):
    dates = days(n, gap=1 if contiguous else 2)
    argument: dict[str, Any] = {"mode": mode, "concurrency": concurrency}
    argument |= {"start": dates[0], "end": dates[-1]} if contiguous else {"dates": dates}
    if s is not None:
        argument["steps"] = list(STEPS[:s])
    record = execute(tmp_path, argument)
    expected = WorkflowModel().workflow_steps(
        mode,
        n,
        s or len(STEPS),
        min(concurrency, n),
        contiguous=contiguous,
        steps_given=s is not None,
    )
    assert record.steps_run == expected


def test_a_planned_execution_counts_the_yaml_steps_plus_one_poll_per_short_job(tmp_path):
    # With no job or task start-up and 0.5 s jobs, each job call is one connector poll.
    model = WorkflowModel(job_start_s=0.0, billed_start_s=0.0)
    days_ = [date(2013, 1, 1) + timedelta(days=i) for i in range(6)]
    plan = plan_backfill(
        Request(days_, concurrency=2, mode="per_partition"),
        load_jobs(),
        {step: 0.5 for step in STEPS},
        limits=pipeline_limits(),
        model=model,
    )
    (planned,) = plan.executions
    record = execute(tmp_path, planned.argument)
    assert planned.billable_steps == record.steps_run + planned.job_executions


def test_a_summary_cell_fits_the_bytes_the_model_reserves_for_it(tmp_path):
    n = 10
    dates = days(n)
    record = execute(tmp_path, {"start": dates[0], "end": dates[-1]})
    per_cell = len(json.dumps(record.result["partitions"]).encode()) / (n * len(STEPS))
    assert per_cell <= WorkflowModel().summary_bytes_per_cell


def test_a_batched_plan_counts_the_yaml_steps_with_its_tasks_per_job(tmp_path):
    model = WorkflowModel(job_start_s=0.0, billed_start_s=0.0)
    days_ = [date(2013, 1, 1) + timedelta(days=i) for i in range(12)]
    plan = plan_backfill(
        Request(days_, mode="batched"),
        load_jobs(),
        {step: 0.5 for step in STEPS},
        limits=pipeline_limits(),
        model=model,
    )
    (planned,) = plan.executions
    assert "tasks_per_job" in planned.argument
    record = execute(tmp_path, planned.argument)
    assert planned.billable_steps == record.steps_run + planned.job_executions
