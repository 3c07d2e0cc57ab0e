"""workflows/pipeline.workflows.yaml stays inside Cloud Workflows' variable-memory limit at the
most dates it accepts: its `max_dates` is derived from these measurements, with margin.

The execution runs through the real engine, whose memory accounting follows the documented
rules. The Cloud Run and Cloud Storage connectors are stand-ins: what the YAML holds in its
variables depends only on what the connectors return (execution names, attempt records), and
real step processes would take minutes per hundred dates. The stand-ins return what the real
ones do at their largest: full execution names of a 30-character project in the
longest-named region, and attempt records whose message is as long as a step ever writes one.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from baton.lake import OUTPUT_ZONE, STEPS
from baton_cli.dag import pipeline_limits
from baton_cli.planner import WorkflowModel
from baton_engine import (
    CallContext,
    Engine,
    ExecutionRecord,
    ExecutionStore,
    Limits,
    VirtualClock,
    WorkflowError,
)
from baton_twin.connectors import GET_OBJECT, RUN_JOB
from baton_twin.local_engine import PIPELINE

PROJECT = "a-thirty-character-project-id0"  # project ids are at most 30 characters
REGION = "northamerica-northeast1"  # the longest Cloud Run region name
BUCKET = "a-lake-bucket-named-by-the-deployment-0123"
MESSAGE_CHARS = 2000  # shared/baton/step.py keeps at most this much of a failure's message
REASON = "transform_contract_mismatch"  # the longest reason code a step records
MARGIN = 0.75  # the pipeline may use at most this share of the limit


@dataclass
class StandInCloud:
    """jobs.run and objects.get as Cloud Run and Cloud Storage answer them, without processes.

    `fail_step` fails every date at that step: odd days with a data error (exit 4, reported),
    even days with a transient one (exit 75, retried twice by the YAML before it gives up).
    """

    fail_step: str | None = None
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: int = 0

    def run(self, args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        job = args["name"].rsplit("/", 1)[-1].removeprefix("baton-")
        (container,) = args["body"]["overrides"]["containerOverrides"]
        env = {e["name"]: e["value"] for e in container["env"]}
        argv = container["args"]
        dates = json.loads(env["BATON_DATES"]) if "BATON_DATES" in env else [argv[2]]
        self.runs += 1
        short = f"baton-{job}-{self.runs:05d}"
        name = f"projects/{PROJECT}/locations/{REGION}/jobs/baton-{job}/executions/{short}"
        failed = job == self.fail_step
        for day in dates:
            code = (75 if date.fromisoformat(day).day % 2 == 0 else 4) if failed else 0
            self.records[f"{OUTPUT_ZONE[job]}/flights/dt={day}/_attempt.json"] = {
                "dataset": "flights",
                "step": job,
                "partition": day,
                "outcome": "failed" if failed else "committed",
                "exit_code": code,
                "reason": REASON if failed else "",
                "message": ("x" * MESSAGE_CHARS) if failed else "",
                "execution_id": env["BATON_EXECUTION_ID"],
                "task_execution": short,
            }
        execution = {"name": name, "taskCount": len(dates), "succeededCount": len(dates)}
        if not failed:
            return execution
        raise WorkflowError(
            {
                "message": f"The execution {name} failed: {len(dates)} of {len(dates)} task(s)",
                "tags": ["OperationError"],
                "operation": {"name": name, "done": True, "metadata": execution},
            }
        )

    def get(self, args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        key = urllib.parse.unquote(args["object"])
        if key not in self.records:
            raise WorkflowError({"message": f"no object {key}", "tags": ["HttpError"], "code": 404})
        return self.records[key]


def execute(tmp_path: Path, mode: str, dates: int, fail_step: str | None) -> ExecutionRecord:
    """Run the pipeline YAML over `dates` days; the finished execution's record."""
    cloud = StandInCloud(fail_step)
    engine = Engine(
        ExecutionStore(tmp_path / "executions"),
        connectors={RUN_JOB: cloud.run, GET_OBJECT: cloud.get},
        user_env={"BATON_LAKE_BUCKET": BUCKET},
        clock=VirtualClock(),
        project_id=PROJECT,
        location=REGION,
    )
    first = date(2013, 1, 1)
    days = [(first + timedelta(days=i)).isoformat() for i in range(dates)]
    argument = {"start": days[0], "end": days[-1], "mode": mode, "concurrency": 20}
    return engine.run(PIPELINE.read_text(), argument, workflow_id="pipeline")


MAX_DATES = pipeline_limits().dates_per_execution
LIMIT = Limits().max_memory_bytes


@pytest.mark.parametrize("mode", ["per_partition", "batched"])
@pytest.mark.parametrize("fail_step", [None, STEPS[-1]], ids=["all_succeed", "all_fail_last"])
def test_max_dates_keep_the_pipeline_within_three_quarters_of_the_memory_limit(
    tmp_path: Path, mode: str, fail_step: str | None
) -> None:
    assert MAX_DATES is not None
    record = execute(tmp_path, mode, MAX_DATES, fail_step)
    if fail_step is None:
        assert record.state == "SUCCEEDED", record.error
    else:
        assert record.state == "FAILED"
        assert record.error["tags"] == ["PartitionsFailed"], record.error
        assert len(record.error["summary"]["failed"]) == MAX_DATES
    assert record.memory_peak_bytes <= MARGIN * LIMIT, (
        f"{mode}, {MAX_DATES} dates: peak {record.memory_peak_bytes} bytes of {LIMIT}"
    )


@pytest.mark.parametrize("mode", ["per_partition", "batched"])
def test_the_planners_memory_model_covers_what_each_date_and_step_adds(
    tmp_path: Path, mode: str
) -> None:
    model = WorkflowModel()
    small, large = (execute(tmp_path / str(n), mode, n, STEPS[-1]) for n in (20, 60))
    per_cell = (large.memory_peak_bytes - small.memory_peak_bytes) / (40 * len(STEPS))
    assert per_cell <= model.summary_bytes_per_cell * model.summary_copies


def test_the_summary_keeps_only_the_start_of_a_failures_message(tmp_path: Path) -> None:
    record = execute(tmp_path, "per_partition", 2, STEPS[-1])
    cells = [p[STEPS[-1]] for p in record.error["summary"]["partitions"].values()]
    assert [c["reason"] for c in cells] == [REASON, REASON]
    assert [c["message"] for c in cells] == ["x" * 300, "x" * 300]
