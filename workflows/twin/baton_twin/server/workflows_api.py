"""The Workflows API v1 of `baton serve` (create, get, delete, list of workflows) and the routing
of Workflow Executions requests to the workflow they name.

The pipeline workflow is deployed when the server starts; `baton workflow conform` deploys
temporary ones. A workflow is checked when it is created, as the service checks a deployment:
a definition the engine refuses is an INVALID_ARGUMENT of `workflows.create`, not of a later
execution. create and delete are long-running operations in the API; the twin finishes them
before answering, so the operation is `done` at once.

References:
- https://cloud.google.com/workflows/docs/reference/rest/v1/projects.locations.workflows/create
- https://cloud.google.com/workflows/docs/reference/rest/v1/projects.locations.workflows/get
- https://cloud.google.com/workflows/docs/reference/rest/v1/projects.locations.workflows/delete
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from google.cloud.workflows.executions_v1 import Execution, ExecutionView, ListExecutionsResponse
from google.cloud.workflows_v1 import ListWorkflowsResponse, OperationMetadata, Workflow
from google.longrunning import operations_pb2
from google.protobuf import any_pb2, empty_pb2

from baton_engine import Engine, VirtualClock, check_source
from baton_twin.server.api_error import ApiError
from baton_twin.server.executions import WorkflowExecutions

_WORKFLOW_ID = re.compile(r"[a-z](?:[a-z0-9_-]{0,62}[a-z0-9])?")  # the create reference's rule
MAX_PAGE = 100


class DeployedWorkflows:
    """`projects/{project}/locations/{location}/workflows`: each with its own executions."""

    def __init__(
        self, pipeline: WorkflowExecutions, *, service_account: str, virtual_time: bool = False
    ) -> None:
        self.pipeline = pipeline
        self.virtual_time = virtual_time
        self.parent = pipeline.parent.rsplit("/workflows/", 1)[0]
        self.service_account = service_account
        self._lock = threading.Lock()
        self._executions: dict[str, WorkflowExecutions] = {pipeline.parent: pipeline}
        self._messages: dict[str, Workflow] = {
            pipeline.parent: self._message(
                pipeline.parent, pipeline.source, pipeline.engine.user_env
            )
        }

    def _message(self, name: str, source: str, env: Mapping[str, str]) -> Workflow:
        now = datetime.now(tz=UTC)
        executions = self._executions.get(name)
        revision = (
            executions.revision
            if executions is not None
            else self.pipeline.engine.builtin_env("", "", source)[
                "GOOGLE_CLOUD_WORKFLOW_REVISION_ID"
            ]
        )
        return Workflow(
            name=name,
            state=Workflow.State.ACTIVE,
            revision_id=revision,
            create_time=now,
            update_time=now,
            revision_create_time=now,
            service_account=self.service_account,
            source_contents=source,
            user_env_vars=dict(env),
        )

    # -- workflows

    def create(self, parent: str, workflow_id: str, workflow: Workflow) -> operations_pb2.Operation:
        """workflows.create: check the source as a deployment, then serve its executions."""
        if parent != self.parent:
            raise ApiError("NOT_FOUND", f"Location '{parent}' was not found; serving {self.parent}")
        if not _WORKFLOW_ID.fullmatch(workflow_id or ""):
            raise ApiError(
                "INVALID_ARGUMENT",
                f"workflow_id {workflow_id!r} must be 1-64 of a-z, 0-9, '-' and '_', starting "
                "with a letter and not ending with '-' or '_'",
            )
        name = f"{parent}/workflows/{workflow_id}"
        base = self.pipeline.engine
        _, issues = check_source(workflow.source_contents, set(base.connectors))
        errors = [str(i) for i in issues if i.severity == "error"]
        if errors:
            raise ApiError("INVALID_ARGUMENT", "; ".join(errors))
        engine = Engine(
            base.store,
            connectors=base.connectors,
            user_env=dict(workflow.user_env_vars),
            # Virtual time (serve --fast-retries): a deployed workflow's sleeps and backoffs
            # cost no real time, as in the conformance suite.
            clock=VirtualClock() if self.virtual_time else base.clock,
            retry_delay_scale=base.retry_delay_scale,
            project_id=base.project_id,
            location=base.location,
        )
        project, location = parent.split("/")[1], parent.split("/")[3]
        executions = WorkflowExecutions(
            engine,
            workflow.source_contents,
            project=project,
            location=location,
            workflow=workflow_id,
        )
        with self._lock:
            if name in self._messages:
                raise ApiError("ALREADY_EXISTS", f"Resource '{name}' already exists")
            self._executions[name] = executions
            self._messages[name] = self._message(
                name, workflow.source_contents, workflow.user_env_vars
            )
            message = self._messages[name]
        return _operation(parent, name, "create", Workflow.pb(message))

    def get(self, name: str) -> Workflow:
        """workflows.get (the latest revision)."""
        with self._lock:
            message = self._messages.get(name)
        if message is None:
            raise ApiError("NOT_FOUND", f"Resource '{name}' was not found")
        return message

    def delete(self, name: str) -> operations_pb2.Operation:
        """workflows.delete; its executions' records stay in the store."""
        with self._lock:
            if name == self.pipeline.parent:
                raise ApiError(
                    "FAILED_PRECONDITION", f"{name} is the served pipeline; it cannot be deleted"
                )
            if self._messages.pop(name, None) is None:
                raise ApiError("NOT_FOUND", f"Resource '{name}' was not found")
            self._executions.pop(name, None)
        return _operation(self.parent, name, "delete", empty_pb2.Empty())

    def list(self, parent: str, page_size: int = 0, page_token: str = "") -> ListWorkflowsResponse:
        """workflows.list in name order; the page token is an opaque offset."""
        if parent != self.parent:
            raise ApiError("NOT_FOUND", f"Location '{parent}' was not found; serving {self.parent}")
        try:
            offset = int(page_token or "0")
        except ValueError as err:
            raise ApiError("INVALID_ARGUMENT", f"bad page_token {page_token!r}") from err
        size = min(page_size or MAX_PAGE, MAX_PAGE)
        with self._lock:
            names = sorted(self._messages)
            page = [self._messages[n] for n in names[offset : offset + size]]
        more = offset + size < len(names)
        return ListWorkflowsResponse(
            workflows=page, next_page_token=str(offset + size) if more else ""
        )

    # -- executions, routed to the workflow they name

    def executions_of(self, workflow_name: str) -> WorkflowExecutions:
        """The executions backend of a deployed workflow."""
        with self._lock:
            found = self._executions.get(workflow_name)
            served = ", ".join(sorted(self._executions))
        if found is None:
            raise ApiError(
                "NOT_FOUND",
                f"Resource '{workflow_name}' was not found; this server serves {served}",
            )
        return found


