"""The GCP target: the deployed workflow through the Workflow Executions API and single steps
through the Cloud Run Admin API, with Google's official client libraries.

`google.cloud.workflows.executions_v1.ExecutionsClient` ships only a gRPC transport (REST is
an open request upstream: googleapis/google-cloud-python#13719), so executions go over gRPC;
`google.cloud.run_v2.JobsClient` uses its REST transport. Credentials are Application Default
Credentials, except for an endpoint on loopback (`baton serve`): anonymous, and plaintext gRPC.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from datetime import date
from typing import Any
from urllib.parse import SplitResult, urlsplit

from baton.errors import ConfigError, TransientError, UnavailableError
from baton.jobs import get_job
from baton_cli.targets.config import OpsConfig
from baton_cli.targets.protocol import ExecutionInfo, JobRun, job_overrides, short_id

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
START_MARGIN_S = 600  # queueing and start-up on top of the job's own worst case


def _split(endpoint: str) -> SplitResult:
    """An endpoint given as a URL or as bare `host:port`."""
    return urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")


def is_loopback(endpoint: str | None) -> bool:
    """Whether an API endpoint override points at this machine."""
    if not endpoint:
        return False
    return _split(endpoint).hostname in LOOPBACK


@contextmanager
def api_errors(what: str) -> Iterator[None]:
    """Turn Google API errors into baton's: unknown resources are LookupError (the caller
    names the fix), permissions exit 5, throttling and outages exit 75."""
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exc

    try:
        yield
    except gexc.NotFound as err:
        raise LookupError(f"{what}: not found ({err.message})") from err
    except (gexc.PermissionDenied, gexc.Unauthenticated) as err:
        raise UnavailableError(
            f"{what}: permission denied ({err.message}); the caller needs the "
            "workflows.executions.create/get/list/cancel permissions on the workflow, and "
            "run.jobs.runWithOverrides (roles/run.jobsExecutorWithOverrides) on the jobs for single-step reruns",
            reason="permission_denied",
        ) from err
    except (gexc.InvalidArgument, gexc.FailedPrecondition) as err:
        raise ConfigError(f"{what}: refused ({err.message})", reason="api_refused") from err
    except (gexc.TooManyRequests, gexc.ServiceUnavailable, gexc.DeadlineExceeded) as err:
        raise TransientError(f"{what}: {err.message}; try again", reason="api_unavailable") from err
    except gexc.GoogleAPICallError as err:
        raise TransientError(f"{what}: {err}", reason="api_error") from err
    except auth_exc.DefaultCredentialsError as err:
        raise ConfigError(
            f"{what}: no Google credentials found; run `gcloud auth application-default login` "
            "or set GOOGLE_APPLICATION_CREDENTIALS",
            reason="no_credentials",
        ) from err


def decode_payload(text: str) -> Any:
    """An Executions API argument, result or error payload: its JSON, else the text."""
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _seconds(stamp: Any) -> float | None:
    return None if stamp is None else stamp.timestamp()


class GcpTarget:
    """A deployment on GCP, reached through the official client libraries (created lazily,
    so nothing here needs credentials until an API is called)."""

    kind = "gcp"

    def __init__(
        self, config: OpsConfig, *, executions_client: Any = None, jobs_client: Any = None
    ) -> None:
        self.config = config
        self._executions = executions_client
        self._jobs = jobs_client

    # -- clients

    @property
    def executions(self) -> Any:
        """The Workflow Executions API client."""
        if self._executions is None:
            from google.cloud.workflows import executions_v1

            endpoint = self.config.workflows_endpoint
            with api_errors("Workflow Executions client"):
                if is_loopback(endpoint):
                    import grpc
                    from google.cloud.workflows.executions_v1.services.executions.transports import (
                        ExecutionsGrpcTransport,
                    )

                    channel = grpc.insecure_channel(_split(endpoint or "").netloc)
                    transport = ExecutionsGrpcTransport(channel=channel)
                    self._executions = executions_v1.ExecutionsClient(transport=transport)
                else:
                    options = {"api_endpoint": endpoint} if endpoint else None
                    self._executions = executions_v1.ExecutionsClient(client_options=options)
        return self._executions

    @property
    def jobs(self) -> Any:
        """The Cloud Run Admin API v2 jobs client (REST transport)."""
        if self._jobs is None:
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import run_v2

            endpoint = self.config.run_endpoint
            with api_errors("Cloud Run client"):
                self._jobs = run_v2.JobsClient(
                    transport="rest",
                    credentials=AnonymousCredentials() if is_loopback(endpoint) else None,
                    client_options={"api_endpoint": endpoint} if endpoint else None,
                )
        return self._jobs

    # -- executions

    def _name(self, execution_id: str) -> str:
        if execution_id.startswith("projects/"):
            return execution_id
        return f"{self.config.workflow_parent}/executions/{execution_id}"

    def _info(self, execution: Any) -> ExecutionInfo:
        parts = execution.name.split("/")
        workflow = parts[5] if len(parts) > 5 else self.config.workflow
        error = None
        if execution.error and (execution.error.payload or execution.error.context):
            error = decode_payload(execution.error.payload) or {"message": execution.error.context}
        region = parts[3] if len(parts) > 3 else self.config.gcp_region
        project = parts[1] if len(parts) > 1 else self.config.gcp_project
        return ExecutionInfo(
            id=short_id(execution.name),
            name=execution.name,
            workflow=workflow,
            state=execution.state.name,
            argument=decode_payload(execution.argument),
            result=decode_payload(execution.result),
            error=error,
            start=_seconds(execution.start_time),
            end=_seconds(execution.end_time),
            current_steps=tuple(f"{s.routine}/{s.step}" for s in execution.status.current_steps),
            where=(
                f"https://console.cloud.google.com/workflows/workflow/{region}/{workflow}/"
                f"execution/{short_id(execution.name)}?project={project}"
            ),
        )

    def start(self, argument: dict[str, Any]) -> ExecutionInfo:
        """executions.create on the deployed workflow (the argument travels as a JSON string)."""
        from google.cloud.workflows.executions_v1 import Execution

        parent = self.config.workflow_parent
        with api_errors(f"start an execution of {parent}"):
            created = self.executions.create_execution(
                parent=parent, execution=Execution(argument=json.dumps(argument))
            )
        return self._info(created)

    def get(self, execution_id: str) -> ExecutionInfo:
        """executions.get (full view: argument, result, error)."""
        from google.cloud.workflows.executions_v1 import ExecutionView, GetExecutionRequest

        name = self._name(execution_id)
        with api_errors(f"execution {name}"):
            found = self.executions.get_execution(
                request=GetExecutionRequest(name=name, view=ExecutionView.FULL)
            )
        return self._info(found)

    def list(self, limit: int) -> list[ExecutionInfo]:
        """executions.list, newest first."""
        from google.cloud.workflows.executions_v1 import ExecutionView, ListExecutionsRequest

        parent = self.config.workflow_parent
        request = ListExecutionsRequest(
            parent=parent, page_size=min(max(limit, 1), 100), view=ExecutionView.FULL
        )
        found: list[ExecutionInfo] = []
        with api_errors(f"executions of {parent}"):
            for execution in self.executions.list_executions(request=request):
                found.append(self._info(execution))
                if len(found) >= limit:
                    break
        return found

    def cancel(self, execution_id: str) -> ExecutionInfo:
        """executions.cancel."""
        name = self._name(execution_id)
        with api_errors(f"cancel {name}"):
            return self._info(self.executions.cancel_execution(name=name))

    def step_entries(self, execution_id: str) -> None:
        """Not available: the Python client has no step-entries API (the console shows them)."""
        return None

    # -- single jobs

    def run_job(self, step: str, day: date, dataset: str, *, force: bool) -> JobRun:
        """jobs.run with overrides (needs run.jobs.runWithOverrides: roles/run.jobsExecutorWithOverrides), then
        wait on its long-running operation."""
        from google.api_core import exceptions as gexc
        from google.cloud import run_v2

        job = get_job(step)
        args, env = job_overrides(day, dataset, force=force)
        container = run_v2.RunJobRequest.Overrides.ContainerOverride(
            args=args, env=[run_v2.EnvVar(name=k, value=v) for k, v in env.items()]
        )
        request = run_v2.RunJobRequest(
            name=self.config.job_name(step),
            overrides=run_v2.RunJobRequest.Overrides(
                container_overrides=[container], task_count=1, timeout=f"{job.timeout_s}s"
            ),
        )
        with api_errors(f"run job {request.name}"):
            operation = self.jobs.run_job(request=request)
        try:
            execution = operation.result(
                timeout=job.timeout_s * (job.max_retries + 1) + START_MARGIN_S
            )
            return _job_run(execution, request.name, succeeded=True)
        except gexc.GoogleAPICallError as err:
            return _job_run(operation.metadata, request.name, succeeded=False, message=err.message)
        except FutureTimeout:
            return _job_run(
                operation.metadata,
                request.name,
                succeeded=False,
                message="still running when baton stopped waiting",
            )

    def close(self) -> None:
        """Close the clients' channels and sessions."""
        for client in (self._executions, self._jobs):
            if client is not None:
                client.transport.close()


def _job_run(execution: Any, job: str, *, succeeded: bool, message: str = "") -> JobRun:
    if execution is None:
        return JobRun("", job, succeeded, 0, 0, 0, message=message)
    done = f"{execution.succeeded_count} of {execution.task_count} task(s) succeeded"
    return JobRun(
        name=execution.name,
        job=execution.job or job,
        succeeded=succeeded,
        task_count=execution.task_count,
        succeeded_count=execution.succeeded_count,
        failed_count=execution.failed_count,
        log_uri=execution.log_uri,
        message=f"{message}; {done}" if message else done,
    )
