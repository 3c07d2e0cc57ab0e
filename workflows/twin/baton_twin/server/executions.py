"""The Workflow Executions API v1 of one deployed workflow, backed by the local engine.

Requests and answers are the library's own message types (`executions_v1.Execution`, ...), so
the REST and gRPC fronts only translate wire formats. Semantics follow the API reference: the
argument and result are JSON strings, states ACTIVE/SUCCEEDED/FAILED/CANCELLED, `error` has a
JSON `payload` and a `context`, the BASIC view (the default of list) omits argument/result.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud.workflows.executions_v1 import (
    Execution,
    ExecutionView,
    ListExecutionsResponse,
)

from baton_engine import ArgumentError, DefinitionError, Engine, ExecutionRecord
from baton_twin.server.api_error import ApiError

CANCEL_WAIT_S = 5.0
MAX_PAGE = 100


def _stamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


class WorkflowExecutions:
    """`projects/{project}/locations/{location}/workflows/{workflow}/executions`."""

    def __init__(
        self, engine: Engine, source: str, *, project: str, location: str, workflow: str
    ) -> None:
        self.engine = engine
        self.source = source
        self.parent = f"projects/{project}/locations/{location}/workflows/{workflow}"
        self.workflow = workflow
        self.revision = engine.builtin_env(workflow, "", source)[
            "GOOGLE_CLOUD_WORKFLOW_REVISION_ID"
        ]

    # -- names

    def _check_parent(self, parent: str) -> None:
        if parent != self.parent:
            raise ApiError(
                "NOT_FOUND",
                f"Resource '{parent}' was not found; this server serves {self.parent}",
            )

    def _record(self, name: str) -> ExecutionRecord:
        parent, _, execution_id = name.rpartition("/executions/")
        self._check_parent(parent)
        try:
            record = self.engine.get(execution_id)
        except LookupError:
            record = None
        if record is None or record.workflow != self.workflow:
            raise ApiError("NOT_FOUND", f"Resource '{name}' was not found")
        return record

    # -- messages

    def message(self, record: ExecutionRecord, view: ExecutionView) -> Execution:
        """An engine record as an API Execution."""
        execution = Execution(
            name=f"{self.parent}/executions/{record.id}",
            start_time=_stamp(record.start),
            state=Execution.State[record.state],
            workflow_revision_id=self.revision,
            call_log_level=Execution.CallLogLevel.LOG_NONE,
        )
        if record.end is not None:
            execution.end_time = _stamp(record.end)
            execution.duration = timedelta(seconds=record.end - record.start)
        if record.state in ("FAILED", "CANCELLED") and record.error is not None:
            execution.error = Execution.Error(
                payload=json.dumps(record.error, default=str), context=_context(record.error)
            )
        if record.state == "ACTIVE":
            execution.status = Execution.Status(current_steps=self._current_steps(record.id))
        if view == ExecutionView.FULL:
            execution.argument = "" if record.argument is None else json.dumps(record.argument)
            if record.state == "SUCCEEDED":
                execution.result = json.dumps(record.result, default=str)
        return execution

    def _current_steps(self, execution_id: str) -> list[Execution.Status.Step]:
        entries = self.engine.store.steps(execution_id)
        if not entries:
            return []
        path = str(entries[-1].get("path", ""))
        routine, _, step = path.partition("/")
        return [Execution.Status.Step(routine=routine, step=step.rsplit("/", 1)[-1] or routine)]

    # -- methods

    def create(self, parent: str, execution: Execution) -> Execution:
        """executions.create: start the workflow with the execution's `argument` (JSON text)."""
        self._check_parent(parent)
        try:
            argument: Any = json.loads(execution.argument) if execution.argument else None
        except json.JSONDecodeError as err:
            raise ApiError(
                "INVALID_ARGUMENT", f"execution.argument is not valid JSON: {err.msg}"
            ) from err
        try:
            execution_id = self.engine.start(self.source, argument, workflow_id=self.workflow)
        except ArgumentError as err:
            raise ApiError("INVALID_ARGUMENT", str(err)) from err
        except DefinitionError as err:
            raise ApiError("FAILED_PRECONDITION", f"the served workflow is invalid: {err}") from err
        return self.message(self.engine.get(execution_id), ExecutionView.FULL)

    def get(self, name: str, view: ExecutionView = ExecutionView.FULL) -> Execution:
        """executions.get (default view FULL)."""
        return self.message(self._record(name), view or ExecutionView.FULL)

    def list(
        self,
        parent: str,
        page_size: int = 0,
        page_token: str = "",
        view: ExecutionView = ExecutionView.BASIC,
    ) -> ListExecutionsResponse:
        """executions.list, newest first; the page token is an opaque offset."""
        self._check_parent(parent)
        try:
            offset = int(page_token or "0")
        except ValueError as err:
            raise ApiError("INVALID_ARGUMENT", f"bad page_token {page_token!r}") from err
        size = min(page_size or MAX_PAGE, MAX_PAGE)
        records = [r for r in self.engine.list() if r.workflow == self.workflow]
        page = records[offset : offset + size]
        more = offset + size < len(records)
        return ListExecutionsResponse(
            executions=[self.message(r, view or ExecutionView.BASIC) for r in page],
            next_page_token=str(offset + size) if more else "",
        )

    def cancel(self, name: str) -> Execution:
        """executions.cancel: only an ACTIVE execution can be cancelled."""
        record = self._record(name)
        if record.state != "ACTIVE":
            raise ApiError(
                "FAILED_PRECONDITION",
                f"execution {name} is {record.state}; only an ACTIVE execution can be cancelled",
            )
        self.engine.cancel(record.id)
        deadline = time.monotonic() + CANCEL_WAIT_S
        while record.state == "ACTIVE" and time.monotonic() < deadline:
            time.sleep(0.05)
            record = self.engine.get(record.id)
        return self.message(record, ExecutionView.FULL)


def _context(error: Any) -> str:
    if isinstance(error, dict):
        tags = ", ".join(str(t) for t in error.get("tags", []))
        return f"{tags}: {error.get('message', '')}".strip(": ")
    return str(error)
