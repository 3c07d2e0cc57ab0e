"""The Cloud Run Admin API v2 `jobs.run` and its long-running operations, on the local job
runner: the same request validation and Execution resource as the workflow connector.

`POST /v2/{job}:run` answers at once with an Operation (`done: false`, the Execution in its
metadata) while the tasks run as local processes; `GET /v2/{operation}` reports it until it is
`done`, with the Execution as `response` or, when a task failed, an `error`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.cloud import run_v2
from google.longrunning import operations_pb2
from google.protobuf import any_pb2, json_format
from google.rpc import status_pb2

from baton_engine import WorkflowError
from baton_twin.connectors import RunJobConnector
from baton_twin.jobrunner import JobExecution, LocalJobRunner, RunRequest
from baton_twin.server.api_error import ApiError

UNKNOWN = 2  # google.rpc.Code.UNKNOWN: how a failed execution ends its operation [U]


@dataclass
class _Operation:
    name: str
    request: RunRequest
    runner: LocalJobRunner
    started: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    crash: str = ""

    @property
    def execution(self) -> JobExecution | None:
        return self.runner.history[0] if self.runner.history else None


def _api_error(err: WorkflowError) -> ApiError:
    value = err.value if isinstance(err.value, dict) else {"message": str(err.value)}
    status = "NOT_FOUND" if value.get("code") == 404 else "INVALID_ARGUMENT"
    return ApiError(status, str(value.get("message", err)))


class CloudRunJobs:
    """`projects/{project}/locations/{location}/jobs/*:run` and `.../operations/*`."""

    def __init__(
        self,
        connector: RunJobConnector,
        runner_factory: Callable[[], LocalJobRunner],
        log_root: Path,
    ) -> None:
        self.connector = connector
        self.runner_factory = runner_factory
        self.log_root = Path(log_root)
        self._operations: dict[str, _Operation] = {}
        self._lock = threading.Lock()

    def run(self, job: str, body: dict[str, Any]) -> operations_pb2.Operation:
        """jobs.run: validate like the connector, start the tasks, answer with the operation."""
        try:
            request, _, _ = self.connector.request({"name": job, "body": body})
        except WorkflowError as err:
            raise _api_error(err) from err
        # One runner per operation: its history holds exactly this operation's execution.
        op = _Operation(
            f"{self.connector.parent}/operations/{uuid.uuid4()}", request, self.runner_factory()
        )
        with self._lock:
            self._operations[op.name] = op
        threading.Thread(target=self._execute, args=(op,), daemon=True).start()
        op.started.wait(5.0)
        return self.operation_message(op)

    def _execute(self, op: _Operation) -> None:
        watcher = threading.Thread(target=self._signal_start, args=(op,), daemon=True)
        watcher.start()
        try:
            op.runner.run(op.request, log_root=self.log_root)
        except Exception as err:  # a defect: report it on the operation, keep serving
            op.crash = f"the local job runner failed: {err!r}"
        finally:
            op.started.set()
            op.done.set()

    @staticmethod
    def _signal_start(op: _Operation) -> None:
        while not op.done.is_set() and op.execution is None:
            op.done.wait(0.01)
        op.started.set()

    def get(self, name: str) -> operations_pb2.Operation:
        """operations.get."""
        with self._lock:
            op = self._operations.get(name)
        if op is None:
            raise ApiError("NOT_FOUND", f"Resource '{name}' was not found")
        return self.operation_message(op)

    def execution_message(self, execution: JobExecution, finished: bool) -> run_v2.Execution:
        """The Execution resource of a local job execution (running or finished)."""
        resource = {
            k: v for k, v in self.connector.execution_map(execution).items() if v is not None
        }
        resource.pop("@type")
        if not finished:
            resource.pop("completionTime", None)
            resource["runningCount"] = (
                execution.task_count - execution.succeeded_count - execution.failed_count
            )
            resource["conditions"] = [
                {"type": "Completed", "state": "CONDITION_PENDING", "message": "running"}
            ]
        message = run_v2.Execution.pb(run_v2.Execution())
        json_format.ParseDict(resource, message)
        return run_v2.Execution.wrap(message)

    def operation_message(self, op: _Operation) -> operations_pb2.Operation:
        """The operation as the API returns it."""
        done = op.done.is_set()
        message = operations_pb2.Operation(name=op.name, done=done)
        execution = op.execution
        if execution is not None:
            packed = any_pb2.Any()
            packed.Pack(run_v2.Execution.pb(self.execution_message(execution, done)))
            message.metadata.CopyFrom(packed)
            if done and execution.succeeded:
                message.response.CopyFrom(packed)
            elif done:
                message.error.CopyFrom(
                    status_pb2.Status(
                        code=UNKNOWN,
                        message=(
                            f"Execution {execution.name} failed: {execution.failed_count} of "
                            f"{execution.task_count} task(s) failed"
                        ),
                    )
                )
        elif done:
            message.error.CopyFrom(status_pb2.Status(code=UNKNOWN, message=op.crash))
        return message
