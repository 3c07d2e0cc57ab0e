"""What the operator verbs need from a target (the local twin or GCP): start, follow, list and
cancel executions of the pipeline workflow, and run one step's job by itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from baton_twin.execution_info import ACTIVE_STATES, ExecutionInfo

__all__ = ["ACTIVE_STATES", "ExecutionInfo", "JobRun", "Target"]

@dataclass(frozen=True)
class JobRun:
    """One Cloud Run job execution started by itself (a single-step rerun), once finished."""

    name: str
    job: str
    succeeded: bool
    task_count: int
    succeeded_count: int
    failed_count: int
    log_uri: str = ""
    message: str = ""


class Target(Protocol):
    """The local twin or a GCP deployment, as the operator verbs drive it."""

    kind: str

    def start(self, argument: dict[str, Any]) -> ExecutionInfo:
        """Start an execution of the pipeline workflow with `argument`."""
        ...

    def get(self, execution_id: str) -> ExecutionInfo:
        """One execution (short id or full name); LookupError when there is none."""
        ...

    def list(self, limit: int) -> list[ExecutionInfo]:
        """The newest `limit` executions, newest first."""
        ...

    def cancel(self, execution_id: str) -> ExecutionInfo:
        """Ask an execution to stop; its state afterwards."""
        ...

    def step_entries(self, execution_id: str) -> list[dict[str, Any]] | None:
        """The steps an execution ran, in the order they finished (None: not available)."""
        ...

    def run_job(self, step: str, day: date, dataset: str, *, force: bool) -> JobRun:
        """Run one step's job for one partition without a workflow; wait for it."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def job_overrides(day: date, dataset: str, *, force: bool) -> tuple[list[str], dict[str, str]]:
    """The container args and env a single-step job run gets: what the workflow's run_job
    subworkflow passes for one date (per-partition mode), under a fresh `rerun-` execution id
    (the lineage its manifest records)."""
    args = ["run", "--date", day.isoformat(), *(["--force"] if force else [])]
    return args, {"BATON_EXECUTION_ID": f"rerun-{uuid.uuid4()}", "BATON_DATASET": dataset}


def short_id(name: str) -> str:
    """The last segment of a resource name."""
    return name.rstrip("/").rsplit("/", 1)[-1]