class ExecutionsRouter:
    """The Workflow Executions API over every deployed workflow (the gRPC front's backend)."""

    def __init__(self, deployed: DeployedWorkflows) -> None:
        self.deployed = deployed

    def create(self, parent: str, execution: Execution) -> Execution:
        """executions.create on the workflow `parent`."""
        return self.deployed.executions_of(parent).create(parent, execution)

    def get(self, name: str, view: ExecutionView = ExecutionView.FULL) -> Execution:
        """executions.get."""
        return self.deployed.executions_of(name.rpartition("/executions/")[0]).get(name, view)

    def list(
        self,
        parent: str,
        page_size: int = 0,
        page_token: str = "",
        view: ExecutionView = ExecutionView.BASIC,
    ) -> ListExecutionsResponse:
        """executions.list."""
        return self.deployed.executions_of(parent).list(parent, page_size, page_token, view)

    def cancel(self, name: str) -> Execution:
        """executions.cancel."""
        return self.deployed.executions_of(name.rpartition("/executions/")[0]).cancel(name)


def _operation(parent: str, target: str, verb: str, response: Any) -> operations_pb2.Operation:
    """A finished long-running operation with its OperationMetadata and response."""
    now = datetime.now(tz=UTC)
    metadata = OperationMetadata(
        create_time=now, end_time=now, target=target, verb=verb, api_version="v1"
    )
    packed_metadata = any_pb2.Any()
    packed_metadata.Pack(OperationMetadata.pb(metadata))
    packed_response = any_pb2.Any()
    packed_response.Pack(response)
    return operations_pb2.Operation(
        name=f"{parent}/operations/{verb}-{target.rsplit('/', 1)[1]}-{now.timestamp():.6f}",
        done=True,
        metadata=packed_metadata,
        response=packed_response,
    )
