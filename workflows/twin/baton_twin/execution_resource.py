"""The Cloud Run v2 Execution a `jobs.run` call reports, built as the real `run_v2.Execution`
message and rendered as JSON the way the connector hands it to a workflow, and the
OperationError a failed execution raises.

The size matters: a workflow holds what the connector returns in its 512 KB of variables. The
Execution carries the whole task template (image, args, env values, resources, service
account) besides counts, times and conditions, and a failed execution's OperationError carries
the failed long-running operation, whose metadata is that Execution
(https://cloud.google.com/workflows/docs/connectors: "an operation field holding the failed
operation"; the Cloud Run v2 `jobs.run` operation's metadata and response are an Execution:
https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs/run). Secret
values never appear: a secret-backed variable is a `valueSource.secretKeyRef`, as in GCP.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.cloud import run_v2
from google.protobuf import duration_pb2, timestamp_pb2

from baton_engine.connector_kit import WorkflowError

EXECUTION_TYPE = "type.googleapis.com/google.cloud.run.v2.Execution"


@dataclass(frozen=True)
class DeployedJob:
    """What the deployed job's template holds (what infra deploys for one step)."""

    image: str
    service_account: str
    cpu: str
    memory: str
    timeout_s: float
    max_retries: int
    env: Mapping[str, str] = field(default_factory=dict)
    """The job's plain environment (value visible in the Execution, as in GCP)."""
    secret_env: Mapping[str, str] = field(default_factory=dict)
    """Env name -> secret id; only the reference appears, never a value."""
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExecutionFacts:
    """How one execution went, and the overrides it ran with."""

    name: str
    """Full resource name: projects/<p>/locations/<l>/jobs/<job>/executions/<id>."""
    task_count: int
    parallelism: int
    succeeded: int
    failed: int
    retried: int
    started: float
    finished: float | None
    log_uri: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    task_timeout_s: float | None = None


def _timestamp(seconds: float | None) -> timestamp_pb2.Timestamp | None:
    if seconds is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(datetime.fromtimestamp(seconds, UTC))
    return stamp


def _env(job: DeployedJob, facts: ExecutionFacts) -> list[run_v2.EnvVar]:
    """The job's env with the execution's overrides merged in (Cloud Run merges env)."""
    plain = {**job.env, **facts.env}
    env = [run_v2.EnvVar(name=k, value=v) for k, v in plain.items()]
    env += [
        run_v2.EnvVar(
            name=k,
            value_source=run_v2.EnvVarSource(
                secret_key_ref=run_v2.SecretKeySelector(secret=secret, version="latest")
            ),
        )
        for k, secret in job.secret_env.items()
        if k not in plain
    ]
    return env


def _conditions(facts: ExecutionFacts) -> list[run_v2.Condition]:
    done = facts.finished is not None
    ok = done and facts.failed == 0
    completed = (
        run_v2.Condition.State.CONDITION_SUCCEEDED
        if ok
        else run_v2.Condition.State.CONDITION_FAILED
        if done
        else run_v2.Condition.State.CONDITION_PENDING
    )
    summary = f"{facts.succeeded} of {facts.task_count} task(s) completed successfully"
    if done and not ok:
        summary = (
            f"Task {facts.name.rsplit('/', 1)[-1]}-0 failed with message: "
            "The container exited with an error."
        )
    last = facts.finished or facts.started
    return [
        run_v2.Condition(
            type_="ResourcesAvailable",
            state=run_v2.Condition.State.CONDITION_SUCCEEDED,
            last_transition_time=_timestamp(facts.started),
            message="Provisioned imported containers.",
        ),
        run_v2.Condition(
            type_="Started",
            state=run_v2.Condition.State.CONDITION_SUCCEEDED,
            last_transition_time=_timestamp(facts.started),
            message="Started deployed execution polling",
        ),
        run_v2.Condition(
            type_="Completed",
            state=completed,
            last_transition_time=_timestamp(last),
            message=summary,
        ),
        run_v2.Condition(
            type_="Retry",
            state=run_v2.Condition.State.CONDITION_SUCCEEDED,
            last_transition_time=_timestamp(last),
            message=f"System will retry after {facts.retried} retries.",
        ),
    ]


def execution_message(job: DeployedJob, facts: ExecutionFacts) -> run_v2.Execution:
    """The Execution as Cloud Run's v2 API describes it."""
    job_name = facts.name.split("/jobs/", 1)[1].split("/", 1)[0]
    timeout = duration_pb2.Duration(seconds=int(facts.task_timeout_s or job.timeout_s))
    container = run_v2.Container(
        image=job.image,
        args=list(facts.args),
        env=_env(job, facts),
        resources=run_v2.ResourceRequirements(limits={"cpu": job.cpu, "memory": job.memory}),
    )
    return run_v2.Execution(
        name=facts.name,
        uid=str(uuid.uuid5(uuid.NAMESPACE_URL, facts.name)),
        creator=job.service_account,
        generation=1,
        labels={
            **job.labels,
            "run.googleapis.com/jobUid": str(uuid.uuid5(uuid.NAMESPACE_URL, job_name)),
        },
        create_time=_timestamp(facts.started),
        start_time=_timestamp(facts.started),
        completion_time=_timestamp(facts.finished),
        update_time=_timestamp(facts.finished or facts.started),
        launch_stage="GA",
        job=job_name,
        parallelism=facts.parallelism,
        task_count=facts.task_count,
        template=run_v2.TaskTemplate(
            containers=[container],
            max_retries=job.max_retries,
            timeout=timeout,
            service_account=job.service_account,
            execution_environment=run_v2.ExecutionEnvironment.EXECUTION_ENVIRONMENT_GEN2,
        ),
        conditions=_conditions(facts),
        observed_generation=1,
        succeeded_count=facts.succeeded,
        failed_count=facts.failed,
        retried_count=facts.retried,
        log_uri=facts.log_uri,
        etag=f'"{uuid.uuid5(uuid.NAMESPACE_OID, facts.name).hex}"',
    )


def execution_resource(message: run_v2.Execution) -> dict[str, Any]:
    """The Execution as JSON (REST field names, enum names), with its `@type`."""
    rendered = run_v2.Execution.to_json(
        message,
        use_integers_for_enums=False,
        always_print_fields_with_no_presence=False,
        indent=None,
    )
    return {"@type": EXECUTION_TYPE, **json.loads(rendered)}


def operation_error(resource: Mapping[str, Any], operation_name: str) -> WorkflowError:
    """The OperationError the connector raises for a failed execution: the failed operation
    whole, its metadata the full Execution."""
    return WorkflowError(
        {
            "message": (
                f"The execution {resource['name']} failed: {resource.get('failedCount', 0)} of "
                f"{resource.get('taskCount', 0)} task(s) failed"
            ),
            "tags": ["OperationError"],
            "operation": {
                "name": operation_name,
                "done": True,
                "error": {"code": 2, "message": "Execution failed: non-zero exit code"},
                "metadata": dict(resource),
            },
        }
    )
