"""Runs a conformance case on both sides for `baton workflow conform`: on the local engine (virtual
time, the twin's connectors) and on Cloud Workflows as a temporary workflow.

The service side deploys the case with `workflows_v1.WorkflowsClient.create_workflow` (REST),
executes it with the Executions client, waits for the end, and deletes the workflow whatever
happened. A definition refused by `workflows.create`, or an argument refused by
`executions.create`, is a "refused" outcome, which is what the local engine's DefinitionError
and ArgumentError are.
- https://cloud.google.com/workflows/docs/reference/rest/v1/projects.locations.workflows/create
- https://cloud.google.com/workflows/docs/reference/rest/v1/projects.locations.workflows/delete
- https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions
  (`result` and `error.payload` are JSON strings)
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from baton.errors import TransientError
from baton_cli.conform import Case, Outcome
from baton_cli.targets.config import OpsConfig
from baton_cli.targets.gcp import GcpTarget, api_errors, decode_payload, is_loopback
from baton_engine import (
    ArgumentError,
    Connector,
    DefinitionError,
    Engine,
    ExecutionStore,
    VirtualClock,
)

DEPLOY_TIMEOUT_S = 300.0
EXECUTION_TIMEOUT_S = 600.0
POLL_S = 0.5


class LocalSide:
    """The local engine, one fresh virtual clock per case, with the twin's connectors."""

    def __init__(self, connectors: Mapping[str, Connector], *, project: str, location: str) -> None:
        self.connectors = dict(connectors)
        self.project = project
        self.location = location
        self._folder = tempfile.TemporaryDirectory(prefix="baton-conform-")

    def run(self, case: Case, workflow_id: str) -> Outcome:
        """The case's outcome on the local engine, run as workflow `workflow_id`."""
        engine = Engine(
            ExecutionStore(Path(self._folder.name)),
            connectors=self.connectors,
            user_env=case.env,
            clock=VirtualClock(),
            project_id=self.project,
            location=self.location,
        )
        try:
            record = engine.run(case.source, case.argument, workflow_id=workflow_id)
        except DefinitionError as err:
            return Outcome("refused", "; ".join(str(i) for i in err.issues))
        except ArgumentError as err:
            return Outcome("refused", str(err))
        if record.state == "SUCCEEDED":
            return Outcome("result", record.result)
        return Outcome("error", record.error)

    def close(self) -> None:
        """Remove the local execution records."""
        self._folder.cleanup()


class ServiceSide:
    """Cloud Workflows (or `baton serve`): each case deployed as `<prefix>-<n>`, then deleted."""

    def __init__(self, config: OpsConfig, *, prefix: str, service_account: str | None) -> None:
        self.config = config
        self.prefix = prefix
        self.service_account = service_account or ""
        self.target = GcpTarget(config)
        self._workflows: Any = None

    @property
    def location(self) -> str:
        """`projects/{project}/locations/{region}`."""
        return f"projects/{self.config.project}/locations/{self.config.region}"

    @property
    def workflows(self) -> Any:
        """The Workflows API client (REST; anonymous on loopback)."""
        if self._workflows is None:
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import workflows_v1

            loopback = is_loopback(self.config.run_endpoint)
            with api_errors("Workflows client"):
                self._workflows = workflows_v1.WorkflowsClient(
                    transport="rest",
                    credentials=AnonymousCredentials() if loopback else None,
                    client_options={"api_endpoint": self.config.run_endpoint} if loopback else None,
                )
        return self._workflows

    def workflow_id(self, index: int) -> str:
        """The temporary workflow id of case number `index`."""
        return f"{self.prefix}-{index}"

    def run(self, case: Case, index: int) -> Outcome:
        """Deploy, execute, wait, delete: the case's outcome on the service."""
        from google.cloud import workflows_v1

        workflow_id = self.workflow_id(index)
        name = f"{self.location}/workflows/{workflow_id}"
        workflow = workflows_v1.Workflow(
            source_contents=case.source,
            user_env_vars=case.env,
            service_account=self.service_account,
            labels={"baton-conform": self.prefix},
        )
        refused = _refused(
            f"deploy {name}",
            lambda: self.workflows.create_workflow(
                parent=self.location, workflow=workflow, workflow_id=workflow_id
            ).result(timeout=DEPLOY_TIMEOUT_S),
        )
        if refused is not None:
            return refused
        try:
            return self._execute(name, case)
        finally:
            self.delete(name)

    def _execute(self, name: str, case: Case) -> Outcome:
        from google.cloud.workflows.executions_v1 import (
            Execution,
            ExecutionView,
            GetExecutionRequest,
        )

        argument = "" if case.argument is None else json.dumps(case.argument)
        created: list[Any] = []
        refused = _refused(
            f"execute {name}",
            lambda: created.append(
                self.target.executions.create_execution(
                    parent=name, execution=Execution(argument=argument)
                )
            ),
        )
        if refused is not None:
            return refused
        deadline = time.monotonic() + EXECUTION_TIMEOUT_S
        execution = created[0]
        while execution.state == Execution.State.ACTIVE:
            if time.monotonic() > deadline:
                raise TransientError(
                    f"{execution.name} still ACTIVE after {EXECUTION_TIMEOUT_S:.0f} s",
                    reason="conform_timeout",
                )
            time.sleep(POLL_S)
            with api_errors(f"execution {execution.name}"):
                execution = self.target.executions.get_execution(
                    request=GetExecutionRequest(name=execution.name, view=ExecutionView.FULL)
                )
        if execution.state == Execution.State.SUCCEEDED:
            return Outcome("result", decode_payload(execution.result))
        return Outcome("error", decode_payload(execution.error.payload))

    def delete(self, name: str) -> None:
        """Delete a temporary workflow (already gone is fine)."""
        from google.api_core import exceptions as gexc

        try:
            self.workflows.delete_workflow(name=name).result(timeout=DEPLOY_TIMEOUT_S)
        except gexc.NotFound:
            return

    def close(self) -> None:
        """Close the clients."""
        if self._workflows is not None:
            self._workflows.transport.close()
        self.target.close()


def _refused(what: str, call: Callable[[], Any]) -> Outcome | None:
    """Run an API call: a "refused" outcome when the API answers 400 (INVALID_ARGUMENT,
    FAILED_PRECONDITION), None when it succeeds; other failures become baton's errors."""
    from google.api_core import exceptions as gexc

    with api_errors(what):
        try:
            call()
        except gexc.BadRequest as err:
            return Outcome("refused", err.message)
    return None
