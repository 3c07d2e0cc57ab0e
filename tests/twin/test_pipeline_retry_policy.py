"""The pipeline's retry policy, decided by the YAML itself: which job failures earn a new job
execution. The Cloud Run connector here is scripted (it raises the errors the real service
raises, which a local job cannot produce on demand: connector timeouts, HTTP 503/404); the
attempt records are real files read through the real storage connector, and backoff runs on
the virtual clock (30 s, then 60 s)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from baton.storage import LocalStorage
from baton_engine import CallContext, Engine, ExecutionStore, VirtualClock
from baton_engine.errors import WorkflowError
from baton_twin.connector_names import GET_OBJECT, RUN_JOB
from baton_twin.connectors import GetObjectConnector
from baton_twin.local_engine import PIPELINE

DAY = "2013-03-01"
EXECUTION = "projects/p/locations/l/jobs/baton-extract/executions/baton-extract-{n}"
ATTEMPT_KEY = f"raw/flights/dt={DAY}/_attempt.json"


Step = Callable[[int, dict[str, Any]], Any]


class ScriptedJobs:
    """Answers jobs.run calls in order from a script (the last entry repeats); counts calls."""

    def __init__(self, *script: Step) -> None:
        self.script = list(script)
        self.calls: list[dict[str, Any]] = []

    def __call__(self, args: dict[str, Any], ctx: CallContext) -> Any:
        self.calls.append(args)
        n = len(self.calls)
        return self.script[min(n, len(self.script)) - 1](n, args)


def override_env(args: dict[str, Any]) -> dict[str, str]:
    (container,) = args["body"]["overrides"]["containerOverrides"]
    return {e["name"]: e["value"] for e in container["env"]}


def succeeded(n: int, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": EXECUTION.format(n=n), "succeededCount": 1, "failedCount": 0}


def operation_error(n: int, args: dict[str, Any]) -> Any:
    raise WorkflowError(
        {
            "message": "failed",
            "tags": ["OperationError"],
            "operation": {"metadata": {"name": EXECUTION.format(n=n)}},
        }
    )


def raises(error: dict[str, Any]) -> Step:
    def step(n: int, args: dict[str, Any]) -> Any:
        raise WorkflowError(error)

    return step


def with_record(
    lake: LocalStorage,
    exit_code: int,
    *,
    execution: str | None = None,
    workflow_execution: str | None = None,
) -> Step:
    """A failed job execution that left an attempt record, as the step writes it: naming the
    workflow execution (BATON_EXECUTION_ID) and its own job execution, unless told otherwise."""

    def step(n: int, args: dict[str, Any]) -> Any:
        record = {
            "outcome": "failed",
            "exit_code": exit_code,
            "reason": "transient" if exit_code == 75 else "missing_input",
            "message": f"exit {exit_code}",
            "execution_id": workflow_execution or override_env(args)["BATON_EXECUTION_ID"],
            "task_execution": execution or f"baton-extract-{n}",
        }
        lake.write_bytes(ATTEMPT_KEY, json.dumps(record).encode())
        return operation_error(n, args)

    return step


@pytest.fixture
def lake(tmp_path: Path) -> LocalStorage:
    (tmp_path / "lake").mkdir()
    return LocalStorage(tmp_path / "lake")


def run(tmp_path: Path, lake: LocalStorage, jobs: ScriptedJobs) -> tuple[Any, float, str]:
    connectors = {
        RUN_JOB: jobs,
        GET_OBJECT: GetObjectConnector(lambda: lake, bucket="lake", prefix=""),
    }
    engine = Engine(
        ExecutionStore(tmp_path / "executions"),
        connectors=connectors,
        clock=VirtualClock(),
        user_env={"BATON_LAKE_BUCKET": "lake", "BATON_LAKE_PREFIX": ""},
    )
    record = engine.run(PIPELINE.read_text(), {"date": DAY, "steps": ["extract"]})
    outcome = record.result if record.state == "SUCCEEDED" else record.error["summary"]
    return outcome["partitions"][DAY]["extract"], (record.end or 0) - record.start, record.id


def test_a_data_error_is_reported_without_a_retry(tmp_path: Path, lake: LocalStorage) -> None:
    jobs = ScriptedJobs(with_record(lake, 4))
    extract, elapsed, _ = run(tmp_path, lake, jobs)
    assert (extract["status"], extract["reason"], extract["exit_code"]) == (
        "failed",
        "missing_input",
        4,
    )
    assert extract["execution"] == EXECUTION.format(n=1)
    assert len(jobs.calls) == 1 and elapsed == 0


def test_a_transient_exit_is_retried_with_backoff(tmp_path: Path, lake: LocalStorage) -> None:
    jobs = ScriptedJobs(with_record(lake, 75), with_record(lake, 75), succeeded)
    extract, elapsed, _ = run(tmp_path, lake, jobs)
    assert extract == {"status": "succeeded", "execution": EXECUTION.format(n=3)}
    assert len(jobs.calls) == 3
    assert elapsed == pytest.approx(30 + 60)


def test_retries_stop_after_two(tmp_path: Path, lake: LocalStorage) -> None:
    jobs = ScriptedJobs(with_record(lake, 75))
    extract, _, _ = run(tmp_path, lake, jobs)
    assert extract["status"] == "failed" and extract["reason"] == "transient"
    assert len(jobs.calls) == 3


def test_a_task_that_died_without_a_record_is_retried(tmp_path: Path, lake: LocalStorage) -> None:
    jobs = ScriptedJobs(operation_error, succeeded)
    extract, _, _ = run(tmp_path, lake, jobs)
    assert extract["status"] == "succeeded"
    assert len(jobs.calls) == 2


def test_a_stale_record_from_another_job_execution_is_not_trusted(
    tmp_path: Path, lake: LocalStorage
) -> None:
    # A data error recorded by an earlier execution must not stop the retry of this one.
    jobs = ScriptedJobs(with_record(lake, 4, execution="baton-extract-old"), succeeded)
    extract, _, _ = run(tmp_path, lake, jobs)
    assert extract["status"] == "succeeded"
    assert len(jobs.calls) == 2


def test_a_record_from_another_workflow_execution_is_not_trusted(
    tmp_path: Path, lake: LocalStorage
) -> None:
    jobs = ScriptedJobs(with_record(lake, 4, workflow_execution="someone-else"), succeeded)
    extract, _, _ = run(tmp_path, lake, jobs)
    assert extract["status"] == "succeeded"


def test_a_connector_timeout_is_never_retried(tmp_path: Path, lake: LocalStorage) -> None:
    jobs = ScriptedJobs(raises({"message": "too slow", "tags": ["TimeoutError"]}), succeeded)
    extract, _, _ = run(tmp_path, lake, jobs)
    assert (extract["status"], extract["reason"]) == ("failed", "connector_timeout")
    assert len(jobs.calls) == 1


@pytest.mark.parametrize(("code", "calls", "status"), [(503, 2, "succeeded"), (404, 1, "failed")])
def test_only_throttling_and_unavailable_http_errors_are_retried(
    tmp_path: Path, lake: LocalStorage, code: int, calls: int, status: str
) -> None:
    jobs = ScriptedJobs(raises({"message": "http", "code": code, "tags": ["HttpError"]}), succeeded)
    extract, _, _ = run(tmp_path, lake, jobs)
    assert extract["status"] == status
    assert len(jobs.calls) == calls


def test_the_job_is_called_with_the_documented_overrides(
    tmp_path: Path, lake: LocalStorage
) -> None:
    jobs = ScriptedJobs(succeeded)
    _, _, execution_id = run(tmp_path, lake, jobs)
    (args,) = jobs.calls
    assert args["name"] == "projects/baton-local/locations/local/jobs/baton-extract"
    overrides = args["body"]["overrides"]
    (container,) = overrides["containerOverrides"]
    assert container["args"] == ["run", "--date", DAY]
    assert container["env"] == [
        {"name": "BATON_EXECUTION_ID", "value": execution_id},
        {"name": "BATON_DATASET", "value": "flights"},
    ]
    assert (overrides["taskCount"], overrides["timeout"]) == (1, "1800s")
    assert args["connector_params"] == {"timeout": 4200}
