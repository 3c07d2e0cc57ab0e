"""Google Cloud connectors bound to local stand-ins.

`googleapis.run.v2.projects.locations.jobs.run` runs the job through the local job runner and,
like the real connector, waits for the execution: it returns the Execution resource (built as a
real `run_v2.Execution`, see execution_resource), raises an OperationError carrying the failed
operation whole when the execution fails, and TimeoutError past
`connector_params.timeout`. `googleapis.storage.v1.objects.get` reads the lake (a local
directory or a real `gs://` lake) as if it were the configured bucket.

Given the deployed IAM policy (BATON_TWIN_IAM=enforce), both refuse what the workflow's
service account could not do, with the HTTP 403 error Google's APIs return: jobs.run needs
run.jobs.run (and run.jobs.runWithOverrides with overrides) on the job, waiting for it needs
run.operations.get and run.executions.get on the project (the operation is not under the job:
https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.operations/get), and
objects.get needs storage.objects.get on the object. A refused wait happens after the
execution started, as on GCP: the job runs on, unwatched.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from baton.iam import PermissionDenied, Policy
from baton.storage import Storage
from baton_engine.connector_kit import (
    CallContext,
    Cancelled,
    WorkflowError,
    fail,
    from_json,
    type_name,
)
from baton_limits import CONNECTOR_DEFAULT_TIMEOUT_S, CONNECTOR_MAX_TIMEOUT_S
from baton_twin.execution_resource import (
    DeployedJob,
    ExecutionFacts,
    execution_message,
    execution_resource,
    operation_error,
)
from baton_twin.jobrunner import (
    RESERVED_ENV,
    JobCancelled,
    JobExecution,
    JobTimeout,
    LocalJobRunner,
    RunRequest,
)

DEFAULT_TIMEOUT_S = CONNECTOR_DEFAULT_TIMEOUT_S
MAX_TIMEOUT_S = CONNECTOR_MAX_TIMEOUT_S
_JOB_NAME = re.compile(r"projects/([^/]+)/locations/([^/]+)/jobs/([^/]+)\Z")
SECRET_ENV_PREFIX = "BATON_SECRET_"
"""Secrets reach a deployed job as secret-backed env (infra's secret_env_name)."""
_DURATION = re.compile(r"(\d+(?:\.\d+)?)s\Z")
WORKFLOW = "workflow"
"""The caller the workflow's connector calls are made as, in the deployed policy."""


def http_error(code: int, status: str, message: str) -> WorkflowError:
    """The HttpError a connector raises for a refused request, with Google's error body."""
    return WorkflowError(
        {
            "message": message,
            "code": code,
            "tags": ["HttpError"],
            "body": {"error": {"code": code, "message": message, "status": status}},
            "headers": {},
        }
    )


def refused(err: PermissionDenied) -> WorkflowError:
    """The HttpError a connector raises for a call the policy refuses (HTTP 403)."""
    return http_error(403, "PERMISSION_DENIED", err.status_message)


def _not_found(message: str) -> WorkflowError:
    return http_error(404, "NOT_FOUND", message)


def _invalid(message: str) -> WorkflowError:
    return http_error(400, "INVALID_ARGUMENT", message)


def _check_keys(what: str, value: Any, allowed: set[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail("TypeError", f"{what} must be a map, not {type_name(value)}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise fail("TypeError", f"{what} has unknown field(s) {', '.join(unknown)}")
    return value


def _timeout(params: dict[str, Any]) -> float:
    timeout = params.get("timeout", DEFAULT_TIMEOUT_S)
    if type_name(timeout) not in ("integer", "double") or not 0 < timeout <= MAX_TIMEOUT_S:
        raise fail(
            "ValueError",
            f"connector_params.timeout must be 1..{MAX_TIMEOUT_S} seconds, not {timeout!r}",
        )
    return float(timeout)


def _container(containers: Any) -> tuple[tuple[str, ...] | None, dict[str, str]]:
    """The args (None: unchanged) and env of the one container override."""
    if not isinstance(containers, list) or len(containers) > 1:
        raise _invalid("containerOverrides must be a list with at most one container")
    run_args: tuple[str, ...] | None = None
    env: dict[str, str] = {}
    for container in containers:
        c = _check_keys("containerOverride", container, {"name", "args", "env", "clearArgs"})
        if c.get("clearArgs"):
            run_args = ()
        if "args" in c:
            if not isinstance(c["args"], list) or not all(isinstance(a, str) for a in c["args"]):
                raise _invalid("containerOverrides.args must be a list of strings")
            run_args = tuple(c["args"])
        for var in c.get("env") or []:
            item = _check_keys("containerOverrides.env item", var, {"name", "value"})
            name, value = item.get("name"), item.get("value", "")
            if not isinstance(name, str) or not isinstance(value, str):
                raise _invalid("containerOverrides.env items are {name: string, value: string}")
            if name in RESERVED_ENV:
                raise _invalid(f"{name} is reserved by Cloud Run and cannot be set")
            env[name] = value
    return run_args, env


def _duration(value: Any) -> float:
    match = _DURATION.match(str(value))
    if match is None:
        raise _invalid(f"overrides.timeout must be a duration like '600s', not {value!r}")
    return float(match.group(1))


class RunJobConnector:
    """`googleapis.run.v2.projects.locations.jobs.run` on the local job runner."""

    def __init__(
        self,
        runner: LocalJobRunner,
        *,
        project: str,
        location: str,
        job_prefix: str,
        policy: Policy | None = None,
    ) -> None:
        self.runner = runner
        self.policy = policy
        self.detached: list[threading.Thread] = []
        """Executions running on that nobody waits for (skip_polling, a refused wait)."""
        self.project = project
        self.location = location
        self.parent = f"projects/{project}/locations/{location}"
        self.job_prefix = job_prefix

    def _job(self, name: Any) -> tuple[str, str]:
        if not isinstance(name, str):
            raise fail("TypeError", f"name must be a string, not {type_name(name)}")
        match = _JOB_NAME.match(name)
        if match is None:
            raise fail("ValueError", f"name {name!r} is not projects/*/locations/*/jobs/*")
        project, location, deployed = match.groups()
        step = (
            deployed.removeprefix(self.job_prefix) if deployed.startswith(self.job_prefix) else None
        )
        if (project, location) != (self.project, self.location) or step not in self.runner.jobs:
            raise _not_found(
                f"Resource '{name}' was not found (local jobs: "
                + ", ".join(f"{self.parent}/jobs/{self.job_prefix}{j}" for j in self.runner.jobs)
                + ")"
            )
        return step, deployed

    def request(self, args: dict[str, Any]) -> tuple[RunRequest, float, bool]:
        """Validate the connector arguments into a run request, timeout and skip_polling."""
        _check_keys("jobs.run arguments", args, {"name", "body", "connector_params"})
        step, deployed = self._job(args.get("name"))
        body = _check_keys("body", args.get("body"), {"overrides", "validateOnly", "etag"})
        overrides = _check_keys(
            "body.overrides", body.get("overrides"), {"containerOverrides", "taskCount", "timeout"}
        )
        params = _check_keys(
            "connector_params",
            args.get("connector_params"),
            {"timeout", "polling_policy", "skip_polling", "scopes"},
        )
        run_args, env = _container(overrides.get("containerOverrides") or [])
        task_count = overrides.get("taskCount", 1)
        if not isinstance(task_count, int) or isinstance(task_count, bool) or task_count < 1:
            raise _invalid(f"taskCount must be a positive integer, not {task_count!r}")
        task_timeout = _duration(overrides["timeout"]) if "timeout" in overrides else None
        request = RunRequest(step, deployed, run_args, env, task_count, task_timeout)
        return request, _timeout(params), bool(params.get("skip_polling", False))

    def deployed_job(self, step: str, deployed_name: str) -> DeployedJob:
        """The job's template as a deployment would hold it: the step's spec, the runner's
        BATON_* settings as plain env, and BATON_SECRET_* as secret references (never their
        values)."""
        spec = self.runner.jobs[step]
        settings = {k: v for k, v in self.runner.base_env.items() if k.startswith("BATON_")}
        return DeployedJob(
            image=f"{self.location}-docker.pkg.dev/{self.project}/baton/{deployed_name}:local",
            service_account=f"{deployed_name}@{self.project}.iam.gserviceaccount.com",
            cpu="1",
            memory="2Gi",
            timeout_s=spec.timeout_s,
            max_retries=spec.max_retries,
            env={k: v for k, v in settings.items() if not k.startswith(SECRET_ENV_PREFIX)},
            secret_env={
                k: k.removeprefix(SECRET_ENV_PREFIX).lower().replace("_", "-")
                for k in settings
                if k.startswith(SECRET_ENV_PREFIX)
            },
            labels={"baton-step": step},
        )

    def execution_map(
        self, execution: JobExecution, request: RunRequest | None = None
    ) -> dict[str, Any]:
        """The Execution resource a finished (or failed) execution reads as: the real
        `run_v2.Execution`, task template (image, args, env) included, rendered as JSON."""
        facts = ExecutionFacts(
            name=f"{self.parent}/jobs/{execution.deployed_name}/executions/{execution.name}",
            task_count=execution.task_count,
            parallelism=self.runner.parallelism or execution.task_count,
            succeeded=execution.succeeded_count,
            failed=execution.failed_count,
            retried=execution.retried_count,
            started=execution.started,
            finished=execution.finished,
            log_uri=Path(execution.log_dir).as_uri(),
            args=tuple(request.args or ()) if request else (),
            env=dict(request.env) if request else {},
            task_timeout_s=request.task_timeout_s if request else None,
        )
        job = self.deployed_job(execution.job, execution.deployed_name)
        return execution_resource(execution_message(job, facts))

    def _check(self, permission: str, kind: str, detail: str = "") -> None:
        """PermissionDenied unless the workflow's identity holds `permission` there."""
        if self.policy is not None:
            resource = self.policy.deployment.resource(kind, detail)
            self.policy.check(WORKFLOW, permission, resource)

    def _authorize_run(self, args: dict[str, Any], step: str) -> None:
        try:
            self._check("run.jobs.run", "job", step)
            if (args.get("body") or {}).get("overrides"):
                self._check("run.jobs.runWithOverrides", "job", step)
        except PermissionDenied as err:
            raise refused(err) from None

    def _detach(self, request: RunRequest, log_root: Path) -> None:
        thread = threading.Thread(target=self._run_quietly, args=(request, log_root), daemon=True)
        self.detached.append(thread)
        thread.start()

    def __call__(self, args: dict[str, Any], call: CallContext) -> Any:
        request, timeout, skip_polling = self.request(args)
        self._authorize_run(args, request.job)
        log_root = (call.workdir or Path(".")) / "jobs"
        operation = f"{self.parent}/operations/{uuid.uuid4()}"
        if skip_polling:
            self._detach(request, log_root)
            return {"name": operation, "done": False}
        try:
            self._check("run.operations.get", "project")
            self._check("run.executions.get", "project")
        except PermissionDenied as err:
            self._detach(request, log_root)  # started before the first poll was refused
            raise refused(err) from None
        try:
            execution = self.runner.run(
                request, log_root=log_root, deadline_s=timeout, cancel=call.cancel
            )
        except JobCancelled:
            raise Cancelled() from None
        except JobTimeout as err:
            raise fail(
                "TimeoutError",
                f"jobs.run: execution {err.execution.name} did not finish within "
                f"connector_params.timeout ({timeout:g} s)",
            ) from None
        resource = self.execution_map(execution, request)
        if execution.succeeded:
            return resource
        raise operation_error(resource, operation)

    def _run_quietly(self, request: RunRequest, log_root: Path) -> None:
        try:
            self.runner.run(request, log_root=log_root)
        except Exception:  # fire-and-forget, as skip_polling is on GCP
            return


class GetObjectConnector:
    """`googleapis.storage.v1.objects.get` on the lake, as bucket `bucket` under `prefix`."""

    def __init__(
        self,
        open_lake: Callable[[], Storage],
        *,
        bucket: str,
        prefix: str,
        policy: Policy | None = None,
    ) -> None:
        self._open_lake = open_lake
        self.policy = policy
        self._lake: Storage | None = None
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def lake(self) -> Storage:
        """The lake, opened on first use (it may not exist when the engine starts)."""
        if self._lake is None:
            self._lake = self._open_lake()
        return self._lake

    def __call__(self, args: dict[str, Any], call: CallContext) -> Any:
        _check_keys(
            "objects.get arguments",
            args,
            {
                "bucket",
                "object",
                "alt",
                "generation",
                "projection",
                "userProject",
                "ifGenerationMatch",
                "ifGenerationNotMatch",
                "ifMetagenerationMatch",
                "ifMetagenerationNotMatch",
            },
        )
        bucket, encoded = args.get("bucket"), args.get("object")
        if not isinstance(bucket, str) or not isinstance(encoded, str):
            raise fail("TypeError", "objects.get needs bucket and object strings")
        name = urllib.parse.unquote(encoded)
        if bucket != self.bucket:
            raise _not_found(
                f"The specified bucket {bucket} does not exist (local lake: {self.bucket})"
            )
        if self.prefix and not name.startswith(self.prefix + "/"):
            raise _not_found(f"No such object: {bucket}/{name}")
        key = name[len(self.prefix) + 1 :] if self.prefix else name
        if self.policy is not None:
            try:
                resource = self.policy.deployment.object_resource(key)
                self.policy.check(WORKFLOW, "storage.objects.get", resource)
            except PermissionDenied as err:
                raise refused(err) from None
        try:
            data = self.lake().read_bytes(key)
        except FileNotFoundError:
            raise _not_found(f"No such object: {bucket}/{name}") from None
        except ValueError as err:  # a key escaping the lake root
            raise _invalid(f"bad object name {name!r}: {err}") from None
        if args.get("alt") == "media":
            return _media(key, data)
        return {
            "kind": "storage#object",
            "bucket": bucket,
            "name": name,
            "size": str(len(data)),
            "contentType": "application/json"
            if key.endswith(".json")
            else "application/octet-stream",
        }


def _media(key: str, data: bytes) -> Any:
    """Object data as the connector hands it back: JSON decoded, text as a string, else bytes."""
    if key.endswith(".json"):
        try:
            return from_json(json.loads(data))
        except (json.JSONDecodeError, UnicodeDecodeError):
            pass
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data
