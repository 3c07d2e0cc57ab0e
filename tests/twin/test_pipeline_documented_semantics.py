"""workflows/pipeline.workflows.yaml relies only on documented Workflows semantics.

Two behaviours are not documented: whether `text.substring` clamps an end past the string's
length, and the names `get_type` returns. Here the engine's `text.substring` is made strict (an
index outside 0..len, or start > end, raises) for every execution, so a pass means the YAML is
correct whatever real Workflows does; and the YAML's type checks read a value's JSON text
(json.encode_to_string) instead of comparing with get_type's names.

The Cloud Run and Cloud Storage connectors are scripted (only what they return matters); the
OperationError is the twin's, carrying a whole Execution.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from baton_engine import Engine, ExecutionRecord, ExecutionStore, VirtualClock, WorkflowError
from baton_engine.stdlib import Builtin, library
from baton_twin.connector_names import GET_OBJECT, RUN_JOB
from baton_twin.execution_resource import (
    DeployedJob,
    ExecutionFacts,
    execution_message,
    execution_resource,
    operation_error,
)
from baton_twin.local_engine import PIPELINE

JOB = DeployedJob(
    image="europe-west1-docker.pkg.dev/p/baton/baton-load@sha256:" + "0" * 64,
    service_account="baton-load@p.iam.gserviceaccount.com",
    cpu="1",
    memory="2Gi",
    timeout_s=1800,
    max_retries=1,
)


def _strict_substring(source: Any, start: Any, end: Any) -> str:
    if not (isinstance(source, str) and isinstance(start, int) and isinstance(end, int)):
        raise WorkflowError({"message": "text.substring: bad arguments", "tags": ["TypeError"]})
    if not 0 <= start <= end <= len(source):
        raise WorkflowError(
            {
                "message": f"text.substring({len(source)} chars, {start}, {end}) out of range",
                "tags": ["IndexError"],
            }
        )
    return source[start:end]


@pytest.fixture(autouse=True)
def strict_substring(monkeypatch: pytest.MonkeyPatch) -> None:
    """text.substring raises outside 0 <= start <= end <= len, for every test here."""
    real = library().functions["text.substring"]
    monkeypatch.setitem(
        library().functions,  # type: ignore[arg-type]
        "text.substring",
        Builtin(real.name, _strict_substring, real.params, real.runtime, real.call_only),
    )


class Cloud:
    """jobs.run fails the `failing` step with exit 4 and the attempt record `record` gives."""

    def __init__(self, failing: str | None = None, record: dict[str, Any] | None = None) -> None:
        self.failing, self.record, self.records, self.runs = failing, record or {}, {}, 0

    def run(self, args: dict[str, Any], ctx: Any) -> dict[str, Any]:
        self.runs += 1
        job = args["name"].rsplit("/", 1)[-1]
        (container,) = args["body"]["overrides"]["containerOverrides"]
        env = {e["name"]: e["value"] for e in container["env"]}
        short = f"{job}-{self.runs:05d}"
        facts = ExecutionFacts(
            name=f"{args['name']}/executions/{short}",
            task_count=1,
            parallelism=1,
            succeeded=0 if job == self.failing else 1,
            failed=1 if job == self.failing else 0,
            retried=0,
            started=1.0e9,
            finished=1.0e9 + 60,
            log_uri="https://console.cloud.google.com/logs",
            args=tuple(container["args"]),
            env=env,
        )
        execution = execution_resource(execution_message(JOB, facts))
        if job != self.failing:
            return execution
        day = container["args"][2]
        zone = {"baton-extract": "raw", "baton-transform": "staged"}.get(job, "loaded")
        self.records[f"{zone}/flights/dt={day}/_attempt.json"] = {
            "outcome": "failed",
            "exit_code": 4,
            "reason": "data_error",
            "execution_id": env["BATON_EXECUTION_ID"],
            "task_execution": short,
            **self.record,
        }
        raise operation_error(execution, "projects/p/locations/l/operations/1")

    def get(self, args: dict[str, Any], ctx: Any) -> Any:
        from urllib.parse import unquote

        key = unquote(args["object"])
        if key not in self.records:
            raise WorkflowError({"message": f"no {key}", "tags": ["HttpError"], "code": 404})
        return self.records[key]


def execute(
    tmp_path: Path, argument: Any, cloud: Cloud | None = None, **user_env: str
) -> ExecutionRecord:
    cloud = cloud or Cloud()
    engine = Engine(
        ExecutionStore(tmp_path / "executions"),
        connectors={RUN_JOB: cloud.run, GET_OBJECT: cloud.get},
        clock=VirtualClock(),
        user_env=user_env,
    )
    return engine.run(PIPELINE.read_text(), argument, workflow_id="pipeline")


def load_cell(record: ExecutionRecord, day: str = "2013-01-02") -> dict[str, Any]:
    assert record.state == "FAILED", record.error
    assert record.error["tags"] == ["PartitionsFailed"], record.error
    return record.error["summary"]["partitions"][day]["load"]


def test_a_failure_message_shorter_than_the_kept_start_is_kept_whole(tmp_path: Path) -> None:
    cloud = Cloud("baton-load", {"message": "boom"})
    cell = load_cell(execute(tmp_path, {"date": "2013-01-02"}, cloud))
    assert (cell["reason"], cell["message"]) == ("data_error", "boom")


@pytest.mark.parametrize("record", [{"message": None}, {}], ids=["null", "missing"])
def test_an_attempt_record_without_a_message_reports_an_empty_one(tmp_path: Path, record) -> None:
    cell = load_cell(execute(tmp_path, {"date": "2013-01-02"}, Cloud("baton-load", record)))
    assert cell["message"] == ""


def test_a_message_that_is_not_a_string_is_kept_as_its_json_text(tmp_path: Path) -> None:
    cloud = Cloud("baton-load", {"message": {"rule": "non_negative"}})
    cell = load_cell(execute(tmp_path, {"date": "2013-01-02"}, cloud))
    assert json.loads(cell["message"]) == {"rule": "non_negative"}


def test_a_long_message_keeps_only_its_first_300_characters(tmp_path: Path) -> None:
    cloud = Cloud("baton-load", {"message": "y" * 1000})
    assert load_cell(execute(tmp_path, {"date": "2013-01-02"}, cloud))["message"] == "y" * 300


def test_a_job_call_error_without_a_message_is_reported_without_raising(tmp_path: Path) -> None:
    def forbidden(args: dict[str, Any], ctx: Any) -> Any:
        raise WorkflowError({"tags": ["HttpError"], "code": 403})

    engine = Engine(
        ExecutionStore(tmp_path / "executions"),
        connectors={RUN_JOB: forbidden, GET_OBJECT: Cloud().get},
        clock=VirtualClock(),
    )
    record = engine.run(PIPELINE.read_text(), {"date": "2013-01-02"}, workflow_id="pipeline")
    cell = record.error["summary"]["partitions"]["2013-01-02"]["extract"]
    assert cell["reason"] == "job_call_failed"
    assert json.loads(cell["message"])["code"] == 403


@pytest.mark.parametrize(
    "argument",
    [{}, {"start": "2013-01-30", "end": "2013-02-02"}, {"dates": ["2013-01-02"]}],
    ids=["yesterday", "range", "list"],
)
def test_dates_are_cut_from_formatted_times_within_range(tmp_path: Path, argument) -> None:
    record = execute(tmp_path, argument)
    assert record.state == "SUCCEEDED", record.error


def test_a_prefixed_landing_event_is_cut_within_range(tmp_path: Path) -> None:
    event = {"data": {"name": "etl/landing/flights/2013-01-02.csv"}}
    record = execute(tmp_path, event, BATON_LAKE_PREFIX="etl")
    assert record.state == "SUCCEEDED", record.error
    assert list(record.result["partitions"]) == ["2013-01-02"]


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ({"force": 1}, "argument force"),
        ({"force": "true"}, "argument force"),
        ({"concurrency": 2.5}, "argument concurrency"),
        ({"concurrency": "5"}, "argument concurrency"),
        ({"concurrency": True}, "argument concurrency"),
        ({"dataset": 5}, "argument dataset"),
        ({"dates": "2013-01-02"}, "argument dates"),
        ({"date": 20130102}, "argument date"),
        ({"steps": "load"}, "argument steps"),
        ({"steps": {"load": True}}, "argument steps"),
        ({"dates": {"2013-01-02": True}}, "argument dates"),
        ({"dataset": ["flights"]}, "argument dataset"),
    ],
)
def test_an_argument_of_the_wrong_type_is_refused_before_any_job_runs(
    tmp_path: Path, argument, message
) -> None:
    cloud = Cloud()
    record = execute(tmp_path, argument, cloud)
    assert record.state == "FAILED"
    assert message in record.error["message"], record.error
    assert cloud.runs == 0


def test_an_integer_concurrency_is_accepted(tmp_path: Path) -> None:
    record = execute(tmp_path, {"dates": ["2013-01-02", "2013-01-03"], "concurrency": 2})
    assert record.state == "SUCCEEDED", record.error
