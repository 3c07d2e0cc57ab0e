"""Cloud Run retries a failed task (max_retries) without seeing its exit code, so a retried
attempt of a partition whose previous attempt in the same job execution failed for good (exit 3,
4 or 5) with the same inputs ends at once with the same exit code and reason, doing no work;
a new execution, changed inputs or a retryable failure are run in full."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from lakes import JAN_2, Lake

from baton.errors import ExitCode
from baton.lake import attempt_key
from baton.manifest import read_attempt

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
STRICT = {"BATON_QUARANTINE_TOLERANCE": "0"}


def _attempt(lake: Lake, number: int, execution: str = "exec-1", **env: str) -> ExitCode:
    task = {"CLOUD_RUN_EXECUTION": execution, "CLOUD_RUN_TASK_ATTEMPT": str(number)}
    return lake.run("extract", JAN_2, force=True, env={**task, **env})


def _quarantine_files(lake: Lake) -> list[str]:
    return lake.storage.list(f"quarantine/flights/dt={JAN_2}")


def _land(lake: Lake, name: str) -> None:
    shutil.copyfile(CORPUS / name, lake.root / f"landing/flights/{JAN_2}.csv")


def test_a_retry_of_a_data_failure_ends_at_once_with_the_same_code_and_reason(lake):
    _land(lake, "unparsable_values.csv")
    assert _attempt(lake, 0, **STRICT) == ExitCode.DATA
    first = read_attempt(lake.storage, attempt_key("extract", "flights", JAN_2))
    files = _quarantine_files(lake)

    assert _attempt(lake, 1, **STRICT) == ExitCode.DATA

    retry = read_attempt(lake.storage, attempt_key("extract", "flights", JAN_2))
    assert (retry.reason, retry.exit_code, retry.task_attempt) == (first.reason, 4, 1)
    assert "not retried" in retry.message and first.message in retry.message
    assert _quarantine_files(lake) == files  # no second quarantine file: no work was redone
    assert retry.quarantine == first.quarantine


def test_a_new_job_execution_runs_the_partition_again(lake):
    _land(lake, "unparsable_values.csv")
    assert _attempt(lake, 0, **STRICT) == ExitCode.DATA

    assert _attempt(lake, 0, execution="exec-2", **STRICT) == ExitCode.DATA

    retry = read_attempt(lake.storage, attempt_key("extract", "flights", JAN_2))
    assert "not retried" not in retry.message
    assert len(_quarantine_files(lake)) == 2


def test_a_retry_with_changed_inputs_runs_again(lake):
    landing = lake.root / f"landing/flights/{JAN_2}.csv"
    good = landing.read_bytes()
    _land(lake, "missing_column.csv")
    assert _attempt(lake, 0) == ExitCode.DATA
    landing.write_bytes(good)  # the operator lands a fixed file before Cloud Run retries

    assert _attempt(lake, 1) == ExitCode.OK


def test_a_retry_of_a_retryable_failure_runs_again(lake):
    storage = lake.storage
    key = attempt_key("extract", "flights", JAN_2)
    _land(lake, "missing_column.csv")
    assert _attempt(lake, 0) == ExitCode.DATA
    record = read_attempt(storage, key)
    storage.write_bytes(key, replace(record, exit_code=75).to_bytes())

    assert _attempt(lake, 1) == ExitCode.DATA

    assert "not retried" not in read_attempt(storage, key).message
