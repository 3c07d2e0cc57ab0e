"""workflows/pipeline.workflows.yaml stays inside Cloud Workflows' variable-memory limit at the
most dates it accepts: its `max_dates` is derived from these measurements, with margin.

The execution runs through the real engine, whose memory accounting follows the documented
rules. The Cloud Run and Cloud Storage connectors are stand-ins: what the YAML holds in its
variables depends only on what the connectors return (Execution resources, OperationErrors,
attempt records), and real step processes would take minutes per hundred dates. The stand-ins
return what the real ones do at their largest: the whole Execution (task template with the
deployed job's image digest and env, as infra deploys it, plus the overrides) built as a real
`run_v2.Execution` by the twin, in a 30-character project in the longest-named region; a failed
execution raises the twin's OperationError carrying it whole; attempt records carry a message as
long as a step ever writes one.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from baton.jobs import load_jobs
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
from baton_twin.connector_names import GET_OBJECT, RUN_JOB
from baton_twin.execution_resource import (
    DeployedJob,
    ExecutionFacts,
    execution_message,
    execution_resource,
    operation_error,
)
from baton_twin.local_engine import PIPELINE

PROJECT = "a-thirty-character-project-id0"  # project ids are at most 30 characters
REGION = "northamerica-northeast1"  # the longest Cloud Run region name
BUCKET = "a-lake-bucket-named-by-the-deployment-0123"
MESSAGE_CHARS = 2000  # shared/baton/step.py keeps at most this much of a failure's message
REASON = "transform_contract_mismatch"  # the longest reason code a step records
MARGIN = 0.75  # the pipeline may use at most this share of the limit
DIGEST = "sha256:" + "0" * 64


def deployed(job: str) -> DeployedJob:
    """A step job as infra deploys it (baton_infra.step_job): image by digest, its env."""
    (spec,) = [j for j in load_jobs() if j.name == job]
    return DeployedJob(
        image=f"{REGION}-docker.pkg.dev/{PROJECT}/baton/baton-{job}@{DIGEST}",
        service_account=f"baton-{job}@{PROJECT}.iam.gserviceaccount.com",
        cpu=spec.cpu,
        memory=spec.memory,
        timeout_s=spec.timeout_s,
        max_retries=spec.max_retries,
        env={
            "BATON_BQ_DATASET": "baton",
            "BATON_BQ_LOCATION": REGION,
            "BATON_BQ_PROJECT": PROJECT,
            "BATON_WAREHOUSE": "bigquery",
            "BATON_LAKE": f"gs://{BUCKET}",
            "BATON_CODE_VERSION": DIGEST,
        },
        secret_env={"BATON_SECRET_FLIGHTS_API_TOKEN": "flights-api-token"}
        if job == "extract"
        else {},
        labels={"baton-step": job},
    )


@dataclass
class StandInCloud:
    """jobs.run and objects.get as Cloud Run and Cloud Storage answer them, without processes.

    `fail_step` fails every date at that step: odd days with a data error (exit 4, reported),
    even days with a transient one (exit 75, retried twice by the YAML before it gives up).
    """

    fail_step: str | None = None
    job_env_padding: int = 0
    """Extra characters of plain env on every job (a deployment with a large environment)."""
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
        facts = ExecutionFacts(
            name=name,
            task_count=len(dates),
            parallelism=len(dates),
            succeeded=0 if failed else len(dates),
            failed=len(dates) if failed else 0,
            retried=len(dates) if failed else 0,
            started=1_357_000_000.0,
            finished=1_357_000_600.0,
            log_uri=f"https://console.cloud.google.com/logs/viewer?project={PROJECT}&resource=cloud_run_job",
            args=tuple(argv),
            env=env,
            task_timeout_s=1800,
        )
        job_spec = deployed(job)
        if self.job_env_padding:
            job_spec = replace(job_spec, env={**job_spec.env, "PAD": "x" * self.job_env_padding})
        execution = execution_resource(execution_message(job_spec, facts))
        if not failed:
            return execution
        raise operation_error(
            execution, f"projects/{PROJECT}/locations/{REGION}/operations/{short}"
        )

    def get(self, args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        key = urllib.parse.unquote(args["object"])
        if key not in self.records:
            raise WorkflowError({"message": f"no object {key}", "tags": ["HttpError"], "code": 404})
        return self.records[key]


def execute(
    tmp_path: Path,
    mode: str,
    dates: int,
    fail_step: str | None,
    job_env_padding: int = 0,
    concurrency: int = 20,
) -> ExecutionRecord:
    """Run the pipeline YAML over `dates` days; the finished execution's record."""
    cloud = StandInCloud(fail_step, job_env_padding)
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
    argument = {"start": days[0], "end": days[-1], "mode": mode, "concurrency": concurrency}
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
    # One lane: lanes failing at once each hold their caught OperationError for a moment, a
    # constant (at most 20 of them) whose overlap varies from run to run and would blur the
    # slope; what grows with the dates is the summary either way.
    model = WorkflowModel()
    small, large = (execute(tmp_path / str(n), mode, n, STEPS[-1], concurrency=1) for n in (20, 60))
    per_cell = (large.memory_peak_bytes - small.memory_peak_bytes) / (40 * len(STEPS))
    assert per_cell <= model.summary_bytes_per_cell * model.summary_copies


def test_the_summary_keeps_only_the_start_of_a_failures_message(tmp_path: Path) -> None:
    record = execute(tmp_path, "per_partition", 2, STEPS[-1])
    cells = [p[STEPS[-1]] for p in record.error["summary"]["partitions"].values()]
    assert [c["reason"] for c in cells] == [REASON, REASON]
    assert [c["message"] for c in cells] == ["x" * 300, "x" * 300]


def test_a_failing_lane_holds_one_copy_of_its_operation_error_at_most(tmp_path: Path) -> None:
    # The OperationError carries the whole Execution (here with 100 KB of job env). The YAML
    # copies out tags/message/code/execution name and drops it before explaining the failure;
    # passing it on whole would hold it twice (the caught error and the argument). One lane at
    # a time, so the measure is exact; 20 lanes failing at once each hold one copy briefly.
    pad = 100_000
    small, large = (
        execute(tmp_path / str(p), "per_partition", 3, STEPS[-1], job_env_padding=p, concurrency=1)
        for p in (0, pad)
    )
    assert small.state == large.state == "FAILED"
    assert large.memory_peak_bytes - small.memory_peak_bytes < 1.5 * pad
